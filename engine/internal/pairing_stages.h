// The stages of Engine::PairCities (engine_pairing.cc), in the order it runs
// them: BuildCohort -> ScoreCohort -> Prune -> Solve -> Explain. Each stage
// reads what the ones before it made; none keeps state. Internal to engine/.
//
// Thread-safety: pure functions of their arguments (ScoreCohort uses one
// helper thread of its own and joins it before returning).
#ifndef PEERMATCH_ENGINE_INTERNAL_PAIRING_STAGES_H_
#define PEERMATCH_ENGINE_INTERNAL_PAIRING_STAGES_H_

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/cancellation.h"
#include "embed/model.h"
#include "embed/term_dictionary.h"
#include "index/index.h"
#include "index/segmented_index.h"
#include "engine/pairing_query.h"
#include "store/store.h"

namespace peermatch::internal {

// A query's limits as the stages use them (mutual: k and capacity 1).
struct PairingParams {
  int k = 3;          // peers per asking city
  int capacity = 3;   // askers per peer city
  int per_city = 40;  // candidate peers kept per asking city
  uint32_t themes = 0;  // bit t for Theme t; 0: every theme
};
// INVALID_ARGUMENT ("query.<field>: ...") for what the engine needs to stay
// safe (engine/pairing_query.h): an out-of-range limit, a non-finite
// min_score, an unknown theme, a city paired with itself.
absl::StatusOr<PairingParams> CheckPairingQuery(const PairingQuery& query);

using PairKey = std::pair<std::string, std::string>;  // (asking city, peer city), for sets

// Who takes part, from the snapshot's index.
struct Cohort {
  std::map<std::string, const CityInfo*> info;  // every city the index knows
  std::vector<std::string> askers;              // cohort cities with a challenge, by id
  // challenges[a]: askers[a]'s, index positions in case-id order
  std::vector<std::vector<uint32_t>> challenges;
  std::vector<bool> solution;  // by index position: a cohort solution of a wanted theme
  std::set<PairKey> avoid;    // both directions when mutual
  std::set<PairKey> keep;
};
// NOT_FOUND for an unknown city id ("city_ids[0]: no city with id ...",
// likewise avoid[i] and keep[i]).
absl::StatusOr<Cohort> BuildCohort(const PairingQuery& query, const PairingParams& params,
                                   const SegmentedIndex& index);

// The best match of one asking city's challenges against one peer city's
// solutions.
struct Candidate {
  float score = -1e30f;
  uint32_t challenge = 0;  // index positions
  Hit hit;                 // hit.doc is the solution
};
// best[a]: askers[a]'s best candidate with each peer city, by peer id.
using BestPeers = std::vector<std::map<std::string, Candidate>>;

// What scoring reads besides the cohort (all borrowed).
struct ScoringInputs {
  const SegmentedIndex* index;
  const Model* model;
  const Store* store;  // the challenges' text
  const TermDictionary* terms;
  const ScoreWeights* weights;
};
// Scores every asker's challenges against the other cohort cities'
// solutions, on this thread and one helper. `progress` (may be empty) is
// called on this thread: at the start, as each further percent of the
// askers is done, and at the end. CANCELLED as soon as `cancel` (may be
// null) is seen set: it is checked before every challenge.
absl::StatusOr<BestPeers> ScoreCohort(
    const PairingQuery& query, const PairingParams& params, const Cohort& cohort,
    const ScoringInputs& in, const std::function<void(const PairingProgress&)>& progress,
    const Cancellation* cancel);

// A candidate pair for the solver.
struct Choice {
  std::string asker, peer;
  const Candidate* forward = nullptr;  // asker's challenge vs peer's solution
  const Candidate* reverse = nullptr;  // mutual: peer's challenge vs asker's solution
  double score = 0;
  bool kept = false;
};
// Each asker's best `per_city` peers at or above min_score, and every kept
// pair (those that scored nothing at score 0). Points into `best`.
std::vector<Choice> Prune(const PairingQuery& query, const PairingParams& params,
                          const Cohort& cohort, const BestPeers& best);

struct Solution {
  // The solver's candidates: `pruned` itself, or (mutual) one per unordered
  // pair of cities, both directions combined.
  std::vector<Choice> choices;
  std::vector<int> chosen;  // into choices
  int64_t kept_candidates = 0;
};
// Solves the assignment (or, mutual, the 1:1 twinning) exactly.
// FAILED_PRECONDITION ("keep: ...") when the kept pairs alone break k or
// capacity.
absl::StatusOr<Solution> Solve(const PairingQuery& query, const PairingParams& params,
                               std::vector<Choice> pruned);

// The chosen pairs, explained (cases, parts, shared terms), by asking city
// and best first; fills the summary's pairs, total score, matched counts
// and unmatched cities with the reason each was left out.
std::vector<PairedCities> Explain(const PairingQuery& query, const PairingParams& params,
                              const Cohort& cohort, const BestPeers& best,
                              const Solution& solution, const ScoringInputs& in,
                              PairingSummary* summary);

}  // namespace peermatch::internal

#endif  // PEERMATCH_ENGINE_INTERNAL_PAIRING_STAGES_H_
