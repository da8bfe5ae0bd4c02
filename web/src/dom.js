// Building the page: every text from the data goes in as a text node
// (document.createTextNode / textContent), never as HTML. Nothing in the
// console sets innerHTML, outerHTML or insertAdjacentHTML.

const SVG_NS = "http://www.w3.org/2000/svg";

function build(el, attrs, children) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.setAttribute("class", v);
    else if (k === "value" && "value" in el) el.value = v;
    else if (k === "checked" || k === "disabled" || k === "selected") el[k] = Boolean(v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

// Appends children: strings and numbers as text nodes, nodes as they are,
// arrays flattened; null and undefined skipped.
export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// h("a", {href: "#/x", class: "y"}, "text", child, ...)
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

// The same for SVG elements.
export function s(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

// Replaces the view's content.
export function show(...children) {
  const view = document.getElementById("view");
  clear(view);
  append(view, children);
  return view;
}

// A horizontal bar for a value in [lo, hi], with its number beside it.
export function bar(label, value, lo = 0, hi = 1) {
  const frac = Math.max(0, Math.min(1, (value - lo) / (hi - lo || 1)));
  const svg = s("svg", { class: "bar", width: 120, height: 10, role: "img", "aria-label": `${label} ${value.toFixed(2)}` },
    s("rect", { x: 0, y: 0, width: 120, height: 10, class: "bar-bg" }),
    s("rect", { x: 0, y: 0, width: Math.round(120 * frac), height: 10, class: "bar-fg" }));
  return h("div", { class: "bar-row" }, h("span", { class: "bar-label" }, label), svg,
    h("span", { class: "bar-value" }, value.toFixed(2)));
}

// A message line for an error or a note.
export function message(text, kind = "error") {
  return h("p", { class: `msg msg-${kind}`, role: kind === "error" ? "alert" : "status" }, text);
}

// Folds for search and highlighting: lower case, accents removed.
export function fold(text) {
  return String(text).normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
}

// `text` as text nodes, with the words that share a stem with one of
// `terms` wrapped in <mark> (as elements holding text nodes, not HTML).
// `translated` ([{word, title}]) marks words that matched through a
// translation: <mark class="translated" title="...">, checked first.
export function highlighted(text, terms, translated = []) {
  const folded = terms.map(fold).filter((t) => t.length > 0);
  const via = translated.map((t) => ({ f: fold(t.word), title: t.title })).filter((t) => t.f.length > 0);
  const out = [];
  for (const part of String(text).split(/([\p{L}\p{N}]+)/u)) {
    if (part === "") continue;
    const f = fold(part);
    const word = /[\p{L}\p{N}]/u.test(part);
    const t = word ? via.find((x) => sharesStem(f, x.f)) : null;
    if (t) out.push(h("mark", { class: "translated", title: t.title }, part));
    else out.push(word && folded.some((x) => sharesStem(f, x)) ? h("mark", {}, part) : part);
  }
  return out;
}

function sharesStem(a, b) {
  if (a === b) return true;
  const n = Math.min(a.length, b.length);
  if (n < 4) return false;
  const need = Math.max(4, n - 2);
  return a.slice(0, need) === b.slice(0, need);
}
