// Every limit peermatch puts on what it is given or asked for, in one place.
//
// Text limits are in bytes of UTF-8; longer text is rejected, never
// truncated. Counts and ranges are checked where a request or a record
// enters (records/validate.h for records, service/request_mapping.h for
// queries); the engine relies on them.
//
// Every repeated field of a record or a request has a count limit here, so
// that the work a request causes is bounded by these numbers and the size
// of the corpus, never by the size of the request: a list over its limit is
// INVALID_ARGUMENT ("filters.languages: 100000 values, at most 64"). Sets
// of enum values and numbers (themes, SDGs, regions, city.languages) also
// refuse a value given twice ("case.sdgs[2]: 4 is given twice").
//
// Thread-safety: constants only.
#ifndef PEERMATCH_RECORDS_LIMITS_H_
#define PEERMATCH_RECORDS_LIMITS_H_

#include <cstddef>

namespace peermatch {

// --- Requests. ---
// The largest request accepted, on every transport: a gRPC message
// (ServerOptions::max_receive_bytes) and an HTTP body, JSON or JSON Lines,
// Content-Length or chunked (HttpLimits::max_body_bytes).
inline constexpr size_t kMaxRequestBytes = 4 << 20;

// --- Records (cities and cases). ---
inline constexpr size_t kMaxIdBytes = 64;               // city and case ids (slugs)
inline constexpr size_t kMaxNameBytes = 200;            // city.name
inline constexpr size_t kMaxTitleBytes = 300;           // case.title
inline constexpr size_t kMaxDescriptionBytes = 16 << 10;  // case.description
inline constexpr size_t kMaxOutcomeBytes = 8 << 10;     // case.outcome
inline constexpr size_t kMaxTagBytes = 64;              // each of case.tags
inline constexpr size_t kMaxTags = 32;                  // entries of case.tags
inline constexpr size_t kMaxTargetGroupBytes = 100;     // each target group (cases and queries)
inline constexpr size_t kMaxTargetGroups = 16;          // target groups (cases and queries)
inline constexpr size_t kMaxLanguages = 16;             // entries of city.languages
// UN Sustainable Development Goals are numbered kMinSdg-kMaxSdg.
inline constexpr int kMinSdg = 1;
inline constexpr int kMaxSdg = 17;
// Sets: each value at most once, so a set holds at most every value there is.
inline constexpr size_t kMaxThemes = 6;    // any themes list: the six learning-city themes
inline constexpr size_t kMaxSdgs = 17;     // any sdgs list: goals 1-17
inline constexpr size_t kMaxRegions = 5;   // any regions list: the five UNESCO regions

// --- Queries (Match and SimilarCases). ---
// A query text may be as long as a case description.
inline constexpr size_t kMaxQueryBytes = kMaxDescriptionBytes;
// Results per page: k is 0 (kDefaultK) or 1-kMaxK.
inline constexpr int kDefaultK = 10;
inline constexpr int kMaxK = 100;
// Evidence cases per peer city in Match: 0 (kDefaultEvidence) or 1-kMaxEvidence.
inline constexpr int kDefaultEvidence = 3;
inline constexpr int kMaxEvidence = 10;
// Shared terms shown per match (and per pair).
inline constexpr int kSharedTermsPerMatch = 5;
// Ranked answers end after this many results: no page starts beyond it.
inline constexpr int kMaxOffset = 10000;
// Filters (Match, SimilarCases): themes, sdgs and regions are sets (above);
// target_groups of a query as of a case (kMaxTargetGroups).
inline constexpr size_t kMaxFilterCountries = 64;  // filters.countries, filters.exclude_countries
inline constexpr size_t kMaxFilterLanguages = 64;  // filters.languages
inline constexpr size_t kMaxExcludeCityIds = 256;  // filters.exclude_city_ids

// --- Listings (ListCities, ListCases). ---
// page_size is 0 (kDefaultPageSize) or 1-kMaxPageSize.
inline constexpr int kDefaultPageSize = 100;
inline constexpr int kMaxPageSize = 1000;

// --- Batch pairing (PairCities). ---
// Peers per asking city: 0 (kDefaultPairK) or 1-kMaxPairK.
inline constexpr int kDefaultPairK = 3;
inline constexpr int kMaxPairK = 20;
// Asking cities per peer: 0 (kDefaultPairCapacity) or 1-kMaxPairCapacity.
inline constexpr int kDefaultPairCapacity = 3;
inline constexpr int kMaxPairCapacity = 1000;
// Candidate peers kept per asking city: 0 (max(10 k, 40)) or up to this.
inline constexpr int kMaxCandidatesPerCity = 1000;
// Cities named in city_ids (the cohort), and pairs in each of avoid and keep.
inline constexpr size_t kMaxPairCityIds = 5000;
inline constexpr size_t kMaxPairConstraints = 5000;

}  // namespace peermatch

#endif  // PEERMATCH_RECORDS_LIMITS_H_
