#include "service/request_mapping.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "records/enums.h"
#include "records/validate.h"
#include "unicode/uchar.h"
#include "unicode/utf8.h"

namespace peermatch {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", what));
}

// More than `max` values, or a value of `list` the predicate rejects, as
// "<field>[i]: <what>".
template <typename List, typename Predicate>
absl::Status CheckEach(absl::string_view field, const List& list, size_t max, Predicate ok,
                       absl::string_view what) {
  return ValidateList(field, list, max, [&](absl::string_view indexed, const auto& value) {
    return ok(value) ? absl::OkStatus() : Invalid(indexed, what);
  });
}

// A count that is 0 (its default) or up to `max`: "<field>: <n> is outside 0-<max>".
absl::Status CheckCount(absl::string_view field, int value, int max) {
  if (value >= 0 && value <= max) return absl::OkStatus();
  return Invalid(field, absl::StrCat(value, " is outside 0-", max));
}

absl::Status CheckPaging(int k, int offset) {
  if (absl::Status s = CheckCount("k", k, kMaxK); !s.ok()) return s;
  if (offset < 0 || offset > kMaxOffset) {
    return Invalid("page_token", absl::StrCat("pages end after ", kMaxOffset, " results"));
  }
  return absl::OkStatus();
}

absl::Status CheckPlaces(const v1::Filters& f) {
  absl::Status s = ValidateSet("filters.regions", f.regions(), kMaxRegions, ValidateRegion);
  if (s.ok()) {
    s = CheckEach("filters.countries", f.countries(), kMaxFilterCountries, IsIsoCountry,
                  "not an ISO 3166-1 alpha-2 code");
  }
  if (s.ok()) {
    s = CheckEach("filters.exclude_countries", f.exclude_countries(), kMaxFilterCountries,
                  IsIsoCountry, "not an ISO 3166-1 alpha-2 code");
  }
  if (s.ok()) {
    s = CheckEach("filters.languages", f.languages(), kMaxFilterLanguages, IsIsoLanguage,
                  "not an ISO 639-1 code");
  }
  return s;
}

absl::Status CheckFilters(const v1::Filters& f) {
  absl::Status s = ValidateSet("filters.themes", f.themes(), kMaxThemes, ValidateTheme);
  if (s.ok()) s = ValidateSet("filters.sdgs", f.sdgs(), kMaxSdgs, ValidateSdg);
  if (s.ok()) s = CheckPlaces(f);
  if (!s.ok()) return s;
  if (f.year_min() < 0 || f.year_max() < 0 ||
      (f.year_min() != 0 && f.year_max() != 0 && f.year_min() > f.year_max())) {
    return Invalid("filters.year_min", "must be 0 or at most filters.year_max");
  }
  s = ValidateList("filters.exclude_city_ids", f.exclude_city_ids(), kMaxExcludeCityIds,
                   ValidateId);
  if (!s.ok()) return s;
  if (!v1::CaseKind_IsValid(f.kind())) return Invalid("filters.kind", "unknown kind");
  return absl::OkStatus();
}

absl::Status CheckText(const std::string& text) {
  if (text.empty()) return Invalid("text", "is empty");
  if (text.size() > kMaxQueryBytes) {
    return Invalid("text", absl::StrCat("is ", text.size(), " bytes; the limit is ",
                                        kMaxQueryBytes));
  }
  if (!IsValidUtf8(text)) return Invalid("text", "is not valid UTF-8");
  if (IsBlank(text)) return Invalid("text", "is only white space; describe the challenge in words");
  return absl::OkStatus();
}

bool IsTargetGroup(const std::string& group) {
  return group.size() <= kMaxTargetGroupBytes && IsValidUtf8(group);
}

// The fields Match and SimilarCases share, in the order they are checked.
template <typename Request>
absl::Status CheckSubject(const Request& req) {
  absl::Status s = ValidateSet("themes", req.themes(), kMaxThemes, ValidateTheme);
  if (s.ok()) s = ValidateSet("sdgs", req.sdgs(), kMaxSdgs, ValidateSdg);
  if (!s.ok()) return s;
  s = CheckEach("target_groups", req.target_groups(), kMaxTargetGroups, IsTargetGroup,
                "too long or not UTF-8");
  if (!s.ok()) return s;
  if (!req.language().empty() && !IsIsoLanguage(req.language())) {
    return Invalid("language", "not an ISO 639-1 code such as \"en\"");
  }
  if (s = CheckFilters(req.filters()); !s.ok()) return s;
  if (req.has_min_score() && !std::isfinite(req.min_score().value())) {
    return Invalid("min_score", "must be a finite number (leave it unset for no threshold)");
  }
  if (req.has_case_id()) return ValidateId("case_id", req.case_id());
  if (!req.has_text()) return Invalid("query", "set text or case_id");
  return CheckText(req.text());
}

template <typename Enum, typename List>
std::vector<Enum> Enums(const List& values) {
  std::vector<Enum> out;
  for (int v : values) out.push_back(static_cast<Enum>(v));
  return out;
}

template <typename List>
std::vector<typename List::value_type> Vector(const List& values) {
  return std::vector<typename List::value_type>(values.begin(), values.end());
}

QueryFilters ToFilters(const v1::Filters& f) {
  QueryFilters out;
  out.themes = Enums<v1::Theme>(f.themes());
  out.sdgs = Vector(f.sdgs());
  out.regions = Enums<v1::Region>(f.regions());
  out.countries = Vector(f.countries());
  out.exclude_countries = Vector(f.exclude_countries());
  out.languages = Vector(f.languages());
  out.year_min = f.year_min();
  out.year_max = f.year_max();
  out.exclude_city_ids = Vector(f.exclude_city_ids());
  return out;
}

template <typename Request>
QuerySubject ToSubject(const Request& req) {
  QuerySubject about;
  if (req.has_case_id()) {
    about.case_id = req.case_id();
  } else {
    about.text = req.text();
  }
  about.language = req.language();
  about.themes = Enums<v1::Theme>(req.themes());
  about.sdgs = Vector(req.sdgs());
  about.target_groups = Vector(req.target_groups());
  return about;
}

absl::Status CheckMatchOnly(const v1::MatchRequest& req) {
  if (req.evidence_per_city() < 0 || req.evidence_per_city() > kMaxEvidence) {
    return Invalid("evidence_per_city", absl::StrCat(req.evidence_per_city(), " is outside 0-",
                                                     kMaxEvidence));
  }
  if (req.max_per_country() < 0) return Invalid("max_per_country", "must not be negative");
  if (req.filters().kind() != v1::CASE_KIND_UNSPECIFIED &&
      req.filters().kind() != v1::CASE_KIND_SOLUTION) {
    return Invalid("filters.kind", "Match returns solutions; use SimilarCases to find challenges");
  }
  if (req.asking_city_id().empty()) return absl::OkStatus();
  return ValidateId("asking_city_id", req.asking_city_id());
}

void SetParts(const ScoreParts& parts, v1::ScoreParts* out) {
  out->set_lexical(parts.lexical);
  out->set_subword(parts.subword);
  out->set_semantic(parts.semantic);
  out->set_structure(parts.structure);
}

void SetTranslation(const SharedTerm::Translation& t, v1::Translation* out) {
  out->set_source_word(t.source_word);
  out->set_source_language(t.source_language);
  out->set_target_word(t.target_word);
  out->set_dictionary(t.dictionary);
}

void AddSharedTerms(std::vector<SharedTerm> terms,
                    google::protobuf::RepeatedPtrField<v1::SharedTerm>* out) {
  for (SharedTerm& t : terms) {
    v1::SharedTerm* wire = out->Add();
    wire->set_term(std::move(t.term));
    wire->set_weight(t.weight);
    if (!t.translation.dictionary.empty()) SetTranslation(t.translation, wire->mutable_translation());
  }
}

// Issue 13: the translations behind the shared terms, in their order.
void AddTranslations(const std::vector<SharedTerm>& terms,
                     google::protobuf::RepeatedPtrField<v1::Translation>* out) {
  for (const SharedTerm& t : terms) {
    if (!t.translation.dictionary.empty()) SetTranslation(t.translation, out->Add());
  }
}

void ToPeerMatch(PeerCity peer, v1::PeerMatch* out) {
  *out->mutable_city() = std::move(peer.city);
  out->set_rank(peer.rank);
  out->set_score(peer.score);
  SetParts(peer.parts, out->mutable_parts());
  for (Evidence& e : peer.evidence) {
    v1::Evidence* wire = out->add_evidence();
    wire->set_case_id(std::move(e.case_id));
    wire->set_title(std::move(e.title));
    wire->set_score(e.score);
    SetParts(e.parts, wire->mutable_parts());
    AddTranslations(e.shared_terms, wire->mutable_translations());
    AddSharedTerms(std::move(e.shared_terms), wire->mutable_shared_terms());
  }
}

// Each pair of `pairs` (avoid or keep): two well-formed ids, two cities.
absl::Status CheckCityPairs(absl::string_view field,
                            const google::protobuf::RepeatedPtrField<v1::CityPair>& pairs) {
  if (absl::Status s = ValidateCount(field, pairs.size(), kMaxPairConstraints); !s.ok()) {
    return s;
  }
  for (int i = 0; i < pairs.size(); ++i) {
    const std::string indexed = absl::StrCat(field, "[", i, "]");
    absl::Status s =
        ValidateId(absl::StrCat(indexed, ".asking_city_id"), pairs[i].asking_city_id());
    if (s.ok()) s = ValidateId(absl::StrCat(indexed, ".peer_city_id"), pairs[i].peer_city_id());
    if (!s.ok()) return s;
    if (pairs[i].asking_city_id() == pairs[i].peer_city_id()) {
      return Invalid(indexed, "a city cannot be its own peer");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckPairing(const v1::PairCitiesRequest& req) {
  absl::Status s = CheckCount("k", req.k(), kMaxPairK);
  if (s.ok()) s = CheckCount("capacity", req.capacity(), kMaxPairCapacity);
  if (s.ok()) {
    s = CheckCount("candidates_per_city", req.candidates_per_city(), kMaxCandidatesPerCity);
  }
  if (!s.ok()) return s;
  if (!std::isfinite(req.min_score())) return Invalid("min_score", "must be a finite number");
  s = ValidateSet("regions", req.regions(), kMaxRegions, ValidateRegion);
  if (s.ok()) s = ValidateSet("themes", req.themes(), kMaxThemes, ValidateTheme);
  if (s.ok()) s = ValidateList("city_ids", req.city_ids(), kMaxPairCityIds, ValidateId);
  if (s.ok()) s = CheckCityPairs("avoid", req.avoid());
  if (s.ok()) s = CheckCityPairs("keep", req.keep());
  return s;
}

std::vector<CityPair> ToCityPairs(const google::protobuf::RepeatedPtrField<v1::CityPair>& pairs) {
  std::vector<CityPair> out;
  for (const v1::CityPair& p : pairs) out.push_back({p.asking_city_id(), p.peer_city_id()});
  return out;
}

// Why a city got no peer, in words.
std::string ReasonText(const UnmatchedCity& u, const PairingQuery& query) {
  switch (u.reason) {
    case UnmatchedCity::Reason::kNoCandidate:
      return "no solution of another cohort city is left to match its challenges (after the "
             "theme, same-country and avoid exclusions)";
    case UnmatchedCity::Reason::kBelowMinScore:
      return absl::StrFormat("its best candidate peer scores %.2f, below min_score %.2f",
                             u.best_score, query.min_score);
    case UnmatchedCity::Reason::kPeersTaken:
      break;
  }
  return absl::StrCat(
      query.mutual ? "each of its " : "its ", u.candidates,
      query.mutual ? " candidate partners is twinned with a city that has no better option"
      : query.score_only
          ? " candidate peers are at capacity with askers they suit better; raise capacity, "
            "or drop score_only to cover every city first"
          : " candidate peers are all needed at capacity by cities that have no other peer; "
            "raise capacity");
}

// Why a city that got some peers, fewer than k, got no more (issue 12),
// e.g. "4 other candidate peers are at capacity (3 askers each); raise
// capacity". (How many it got is Unmatched.peers.)
std::string FewerPeersText(const UnmatchedCity& u, const PairingQuery& query) {
  if (u.reason == UnmatchedCity::Reason::kNoCandidate) {
    return "no other cohort city has a solution left to match its challenges (after the theme, "
           "same-country and avoid exclusions)";
  }
  std::string out;
  std::vector<std::string> parts;
  if (u.full > 0) {
    parts.push_back(absl::StrCat(u.full, " other candidate peer", u.full == 1 ? " is" : "s are",
                                 " at capacity (", query.capacity,
                                 query.capacity == 1 ? " asker each)" : " askers each)"));
  }
  if (u.not_worth > 0) {
    parts.push_back(absl::StrCat(u.not_worth, " score", u.not_worth == 1 ? "s" : "",
                                 " below 0 (the pair would lower the total)"));
  }
  if (u.below_min > 0) {
    parts.push_back(absl::StrFormat("%d score%s below min_score %.2f", u.below_min,
                                    u.below_min == 1 ? "s" : "", query.min_score));
  }
  if (u.pruned > 0) {
    const int kept = query.candidates_per_city > 0 ? query.candidates_per_city
                                                   : std::max(10 * query.k, 40);
    parts.push_back(absl::StrCat(u.pruned, " fell outside its ", kept, " best candidates"));
  }
  absl::StrAppend(&out, absl::StrJoin(parts, "; "));
  // The one change that would give it more peers, first what binds.
  if (u.full > 0) {
    absl::StrAppend(&out, "; raise capacity");
  } else if (u.pruned > 0) {
    absl::StrAppend(&out, "; raise candidates_per_city");
  } else if (u.below_min > 0) {
    absl::StrAppend(&out, "; lower min_score");
  }
  return out;
}

template <typename List>
std::string Joined(const List& values) {
  return absl::StrJoin(values, ", ");
}

template <typename Enum, typename List>
std::string JoinedEnums(const List& values) {
  return absl::StrJoin(values, ", ", [](std::string* out, int v) {
    absl::StrAppend(out, EnumShortName(static_cast<Enum>(v)));
  });
}

// The filters a request gave, "filters.regions: africa; filters.year_min:
// 2020" ("" for none).
std::string GivenFilters(const v1::Filters& f) {
  std::vector<std::string> given;
  auto add = [&given](absl::string_view field, const std::string& values) {
    given.push_back(absl::StrCat("filters.", field, ": ", values));
  };
  if (!f.themes().empty()) add("themes", JoinedEnums<v1::Theme>(f.themes()));
  if (!f.sdgs().empty()) add("sdgs", Joined(f.sdgs()));
  if (!f.regions().empty()) add("regions", JoinedEnums<v1::Region>(f.regions()));
  if (!f.countries().empty()) add("countries", Joined(f.countries()));
  if (!f.exclude_countries().empty()) add("exclude_countries", Joined(f.exclude_countries()));
  if (!f.languages().empty()) add("languages", Joined(f.languages()));
  if (f.year_min() != 0) add("year_min", absl::StrCat(f.year_min()));
  if (f.year_max() != 0) add("year_max", absl::StrCat(f.year_max()));
  if (!f.exclude_city_ids().empty()) add("exclude_city_ids", Joined(f.exclude_city_ids()));
  if (f.kind() != v1::CASE_KIND_UNSPECIFIED) add("kind", EnumShortName(f.kind()));
  return absl::StrJoin(given, "; ");
}

// Why a first page is empty: "<none> <conditions>; <what to try>", where
// `none` says what is missing ("no city has a solution that", "no case").
template <typename Request>
std::string EmptyReasonFor(const Request& req, int offset, absl::string_view none) {
  if (offset > 0) {
    return absl::StrCat("no more results: the ranking ends before result ", offset + 1);
  }
  const std::string subject =
      req.has_case_id() ? absl::StrCat("case \"", req.case_id(), "\"") : "the text";
  const std::string filters = GivenFilters(req.filters());
  std::vector<std::string> conditions, tries;
  if (!filters.empty()) {
    conditions.push_back(absl::StrCat("passes the filters (", filters, ")"));
    tries.push_back("fewer filters");
  }
  conditions.push_back(absl::StrCat(
      "shares evidence with ", subject, " (a word, a spelling of one, or its meaning)"));
  if (req.has_min_score()) {
    conditions.push_back(absl::StrFormat("scores at least min_score %g", req.min_score().value()));
    tries.push_back("a lower min_score");
  }
  if (tries.empty() && req.has_case_id()) {
    return absl::StrCat(none, " ", absl::StrJoin(conditions, ", "),
                        "; the case's words are found in no other case");
  }
  if (tries.empty()) {
    tries.push_back("more or other words");
    tries.push_back(req.language().empty()
                        ? "the text's language (language: an ISO 639-1 code such as \"fr\") "
                          "if it is not English"
                        : "another language than \"" + req.language() + "\"");
  }
  std::string last = conditions.back();
  conditions.pop_back();
  const std::string joined =
      conditions.empty() ? last : absl::StrCat(absl::StrJoin(conditions, ", "), " and ", last);
  return absl::StrCat(none, " ", joined, "; try ", absl::StrJoin(tries, ", or "));
}

}  // namespace

std::string EmptyReason(const v1::MatchRequest& request, int offset) {
  return EmptyReasonFor(request, offset, "no city has a solution that");
}

std::string EmptyReason(const v1::SimilarCasesRequest& request, int offset) {
  return EmptyReasonFor(request, offset, "no case");
}

absl::StatusOr<MatchQuery> ToMatchQuery(const v1::MatchRequest& req, int offset) {
  absl::Status s = CheckPaging(req.k(), offset);
  if (s.ok()) s = CheckMatchOnly(req);
  if (s.ok()) s = CheckSubject(req);
  if (!s.ok()) return s;
  MatchQuery query;
  query.about = ToSubject(req);
  query.filters = ToFilters(req.filters());
  query.k = req.k() == 0 ? kDefaultK : req.k();
  query.evidence_per_city =
      req.evidence_per_city() == 0 ? kDefaultEvidence : req.evidence_per_city();
  query.max_per_country = req.max_per_country();
  query.asking_city_id = req.asking_city_id();
  query.offset = offset;
  if (req.has_min_score()) query.min_score = req.min_score().value();
  return query;
}

absl::StatusOr<SimilarQuery> ToSimilarQuery(const v1::SimilarCasesRequest& req, int offset) {
  absl::Status s = CheckPaging(req.k(), offset);
  if (s.ok()) s = CheckSubject(req);
  if (!s.ok()) return s;
  SimilarQuery query;
  query.about = ToSubject(req);
  query.filters = ToFilters(req.filters());
  query.kind = req.filters().kind();
  query.k = req.k() == 0 ? kDefaultK : req.k();
  query.offset = offset;
  if (req.has_min_score()) query.min_score = req.min_score().value();
  return query;
}

namespace {
// Issue 13: set only when the engine says how it chose the language.
void ToQueryLanguage(const QueryLanguage& in, v1::QueryLanguage* out) {
  out->set_language(in.language);
  out->set_source(in.source);
  out->set_detected_language(in.detected);
  out->set_confidence(static_cast<float>(in.confidence));
}
}  // namespace

v1::MatchResponse ToMatchResponse(MatchResult result) {
  v1::MatchResponse out;
  out.set_model_version(static_cast<int64_t>(result.model_version));
  if (result.query_language.source != v1::LANGUAGE_SOURCE_UNSPECIFIED) {
    ToQueryLanguage(result.query_language, out.mutable_query_language());
  }
  for (PeerCity& peer : result.peers.items) ToPeerMatch(std::move(peer), out.add_peers());
  return out;
}

v1::SimilarCasesResponse ToSimilarCasesResponse(SimilarResult result) {
  v1::SimilarCasesResponse out;
  out.set_model_version(static_cast<int64_t>(result.model_version));
  if (result.query_language.source != v1::LANGUAGE_SOURCE_UNSPECIFIED) {
    ToQueryLanguage(result.query_language, out.mutable_query_language());
  }
  for (SimilarCase& c : result.cases.items) {
    v1::CaseMatch* wire = out.add_cases();
    *wire->mutable_case_() = std::move(c.record);
    wire->set_score(c.score);
    wire->set_rank(c.rank);
    SetParts(c.parts, wire->mutable_parts());
    AddTranslations(c.shared_terms, wire->mutable_translations());
    AddSharedTerms(std::move(c.shared_terms), wire->mutable_shared_terms());
  }
  return out;
}

absl::StatusOr<PairingQuery> ToPairingQuery(const v1::PairCitiesRequest& req) {
  if (absl::Status s = CheckPairing(req); !s.ok()) return s;
  PairingQuery query;
  query.city_ids = Vector(req.city_ids());
  query.regions = Enums<v1::Region>(req.regions());
  query.themes = Enums<v1::Theme>(req.themes());
  query.k = req.k() == 0 ? kDefaultPairK : req.k();
  query.capacity = req.capacity() == 0 ? kDefaultPairCapacity : req.capacity();
  query.exclude_same_country = req.exclude_same_country();
  query.avoid = ToCityPairs(req.avoid());
  query.keep = ToCityPairs(req.keep());
  query.min_score = req.min_score();
  query.mutual = req.mutual();
  query.candidates_per_city = req.candidates_per_city();
  query.score_only = req.score_only();
  return query;
}

v1::PairingProgress ToPairingProgress(const PairingProgress& progress) {
  v1::PairingProgress out;
  out.set_stage(progress.stage);
  out.set_done(progress.done);
  out.set_total(progress.total);
  return out;
}

v1::Pair ToPair(PairedCities pair) {
  v1::Pair out;
  out.set_asking_city_id(std::move(pair.asking_city_id));
  out.set_peer_city_id(std::move(pair.peer_city_id));
  out.set_score(pair.score);
  out.set_kept(pair.kept);
  if (pair.forward.has_value()) {
    PairDirection& f = *pair.forward;
    out.set_challenge_id(std::move(f.challenge_id));
    out.set_challenge_title(std::move(f.challenge_title));
    out.set_solution_id(std::move(f.solution_id));
    out.set_solution_title(std::move(f.solution_title));
    SetParts(f.parts, out.mutable_parts());
    AddSharedTerms(std::move(f.shared_terms), out.mutable_shared_terms());
  }
  if (pair.reverse.has_value()) {
    out.set_reverse_challenge_id(std::move(pair.reverse->challenge_id));
    out.set_reverse_solution_id(std::move(pair.reverse->solution_id));
    out.set_reverse_score(pair.reverse->score);
  }
  return out;
}

v1::PairingSummary ToPairingSummary(const PairingSummary& summary, const PairingQuery& query) {
  v1::PairingSummary out;
  out.set_pairs(summary.pairs);
  out.set_total_score(summary.total_score);
  out.set_asking_cities(summary.asking_cities);
  out.set_matched_cities(summary.matched_cities);
  out.set_fully_matched_cities(summary.fully_matched_cities);
  for (const UnmatchedCity& u : summary.unmatched) {
    v1::Unmatched* wire = out.add_unmatched();
    wire->set_city_id(u.city_id);
    wire->set_reason(ReasonText(u, query));
  }
  for (const UnmatchedCity& u : summary.fewer_peers) {
    v1::Unmatched* wire = out.add_fewer_peers();
    wire->set_city_id(u.city_id);
    wire->set_reason(FewerPeersText(u, query));
    wire->set_peers(u.peers);
  }
  out.set_candidate_pairs(summary.candidate_pairs);
  out.set_kept_candidates(summary.kept_candidates);
  out.set_scoring_seconds(summary.scoring_seconds);
  out.set_solving_seconds(summary.solving_seconds);
  out.set_model_version(static_cast<int64_t>(summary.model_version));
  return out;
}

}  // namespace peermatch
