#include "engine/internal/query_util.h"

#include "records/case_language.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "text/analyzer.h"

namespace peermatch::internal {

std::string CaseQueryText(const v1::Case& c) {
  std::string text = absl::StrCat(c.title(), "\n", c.description());
  for (const auto& tag : c.tags()) absl::StrAppend(&text, "\n", tag);
  return text;
}

DocInfo MakeDocInfo(const v1::Case& c) {
  DocInfo info;
  info.case_id = c.id();
  info.city_id = c.city_id();
  info.title = c.title();
  info.kind = c.kind();
  for (int t : c.themes()) info.themes |= 1u << t;
  for (int g : c.sdgs()) info.sdgs |= 1u << g;
  for (const auto& g : c.target_groups()) info.target_groups.push_back(absl::AsciiStrToLower(g));
  info.language = CaseAnalysisLanguage(c);
  info.year = c.year();
  return info;
}

StructuredQuery CaseStructure(const v1::Case& c) {
  StructuredQuery s;
  for (int t : c.themes()) s.themes |= 1u << t;
  for (int g : c.sdgs()) s.sdgs |= 1u << g;
  for (const auto& g : c.target_groups()) s.target_groups.push_back(absl::AsciiStrToLower(g));
  return s;
}

IndexQuery ToIndexQuery(const QueryVector& q, const TermDictionary& terms) {
  IndexQuery iq;
  auto to_ids = [&](const TermWeights& weights, SparseIds* out) {
    for (const auto& [term, w] : weights) {
      const int64_t id = terms.Find(term);
      if (id >= 0) out->emplace_back(static_cast<uint32_t>(id), w);
    }
  };
  to_ids(q.words, &iq.words);
  to_ids(q.grams, &iq.grams);
  iq.dense = q.dense;
  return iq;
}

ScoreParts PartsOf(const Hit& h) {
  ScoreParts parts;
  parts.lexical = h.lexical;
  parts.subword = h.subword;
  parts.semantic = h.semantic;
  parts.structure = h.structure;
  return parts;
}

bool HasEvidence(const Hit& h) {
  return h.lexical > 0 || h.semantic >= kMinSemanticEvidence || h.subword >= kMinSubwordEvidence;
}

std::vector<Hit> Shown(std::vector<Hit> hits, double min_score) {
  hits.erase(std::remove_if(hits.begin(), hits.end(),
                            [min_score](const Hit& h) {
                              return !HasEvidence(h) || h.score < min_score;
                            }),
             hits.end());
  return hits;
}

std::vector<SharedTerm> SharedTerms(const SegmentedIndex& index, const IndexQuery& iq,
                                    const QueryVector& q, const TermDictionary& terms,
                                    const Hit& h) {
  const SparseIds contributions = index.Contributions(iq.words, h.doc);
  float total = 0;
  for (const auto& [id, c] : contributions) total += c;
  std::vector<SharedTerm> out;
  // One entry per word the query wrote: a word can reach the case through
  // several terms (its own, its spelling read as English, each English term
  // of its translations); their shares add up, and a translation that
  // contributed is kept, so nothing matched through one is shown silently.
  auto add = [&](const std::string& word, double share, const TermTranslation* from) {
    auto same = std::find_if(out.begin(), out.end(),
                             [&](const SharedTerm& t) { return t.term == word; });
    if (same == out.end()) {
      if (out.size() == static_cast<size_t>(kSharedTermsPerMatch)) return;
      same = out.insert(out.end(), SharedTerm{word, 0, {}});
    }
    same->weight += share;
    if (from != nullptr && same->translation.dictionary.empty()) {
      same->translation = {from->source_word, from->source_language, from->target_word,
                           from->dictionary};
    }
  };
  for (const auto& [id, contribution] : contributions) {
    const double share = total > 0 ? contribution / total : 0.0;
    // A term without a surface word is a compound's joined form; its parts
    // are shared terms of their own. A function word of any language
    // (a French text analyzed as English keeps "pendant") is no evidence.
    auto it = q.surface.find(terms.Term(id));
    if (it != q.surface.end()) {
      if (!IsFunctionWordOfAnyLanguage(it->second)) add(it->second, share, nullptr);
      continue;
    }
    // An English term only a translation brought in: shown as the word the
    // query wrote, with that translation.
    auto tr = q.translations.find(terms.Term(id));
    if (tr == q.translations.end() || IsFunctionWordOfAnyLanguage(tr->second.source_word)) continue;
    add(tr->second.source_word, share, &tr->second);
  }
  // Equal shares in the words' order, not the term ids' (which depend on
  // the order terms entered the dictionary, e.g. before and after a reopen).
  std::stable_sort(out.begin(), out.end(), [](const SharedTerm& a, const SharedTerm& b) {
    return a.weight != b.weight ? a.weight > b.weight : a.term < b.term;
  });
  return out;
}

}  // namespace peermatch::internal
