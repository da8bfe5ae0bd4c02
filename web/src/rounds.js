// Pairing rounds: a pairing that is kept and sent to the cities. A new
// round from the pairing options (solved with live progress), the earlier
// rounds, and one round's pairs with accept / decline (and why), rematch
// for the places declines freed, close, the cities with fewer peers than
// asked, and CSV. Only a write token sees the controls.
import { call } from "./api.js";
import { h, message, show } from "./dom.js";
import { DECLINE_REASONS, PAIR_STATES, label } from "./labels.js";
import { csvLink, fewerPeers, fieldRows, pairPictures, pairingFields, pairingRequest, pairsTable, solveText, toCsv } from "./pairing.js";
import { progressBox, streamCall } from "./progress.js";
import { canWrite, cities, cityName } from "./state.js";

// The last rematch's answer per round (its added pairs and fewer_peers),
// kept while the tab is open.
const rematched = new Map();

function when(seconds) {
  const n = Number(seconds) || 0;
  return n ? new Date(n * 1000).toISOString().slice(0, 16).replace("T", " ") + " UTC" : "";
}

function roundLink(r) {
  return h("a", { href: `#/round/${encodeURIComponent(r.id)}` }, r.name || r.id);
}

export async function roundsView() {
  await cities();
  const list = await call("GET", "/v1/rounds?pageSize=1000");
  const rounds = (list && list.rounds) || [];
  const table = rounds.length
    ? h("table", { id: "rounds-table", class: "data" },
      h("thead", {}, h("tr", {}, ["Round", "State", "Created", "Proposed", "Accepted", "Declined", "Rematches"].map((t) => h("th", {}, t)))),
      h("tbody", {}, rounds.slice().reverse().map((r) => h("tr", { "data-round": r.id },
        h("td", {}, roundLink(r)), h("td", {}, r.state === "ROUND_STATE_CLOSED" ? "closed" : "open"), h("td", {}, when(r.createdAt)),
        h("td", { class: "num" }, r.proposed || 0), h("td", { class: "num" }, r.accepted || 0),
        h("td", { class: "num" }, r.declined || 0), h("td", { class: "num" }, r.rematches || 0)))))
    : h("p", { class: "muted", id: "rounds-table" }, "No round yet.");
  show(h("h1", {}, "Pairing rounds"),
    h("p", { class: "muted" }, "A round is a pairing sent to the cities: each accepts or declines its proposed peers, a rematch finds peers for the places declines freed, and a closed round is final."),
    canWrite() ? newRoundForm(rounds) : null,
    h("h2", {}, "Earlier rounds"), table);
}

function newRoundForm(rounds) {
  const name = h("input", { id: "r-name", required: true, maxlength: 200, size: 40, value: `Round ${new Date().toISOString().slice(0, 10)}` });
  const f = pairingFields("r");
  const avoid = h("select", { id: "r-avoid", multiple: true, size: Math.min(Math.max(rounds.length, 1), 5) },
    rounds.map((r) => h("option", { value: r.id }, r.name || r.id)));
  const declinedOnly = h("input", { id: "r-avoid-declined-only", type: "checkbox" });
  const progress = progressBox("round");
  const out = h("div", { id: "round-create-result" });
  const form = h("form", { id: "round-form", class: "card" }, h("h2", {}, "New round"),
    h("div", { class: "field" }, h("label", { for: "r-name" }, "Name ", h("code", {}, "name")), name,
      h("small", { class: "help" }, "1-200 characters; the round's id is made from it (\"2027 cohort\" → 2027-cohort).")),
    fieldRows(f),
    h("div", { class: "field" }, h("label", { for: "r-avoid" }, "Avoid earlier rounds ", h("code", {}, "avoidRoundIds")), avoid,
      h("small", { class: "help" }, "A new wave: propose none of the pairs of these rounds.")),
    h("div", { class: "field" }, h("label", { for: "r-avoid-declined-only" }, "Only their declines ", h("code", {}, "avoidDeclinedOnly")), declinedOnly,
      h("small", { class: "help" }, "With rounds to avoid: avoid only their declined pairs, so accepted ones may be proposed again.")),
    h("button", { type: "submit", id: "round-create" }, "Create round"), progress.el, out);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = { name: name.value, options: pairingRequest(f),
      avoidRoundIds: [...avoid.selectedOptions].map((o) => o.value), avoidDeclinedOnly: declinedOnly.checked };
    out.replaceChildren();
    const run = progress.start("Scoring candidate pairs…");
    try {
      let round = null;
      await streamCall("POST", "/v1/rounds?stream=1", body, (item, read) => {
        if (item.progress) run.update(item.progress, read);
        else if (item.round) {
          round = item.round;
          run.result(read);
        } else if (item.id) round = item;  // a server that does not stream
      });
      run.done(solveText(round.summary || {}, run.seconds()));
      location.hash = `#/round/${encodeURIComponent(round.id)}`;
    } catch (e) {
      run.failed();
      out.appendChild(message(e.message));
    }
  });
  return form;
}

export async function roundView(id, round = null) {
  await cities();
  if (!round) round = await call("GET", `/v1/rounds/${encodeURIComponent(id)}`);
  const open = round.state !== "ROUND_STATE_CLOSED";
  const writable = canWrite() && open;
  const o = round.options || {};
  const k = o.mutual ? 1 : o.k || 3;
  const pairs = round.pairs || [];
  const active = pairs.filter((r) => r.state !== "PAIR_STATE_DECLINED");
  const last = rematched.get(round.id);
  const status = h("div", { id: "round-status" });
  const progress = progressBox("rematch");
  const rematch = async () => {
    const run = progress.start("Re-matching the places declines freed…");
    try {
      const res = await call("POST", `/v1/rounds/${encodeURIComponent(round.id)}/rematch`, {});
      rematched.set(round.id, { added: res.added || [], fewerPeers: res.fewerPeers || [], rematches: res.round.rematches });
      run.done(`Rematch ${res.round.rematches}: ${(res.added || []).length} new pairs proposed.`);
      await roundView(round.id, res.round);
    } catch (e) {
      run.failed();
      status.replaceChildren(message(e.message));
    }
  };
  const close = async () => {
    try {
      await roundView(round.id, await call("POST", `/v1/rounds/${encodeURIComponent(round.id)}/close`, {}));
    } catch (e) {
      status.replaceChildren(message(e.message));
    }
  };
  const csv = toCsv(pairs, [["state", (r) => label(PAIR_STATES, r.state)], ["decline_reason", (r) => r.reason && r.reason !== "DECLINE_REASON_UNSPECIFIED" ? r.reason.replace("DECLINE_REASON_", "").toLowerCase() : ""],
    ["comment", (r) => r.comment || ""], ["proposed_in", (r) => r.proposedIn || 0]]);
  const waiting = pairs.filter((r) => r.state === "PAIR_STATE_DECLINED" && (r.decidedAfter || 0) === (round.rematches || 0)).length;
  const view = show(h("h1", { id: "round-name" }, round.name || round.id),
    h("p", { id: "round-facts" }, `${open ? "Open" : "Closed"} · created ${when(round.createdAt)} · ${round.proposed || 0} proposed, ${round.accepted || 0} accepted, ${round.declined || 0} declined · ${round.rematches || 0} rematches · ${round.cohort ? round.cohort.length : 0} cities in the cohort · k = ${k}`),
    h("p", {}, csvLink("round-csv", csv, `${round.id}.csv`), " ",
      writable ? h("button", { type: "button", id: "round-rematch", onclick: rematch, title: "Find peers for the places declined pairs freed; accepted and proposed pairs stay." }, "Rematch") : null, " ",
      writable ? h("button", { type: "button", id: "round-close", class: "danger", onclick: close, title: "No more decisions or rematches." }, "Close round") : null, " ",
      h("a", { href: "#/rounds" }, "All rounds")),
    waiting && writable ? h("p", { class: "msg msg-note", id: "round-waiting" }, `${waiting} declined pair${waiting === 1 ? "" : "s"} since the last rematch: rematch to look for other peers.`) : null,
    progress.el, status,
    last && last.rematches === round.rematches ? h("p", { id: "rematch-added", class: "msg msg-ok" }, `The last rematch proposed ${last.added.length} new pair${last.added.length === 1 ? "" : "s"}: `,
      last.added.map((p, i) => [i ? "; " : "", `${cityName(p.askingCityId)} → ${cityName(p.peerCityId)}`])) : null);
  pairPictures(view, active.map((r) => r.pair), "round");
  view.append(h("h2", {}, "Pairs"),
    h("p", { class: "muted" }, "Declined pairs stay in the round (greyed) and are never proposed again in it. New: proposed by the latest rematch."),
    pairsTable("round-pairs", pairs, ["State", writable ? "Decision" : ""], (r) => decisionCells(round, r, writable)));
  const fewer = last && last.rematches === round.rematches ? last.fewerPeers : ((round.summary || {}).unmatched || []);
  view.append(fewerPeers(fewer, "round-fewer"));
}

function stateCell(round, r) {
  const text = label(PAIR_STATES, r.state);
  const why = r.state === "PAIR_STATE_DECLINED" && r.reason && r.reason !== "DECLINE_REASON_UNSPECIFIED" ? label(DECLINE_REASONS, r.reason) : "";
  return h("td", { class: `pair-state state-${text}` }, h("strong", {}, text),
    (r.proposedIn || 0) > 0 && r.proposedIn === round.rematches ? h("span", { class: "badge" }, " new") : null,
    why ? h("div", { class: "muted" }, why) : null, r.comment ? h("div", { class: "muted comment" }, `“${r.comment}”`) : null);
}

// Accept, or decline with a reason and a comment; the pair's decision is
// posted and the round drawn again.
function decisionCells(round, r, writable) {
  if (!writable || r.state === "PAIR_STATE_DECLINED") return [stateCell(round, r), h("td", {})];
  const reason = h("select", { class: "decline-reason", "aria-label": "Why the city declines" },
    Object.entries(DECLINE_REASONS).map(([k, v]) => h("option", { value: k }, v)));
  const comment = h("input", { class: "decline-comment", placeholder: "Comment (optional)", maxlength: 2000, size: 18 });
  const error = h("div", { class: "field-error" });
  const decide = async (decision) => {
    const p = r.pair;
    const body = { askingCityId: p.askingCityId, peerCityId: p.peerCityId, decision, comment: comment.value };
    if (decision === "PAIR_STATE_DECLINED") body.reason = reason.value;
    try {
      await call("POST", `/v1/rounds/${encodeURIComponent(round.id)}/decisions`, body);
      const y = window.scrollY;
      await roundView(round.id);
      window.scrollTo(0, y);
    } catch (e) {
      error.textContent = e.message;
    }
  };
  return [stateCell(round, r), h("td", { class: "decision" },
    r.state === "PAIR_STATE_ACCEPTED" ? null : h("button", { type: "button", class: "accept", onclick: () => decide("PAIR_STATE_ACCEPTED") }, "Accept"),
    h("div", { class: "decline" }, reason, comment, h("button", { type: "button", class: "decline danger", onclick: () => decide("PAIR_STATE_DECLINED") }, "Decline")),
    error)];
}
