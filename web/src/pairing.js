// Pairing: the PairCities options with defaults and help, a run with its
// live progress (the streamed call, progress.js), and the result as a map
// with arcs, a network graph of the cohort, a table, the cities that got
// fewer peers than asked, and CSV. Rounds (rounds.js) draw their pairs
// with the same pieces.
import { forceCenter, forceCollide, forceLink, forceManyBody, forceSimulation } from "d3-force";
import { clear, h, message, s, show } from "./dom.js";
import { REGIONS, THEMES, regionClass, strength } from "./labels.js";
import { worldMap } from "./map.js";
import { regionLegend } from "./cities.js";
import { cities, cityName, state } from "./state.js";
import { progressBox, streamCall } from "./progress.js";

// Each option: the request field, its input, its default, and help text
// taken from the API's description of PairCitiesRequest.
function numberField(id, name, value, min, max, help) {
  return { name, input: h("input", { id, type: "number", value, min, max, step: "any", size: 5 }), help };
}
function checkField(id, name, checked, help) {
  return { name, input: h("input", { id, type: "checkbox", checked }), help };
}
function multiField(id, name, entries, help) {
  return { name, input: h("select", { id, multiple: true, size: Math.min(entries.length, 6) }, entries.map(([k, v]) => h("option", { value: k }, v))), help };
}

// The options' fields, ids prefixed with `prefix` ("p" gives "p-k", ...).
export function pairingFields(prefix) {
  return {
    k: numberField(`${prefix}-k`, "Peers per city", 3, 1, 20, "Peers per asking city (1-20)."),
    capacity: numberField(`${prefix}-capacity`, "Capacity of a peer", 3, 1, 1000, "Asking cities a peer may take at most (1-1000): spreads the load."),
    excludeSameCountry: checkField(`${prefix}-exclude-same-country`, "Other countries only", true, "Never pair two cities of the same country."),
    minScore: numberField(`${prefix}-min-score`, "Lowest score", 0, -10, 20, "Pairs scoring below this are never made. Scores are standard deviations above a challenge's candidates; above about 2 is strong."),
    mutual: checkField(`${prefix}-mutual`, "Mutual (twinning)", false, "1:1 twinning: a pair's score is the sum of both directions; k and capacity are then 1."),
    scoreOnly: checkField(`${prefix}-score-only`, "Score only", false, "Maximise the total score only (by default the pairing first gives as many cities as possible at least one peer)."),
    regions: multiField(`${prefix}-regions`, "Regions", Object.entries(REGIONS), "The cohort: cities of these regions (none selected: every city)."),
    themes: multiField(`${prefix}-themes`, "Themes", Object.entries(THEMES), "Only challenges and solutions of these themes count (none: all)."),
    candidatesPerCity: numberField(`${prefix}-candidates`, "Candidates per city", 0, 0, 1000, "Candidate peers kept per city before solving; 0 means max(10 k, 40)."),
  };
}

// One labelled row per field, the request field's name under the label.
export function fieldRows(fields) {
  return Object.entries(fields).map(([name, o]) => h("div", { class: "field" },
    h("label", { for: o.input.id }, o.name, " ", h("code", {}, name)), o.input, h("small", { class: "help" }, o.help)));
}

// The PairCitiesRequest the fields hold.
export function pairingRequest(f) {
  return {
    k: Number(f.k.input.value) || 0, capacity: Number(f.capacity.input.value) || 0,
    excludeSameCountry: f.excludeSameCountry.input.checked, minScore: Number(f.minScore.input.value) || 0,
    mutual: f.mutual.input.checked, scoreOnly: f.scoreOnly.input.checked,
    candidatesPerCity: Number(f.candidatesPerCity.input.value) || 0,
    regions: [...f.regions.input.selectedOptions].map((o) => o.value),
    themes: [...f.themes.input.selectedOptions].map((o) => o.value),
  };
}

// The summary line of a solve: what was scored, kept and solved.
export function solveText(sm, seconds) {
  return `Done in ${seconds.toFixed(2)} s: scored ${sm.candidatePairs || 0} candidate pairs (${(sm.scoringSeconds || 0).toFixed(2)} s), kept ${sm.keptCandidates || 0}, solved (${(sm.solvingSeconds || 0).toFixed(2)} s).`;
}

export async function pairingView() {
  await cities();
  const f = pairingFields("p");
  const progress = progressBox("pair");
  const results = h("div", { id: "pair-results" });
  const form = h("form", { id: "pair-form", class: "card" }, fieldRows(f),
    h("button", { type: "submit", id: "pair-run" }, "Run pairing"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const request = pairingRequest(f);
    clear(results);
    const run = progress.start("Scoring candidate pairs…");
    try {
      const pairs = [];
      let summary = {};
      await streamCall("POST", "/v1/pairs?stream=1", request, (item, read) => {
        if (item.progress) run.update(item.progress, read);
        else if (item.pair) pairs.push(item.pair);
        else if (item.summary) {
          summary = item.summary;
          run.result(read);
        }
      });
      run.done(solveText(summary, run.seconds()));
      renderPairs(results, pairs, summary, request.mutual ? 1 : request.k || 3);
    } catch (e) {
      run.failed();
      results.appendChild(message(e.message));
    }
  });
  show(h("h1", {}, "Pairing"),
    h("p", { class: "muted" }, "Pairs every asking city (a city with a challenge) with the peers best placed to help, within the limits below. A trial run: nothing is stored. To send pairs to the cities, create a ", h("a", { href: "#/rounds" }, "round"), "."),
    form, progress.el, results);
}

function csvCell(v) {
  const t = String(v ?? "");
  return /[",\n\r]/.test(t) || /^[=+\-@]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
}

// CSV of `rows` (objects with a `pair`); `extra` adds columns: [[name, row => value]].
export function toCsv(rows, extra = []) {
  const out = [["asking_city_id", "asking_city", "asking_country", "peer_city_id", "peer_city", "peer_country", "score", "strength", "challenge", "solution", "shared_words", ...extra.map((e) => e[0])]];
  for (const r of rows) {
    const p = r.pair;
    const a = state.cityById.get(p.askingCityId) || {};
    const b = state.cityById.get(p.peerCityId) || {};
    out.push([p.askingCityId, a.name, a.country, p.peerCityId, b.name, b.country, p.score.toFixed(4), strength(p.score),
      p.challengeTitle, p.solutionTitle, (p.sharedTerms || []).map((t) => t.term).join(" "), ...extra.map((e) => e[1](r))]);
  }
  return out.map((r) => r.map(csvCell).join(",")).join("\r\n") + "\r\n";
}

// A data: URL rather than a blob: one, which the page itself could not
// read back under its connect-src.
export function csvLink(id, csv, file) {
  return h("a", { class: "button", id, href: `data:text/csv;charset=utf-8,${encodeURIComponent(csv)}`, download: file }, "Export CSV");
}

// A pairing's result: summary, CSV, map, graph, table, fewer peers.
function renderPairs(out, pairs, sm, k) {
  const rows = pairs.map((pair) => ({ pair }));
  out.append(
    h("p", { id: "pair-summary" }, `${sm.pairs || 0} pairs; ${sm.matchedCities || 0} of ${sm.askingCities || 0} asking cities got a peer, ${sm.fullyMatchedCities || 0} got all ${k}. Total score ${(sm.totalScore || 0).toFixed(2)}.`),
    h("p", {}, csvLink("pair-csv", toCsv(rows), "pairs.csv")));
  pairPictures(out, pairs, "pair");
  out.append(h("h2", {}, "Pairs"), pairsTable("pairs-table", rows));
  out.append(fewerPeers(sm.unmatched || []));
}

// (a) the map, an arc from each asking city to its peer, and (b) the
// network graph; ids `${prefix}-map` and `${prefix}-graph`.
export function pairPictures(out, pairs, prefix) {
  const cohort = state.cities.filter((c) => pairs.some((p) => p.askingCityId === c.id || p.peerCityId === c.id));
  const map = worldMap(cohort, { className: "map" });
  for (const p of pairs) {
    const a = state.cityById.get(p.askingCityId);
    const b = state.cityById.get(p.peerCityId);
    if (a && b) map.arc(a, b, `${regionClass(a.region)} strength-${strength(p.score)}`);
  }
  out.append(h("h2", {}, "Who learns from whom"),
    h("p", { class: "muted" }, "An arc from each asking city to its peer, in the asking city's colour; the stronger the pair, the more opaque."),
    h("div", { class: "map-wrap", id: `${prefix}-map` }, map.svg), regionLegend());
  out.append(h("h2", {}, "The cohort as a network"), graph(cohort, pairs, `${prefix}-graph`));
}

// (c) the table: names, countries, score, strength label, the challenge
// and the solution behind the pair; `cells(row)` adds the last cells.
export function pairsTable(id, rows, head = [""], cells = () => [h("td", { class: "decision" })]) {
  const tbody = h("tbody", {}, rows.map((r) => {
    const p = r.pair;
    return h("tr", { "data-asking": p.askingCityId, "data-peer": p.peerCityId, "data-state": r.state },
      h("td", {}, cityName(p.askingCityId)), h("td", {}, cityName(p.peerCityId)),
      h("td", { class: "num" }, p.score.toFixed(2)),
      h("td", {}, h("span", { class: `strength strength-${strength(p.score)}` }, strength(p.score)), p.kept ? " (kept)" : ""),
      h("td", {}, h("a", { href: `#/case/${encodeURIComponent(p.challengeId)}` }, p.challengeTitle), " ← ",
        h("a", { href: `#/case/${encodeURIComponent(p.solutionId)}` }, p.solutionTitle),
        (p.sharedTerms || []).length ? h("div", { class: "muted" }, "shared: ", (p.sharedTerms || []).map((t) => t.term).join(", ")) : null),
      cells(r));
  }));
  return h("table", { id, class: "data" },
    h("thead", {}, h("tr", {}, ["Asking city", "Peer", "Score", "Strength", "Why: the challenge and the solution", ...head].map((t) => h("th", {}, t)))), tbody);
}

// The cities with fewer peers than asked, and why.
export function fewerPeers(unmatched, id = "unmatched") {
  return h("div", {}, h("h2", {}, `Cities with fewer peers than asked (${unmatched.length})`),
    unmatched.length ? h("ul", { id }, unmatched.map((u) => h("li", { "data-city": u.cityId }, h("strong", {}, cityName(u.cityId)), `: ${u.reason}`)))
      : h("p", { class: "muted", id }, "None."));
}

// A force-directed graph: a node per city of the cohort, an edge per pair.
function graph(cohort, pairs, id) {
  const W = 900;
  const H = 520;
  const nodes = cohort.map((c) => ({ id: c.id, city: c }));
  const links = pairs.map((p) => ({ source: p.askingCityId, target: p.peerCityId, score: p.score,
    region: (state.cityById.get(p.askingCityId) || {}).region }))
    .filter((l) => nodes.some((n) => n.id === l.source) && nodes.some((n) => n.id === l.target));
  const sim = forceSimulation(nodes)
    .force("link", forceLink(links).id((d) => d.id).distance(50))
    .force("charge", forceManyBody().strength(-60))
    .force("center", forceCenter(W / 2, H / 2))
    .force("collide", forceCollide(8))
    .stop();
  for (let i = 0; i < 300; i++) sim.tick();
  const clamp = (v, hi) => Math.max(10, Math.min(hi - 10, v));
  const svg = s("svg", { class: "graph", id, viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "Network of the pairs" },
    s("defs", {}, s("marker", { id: `${id}-arrow`, viewBox: "0 0 10 10", refX: 16, refY: 5, markerWidth: 6, markerHeight: 6, orient: "auto-start-reverse" },
      s("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "arrow-head" }))),
    links.map((l) => s("line", { class: `edge ${regionClass(l.region)} strength-${strength(l.score)}`, x1: clamp(l.source.x, W), y1: clamp(l.source.y, H), x2: clamp(l.target.x, W), y2: clamp(l.target.y, H), "marker-end": `url(#${id}-arrow)` })),
    nodes.map((n) => s("g", { class: "node", transform: `translate(${clamp(n.x, W).toFixed(1)},${clamp(n.y, H).toFixed(1)})` },
      s("circle", { r: 6, class: `city-dot ${regionClass(n.city.region)}` }, s("title", {}, `${n.city.name} (${n.city.country})`)),
      s("text", { x: 8, y: 4, class: "node-label" }, n.city.name))));
  return h("div", { class: "graph-wrap" }, svg);
}
