// SubmitOrFinish: how a heavy call's reactor hands its work to the
// executor (peermatch_service.cc's PairReactor, backup_handler.cc's
// BackupReactor). Internal to service/.
#ifndef PEERMATCH_SERVICE_HEAVY_CALL_H_
#define PEERMATCH_SERVICE_HEAVY_CALL_H_

#include <functional>
#include <memory>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/executor.h"
#include "grpcpp/support/server_callback.h"
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

// A unary call whose work runs as one job on the executor (CreateBackup,
// and the rounds' CreateRound and RematchRound): the job fills the response, and its
// outcome finishes the call. A client that cancels (or whose deadline
// passes) cancels the job; a job cancelled before it starts is not run.
// Deletes itself when gRPC is done with it.
class HeavyUnaryReactor final : public grpc::ServerUnaryReactor {
 public:
  using Work = std::function<absl::Status(const Cancellation&)>;
  explicit HeavyUnaryReactor(Work work) : work_(std::move(work)) {}

  // Submits the work, or finishes the call with `refused` or with
  // RESOURCE_EXHAUSTED when the executor is full. Called once, right after
  // construction, before the reactor is returned to gRPC.
  void Start(const absl::Status& refused, Executor* executor) {
    std::shared_ptr<Cancellation> cancel =
        SubmitOrFinish(this, refused, executor, [this](const Cancellation& c) { return Run(c); });
    absl::MutexLock lock(&mu_);
    cancel_ = std::move(cancel);
  }
  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    if (cancel_ != nullptr) cancel_->Cancel();
  }
  void OnDone() override { delete this; }

 private:
  // The job. Finish is its last use of the reactor.
  absl::Status Run(const Cancellation& cancel) {
    const absl::Status outcome = cancel.cancelled()
                                     ? absl::CancelledError("cancelled before it started")
                                     : work_(cancel);
    Finish(ToGrpc(outcome));
    return outcome;
  }

  const Work work_;
  absl::Mutex mu_;
  std::shared_ptr<Cancellation> cancel_ ABSL_GUARDED_BY(mu_);  // null until submitted
};

}  // namespace peermatch::internal

#endif  // PEERMATCH_SERVICE_HEAVY_CALL_H_
