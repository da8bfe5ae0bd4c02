#include "common/executor.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace peermatch {

Executor::Executor(ExecutorOptions options) : options_(std::move(options)) {
  const int n = std::max(1, options_.threads);
  absl::MutexLock join(&join_mu_);
  {
    absl::MutexLock lock(&mu_);
    running_.resize(n);
    // Idle from the start, so that a Submit right after construction finds
    // the threads free even before they have begun to wait.
    idle_ = n;
    live_threads_ = n;
  }
  threads_.reserve(n);
  for (int i = 0; i < n; ++i) threads_.emplace_back([this, i] { WorkerLoop(i); });
}

Executor::~Executor() { Shutdown(absl::InfiniteDuration()); }

absl::StatusOr<std::shared_ptr<Cancellation>> Executor::Submit(Job job) {
  absl::MutexLock lock(&mu_);
  if (stopping_) {
    return absl::UnavailableError("the server is shutting down: it takes no new heavy jobs");
  }
  const size_t capacity = static_cast<size_t>(std::max(0, options_.queue_capacity));
  if (queue_.size() >= static_cast<size_t>(idle_) + capacity) {
    ++rejected_;
    const size_t running = running_.size() - static_cast<size_t>(idle_);
    return absl::ResourceExhaustedError(absl::StrCat(
        "the server is busy with ", running + queue_.size(),
        " heavy jobs (batch pairings, backups): its heavy threads (", running_.size(),
        ") are all taken and its queue (", capacity, " waiting) is full; retry later"));
  }
  auto cancel = std::make_shared<Cancellation>();
  queue_.push_back(Queued{std::move(job), cancel});
  return cancel;
}

void Executor::WorkerLoop(int slot) {
  const auto has_work = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !queue_.empty() || stopping_;
  };
  mu_.Lock();
  while (true) {
    mu_.Await(absl::Condition(&has_work));
    // Stopping drains the queue first: every accepted job runs once.
    if (queue_.empty()) break;
    Queued q = std::move(queue_.front());
    queue_.pop_front();
    --idle_;
    running_[slot] = q.cancel;
    mu_.Unlock();

    const absl::Status status = q.job(*q.cancel);
    if (options_.on_job_done) options_.on_job_done(status);
    q = Queued{};  // what the job holds goes before the next one starts

    mu_.Lock();
    running_[slot] = nullptr;
    ++idle_;
    ++completed_;
  }
  --idle_;
  --live_threads_;
  mu_.Unlock();
}

bool Executor::Shutdown(absl::Duration grace) {
  absl::MutexLock join(&join_mu_);
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    for (const Queued& q : queue_) q.cancel->Cancel();
    for (const auto& cancel : running_) {
      if (cancel != nullptr) cancel->Cancel();
    }
    const auto all_ended = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return live_threads_ == 0;
    };
    if (!mu_.AwaitWithTimeout(absl::Condition(&all_ended), grace)) return false;
  }
  for (std::thread& t : threads_) t.join();
  threads_.clear();
  return true;
}

Executor::Stats Executor::stats() const {
  absl::MutexLock lock(&mu_);
  Stats s;
  s.queued = static_cast<int>(queue_.size());
  for (const auto& cancel : running_) s.running += cancel != nullptr ? 1 : 0;
  s.rejected = rejected_;
  s.completed = completed_;
  return s;
}

}  // namespace peermatch
