// Executor: a fixed pool of threads for heavy work (batch pairings,
// backups), with a bounded queue and a Cancellation per job, so that a
// burst of heavy calls neither grows the process's threads without bound
// nor keeps computing for callers that have gone.
//
//   Executor heavy(ExecutorOptions{});  // 2 threads, 8 waiting jobs
//   absl::StatusOr<std::shared_ptr<Cancellation>> job =
//       heavy.Submit([](const Cancellation& cancel) -> absl::Status {
//         for (...) {
//           if (cancel.cancelled()) return absl::CancelledError("...");
//           ...
//         }
//         return absl::OkStatus();
//       });
//   if (!job.ok()) ...;         // RESOURCE_EXHAUSTED: busy; retry later
//   (*job)->Cancel();           // the caller went away
//   heavy.Shutdown(absl::Seconds(5));
//
// Every accepted job runs exactly once, on one of the pool's threads, even
// when it is cancelled before it starts (it then sees cancelled() at once
// and should return promptly): a job that must report its end (finish a
// gRPC call) always gets to.
//
// Ownership: the Executor owns its threads; a job's Cancellation is shared
// between the executor and the submitter.
// Thread-safety: every method may be called from any thread, including from
// inside a job (except Shutdown, which would wait for itself).
#ifndef PEERMATCH_COMMON_EXECUTOR_H_
#define PEERMATCH_COMMON_EXECUTOR_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/cancellation.h"

namespace peermatch {

struct ExecutorOptions {
  // Jobs that run at once; each runs on one of these threads (a job may use
  // helper threads of its own: a pairing scores on two).
  int threads = 2;
  // Jobs accepted beyond those that find an idle thread; they wait in FIFO
  // order. Submit answers RESOURCE_EXHAUSTED beyond that (0: no waiting).
  int queue_capacity = 8;
  // Called on the job's thread after each job returns, with what it
  // returned (for metrics and tests). May be empty.
  std::function<void(const absl::Status&)> on_job_done;
};

class Executor {
 public:
  // A job: runs once; should poll `cancel` and return CANCELLED soon after
  // it is set. What it returns goes to ExecutorOptions::on_job_done.
  using Job = std::function<absl::Status(const Cancellation& cancel)>;

  // Starts options.threads threads (at least one).
  explicit Executor(ExecutorOptions options = {});
  // Shutdown(absl::InfiniteDuration()): cancels every job and waits for
  // them.
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Queues `job` and returns its Cancellation (Cancel() it to stop the job).
  // RESOURCE_EXHAUSTED ("the server is busy with N heavy jobs ...: its
  // heavy threads (T) are all taken and its queue (Q waiting) is full; retry
  // later") when every thread is busy and queue_capacity jobs already wait;
  // UNAVAILABLE after Shutdown(). `job` is not run when an error is
  // returned.
  absl::StatusOr<std::shared_ptr<Cancellation>> Submit(Job job) ABSL_LOCKS_EXCLUDED(mu_);

  // Refuses new jobs, cancels every queued and running one, and waits up to
  // `grace` for them to return (queued jobs still run, cancelled). True when
  // every thread has ended and been joined; false when a job was still
  // running at the deadline (its thread is then joined by the destructor).
  // Later calls wait again, up to their own grace.
  bool Shutdown(absl::Duration grace) ABSL_LOCKS_EXCLUDED(mu_);

  struct Stats {
    int running = 0;        // jobs on a thread now
    int queued = 0;         // jobs waiting for a thread
    int64_t rejected = 0;   // Submit calls answered RESOURCE_EXHAUSTED
    int64_t completed = 0;  // jobs that have returned
  };
  Stats stats() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Queued {
    Job job;
    std::shared_ptr<Cancellation> cancel;
  };
  void WorkerLoop(int slot) ABSL_LOCKS_EXCLUDED(mu_);

  const ExecutorOptions options_;
  mutable absl::Mutex mu_;
  std::deque<Queued> queue_ ABSL_GUARDED_BY(mu_);
  // The Cancellation of each running job (null slots: idle threads).
  std::vector<std::shared_ptr<Cancellation>> running_ ABSL_GUARDED_BY(mu_);
  int idle_ ABSL_GUARDED_BY(mu_) = 0;         // threads waiting for a job
  int live_threads_ ABSL_GUARDED_BY(mu_) = 0;  // threads not yet ended
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int64_t rejected_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t completed_ ABSL_GUARDED_BY(mu_) = 0;
  // Started in the constructor; joined by the first Shutdown that sees
  // every thread ended (guarded by join_mu_).
  absl::Mutex join_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(join_mu_);
};

}  // namespace peermatch

#endif  // PEERMATCH_COMMON_EXECUTOR_H_
