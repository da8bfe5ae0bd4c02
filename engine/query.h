// The engine's query API in domain terms: what Match and SimilarCases are
// asked (MatchQuery, SimilarQuery) and what they answer (MatchResult,
// SimilarResult), free of the wire's request and response messages.
//
//   MatchQuery q;
//   q.about.text = "radio lessons for pupils without internet";
//   q.filters.regions = {v1::REGION_AFRICA};
//   q.k = 5;
//   absl::StatusOr<MatchResult> r = engine->Match(q);
//   for (const PeerCity& p : r->peers.items) ...;  // r->peers.more: a next page
//
// The values must meet the rules of records/limits.h and records/validate.h
// (service/request_mapping.h checks a wire request against them and names
// its fields). The engine itself checks only what it needs to stay safe:
// k, offset, evidence_per_city and max_per_country in range, exactly one of
// text and case_id, known themes and SDGs 1-17; it answers INVALID_ARGUMENT
// ("query.k: 0 is outside 1-100", "query.min_score: must be a number")
// otherwise. Other values it does not check (a malformed country code
// simply matches no city).
//
// Evidence: a row (a solution of a Match, a case of SimilarCases) is shown
// only when it has evidence, whatever min_score: it shares a word with the
// query (ScoreParts::lexical > 0), or its meaning agrees (semantic at least
// kMinSemanticEvidence), or its character 4-grams score at least
// kMinSubwordEvidence of the best row's (a spelling variant or a typo:
// "neighborhood" for "neighbourhood", "literacey"). Rows with none of these
// are the noise a ranking of everything ends with (a few shared grams such
// as "ing#", a cosine of 0.003); measured on the demo data and on SciFact,
// where no relevant document in the top 100 lacks a shared word (README
// "How matching works").
//
// Thread-safety: plain values.
#ifndef PEERMATCH_ENGINE_QUERY_H_
#define PEERMATCH_ENGINE_QUERY_H_

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "peermatch/v1/model.pb.h"
#include "records/limits.h"

namespace peermatch {

// The evidence thresholds (see the top of this file).
inline constexpr double kMinSemanticEvidence = 0.1;  // LSA cosine
inline constexpr double kMinSubwordEvidence = 0.5;   // of the best row's gram score
// min_score when none is given.
inline constexpr double kNoMinScore = -std::numeric_limits<double>::infinity();

// What a query is about: a text, or a stored case, and the structure
// (themes, SDGs, target groups) its structure score compares.
struct QuerySubject {
  // Exactly one of text and case_id is set. A case stands for its title,
  // description and tags, in its language; its city is left out of Match's
  // answers and the case itself out of both.
  std::string text;
  std::string case_id;
  // ISO 639-1 of `text`; "" when not stated: detected (the engine's
  // default_language when not confidently). Unused with case_id.
  std::string language;
  // For a case: when all three are empty, the case's own.
  std::vector<v1::Theme> themes;
  std::vector<int> sdgs;                   // 1-17
  std::vector<std::string> target_groups;  // compared lower case
};

// Which cases may be answered. An empty list does not restrict.
struct QueryFilters {
  std::vector<v1::Theme> themes;  // a case with any of them
  std::vector<int> sdgs;          // a case contributing to any of them
  std::vector<v1::Region> regions;
  std::vector<std::string> countries;          // ISO 3166-1 alpha-2
  std::vector<std::string> exclude_countries;  // ISO 3166-1 alpha-2
  std::vector<std::string> languages;          // ISO 639-1 of the case
  // Years of the case, inclusive; 0: open. With either set, cases of
  // unknown year are left out.
  int year_min = 0;
  int year_max = 0;
  std::vector<std::string> exclude_city_ids;
};

// Peer cities for a challenge: cities ranked by their best solution.
struct MatchQuery {
  QuerySubject about;
  QueryFilters filters;
  int k = kDefaultK;                          // cities per page, 1-kMaxK
  int evidence_per_city = kDefaultEvidence;   // 1-kMaxEvidence
  int max_per_country = 0;                    // cities per country; 0: any
  std::string asking_city_id;  // left out; when set, instead of the case's city
  int offset = 0;              // cities into the ranking, 0-kMaxOffset
  // Solutions scoring below this are not shown (as best or as further
  // evidence); not NaN.
  double min_score = kNoMinScore;
};

// Cases similar to a text or a case ("more like this").
struct SimilarQuery {
  QuerySubject about;
  QueryFilters filters;
  v1::CaseKind kind = v1::CASE_KIND_UNSPECIFIED;  // UNSPECIFIED: either kind
  int k = kDefaultK;  // cases per page, 1-kMaxK
  int offset = 0;     // cases into the ranking, 0-kMaxOffset
  double min_score = kNoMinScore;  // cases scoring below are not shown; not NaN
};

// When the caller of a Match or SimilarCases stops waiting. The engine
// checks it while it scans the index (every few thousand cases, and between
// stages) and then stops, answering DEADLINE_EXCEEDED once `deadline` has
// passed or CANCELLED once `cancelled` returns true. The default never
// stops a query.
struct QueryStop {
  absl::Time deadline = absl::InfiniteFuture();
  // May be empty; called from the query's thread (e.g. a gRPC call's
  // IsCancelled()).
  std::function<bool()> cancelled;
};

// One page of a ranking.
template <typename T>
struct Page {
  std::vector<T> items;  // best first
  bool more = false;     // whether results follow this page
};

// How a score was made (see ScoreWeights in index/index.h).
struct ScoreParts {
  double lexical = 0;
  double subword = 0;
  double semantic = 0;
  double structure = 0;
};

// A word the query and a case share, as the query wrote it, and its share
// of the word score (the shares of a match's terms add up to at most 1).
struct SharedTerm {
  std::string term;
  double weight = 0;
  // Issue 13: when the term matched through a translation of the query's
  // word (source_word is then `term`); empty dictionary otherwise.
  struct Translation {
    std::string source_word, source_language, target_word, dictionary;
  } translation;
};

// A solution that makes a city a peer.
struct Evidence {
  std::string case_id;
  std::string title;
  double score = 0;
  ScoreParts parts;
  std::vector<SharedTerm> shared_terms;  // largest share first
};

struct PeerCity {
  v1::City city;  // the stored city (only its id if it has none)
  int rank = 0;   // 1-based, across pages
  double score = 0;  // its best evidence's
  ScoreParts parts;  // its best evidence's
  std::vector<Evidence> evidence;  // best first, at most evidence_per_city
};

// The language a query's text was analyzed in, and how it was chosen
// (v1::QueryLanguage).
struct QueryLanguage {
  std::string language;
  v1::LanguageSource source = v1::LANGUAGE_SOURCE_UNSPECIFIED;
  std::string detected;  // "" when detection did not run or found nothing
  double confidence = 0;
};

struct MatchResult {
  Page<PeerCity> peers;
  uint64_t model_version = 0;  // of the model that answered
  QueryLanguage query_language;
};

struct SimilarCase {
  v1::Case record;  // as stored
  int rank = 0;     // 1-based, across pages
  double score = 0;
  ScoreParts parts;
  std::vector<SharedTerm> shared_terms;  // largest share first
};

struct SimilarResult {
  Page<SimilarCase> cases;
  uint64_t model_version = 0;
  QueryLanguage query_language;
};

}  // namespace peermatch

#endif  // PEERMATCH_ENGINE_QUERY_H_
