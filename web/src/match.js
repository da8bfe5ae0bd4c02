// The match playground: a challenge typed in any language or a stored one,
// filters, and the peer cities with their evidence: each score part as a
// bar, the shared words highlighted in both texts (those matched through a
// translation in another colour, in both languages), and feedback buttons.
import { call, listAll } from "./api.js";
import { append, bar, clear, h, highlighted, message, show } from "./dom.js";
import { LANGUAGES, REGIONS, THEMES, label, regionClass, strength } from "./labels.js";
import { canWrite, cities, cityName } from "./state.js";

// Under each piece of evidence: the translations that made it match, and
// (write token) the "useful / not useful" buttons, which record feedback
// on this solution for this challenge (POST /v1/feedback).
export function evidenceExtras(evidence, query, cityId) {
  const translations = evidence.translations || [];
  const box = h("div", { class: "evidence-extras", "data-case": evidence.caseId });
  const status = h("span", { class: "feedback-status", role: "status" });
  const send = async (useful) => {
    const body = { solutionCaseId: evidence.caseId, useful, cityId };
    if (query.caseId) body.queryCaseId = query.caseId;
    else body.queryText = query.text;
    status.textContent = "Recording…";
    try {
      await call("POST", "/v1/feedback", body);
      status.textContent = useful ? "Recorded: useful." : "Recorded: not useful.";
      box.setAttribute("data-feedback", useful ? "useful" : "not-useful");
      for (const b of box.querySelectorAll(".feedback button")) b.classList.toggle("chosen", b.value === String(useful));
    } catch (e) {
      status.textContent = e.message;
    }
  };
  return append(box,
    [translations.length ? h("p", { class: "translations" }, "Through translations: ",
      translations.map((x, i) => [i ? "; " : "", h("mark", { class: "translated" }, x.sourceWord),
        ` (${x.sourceLanguage}) → `, h("mark", { class: "translated" }, x.targetWord), h("small", { class: "muted" }, ` ${x.dictionary}`)])) : null,
    canWrite() ? h("div", { class: "feedback" }, "Was this solution useful evidence? ",
      h("button", { type: "button", class: "useful", value: "true", onclick: () => send(true) }, "Useful"),
      h("button", { type: "button", class: "not-useful danger", value: "false", onclick: () => send(false) }, "Not useful"), status) : null]);
}

// The words to mark as matched through a translation: in the query, the
// source words; in a solution, the English they translate to.
function viaTranslations(translations, side) {
  return translations.map((x) => ({ word: side === "query" ? x.sourceWord : x.targetWord,
    title: `${x.sourceWord} (${x.sourceLanguage}) → ${x.targetWord}, ${x.dictionary}` }));
}

function options(id, first, entries) {
  return h("select", { id }, first === null ? null : h("option", { value: "" }, first),
    entries.map(([k, v]) => h("option", { value: k }, v)));
}

export async function matchView() {
  const all = await cities();
  const challenges = (await listAll("/v1/cases", "cases", { kind: "challenge" }))
    .sort((a, b) => cityName(a.cityId).localeCompare(cityName(b.cityId)));
  const text = h("textarea", { id: "match-text", rows: 5, cols: 70, placeholder: "Describe a challenge, in any language" });
  // Empty: the server's default (detected from the text where the server
  // detects languages, English otherwise).
  const language = options("match-language", "Detect from the text", Object.entries(LANGUAGES));
  const stored = options("match-case", "— or pick a stored challenge —",
    challenges.map((c) => [c.id, `${cityName(c.cityId)}: ${c.title}`]));
  const region = options("match-region", "Any region", Object.entries(REGIONS));
  const theme = options("match-theme", "Any theme", Object.entries(THEMES));
  const exclude = options("match-exclude-country", "Exclude no country", [...new Set(all.map((c) => c.country))].sort().map((c) => [c, c]));
  const k = h("input", { id: "match-k", type: "number", min: 1, max: 100, value: 5, size: 4 });
  const perCountry = h("input", { id: "match-per-country", type: "number", min: 0, max: 100, value: 0, size: 4 });
  const results = h("div", { id: "match-results" });
  // From a case's or a city's page: that challenge, or the city's first.
  const askingCity = sessionStorage.getItem("peermatch.askingCity");
  const first = askingCity ? challenges.find((c) => c.cityId === askingCity) : null;
  const preset = sessionStorage.getItem("peermatch.matchCase") || (first ? first.id : "");
  if (preset) stored.value = preset;
  sessionStorage.removeItem("peermatch.matchCase");
  sessionStorage.removeItem("peermatch.askingCity");
  const form = h("form", { id: "match-form", class: "card" },
    h("div", { class: "field" }, h("label", { for: "match-text" }, "Challenge"), text),
    h("div", { class: "field" }, h("label", { for: "match-language" }, "Written in"), language),
    h("div", { class: "field" }, h("label", { for: "match-case" }, "Stored challenge"), stored),
    h("div", { class: "filters" }, region, theme, exclude,
      h("label", {}, "Peers ", k), h("label", { title: "At most this many cities per country; 0: no limit" }, "Per country ", perCountry)),
    h("button", { type: "submit", id: "match-run" }, "Find peer cities"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clear(results).appendChild(h("p", { class: "muted" }, "Matching…"));
    const filters = {};
    if (region.value) filters.regions = [region.value];
    if (theme.value) filters.themes = [theme.value];
    if (exclude.value) filters.excludeCountries = [exclude.value];
    const request = { filters, k: Number(k.value) || 5, maxPerCountry: Number(perCountry.value) || 0 };
    let queryText = text.value;
    if (stored.value && !text.value.trim()) {
      request.caseId = stored.value;
      const c = challenges.find((x) => x.id === stored.value);
      queryText = c ? `${c.title}. ${c.description}` : "";
    } else {
      request.text = text.value;
      if (language.value) request.language = language.value;
    }
    try {
      const answer = await call("POST", "/v1/match", request);
      await renderPeers(clear(results), answer, queryText, request);
    } catch (e) {
      clear(results).appendChild(message(e.message));
    }
  });
  show(h("h1", {}, "Match playground"), form, results);
}

async function renderPeers(out, answer, queryText, request) {
  if (!answer.peers || answer.peers.length === 0) {
    out.appendChild(message(answer.emptyReason || "No peer city.", "note"));
    return;
  }
  // The solutions' texts, to highlight the shared words in them as well.
  const ids = answer.peers.flatMap((p) => (p.evidence || []).map((e) => e.caseId));
  const texts = new Map();
  await Promise.all(ids.map(async (id) => {
    try {
      const c = await call("GET", `/v1/cases/${encodeURIComponent(id)}`);
      texts.set(id, c.description);
    } catch {
      texts.set(id, "");
    }
  }));
  const allTranslations = answer.peers.flatMap((p) => (p.evidence || []).flatMap((e) => e.translations || []));
  const allTerms = [...new Set(answer.peers.flatMap((p) => (p.evidence || []).flatMap((e) => (e.sharedTerms || []).map((t) => t.term))))];
  out.appendChild(h("div", { class: "card" }, h("h2", {}, "Your challenge"),
    queryLanguage(answer.queryLanguage),
    h("p", { class: "text", id: "query-text" }, highlighted(queryText, allTerms, viaTranslations(allTranslations, "query")))));
  const list = h("ol", { class: "peers", id: "peers" });
  for (const p of answer.peers) {
    const city = p.city || {};
    list.appendChild(h("li", { class: "peer", "data-city": city.id },
      h("h3", {}, h("span", { class: `swatch ${regionClass(city.region)}` }),
        h("a", { href: `#/city/${encodeURIComponent(city.id)}` }, city.name), ` (${city.country}) `,
        h("span", { class: `strength strength-${strength(p.score)}` }, `score ${p.score.toFixed(2)} · ${strength(p.score)}`)),
      partBars(p.parts || {}),
      (p.evidence || []).map((e) => {
        const terms = (e.sharedTerms || []).map((t) => t.term);
        return h("div", { class: "evidence" },
          h("h4", {}, h("a", { href: `#/case/${encodeURIComponent(e.caseId)}` }, e.title), ` · ${e.score.toFixed(2)}`),
          h("p", { class: "shared" }, "Shared words: ", terms.length ? terms.map((t) => [h("mark", {}, t), " "]) : "none"),
          h("p", { class: "text solution-text" }, highlighted(texts.get(e.caseId) || "", terms, viaTranslations(e.translations || [], "solution"))),
          evidenceExtras(e, request, city.id));
      })));
  }
  out.appendChild(list);
}

// MatchResponse.query_language (QueryLanguage): the language the query was
// read in, and whether it was stated or detected.
function queryLanguage(q) {
  const code = q && typeof q === "object" ? q.language : q;
  if (!code) return null;
  const how = q.source === "LANGUAGE_SOURCE_DETECTED" ? `, detected (confidence ${Number(q.confidence || 0).toFixed(2)})`
    : q.source === "LANGUAGE_SOURCE_STATED" ? ", as stated" : "";
  return h("p", { class: "muted", id: "query-language" }, `Read as ${label(LANGUAGES, code)} (${code})${how}`);
}

function partBars(parts) {
  return h("div", { class: "parts" },
    bar("words", parts.lexical || 0), bar("subwords", parts.subword || 0),
    bar("meaning", parts.semantic || 0, -1, 1), bar("themes", parts.structure || 0));
}

export { partBars };
