// Engine's read side: Match and SimilarCases.
#include <algorithm>
#include <map>
#include <set>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "engine/engine.h"
#include "engine/internal/query_util.h"
#include "records/validate.h"

namespace peermatch {
namespace {

using internal::AddSharedTerms;
using internal::SetParts;
using internal::ToIndexQuery;

// A city's second and later evidence must score above the candidates' mean
// (0) and within this much of its best (scores are in standard deviations):
// weak look-alikes are not evidence.
constexpr float kExtraEvidenceGap = 1.0f;

absl::Status Invalid(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", what));
}

absl::Status ValidateFilters(const v1::Filters& f) {
  for (int i = 0; i < f.themes_size(); ++i) {
    if (f.themes(i) == v1::THEME_UNSPECIFIED || !v1::Theme_IsValid(f.themes(i))) {
      return Invalid(absl::StrCat("filters.themes[", i, "]"), "unknown theme");
    }
  }
  for (int i = 0; i < f.sdgs_size(); ++i) {
    if (f.sdgs(i) < 1 || f.sdgs(i) > 17) {
      return Invalid(absl::StrCat("filters.sdgs[", i, "]"),
                     absl::StrCat(f.sdgs(i), " is outside 1-17"));
    }
  }
  for (int i = 0; i < f.regions_size(); ++i) {
    if (f.regions(i) == v1::REGION_UNSPECIFIED || !v1::Region_IsValid(f.regions(i))) {
      return Invalid(absl::StrCat("filters.regions[", i, "]"), "unknown region");
    }
  }
  for (int i = 0; i < f.countries_size(); ++i) {
    if (!IsIsoCountry(f.countries(i))) {
      return Invalid(absl::StrCat("filters.countries[", i, "]"), "not an ISO 3166-1 alpha-2 code");
    }
  }
  for (int i = 0; i < f.exclude_countries_size(); ++i) {
    if (!IsIsoCountry(f.exclude_countries(i))) {
      return Invalid(absl::StrCat("filters.exclude_countries[", i, "]"),
                     "not an ISO 3166-1 alpha-2 code");
    }
  }
  for (int i = 0; i < f.languages_size(); ++i) {
    if (!IsIsoLanguage(f.languages(i))) {
      return Invalid(absl::StrCat("filters.languages[", i, "]"), "not an ISO 639-1 code");
    }
  }
  if (f.year_min() < 0 || f.year_max() < 0 ||
      (f.year_min() != 0 && f.year_max() != 0 && f.year_min() > f.year_max())) {
    return Invalid("filters.year_min", "must be 0 or at most filters.year_max");
  }
  for (int i = 0; i < f.exclude_city_ids_size(); ++i) {
    if (absl::Status s = ValidateId(absl::StrCat("filters.exclude_city_ids[", i, "]"),
                                    f.exclude_city_ids(i));
        !s.ok()) {
      return s;
    }
  }
  if (!v1::CaseKind_IsValid(f.kind())) return Invalid("filters.kind", "unknown kind");
  return absl::OkStatus();
}

// The query part shared by Match and SimilarCases.
struct QuerySpec {
  std::string text;
  std::string language;
  StructuredQuery structured;
  std::string asking_city;  // excluded
  std::string case_id;      // the query case, when given by id
};

template <typename Request>
absl::StatusOr<QuerySpec> ResolveQuery(const Request& req, const Store& store) {
  QuerySpec spec;
  for (int i = 0; i < req.themes_size(); ++i) {
    if (req.themes(i) == v1::THEME_UNSPECIFIED || !v1::Theme_IsValid(req.themes(i))) {
      return Invalid(absl::StrCat("themes[", i, "]"), "unknown theme");
    }
    spec.structured.themes |= 1u << req.themes(i);
  }
  for (int i = 0; i < req.sdgs_size(); ++i) {
    if (req.sdgs(i) < 1 || req.sdgs(i) > 17) {
      return Invalid(absl::StrCat("sdgs[", i, "]"), absl::StrCat(req.sdgs(i), " is outside 1-17"));
    }
    spec.structured.sdgs |= 1u << req.sdgs(i);
  }
  if (req.target_groups_size() > static_cast<int>(kMaxTargetGroups)) {
    return Invalid("target_groups", absl::StrCat("at most ", kMaxTargetGroups));
  }
  for (int i = 0; i < req.target_groups_size(); ++i) {
    if (req.target_groups(i).size() > kMaxTargetGroupBytes || !IsValidUtf8(req.target_groups(i))) {
      return Invalid(absl::StrCat("target_groups[", i, "]"), "too long or not UTF-8");
    }
    spec.structured.target_groups.push_back(absl::AsciiStrToLower(req.target_groups(i)));
  }
  if (!req.language().empty() && !IsIsoLanguage(req.language())) {
    return Invalid("language", "not an ISO 639-1 code such as \"en\"");
  }
  if (absl::Status s = ValidateFilters(req.filters()); !s.ok()) return s;

  if (req.has_case_id()) {
    if (absl::Status s = ValidateId("case_id", req.case_id()); !s.ok()) return s;
    auto c = store.GetCase(req.case_id());
    if (absl::IsNotFound(c.status())) {
      return absl::NotFoundError(absl::StrCat("case_id: no case with id \"", req.case_id(), "\""));
    }
    if (!c.ok()) return c.status();
    spec.case_id = c->id();
    spec.asking_city = c->city_id();
    spec.language = c->language();
    spec.text = internal::CaseQueryText(*c);
    if (spec.structured.empty()) spec.structured = internal::CaseStructure(*c);
    return spec;
  }
  if (!req.has_text()) return Invalid("query", "set text or case_id");
  if (req.text().empty()) return Invalid("text", "is empty");
  if (req.text().size() > kMaxQueryBytes) {
    return Invalid("text", absl::StrCat("is ", req.text().size(), " bytes; the limit is ",
                                        kMaxQueryBytes));
  }
  if (!IsValidUtf8(req.text())) return Invalid("text", "is not valid UTF-8");
  spec.text = req.text();
  spec.language = req.language();
  return spec;
}

absl::Status CheckPaging(int k, int offset) {
  if (k < 0 || k > kMaxK) return Invalid("k", absl::StrCat(k, " is outside 0-", kMaxK));
  if (offset < 0 || offset > kMaxOffset) {
    return Invalid("page_token", absl::StrCat("pages end after ", kMaxOffset, " results"));
  }
  return absl::OkStatus();
}

bool Contains(const google::protobuf::RepeatedPtrField<std::string>& list, const std::string& x) {
  return std::find(list.begin(), list.end(), x) != list.end();
}

// The cases of the index that pass the filters (and are not the asking
// city's), and how many cases and distinct cities that is.
struct Kept {
  std::vector<bool> mask;
  size_t cases = 0;
  size_t cities = 0;
};

// City filters are decided once per city, then each case reads its flat
// attributes.
Kept KeepMask(const Index& index, const v1::Filters& f, v1::CaseKind kind,
              const QuerySpec& spec) {
  uint32_t themes = 0, sdgs = 0;
  for (int t : f.themes()) themes |= 1u << t;
  for (int g : f.sdgs()) sdgs |= 1u << g;
  const std::vector<CityInfo>& cities = index.cities();
  enum CityState : uint8_t { kOut, kIn, kInAndCounted };
  std::vector<CityState> city_state(cities.size(), kOut);
  for (size_t c = 0; c < cities.size(); ++c) {
    const CityInfo& city = cities[c];
    if (!spec.asking_city.empty() && city.id == spec.asking_city) continue;
    if (f.regions_size() > 0 &&
        std::find(f.regions().begin(), f.regions().end(), city.region) == f.regions().end()) {
      continue;
    }
    if (f.countries_size() > 0 && !Contains(f.countries(), city.country)) continue;
    if (Contains(f.exclude_countries(), city.country)) continue;
    if (Contains(f.exclude_city_ids(), city.id)) continue;
    city_state[c] = kIn;
  }
  Kept kept;
  kept.mask.assign(index.size(), false);
  for (uint32_t d = 0; d < index.size(); ++d) {
    const uint32_t city = index.city_position(d);
    if (city_state[city] == kOut) continue;
    const Index::Attributes& a = index.attributes(d);
    if (kind != v1::CASE_KIND_UNSPECIFIED && a.kind != kind) continue;
    if (themes != 0 && (a.themes & themes) == 0) continue;
    if (sdgs != 0 && (a.sdgs & sdgs) == 0) continue;
    if ((f.year_min() != 0 || f.year_max() != 0) &&
        (a.year == 0 || (f.year_min() != 0 && a.year < f.year_min()) ||
         (f.year_max() != 0 && a.year > f.year_max()))) {
      continue;
    }
    if (f.languages_size() > 0 && !Contains(f.languages(), index.doc(d).language)) continue;
    // The query case itself (by id: its city in this snapshot may differ from
    // the store's if it moved since).
    if (!spec.case_id.empty() && index.doc(d).case_id == spec.case_id) continue;
    kept.mask[d] = true;
    ++kept.cases;
    if (city_state[city] == kIn) city_state[city] = kInAndCounted, ++kept.cities;
  }
  return kept;
}

}  // namespace

absl::StatusOr<v1::MatchResponse> Engine::Match(const v1::MatchRequest& req, int offset,
                                                bool* more) const {
  *more = false;
  if (absl::Status s = CheckPaging(req.k(), offset); !s.ok()) return s;
  if (req.evidence_per_city() < 0 || req.evidence_per_city() > kMaxEvidence) {
    return Invalid("evidence_per_city", absl::StrCat(req.evidence_per_city(), " is outside 0-",
                                                     kMaxEvidence));
  }
  if (req.max_per_country() < 0) return Invalid("max_per_country", "must not be negative");
  if (req.filters().kind() != v1::CASE_KIND_UNSPECIFIED &&
      req.filters().kind() != v1::CASE_KIND_SOLUTION) {
    return Invalid("filters.kind",
                   "Match returns solutions; use SimilarCases to find challenges");
  }
  if (!req.asking_city_id().empty()) {
    if (absl::Status s = ValidateId("asking_city_id", req.asking_city_id()); !s.ok()) return s;
  }
  auto spec = ResolveQuery(req, *store_);
  if (!spec.ok()) return spec.status();
  if (!req.asking_city_id().empty()) spec->asking_city = req.asking_city_id();
  const int k = req.k() == 0 ? 10 : req.k();
  const int evidence = req.evidence_per_city() == 0 ? 3 : req.evidence_per_city();

  const std::shared_ptr<const Snapshot> snap = snapshot();
  const Index& index = *snap->index;
  const QueryVector q = snap->model->EmbedQuery(spec->text, spec->language);
  const IndexQuery iq = ToIndexQuery(q, terms_);
  const Kept kept = KeepMask(index, req.filters(), v1::CASE_KIND_SOLUTION, *spec);
  // Every kept solution, ranked; then one entry per city in rank order.
  struct CityHits {
    uint32_t city_doc;  // a doc of the city (for its CityInfo)
    std::vector<const Hit*> hits;
  };
  // The best hits, deep enough to hold the cities of this page: a city's
  // place is that of its best hit, so the first cities seen in the top hits
  // are exactly the best cities. Deeper only when the page is not full yet.
  std::vector<Hit> hits;
  std::vector<CityHits> ranked;
  const size_t wanted = static_cast<size_t>(offset + k) + 1;  // +1: is there a next page?
  // When fewer cities than that have a kept case, the page can only be
  // filled by ranking every kept case: do so at once.
  size_t first_depth = std::max<size_t>(256, wanted * (evidence + 1) * 4);
  if (kept.cities < wanted) first_depth = std::max<size_t>(kept.cases, 1);
  for (size_t depth = first_depth;; depth *= 2) {
    hits = index.Search(iq, spec->structured, kept.mask, options_.weights, depth);
    ranked.clear();
    // By city position: its index in ranked, or kUnseen, or kSkipped (left
    // out for diversity).
    constexpr int32_t kUnseen = -1, kSkipped = -2;
    std::vector<int32_t> position(index.cities().size(), kUnseen);
    absl::flat_hash_map<absl::string_view, int> per_country;
    for (const Hit& h : hits) {
      const uint32_t city = index.city_position(h.doc);
      if (position[city] >= 0) {
        // Further evidence only when it is a match in its own right.
        CityHits& group = ranked[position[city]];
        if (group.hits.size() < static_cast<size_t>(evidence) &&
            h.score > 0 && h.score >= group.hits[0]->score - kExtraEvidenceGap) {
          group.hits.push_back(&h);
        }
        continue;
      }
      if (position[city] == kSkipped) continue;
      if (req.max_per_country() > 0) {
        int& seen = per_country[index.cities()[city].country];
        if (seen >= req.max_per_country()) {
          position[city] = kSkipped;
          continue;
        }
        ++seen;
      }
      position[city] = static_cast<int32_t>(ranked.size());
      ranked.push_back({h.doc, {&h}});
    }
    if (ranked.size() >= wanted || hits.size() < depth || depth >= kept.cases) break;
  }

  v1::MatchResponse resp;
  resp.set_model_version(static_cast<int64_t>(snap->model->version()));
  for (size_t i = offset; i < ranked.size() && i < static_cast<size_t>(offset + k); ++i) {
    const CityHits& ch = ranked[i];
    v1::PeerMatch* peer = resp.add_peers();
    const CityInfo& info = index.city_of(ch.city_doc);
    if (info.city != nullptr) {
      *peer->mutable_city() = *info.city;
    } else {
      peer->mutable_city()->set_id(info.id);
    }
    peer->set_rank(static_cast<int>(i) + 1);
    peer->set_score(ch.hits[0]->score);
    SetParts(*ch.hits[0], peer->mutable_parts());
    for (const Hit* h : ch.hits) {
      v1::Evidence* e = peer->add_evidence();
      e->set_case_id(index.doc(h->doc).case_id);
      e->set_title(index.doc(h->doc).title);
      e->set_score(h->score);
      SetParts(*h, e->mutable_parts());
      AddSharedTerms(index, iq, q, terms_, *h, e->mutable_shared_terms());
    }
  }
  *more = ranked.size() > static_cast<size_t>(offset + k);
  return resp;
}

absl::StatusOr<v1::SimilarCasesResponse> Engine::SimilarCases(const v1::SimilarCasesRequest& req,
                                                              int offset, bool* more) const {
  *more = false;
  if (absl::Status s = CheckPaging(req.k(), offset); !s.ok()) return s;
  auto spec = ResolveQuery(req, *store_);
  if (!spec.ok()) return spec.status();
  // "More like this" for a case: other cities' cases and the city's own
  // alike; only the case itself is left out.
  spec->asking_city.clear();
  const int k = req.k() == 0 ? 10 : req.k();

  const std::shared_ptr<const Snapshot> snap = snapshot();
  const Index& index = *snap->index;
  const QueryVector q = snap->model->EmbedQuery(spec->text, spec->language);
  const IndexQuery iq = ToIndexQuery(q, terms_);
  const Kept kept = KeepMask(index, req.filters(), req.filters().kind(), *spec);
  const std::vector<Hit> hits =
      index.Search(iq, spec->structured, kept.mask, options_.weights, offset + k + 1);

  v1::SimilarCasesResponse resp;
  resp.set_model_version(static_cast<int64_t>(snap->model->version()));
  for (size_t i = offset; i < hits.size() && i < static_cast<size_t>(offset + k); ++i) {
    const Hit& h = hits[i];
    auto c = store_->GetCase(index.doc(h.doc).case_id);
    if (!c.ok()) continue;  // deleted since the snapshot
    v1::CaseMatch* m = resp.add_cases();
    *m->mutable_case_() = *std::move(c);
    m->set_score(h.score);
    m->set_rank(static_cast<int>(i) + 1);
    SetParts(h, m->mutable_parts());
    AddSharedTerms(index, iq, q, terms_, h, m->mutable_shared_terms());
  }
  *more = hits.size() > static_cast<size_t>(offset + k);
  return resp;
}

}  // namespace peermatch
