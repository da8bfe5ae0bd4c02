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
#include "peermatch/v1/peermatch.pb.h"
#include "store/store.h"

namespace peermatch::internal {

// A request's limits with their defaults applied.
struct PairingParams {
  int k = 3;          // peers per asking city
  int capacity = 3;   // askers per peer city
  int per_city = 40;  // candidate peers kept per asking city
  uint32_t themes = 0;  // bit t for Theme t; 0: every theme
};
// INVALID_ARGUMENT naming the field for an out-of-range limit, a
// non-finite min_score or an unknown region or theme.
absl::StatusOr<PairingParams> ValidatePairingRequest(const v1::PairCitiesRequest& req);

using CityPair = std::pair<std::string, std::string>;  // (asking city, peer city)

// Who takes part, from the snapshot's index.
struct Cohort {
  std::map<std::string, const CityInfo*> info;  // every city the index knows
  std::vector<std::string> askers;              // cohort cities with a challenge, by id
  std::vector<std::vector<uint32_t>> challenges;  // challenges[a]: askers[a]'s, index positions
  std::vector<bool> solution;  // by index position: a cohort solution of a wanted theme
  std::set<CityPair> avoid;    // both directions when mutual
  std::set<CityPair> keep;
};
// NOT_FOUND for an unknown city id (in city_ids, avoid or keep);
// INVALID_ARGUMENT for a malformed id or a city paired with itself.
absl::StatusOr<Cohort> BuildCohort(const v1::PairCitiesRequest& req, const PairingParams& params,
                                   const Index& index);

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
  const Index* index;
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
    const v1::PairCitiesRequest& req, const PairingParams& params, const Cohort& cohort,
    const ScoringInputs& in, const std::function<void(const v1::PairingProgress&)>& progress,
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
std::vector<Choice> Prune(const v1::PairCitiesRequest& req, const PairingParams& params,
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
absl::StatusOr<Solution> Solve(const v1::PairCitiesRequest& req, const PairingParams& params,
                               std::vector<Choice> pruned);

// The chosen pairs, explained (cases, parts, shared terms), by asking city
// and best first; fills the summary's pairs, total score, matched counts
// and unmatched cities with the reason each was left out.
std::vector<v1::Pair> Explain(const v1::PairCitiesRequest& req, const PairingParams& params,
                              const Cohort& cohort, const BestPeers& best,
                              const Solution& solution, const ScoringInputs& in,
                              v1::PairingSummary* summary);

}  // namespace peermatch::internal

#endif  // PEERMATCH_ENGINE_INTERNAL_PAIRING_STAGES_H_
