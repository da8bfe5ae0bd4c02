// Knowledge gaps: challenges that have no strong solution anywhere in the
// network. Each stored challenge is matched (its own city excluded, as
// Match does for a case) and its best solution kept. A match's score ranks
// the candidates of one query (standard deviations above them), so the
// best of any query scores high: it cannot say whether a solution exists.
// The measure here is absolute instead: the meaning part of the best
// solution (cosine of the LSA vectors of challenge and solution). The heat
// map counts, for each theme and the challenge city's region, the
// challenges whose best solution is below the threshold (0.3 by default,
// about the median on the demo data; the page lets staff change it).
import { call, listAll } from "./api.js";
import { clear, h, s, show } from "./dom.js";
import { REGIONS, THEMES, label } from "./labels.js";
import { cities, cityName, state } from "./state.js";

export const DEFAULT_THRESHOLD = 0.3;

async function bestScores(challenges, progress) {
  const best = new Map();
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < challenges.length) {
      const c = challenges[next++];
      try {
        const a = await call("POST", "/v1/match", { caseId: c.id, k: 1, evidencePerCity: 1 });
        const p = (a.peers || [])[0];
        const e = p ? (p.evidence || [])[0] : null;
        best.set(c.id, p ? { score: p.score, meaning: (e && e.parts ? e.parts.semantic : p.parts.semantic) || 0, city: p.city, evidence: e } : { score: null, meaning: null });
      } catch {
        best.set(c.id, { score: null, meaning: null });
      }
      progress(++done, challenges.length);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return best;
}

export async function gapsView() {
  await cities();
  const bar = h("progress", { id: "gaps-progress", max: 1, value: 0 });
  const threshold = h("input", { id: "gaps-threshold", type: "number", min: -1, max: 1, step: 0.05, value: DEFAULT_THRESHOLD, size: 5 });
  const body = h("div", { id: "gaps" });
  show(h("h1", {}, "Knowledge gaps"),
    h("p", { class: "muted" }, "Where challenges have no strong solution anywhere in the network: the places where the network itself must go and find one. "
      + "A challenge is a gap when the meaning similarity of its best-ranked solution (cosine of their LSA vectors, -1 to 1) is below the threshold. "
      + "(The match score cannot say this: it ranks the candidates of one challenge, so the best of any challenge scores high.)"),
    h("p", {}, h("label", { for: "gaps-threshold" }, "Strong from a meaning similarity of "), threshold),
    bar, body);
  const challenges = await listAll("/v1/cases", "cases", { kind: "challenge" });
  const best = await bestScores(challenges, (d, t) => { bar.max = t; bar.value = d; });
  bar.hidden = true;
  const render = () => drawGaps(body, challenges, best, Number(threshold.value));
  threshold.addEventListener("input", render);
  threshold.addEventListener("change", render);
  render();
}

function drawGaps(body, challenges, best, limit) {
  const isGap = (b) => !b || b.meaning === null || b.meaning < limit;
  const themes = Object.keys(THEMES);
  const regions = Object.keys(REGIONS);
  const cell = new Map();
  for (const c of challenges) {
    const region = (state.cityById.get(c.cityId) || {}).region;
    const gap = isGap(best.get(c.id));
    for (const t of c.themes || []) {
      const key = `${t}|${region}`;
      const v = cell.get(key) || { gaps: 0, all: 0 };
      v.all++;
      if (gap) v.gaps++;
      cell.set(key, v);
    }
  }
  const CW = 150, CH = 34, LW = 190, TH = 60;
  const svg = s("svg", { id: "gaps-heatmap", class: "heatmap", viewBox: `0 0 ${LW + CW * regions.length} ${TH + CH * themes.length}`, role: "img", "aria-label": "Challenges without a strong solution, by theme and region" },
    regions.map((r, i) => s("text", { x: LW + CW * i + CW / 2, y: TH - 10, class: "heat-head" }, SHORT_REGIONS[r] || label(REGIONS, r))),
    themes.map((t, j) => [
      s("text", { x: LW - 8, y: TH + CH * j + CH / 2 + 4, class: "heat-row" }, label(THEMES, t)),
      regions.map((r, i) => {
        const v = cell.get(`${t}|${r}`) || { gaps: 0, all: 0 };
        const level = v.all === 0 ? "none" : Math.min(5, Math.ceil((v.gaps / v.all) * 5));
        return s("g", { class: "heat-cell", "data-theme": t, "data-region": r, "data-gaps": v.gaps, "data-all": v.all },
          s("rect", { x: LW + CW * i + 1, y: TH + CH * j + 1, width: CW - 2, height: CH - 2, class: `heat heat-${level}` },
            s("title", {}, `${label(THEMES, t)} × ${label(REGIONS, r)}: ${v.gaps} of ${v.all} challenges without a strong solution`)),
          s("text", { x: LW + CW * i + CW / 2, y: TH + CH * j + CH / 2 + 4, class: "heat-value" }, v.all ? `${v.gaps} / ${v.all}` : "—"));
      })]));
  const rows = challenges.map((c) => ({ c, b: best.get(c.id) || { score: null, meaning: null } }))
    .sort((x, y) => (x.b.meaning ?? -99) - (y.b.meaning ?? -99));
  clear(body).append(
    h("div", { class: "heat-wrap" }, svg),
    h("p", { class: "muted" }, "Each cell: challenges of that theme in that region whose best solution is below the threshold, of all its challenges."),
    h("h2", {}, "Challenges, weakest best solution first"),
    h("table", { id: "gaps-table", class: "data" },
      h("thead", {}, h("tr", {}, ["Challenge", "City", "Best meaning similarity", "Best score", "Best peer and solution"].map((t) => h("th", {}, t)))),
      h("tbody", {}, rows.map(({ c, b }) => h("tr", { "data-case": c.id, class: isGap(b) ? "gap" : "" },
        h("td", {}, h("a", { href: `#/case/${encodeURIComponent(c.id)}` }, c.title)),
        h("td", {}, cityName(c.cityId)),
        h("td", { class: "num" }, b.meaning === null ? "no solution" : b.meaning.toFixed(2)),
        h("td", { class: "num" }, b.score === null ? "—" : b.score.toFixed(2)),
        h("td", {}, b.city ? `${b.city.name} (${b.city.country})` : "—", b.evidence ? `: ${b.evidence.title}` : ""))))));
}

const SHORT_REGIONS = {
  REGION_ASIA_PACIFIC: "Asia-Pacific",
  REGION_EUROPE_NORTH_AMERICA: "Europe, N. America",
  REGION_LATIN_AMERICA_CARIBBEAN: "Latin America",
};
