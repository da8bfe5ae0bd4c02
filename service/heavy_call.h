// SubmitOrFinish: how a heavy call's reactor hands its work to the
// executor; HeavyUnaryReactor and HeavyStreamReactor, the reactors of the
// unary and the server-streaming heavy calls. Internal to service/.
#ifndef PEERMATCH_SERVICE_HEAVY_CALL_H_
#define PEERMATCH_SERVICE_HEAVY_CALL_H_

#include <deque>
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

// The job of a heavy call once submitted, for its reactor's OnCancel (and,
// for a stream, a failed write) to cancel. Thread-safe.
class JobCancelSlot {
 public:
  // SubmitOrFinish, keeping the job's Cancellation. Called once, from the
  // reactor's Start (before gRPC can call OnCancel).
  template <typename Reactor>
  void Submit(Reactor* reactor, const absl::Status& refused, Executor* executor,
              Executor::Job job) {
    std::shared_ptr<Cancellation> cancel =
        SubmitOrFinish(reactor, refused, executor, std::move(job));
    absl::MutexLock lock(&mu_);
    cancel_ = std::move(cancel);
  }
  // Cancels the job, if one was submitted.
  void Cancel() {
    absl::MutexLock lock(&mu_);
    if (cancel_ != nullptr) cancel_->Cancel();
  }

 private:
  absl::Mutex mu_;
  std::shared_ptr<Cancellation> cancel_ ABSL_GUARDED_BY(mu_);  // null until submitted
};

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
    job_.Submit(this, refused, executor, [this](const Cancellation& c) { return Run(c); });
  }
  void OnCancel() override { job_.Cancel(); }
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
  JobCancelSlot job_;
};

// A server-streaming call whose work runs as one job on the executor
// (PairCities, and CreateRoundWithProgress of issue 15): the job emits
// messages as it goes, each written in order (queued while an earlier one
// is being written), and its outcome finishes the call once every message
// is written. A client that cancels, goes away (a write fails) or whose
// deadline passes cancels the job; messages emitted after that are
// dropped. Whoever finishes the call (the job, or the OnWriteDone that
// drains the last message) does it as its last act, outside mu_: OnDone,
// which deletes the reactor, may follow at once on another thread.
template <typename Response>
class HeavyStreamReactor final : public grpc::ServerWriteReactor<Response> {
 public:
  using Emit = std::function<void(Response)>;
  using Work = std::function<absl::Status(const Cancellation&, const Emit&)>;
  explicit HeavyStreamReactor(Work work) : work_(std::move(work)) {}

  // Submits the work, or finishes the call with `refused` or with
  // RESOURCE_EXHAUSTED when the executor is full. Called once, right after
  // construction, before the reactor is returned to gRPC.
  void Start(const absl::Status& refused, Executor* executor) {
    job_.Submit(this, refused, executor, [this](const Cancellation& c) { return Run(c); });
  }
  void OnWriteDone(bool ok) override {
    grpc::Status status;
    {
      absl::MutexLock lock(&mu_);
      queue_.pop_front();
      if (!ok) {  // the client went away: drop the rest, stop the work
        queue_.clear();
        broken_ = true;
        job_.Cancel();
      }
      if (!queue_.empty()) {
        this->StartWrite(&queue_.front());
        return;
      }
      if (!TakeFinishLocked(&status)) return;
    }
    this->Finish(status);
  }
  void OnCancel() override { job_.Cancel(); }
  void OnDone() override { delete this; }

 private:
  // The job.
  absl::Status Run(const Cancellation& cancel) {
    const absl::Status outcome =
        work_(cancel, [this](Response response) { Enqueue(std::move(response)); });
    grpc::Status status;
    {
      absl::MutexLock lock(&mu_);
      final_ = ToGrpc(outcome);
      done_ = true;
      // Else the last OnWriteDone finishes.
      if (!queue_.empty() || !TakeFinishLocked(&status)) return outcome;
    }
    this->Finish(status);
    return outcome;
  }
  void Enqueue(Response response) {
    absl::MutexLock lock(&mu_);
    if (broken_) return;
    queue_.push_back(std::move(response));
    if (queue_.size() == 1) this->StartWrite(&queue_.front());
  }
  // True, once, when the work is done and every message written: the call
  // is to be finished with *status.
  bool TakeFinishLocked(grpc::Status* status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!done_ || finished_) return false;
    finished_ = true;
    *status = broken_ ? grpc::Status(grpc::StatusCode::CANCELLED, "client went away") : final_;
    return true;
  }

  const Work work_;
  JobCancelSlot job_;
  absl::Mutex mu_;
  std::deque<Response> queue_ ABSL_GUARDED_BY(mu_);           // front: being written
  bool broken_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status final_ ABSL_GUARDED_BY(mu_);
};

}  // namespace peermatch::internal

#endif  // PEERMATCH_SERVICE_HEAVY_CALL_H_
