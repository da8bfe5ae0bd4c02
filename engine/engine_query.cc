// Engine's read side: Match and SimilarCases, on the domain types of
// engine/query.h. Requests are checked and mapped before they get here
// (service/request_mapping.h); the checks below only keep the engine safe
// from a query that breaks the contract.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/engine.h"
#include "text/language.h"
#include "engine/internal/query_util.h"
#include "records/validate.h"

namespace peermatch {
namespace {

using internal::PartsOf;
using internal::SharedTerms;
using internal::Shown;
using internal::ToIndexQuery;

// A city's second and later evidence must score above the candidates' mean
// (0) and within this much of its best (scores are in standard deviations):
// weak look-alikes are not evidence.
constexpr float kExtraEvidenceGap = 1.0f;

absl::Status Invalid(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", what));
}

absl::Status CheckRange(absl::string_view field, int value, int min, int max) {
  if (value >= min && value <= max) return absl::OkStatus();
  return Invalid(field, absl::StrCat(value, " is outside ", min, "-", max));
}

// The values the engine turns into bit masks, and the subject, must meet the
// contract of engine/query.h.
absl::Status CheckSubjectAndFilters(const QuerySubject& about, const QueryFilters& f) {
  if (about.text.empty() == about.case_id.empty()) {
    return Invalid("query", "set exactly one of text and case_id");
  }
  absl::Status s = ValidateEach("query.themes", about.themes, ValidateTheme);
  if (s.ok()) s = ValidateEach("query.sdgs", about.sdgs, ValidateSdg);
  if (s.ok()) s = ValidateEach("query.filters.themes", f.themes, ValidateTheme);
  if (s.ok()) s = ValidateEach("query.filters.sdgs", f.sdgs, ValidateSdg);
  return s;
}

// Where a query checks its QueryStop (query.h). Once a check has failed,
// every later one fails the same way.
class StopCheck {
 public:
  StopCheck(absl::string_view call, const QueryStop& stop,
            const std::function<void(const QueryStop&)>& hook)
      : call_(call), stop_(stop), hook_(hook) {}

  // OK, or DEADLINE_EXCEEDED / CANCELLED saying `where` the query stopped.
  absl::Status Check(absl::string_view where) {
    if (!status_.ok()) return status_;
    if (hook_) hook_(stop_);
    // The deadline first: gRPC also marks a call whose deadline passed as
    // cancelled, and that call's answer is DEADLINE_EXCEEDED, not CANCELLED.
    if (absl::Now() >= stop_.deadline) {
      status_ = absl::DeadlineExceededError(
          absl::StrCat(call_, ": the call's deadline passed ", where, "; it was stopped there"));
    } else if (stop_.cancelled && stop_.cancelled()) {
      status_ = absl::CancelledError(absl::StrCat(call_, ": the call was cancelled ", where));
    }
    return status_;
  }

 private:
  const absl::string_view call_;
  const QueryStop& stop_;
  const std::function<void(const QueryStop&)>& hook_;
  absl::Status status_;
};

// Cases the filter scan looks at between two checks of the QueryStop: a
// check costs a clock read, the cases a few nanoseconds each.
constexpr uint32_t kCasesPerStopCheck = 4096;

absl::Status CheckPage(int k, int offset, double min_score) {
  absl::Status s = CheckRange("query.k", k, 1, kMaxK);
  if (s.ok()) s = CheckRange("query.offset", offset, 0, kMaxOffset);
  if (s.ok() && std::isnan(min_score)) s = Invalid("query.min_score", "must be a number");
  return s;
}

// The query part shared by Match and SimilarCases.
struct QuerySpec {
  std::string text;
  QueryLanguage language;
  StructuredQuery structured;
  std::string asking_city;  // excluded
  std::string case_id;      // the query case, when given by id
};

// Themes or SDGs as a bit mask (bit n for value n).
template <typename List>
uint32_t Mask(const List& values) {
  uint32_t mask = 0;
  for (int v : values) mask |= 1u << v;
  return mask;
}

StructuredQuery Structure(const QuerySubject& about) {
  StructuredQuery structured;
  structured.themes = Mask(about.themes);
  structured.sdgs = Mask(about.sdgs);
  for (const std::string& g : about.target_groups) {
    structured.target_groups.push_back(absl::AsciiStrToLower(g));
  }
  return structured;
}

// The language a query text is analyzed in (text/language.h).
void QueryTextLanguage(absl::string_view stated, absl::string_view text,
                       absl::string_view default_language, QueryLanguage* out) {
  const ResolvedLanguage r = ResolveLanguage(stated, text, default_language);
  out->language = r.analysis;
  out->detected = r.detected;
  out->confidence = r.confidence;
  out->source = r.source == LanguageSource::kStated     ? v1::LANGUAGE_SOURCE_STATED
                : r.source == LanguageSource::kDetected ? v1::LANGUAGE_SOURCE_DETECTED
                                                        : v1::LANGUAGE_SOURCE_DEFAULT;
}

// The text, language and structure a subject stands for. NOT_FOUND for an
// unknown case.
absl::StatusOr<QuerySpec> ResolveSubject(const QuerySubject& about, const Store& store,
                                         absl::string_view default_language) {
  QuerySpec spec;
  spec.structured = Structure(about);
  if (about.case_id.empty()) {
    spec.text = about.text;
    QueryTextLanguage(about.language, about.text, default_language, &spec.language);
    return spec;
  }
  auto c = store.GetCase(about.case_id);
  if (absl::IsNotFound(c.status())) {
    return absl::NotFoundError(absl::StrCat("case_id: no case with id \"", about.case_id, "\""));
  }
  if (!c.ok()) return c.status();
  spec.case_id = c->id();
  spec.asking_city = c->city_id();
  spec.language.language = CaseAnalysisLanguage(*c);
  spec.language.source = c->language_source();
  spec.language.detected = c->detected_language();
  spec.language.confidence = c->language_confidence();
  spec.text = internal::CaseQueryText(*c);
  if (spec.structured.empty()) spec.structured = internal::CaseStructure(*c);
  return spec;
}

template <typename T>
bool Contains(const std::vector<T>& list, const T& x) {
  return std::find(list.begin(), list.end(), x) != list.end();
}

// The cases of the index that pass the filters (and are not the asking
// city's), and how many cases and distinct cities that is.
struct Kept {
  std::vector<bool> mask;
  size_t cases = 0;
  size_t cities = 0;
};

enum CityState : uint8_t { kOut, kIn, kInAndCounted };

// City filters are decided once per city.
std::vector<CityState> KeepCities(const SegmentedIndex& index, const QueryFilters& f,
                                  const QuerySpec& spec) {
  const std::vector<CityInfo>& cities = index.cities();
  std::vector<CityState> city_state(cities.size(), kOut);
  for (size_t c = 0; c < cities.size(); ++c) {
    const CityInfo& city = cities[c];
    if (!spec.asking_city.empty() && city.id == spec.asking_city) continue;
    if (!f.regions.empty() && !Contains(f.regions, city.region)) continue;
    if (!f.countries.empty() && !Contains(f.countries, city.country)) continue;
    if (Contains(f.exclude_countries, city.country)) continue;
    if (Contains(f.exclude_city_ids, city.id)) continue;
    city_state[c] = kIn;
  }
  return city_state;
}

// Then each case of a kept city reads its flat attributes.
absl::StatusOr<Kept> KeepMask(const SegmentedIndex& index, const QueryFilters& f, v1::CaseKind kind,
                              const QuerySpec& spec, StopCheck* stop) {
  const uint32_t themes = Mask(f.themes);
  const uint32_t sdgs = Mask(f.sdgs);
  Kept kept;
  // No filter but the kind (the portal's usual Match): the view's mask of
  // the kind's live cases, less the asking city's and the query case.
  const bool kind_only = f.themes.empty() && f.sdgs.empty() && f.regions.empty() &&
                         f.countries.empty() && f.exclude_countries.empty() &&
                         f.languages.empty() && f.year_min == 0 && f.year_max == 0 &&
                         f.exclude_city_ids.empty();
  if (kind_only) {
    // The deadline is checked here as at the start of the scan below (the
    // view's first such query computes the mask: a scan of every case).
    absl::Status s = stop->Check(
        absl::StrCat("while filtering the cases (0 of ", index.num_positions(), ")"));
    if (!s.ok()) return s;
  }
  const SegmentedIndex::KindMask* of_kind = kind_only ? index.LiveOfKind(kind) : nullptr;
  if (of_kind != nullptr) {
    kept.mask = of_kind->mask;
    kept.cases = of_kind->cases;
    kept.cities = of_kind->cities;
    int asking = -1;
    if (!spec.asking_city.empty() && (asking = index.CityPosition(spec.asking_city)) >= 0) {
      for (uint32_t d : index.LiveCasesOfCity(static_cast<uint32_t>(asking))) {
        if (kept.mask[d]) kept.mask[d] = false, --kept.cases;
      }
      if (of_kind->city_cases[asking] > 0) --kept.cities;
    }
    if (!spec.case_id.empty()) {
      const int p = index.CasePosition(spec.case_id);
      if (p >= 0 && kept.mask[p]) {
        kept.mask[p] = false;
        --kept.cases;
        if (of_kind->city_cases[index.city_position(p)] == 1) --kept.cities;
      }
    }
    return kept;
  }
  std::vector<CityState> city_state = KeepCities(index, f, spec);
  const uint32_t positions = index.num_positions();
  kept.mask.assign(positions, false);
  for (uint32_t d = 0; d < positions; ++d) {
    if (d % kCasesPerStopCheck == 0) {
      absl::Status s =
          stop->Check(absl::StrCat("while filtering the cases (", d, " of ", positions, ")"));
      if (!s.ok()) return s;
    }
    if (!index.live(d)) continue;  // deleted or replaced since the base was built
    const uint32_t city = index.city_position(d);
    if (city_state[city] == kOut) continue;
    const Index::Attributes& a = index.attributes(d);
    if (kind != v1::CASE_KIND_UNSPECIFIED && a.kind != kind) continue;
    if (themes != 0 && (a.themes & themes) == 0) continue;
    if (sdgs != 0 && (a.sdgs & sdgs) == 0) continue;
    if ((f.year_min != 0 || f.year_max != 0) &&
        (a.year == 0 || (f.year_min != 0 && a.year < f.year_min) ||
         (f.year_max != 0 && a.year > f.year_max))) {
      continue;
    }
    if (!f.languages.empty() && !Contains(f.languages, index.doc(d).language)) continue;
    // The query case itself (by id: its city in this snapshot may differ from
    // the store's if it moved since).
    if (!spec.case_id.empty() && index.doc(d).case_id == spec.case_id) continue;
    kept.mask[d] = true;
    ++kept.cases;
    if (city_state[city] == kIn) city_state[city] = kInAndCounted, ++kept.cities;
  }
  return kept;
}

// What a query's search needs, from one snapshot.
struct SearchContext {
  const SegmentedIndex& index;
  const QueryVector& q;
  const IndexQuery& iq;
  const StructuredQuery& structured;
  const std::vector<bool>& mask;
  const ScoreWeights& weights;
};

// The kept solutions ranked, grouped by city in the order of each city's
// best hit.
struct RankedCities {
  struct City {
    uint32_t city_doc;          // a doc of the city (for its CityInfo)
    std::vector<size_t> hits;   // into `hits`, best first
  };
  std::vector<Hit> hits;
  std::vector<City> cities;
};

// One entry per city of `hits`, in rank order, with up to `evidence` hits
// each; at most `max_per_country` cities per country (0: any).
void GroupByCity(const SegmentedIndex& index, int evidence, int max_per_country, RankedCities* ranked) {
  ranked->cities.clear();
  // By city position: its index in ranked, or kUnseen, or kSkipped (left
  // out for diversity).
  constexpr int32_t kUnseen = -1, kSkipped = -2;
  std::vector<int32_t> position(index.cities().size(), kUnseen);
  absl::flat_hash_map<absl::string_view, int> per_country;
  for (size_t i = 0; i < ranked->hits.size(); ++i) {
    const Hit& h = ranked->hits[i];
    const uint32_t city = index.city_position(h.doc);
    if (position[city] >= 0) {
      // Further evidence only when it is a match in its own right.
      RankedCities::City& group = ranked->cities[position[city]];
      if (group.hits.size() < static_cast<size_t>(evidence) && h.score > 0 &&
          h.score >= ranked->hits[group.hits[0]].score - kExtraEvidenceGap) {
        group.hits.push_back(i);
      }
      continue;
    }
    if (position[city] == kSkipped) continue;
    if (max_per_country > 0) {
      int& seen = per_country[index.cities()[city].country];
      if (seen >= max_per_country) {
        position[city] = kSkipped;
        continue;
      }
      ++seen;
    }
    position[city] = static_cast<int32_t>(ranked->cities.size());
    ranked->cities.push_back({h.doc, {i}});
  }
}

// The best hits that may be shown, deep enough to hold the cities of the
// query's page (and one more, to tell whether a next page exists): a city's
// place is that of its best shown hit, so the first cities seen in the top
// hits are exactly the best cities. Deeper only when the page is not full
// yet and deeper hits could still be shown.
absl::StatusOr<RankedCities> RankCities(const SearchContext& search, const Kept& kept,
                                        const MatchQuery& query, StopCheck* stop) {
  const size_t end = static_cast<size_t>(query.offset + query.k);
  const size_t wanted = end + 1;
  // The answer is defined as the grouping of the best `full_depth` hits
  // (deeper only while the page is not full). When fewer cities than
  // `wanted` have a kept case, the page can only be filled by ranking every
  // kept case: do so at once.
  size_t full_depth = std::max<size_t>(256, wanted * (query.evidence_per_city + 1) * 4);
  if (kept.cities < wanted) full_depth = std::max<size_t>(kept.cases, 1);
  // One search at the full depth (issue 16: a shallow search of 32 first
  // settled the page for 28 of 200 new questions at 100,000 cases, so most
  // Matches paid two whole retrievals; the full depth at once measured 1.7-2.3x
  // faster there); deeper only while the page is not full.
  size_t depth = full_depth;
  RankedCities ranked;
  for (;; depth *= 2) {
    if (absl::Status s = stop->Check("while ranking the cases"); !s.ok()) return s;
    std::vector<Hit> hits = search.index.Search(search.iq, search.structured, search.mask,
                                                search.weights, depth);
    // Hits come best first: past one below min_score, none can be shown.
    const bool last = hits.size() < depth || depth >= kept.cases ||
                      (!hits.empty() && hits.back().score < query.min_score);
    ranked.hits = Shown(std::move(hits), query.min_score);
    GroupByCity(search.index, query.evidence_per_city, query.max_per_country, &ranked);
    if (last || ranked.cities.size() >= wanted) break;
  }
  return ranked;
}

// The best `wanted` hits of a SimilarCases query that may be shown (fewer
// when there are no more).
absl::StatusOr<std::vector<Hit>> RankCases(const SearchContext& search, const Kept& kept,
                                           size_t wanted, double min_score, StopCheck* stop) {
  std::vector<Hit> shown;
  for (size_t depth = wanted;; depth *= 2) {
    if (absl::Status s = stop->Check("while ranking the cases"); !s.ok()) return s;
    std::vector<Hit> hits = search.index.Search(search.iq, search.structured, search.mask,
                                                search.weights, depth);
    const bool last = hits.size() < depth || depth >= kept.cases ||
                      (!hits.empty() && hits.back().score < min_score);
    shown = Shown(std::move(hits), min_score);
    if (shown.size() >= wanted || last) break;
  }
  if (shown.size() > wanted) shown.resize(wanted);
  return shown;
}

Evidence MakeEvidence(const SearchContext& search, const TermDictionary& terms, const Hit& h) {
  Evidence e;
  e.case_id = search.index.doc(h.doc).case_id;
  e.title = search.index.doc(h.doc).title;
  e.score = h.score;
  e.parts = PartsOf(h);
  e.shared_terms = SharedTerms(search.index, search.iq, search.q, terms, h);
  return e;
}

PeerCity MakePeer(const SearchContext& search, const TermDictionary& terms, const RankedCities& ranked,
                  size_t i) {
  const RankedCities::City& ch = ranked.cities[i];
  const Hit& best = ranked.hits[ch.hits[0]];
  PeerCity peer;
  const CityInfo& info = search.index.city_of(ch.city_doc);
  if (info.city != nullptr) {
    peer.city = *info.city;
  } else {
    peer.city.set_id(info.id);
  }
  peer.rank = static_cast<int>(i) + 1;
  peer.score = best.score;
  peer.parts = PartsOf(best);
  for (size_t h : ch.hits) peer.evidence.push_back(MakeEvidence(search, terms, ranked.hits[h]));
  return peer;
}

absl::Status CheckMatchQuery(const MatchQuery& query) {
  absl::Status s = CheckPage(query.k, query.offset, query.min_score);
  if (s.ok()) s = CheckRange("query.evidence_per_city", query.evidence_per_city, 1, kMaxEvidence);
  if (s.ok() && query.max_per_country < 0) {
    s = Invalid("query.max_per_country", "must not be negative");
  }
  if (s.ok()) s = CheckSubjectAndFilters(query.about, query.filters);
  return s;
}

}  // namespace

IndexQuery Engine::ToIndexQueryForBench(const QueryVector& q) const {
  return ToIndexQuery(q, terms_);
}

absl::StatusOr<MatchResult> Engine::Match(const MatchQuery& query,
                                          const QueryStop& stop_when) const {
  if (absl::Status s = CheckMatchQuery(query); !s.ok()) return s;
  StopCheck stop("Match", stop_when, options_.at_query_check_for_test);
  absl::StatusOr<QuerySpec> spec = ResolveSubject(query.about, *store_, options_.default_language);
  if (!spec.ok()) return spec.status();
  if (!query.asking_city_id.empty()) spec->asking_city = query.asking_city_id;

  const std::shared_ptr<const Snapshot> snap = snapshot();
  const SegmentedIndex& index = *snap->index;
  const QueryVector q = snap->model->EmbedQuery(spec->text, spec->language.language);
  const IndexQuery iq = ToIndexQuery(q, terms_);
  const absl::StatusOr<Kept> kept =
      KeepMask(index, query.filters, v1::CASE_KIND_SOLUTION, *spec, &stop);
  if (!kept.ok()) return kept.status();
  const SearchContext search{index, q, iq, spec->structured, kept->mask, WeightsOf(*snap)};
  const absl::StatusOr<RankedCities> found = RankCities(search, *kept, query, &stop);
  if (!found.ok()) return found.status();
  const RankedCities& ranked = *found;

  MatchResult result;
  result.model_version = snap->model->version();
  result.query_language = spec->language;
  const size_t end = static_cast<size_t>(query.offset + query.k);
  for (size_t i = query.offset; i < ranked.cities.size() && i < end; ++i) {
    if (absl::Status s = stop.Check("while explaining the peers"); !s.ok()) return s;
    result.peers.items.push_back(MakePeer(search, terms_, ranked, i));
  }
  result.peers.more = ranked.cities.size() > end;
  return result;
}

absl::StatusOr<SimilarResult> Engine::SimilarCases(const SimilarQuery& query,
                                                   const QueryStop& stop_when) const {
  absl::Status s = CheckPage(query.k, query.offset, query.min_score);
  if (s.ok()) s = CheckSubjectAndFilters(query.about, query.filters);
  if (!s.ok()) return s;
  StopCheck stop("SimilarCases", stop_when, options_.at_query_check_for_test);
  absl::StatusOr<QuerySpec> spec = ResolveSubject(query.about, *store_, options_.default_language);
  if (!spec.ok()) return spec.status();
  // "More like this" for a case: other cities' cases and the city's own
  // alike; only the case itself is left out.
  spec->asking_city.clear();

  const std::shared_ptr<const Snapshot> snap = snapshot();
  const SegmentedIndex& index = *snap->index;
  const QueryVector q = snap->model->EmbedQuery(spec->text, spec->language.language);
  const IndexQuery iq = ToIndexQuery(q, terms_);
  const absl::StatusOr<Kept> kept = KeepMask(index, query.filters, query.kind, *spec, &stop);
  if (!kept.ok()) return kept.status();
  if (s = stop.Check("while ranking the cases"); !s.ok()) return s;
  const size_t end = static_cast<size_t>(query.offset + query.k);
  const SearchContext search{index, q, iq, spec->structured, kept->mask, WeightsOf(*snap)};
  const absl::StatusOr<std::vector<Hit>> ranked =
      RankCases(search, *kept, end + 1, query.min_score, &stop);
  if (!ranked.ok()) return ranked.status();
  const std::vector<Hit>& hits = *ranked;

  SimilarResult result;
  result.model_version = snap->model->version();
  result.query_language = spec->language;
  for (size_t i = query.offset; i < hits.size() && i < end; ++i) {
    if (s = stop.Check("while explaining the cases"); !s.ok()) return s;
    const Hit& h = hits[i];
    auto c = store_->GetCase(index.doc(h.doc).case_id);
    if (!c.ok()) continue;  // deleted since the snapshot
    SimilarCase& m = result.cases.items.emplace_back();
    m.record = *std::move(c);
    m.score = h.score;
    m.rank = static_cast<int>(i) + 1;
    m.parts = PartsOf(h);
    m.shared_terms = SharedTerms(index, iq, q, terms_, h);
  }
  result.cases.more = hits.size() > end;
  return result;
}

}  // namespace peermatch
