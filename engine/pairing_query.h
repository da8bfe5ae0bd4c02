// Batch pairing in domain terms: what Engine::PairCities is asked
// (PairingQuery), what it reports while it runs (PairingProgress) and what
// it answers (PairingResult), free of the wire's request and response
// messages.
//
//   PairingQuery q;
//   q.k = 2;
//   q.exclude_same_country = true;
//   q.keep = {{"wuhan", "fermo"}};
//   absl::StatusOr<PairingResult> r = engine->PairCities(q);
//   for (const PairedCities& p : r->pairs) ...;  // by asking city, best first
//   for (const UnmatchedCity& u : r->summary.unmatched) ...;  // and why
//
// The values must meet the rules of records/limits.h and records/validate.h
// (service/request_mapping.h checks a wire request against them and names
// its fields). The engine itself checks only what it needs to stay safe:
// k, capacity and candidates_per_city in range, a finite min_score, known
// themes, no city paired with itself; it answers INVALID_ARGUMENT
// ("query.k: 0 is outside 1-20") otherwise. Ids it does not check for
// form: an id that names no city is NOT_FOUND.
//
// Thread-safety: plain values.
#ifndef PEERMATCH_ENGINE_PAIRING_QUERY_H_
#define PEERMATCH_ENGINE_PAIRING_QUERY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/query.h"
#include "peermatch/v1/model.pb.h"
#include "records/limits.h"

namespace peermatch {

// An asking city and a peer city.
struct CityPair {
  std::string asking_city_id;
  std::string peer_city_id;
};

// A batch pairing of a cohort's cities.
struct PairingQuery {
  // The cohort: these cities (every city when empty), narrowed to `regions`
  // when set. Both asking and peer cities come from the cohort.
  std::vector<std::string> city_ids;
  std::vector<v1::Region> regions;
  // Only challenges and solutions with one of these themes count (any when
  // empty).
  std::vector<v1::Theme> themes;
  int k = kDefaultPairK;               // peers per asking city, 1-kMaxPairK
  int capacity = kDefaultPairCapacity;  // asking cities per peer, 1-kMaxPairCapacity
  bool exclude_same_country = false;
  std::vector<CityPair> avoid;  // never made (mutual: either direction)
  std::vector<CityPair> keep;   // always made; they count against k and capacity
  double min_score = 0;         // pairs scoring below it are not made
  // 1:1 twinning, a pair scoring the sum of both directions; k and
  // capacity are then 1.
  bool mutual = false;
  // Candidate peers kept per asking city before solving,
  // 0-kMaxCandidatesPerCity; 0: max(10 k, 40).
  int candidates_per_city = 0;
  // The largest total score alone, instead of first giving the most asking
  // cities a peer.
  bool score_only = false;
};

// How far PairCities has got: `done` of `total` in `stage` ("scoring").
struct PairingProgress {
  std::string stage;
  int64_t done = 0;
  int64_t total = 0;
};

// One direction of a pair: a challenge of the one city against a solution
// of the other.
struct PairDirection {
  std::string challenge_id;
  std::string challenge_title;
  std::string solution_id;
  std::string solution_title;
  double score = 0;
  ScoreParts parts;
  std::vector<SharedTerm> shared_terms;  // largest share first; forward direction only
};

// A pair made, explained.
struct PairedCities {
  std::string asking_city_id;
  std::string peer_city_id;
  double score = 0;  // mutual: the sum of both directions, each at least 0
  bool kept = false;  // from the query's `keep`
  // The asking city's challenge against the peer's solution behind the
  // score; none for a kept pair that no challenge of it matches.
  std::optional<PairDirection> forward;
  // Mutual: the peer's challenge against the asking city's solution, when
  // there is such a match.
  std::optional<PairDirection> reverse;
};

// An asking city that got no peer, and why (the service renders the
// reason in words).
struct UnmatchedCity {
  enum class Reason {
    // No solution of another cohort city is left after the theme,
    // same-country and avoid exclusions.
    kNoCandidate,
    // Its best candidate peer (`best_score`) is below min_score.
    kBelowMinScore,
    // Its `candidates` candidate peers (mutual: partners) went to cities
    // the solver preferred.
    kPeersTaken,
  };
  std::string city_id;
  Reason reason = Reason::kNoCandidate;
  double best_score = 0;  // kBelowMinScore
  int64_t candidates = 0;  // kPeersTaken
  // Issue 12: for a city in PairingSummary::fewer_peers (it got at least one
  // peer, fewer than k), the peers it got and what became of its other
  // candidate peer cities. Its reason is then kNoCandidate when all four
  // counts are 0 (no other city has a solution left for it), else
  // kPeersTaken.
  int peers = 0;
  int64_t full = 0;       // kept candidates already serving `capacity` askers
  int64_t not_worth = 0;  // kept candidates with room but scoring below 0
  int64_t below_min = 0;  // candidates scoring below min_score
  int64_t pruned = 0;     // candidates beyond candidates_per_city
};

struct PairingSummary {
  int pairs = 0;
  double total_score = 0;
  int asking_cities = 0;         // cohort cities with at least one challenge
  int matched_cities = 0;        // asking cities with at least one peer
  int fully_matched_cities = 0;  // asking cities with k peers
  std::vector<UnmatchedCity> unmatched;  // by city id
  // Issue 12: asking cities that got at least one peer but fewer than k
  // (never in mutual mode, where k is 1), by city id, with the counts above.
  std::vector<UnmatchedCity> fewer_peers;
  int64_t candidate_pairs = 0;  // scored
  int64_t kept_candidates = 0;  // after pruning
  double scoring_seconds = 0;
  double solving_seconds = 0;
  uint64_t model_version = 0;  // of the model that scored
};

struct PairingResult {
  std::vector<PairedCities> pairs;  // by asking city, best first
  PairingSummary summary;
};

}  // namespace peermatch

#endif  // PEERMATCH_ENGINE_PAIRING_QUERY_H_
