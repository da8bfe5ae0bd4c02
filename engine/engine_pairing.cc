// Engine's batch pairing: candidate pairs of cities from match scores, then
// the exact solvers of pairing.h. The stages are in
// internal/pairing_stages.h; this function runs them on one snapshot.
#include <chrono>

#include "absl/strings/str_cat.h"
#include "engine/engine.h"
#include "engine/internal/pairing_stages.h"

namespace peermatch {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

absl::Status CancelledBefore(absl::string_view stage) {
  return absl::CancelledError(absl::StrCat("pairing cancelled before ", stage));
}

}  // namespace

absl::StatusOr<PairingResult> Engine::PairCities(
    const PairingQuery& query, const std::function<void(const PairingProgress&)>& progress,
    const Cancellation* cancel) const {
  const absl::StatusOr<internal::PairingParams> params = internal::CheckPairingQuery(query);
  if (!params.ok()) return params.status();
  const std::shared_ptr<const Snapshot> snap = snapshot();
  const absl::StatusOr<internal::Cohort> cohort =
      internal::BuildCohort(query, *params, *snap->index);
  if (!cohort.ok()) return cohort.status();
  PairingResult out;
  PairingSummary& summary = out.summary;
  summary.model_version = snap->model->version();
  summary.asking_cities = static_cast<int>(cohort->askers.size());

  const auto scoring_start = Clock::now();
  const internal::ScoringInputs in{snap->index.get(), snap->model.get(), store_, &terms_,
                                   &WeightsOf(*snap)};
  const absl::StatusOr<internal::BestPeers> best =
      internal::ScoreCohort(query, *params, *cohort, in, progress, cancel);
  if (!best.ok()) return best.status();
  summary.scoring_seconds = Seconds(scoring_start);

  const auto solving_start = Clock::now();
  for (const auto& peers : *best) summary.candidate_pairs += static_cast<int64_t>(peers.size());
  absl::StatusOr<internal::Solution> solution =
      internal::Solve(query, *params, internal::Prune(query, *params, *cohort, *best));
  if (!solution.ok()) return solution.status();
  summary.kept_candidates = solution->kept_candidates;
  if (cancel != nullptr && cancel->cancelled()) return CancelledBefore("explaining the pairs");
  out.pairs = internal::Explain(query, *params, *cohort, *best, *solution, in, &summary);
  summary.solving_seconds = Seconds(solving_start);
  return out;
}

}  // namespace peermatch
