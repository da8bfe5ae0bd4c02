// The staff console: a hash router over the views, and the sign-in.
import { probeAccess, setToken, token } from "./api.js";
import { canWrite, state } from "./state.js";
import { clear, h, message, show } from "./dom.js";
import { citiesView, cityView } from "./cities.js";
import { casesView, caseView, caseEditView } from "./cases.js";
import { matchView } from "./match.js";
import { pairingView } from "./pairing.js";
import { gapsView } from "./gaps.js";
import { roundView, roundsView } from "./rounds.js";

const ACCESS_TEXT = {
  open: "Open server (no tokens): full access",
  write: "Signed in with a write token",
  read: "Signed in with a read-only token: viewing only",
};

function renderAccess() {
  const el = clear(document.getElementById("access"));
  el.setAttribute("data-access", state.access);
  el.appendChild(document.createTextNode(ACCESS_TEXT[state.access] || "Not signed in"));
  if (token()) {
    el.appendChild(h("button", { type: "button", id: "sign-out", onclick: () => { setToken(""); start(); } }, "Sign out"));
  }
}

function signInView(error) {
  const input = h("input", { type: "password", id: "token", autocomplete: "off", required: true, size: 40 });
  const form = h("form", { id: "sign-in", class: "card" },
    h("h1", {}, "Sign in"),
    h("p", {}, "This server needs a token. A read-only token shows everything; a write token can also change cities and cases. The token stays in this tab (session storage) and is sent only as the Authorization header."),
    h("label", { for: "token" }, "Token "), input, " ",
    h("button", { type: "submit" }, "Sign in"),
    error ? message(error) : null);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    setToken(input.value.trim());
    await start();
  });
  show(form);
  input.focus();
}

const ROUTES = [
  [/^#\/cities$/, () => citiesView()],
  [/^#\/city\/([^/]+)$/, (id) => cityView(id)],
  [/^#\/cases$/, () => casesView()],
  [/^#\/case-new$/, () => caseEditView(null)],
  [/^#\/case\/([^/]+)\/edit$/, (id) => caseEditView(id)],
  [/^#\/case\/([^/]+)$/, (id) => caseView(id)],
  [/^#\/match$/, () => matchView()],
  [/^#\/pairing$/, () => pairingView()],
  [/^#\/rounds$/, () => roundsView()],
  [/^#\/round\/([^/]+)$/, (id) => roundView(id)],
  [/^#\/gaps$/, () => gapsView()],
];

// Routes run one at a time, the latest hash last, so that a slow view
// never draws over the one asked for after it.
let routing = null;
let again = false;
async function route() {
  if (routing) {
    again = true;
    return routing;
  }
  routing = (async () => {
    do {
      again = false;
      await routeOnce();
    } while (again);
  })();
  try {
    await routing;
  } finally {
    routing = null;
  }
}

async function routeOnce() {
  if (state.access === "none") return;
  const hash = location.hash || "#/cities";
  document.body.removeAttribute("data-routed");
  for (const a of document.querySelectorAll("#nav a")) {
    a.classList.toggle("active", hash.startsWith(a.getAttribute("href")));
  }
  for (const [re, view] of ROUTES) {
    const m = re.exec(hash);
    if (!m) continue;
    try {
      await view(...m.slice(1).map(decodeURIComponent));
    } catch (e) {
      show(message(e.message || String(e)));
    }
    document.body.setAttribute("data-routed", hash);  // the view is drawn (tests wait for it)
    return;
  }
  location.hash = "#/cities";
}

async function start() {
  try {
    state.access = await probeAccess();
  } catch (e) {
    state.access = "none";
    renderAccess();
    show(message(`The server did not answer: ${e.message}`));
    return;
  }
  renderAccess();
  if (state.access === "none") {
    signInView(token() ? "That token was refused." : "");
    return;
  }
  document.body.classList.toggle("read-only", !canWrite());
  await route();
  if (!document.body.hasAttribute("data-ready-ms")) {
    // When the first view was drawn, for the first-load benchmark.
    document.body.setAttribute("data-ready-ms", String(Math.round(performance.now())));
  }
  document.body.setAttribute("data-ready", "1");
}

window.addEventListener("hashchange", route);
start();
