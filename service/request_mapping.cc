#include "service/request_mapping.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "records/validate.h"

namespace peermatch {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", what));
}

// A value of `list` the predicate rejects, as "<field>[i]: <what>".
template <typename List, typename Predicate>
absl::Status CheckEach(absl::string_view field, const List& list, Predicate ok,
                       absl::string_view what) {
  return ValidateEach(field, list, [&](absl::string_view indexed, const auto& value) {
    return ok(value) ? absl::OkStatus() : Invalid(indexed, what);
  });
}

absl::Status CheckPaging(int k, int offset) {
  if (k < 0 || k > kMaxK) return Invalid("k", absl::StrCat(k, " is outside 0-", kMaxK));
  if (offset < 0 || offset > kMaxOffset) {
    return Invalid("page_token", absl::StrCat("pages end after ", kMaxOffset, " results"));
  }
  return absl::OkStatus();
}

absl::Status CheckPlaces(const v1::Filters& f) {
  absl::Status s = ValidateEach("filters.regions", f.regions(), ValidateRegion);
  if (s.ok()) {
    s = CheckEach("filters.countries", f.countries(), IsIsoCountry,
                  "not an ISO 3166-1 alpha-2 code");
  }
  if (s.ok()) {
    s = CheckEach("filters.exclude_countries", f.exclude_countries(), IsIsoCountry,
                  "not an ISO 3166-1 alpha-2 code");
  }
  if (s.ok()) {
    s = CheckEach("filters.languages", f.languages(), IsIsoLanguage, "not an ISO 639-1 code");
  }
  return s;
}

absl::Status CheckFilters(const v1::Filters& f) {
  absl::Status s = ValidateEach("filters.themes", f.themes(), ValidateTheme);
  if (s.ok()) s = ValidateEach("filters.sdgs", f.sdgs(), ValidateSdg);
  if (s.ok()) s = CheckPlaces(f);
  if (!s.ok()) return s;
  if (f.year_min() < 0 || f.year_max() < 0 ||
      (f.year_min() != 0 && f.year_max() != 0 && f.year_min() > f.year_max())) {
    return Invalid("filters.year_min", "must be 0 or at most filters.year_max");
  }
  s = ValidateEach("filters.exclude_city_ids", f.exclude_city_ids(), ValidateId);
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
  return absl::OkStatus();
}

bool IsTargetGroup(const std::string& group) {
  return group.size() <= kMaxTargetGroupBytes && IsValidUtf8(group);
}

// The fields Match and SimilarCases share, in the order they are checked.
template <typename Request>
absl::Status CheckSubject(const Request& req) {
  absl::Status s = ValidateEach("themes", req.themes(), ValidateTheme);
  if (s.ok()) s = ValidateEach("sdgs", req.sdgs(), ValidateSdg);
  if (!s.ok()) return s;
  if (req.target_groups_size() > static_cast<int>(kMaxTargetGroups)) {
    return Invalid("target_groups", absl::StrCat("at most ", kMaxTargetGroups));
  }
  s = CheckEach("target_groups", req.target_groups(), IsTargetGroup, "too long or not UTF-8");
  if (!s.ok()) return s;
  if (!req.language().empty() && !IsIsoLanguage(req.language())) {
    return Invalid("language", "not an ISO 639-1 code such as \"en\"");
  }
  if (s = CheckFilters(req.filters()); !s.ok()) return s;
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

void AddSharedTerms(std::vector<SharedTerm> terms,
                    google::protobuf::RepeatedPtrField<v1::SharedTerm>* out) {
  for (SharedTerm& t : terms) {
    v1::SharedTerm* wire = out->Add();
    wire->set_term(std::move(t.term));
    wire->set_weight(t.weight);
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
    AddSharedTerms(std::move(e.shared_terms), wire->mutable_shared_terms());
  }
}

}  // namespace

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
  return query;
}

v1::MatchResponse ToMatchResponse(MatchResult result) {
  v1::MatchResponse out;
  out.set_model_version(static_cast<int64_t>(result.model_version));
  for (PeerCity& peer : result.peers.items) ToPeerMatch(std::move(peer), out.add_peers());
  return out;
}

v1::SimilarCasesResponse ToSimilarCasesResponse(SimilarResult result) {
  v1::SimilarCasesResponse out;
  out.set_model_version(static_cast<int64_t>(result.model_version));
  for (SimilarCase& c : result.cases.items) {
    v1::CaseMatch* wire = out.add_cases();
    *wire->mutable_case_() = std::move(c.record);
    wire->set_score(c.score);
    wire->set_rank(c.rank);
    SetParts(c.parts, wire->mutable_parts());
    AddSharedTerms(std::move(c.shared_terms), wire->mutable_shared_terms());
  }
  return out;
}

}  // namespace peermatch
