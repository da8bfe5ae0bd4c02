// SubmitOrFinish: how a heavy call's reactor hands its work to the
// executor (peermatch_service.cc's PairReactor, backup_handler.cc's
// BackupReactor). Internal to service/.
#ifndef PEERMATCH_SERVICE_HEAVY_CALL_H_
#define PEERMATCH_SERVICE_HEAVY_CALL_H_

#include <memory>
#include <utility>

#include "common/executor.h"
#include "service/status.h"

namespace peermatch::internal {

// Finishes `reactor` with `refused` when it is not OK, or with what Submit
// answers (RESOURCE_EXHAUSTED when the executor is full) when `job` is not
// accepted; returns the job's Cancellation when it is, null otherwise.
// Called once per call, after the reactor is fully constructed and before
// it is returned to gRPC (gRPC holds back its OnDone until then, so the job
// may already have run and finished the call when this returns).
template <typename Reactor>
std::shared_ptr<Cancellation> SubmitOrFinish(Reactor* reactor, const absl::Status& refused,
                                             Executor* executor, Executor::Job job) {
  if (!refused.ok()) {
    reactor->Finish(ToGrpc(refused));
    return nullptr;
  }
  absl::StatusOr<std::shared_ptr<Cancellation>> submitted = executor->Submit(std::move(job));
  if (!submitted.ok()) {
    reactor->Finish(ToGrpc(submitted.status()));
    return nullptr;
  }
  return *std::move(submitted);
}

}  // namespace peermatch::internal

#endif  // PEERMATCH_SERVICE_HEAVY_CALL_H_
