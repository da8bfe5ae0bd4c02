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

absl::StatusOr<Engine::Pairing> Engine::PairCities(
    const v1::PairCitiesRequest& req,
    const std::function<void(const v1::PairingProgress&)>& progress,
    const Cancellation* cancel) const {
  const absl::StatusOr<internal::PairingParams> params = internal::ValidatePairingRequest(req);
  if (!params.ok()) return params.status();
  const std::shared_ptr<const Snapshot> snap = snapshot();
  const absl::StatusOr<internal::Cohort> cohort =
      internal::BuildCohort(req, *params, *snap->index);
  if (!cohort.ok()) return cohort.status();
  Pairing out;
  v1::PairingSummary& summary = out.summary;
  summary.set_model_version(static_cast<int64_t>(snap->model->version()));
  summary.set_asking_cities(static_cast<int>(cohort->askers.size()));

  const auto scoring_start = Clock::now();
  const internal::ScoringInputs in{snap->index.get(), snap->model.get(), store_, &terms_,
                                   &options_.weights};
  const absl::StatusOr<internal::BestPeers> best =
      internal::ScoreCohort(req, *params, *cohort, in, progress, cancel);
  if (!best.ok()) return best.status();
  summary.set_scoring_seconds(Seconds(scoring_start));

  const auto solving_start = Clock::now();
  int64_t candidate_pairs = 0;
  for (const auto& peers : *best) candidate_pairs += static_cast<int64_t>(peers.size());
  summary.set_candidate_pairs(candidate_pairs);
  absl::StatusOr<internal::Solution> solution =
      internal::Solve(req, *params, internal::Prune(req, *params, *cohort, *best));
  if (!solution.ok()) return solution.status();
  summary.set_kept_candidates(solution->kept_candidates);
  if (cancel != nullptr && cancel->cancelled()) return CancelledBefore("explaining the pairs");
  out.pairs = internal::Explain(req, *params, *cohort, *best, *solution, in, &summary);
  summary.set_solving_seconds(Seconds(solving_start));
  return out;
}

}  // namespace peermatch
