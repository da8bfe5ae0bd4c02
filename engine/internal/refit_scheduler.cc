#include "engine/internal/refit_scheduler.h"

#include <malloc.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace peermatch::internal {

absl::Duration QuietPeriod(const RefitRule& rule, absl::Duration last_refit) {
  return std::max(absl::Seconds(rule.quiet_seconds), rule.quiet_cost_factor * last_refit);
}

absl::Status SetThisThreadNice(int nice) {
  const pid_t tid = static_cast<pid_t>(syscall(SYS_gettid));
  if (setpriority(PRIO_PROCESS, static_cast<id_t>(tid), nice) != 0) {
    return absl::InternalError(absl::StrCat("setpriority(", nice, "): ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

void ReleaseFreeMemory() { malloc_trim(0); }

RefitScheduler::RefitScheduler(const RefitRule& rule, std::function<Corpus()> corpus,
                               std::function<absl::Status()> refit)
    : rule_(rule), corpus_(std::move(corpus)), refit_(std::move(refit)) {}

RefitScheduler::~RefitScheduler() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void RefitScheduler::Start() {
  if (rule_.background) thread_ = std::thread([this] { Loop(); });
}

bool RefitScheduler::NeededLocked(const Corpus& corpus) const {
  if (corpus.cases == 0) return false;
  if (corpus.model_version == 0) return true;
  const double threshold =
      std::max<double>(rule_.min_changes, rule_.fraction * static_cast<double>(corpus.model_docs));
  return static_cast<double>(changes_since_fit_) >= threshold;
}

bool RefitScheduler::Needed() const {
  absl::MutexLock lock(&mu_);
  return NeededLocked(corpus_());
}

void RefitScheduler::Changed(int64_t changes) {
  if (changes <= 0) return;
  bool inline_refit = false;
  {
    absl::MutexLock lock(&mu_);
    changes_since_fit_ += changes;
    last_change_ = absl::Now();
    if (!wanted_ && !running_ && NeededLocked(corpus_())) {
      wanted_ = true;
      inline_refit = !rule_.background;
    }
  }
  if (!inline_refit) return;
  RunRefit();
  absl::MutexLock lock(&mu_);
  wanted_ = false;
}

bool RefitScheduler::RunRefit() {
  const absl::Time start = absl::Now();
  const bool ok = refit_().ok();  // a failed refit leaves the old model serving
  const absl::Duration took = absl::Now() - start;
  absl::MutexLock lock(&mu_);
  last_refit_ = took;
  return ok;
}

void RefitScheduler::Refitted(int64_t changes_since_fit) {
  absl::MutexLock lock(&mu_);
  changes_since_fit_ = changes_since_fit;
}

absl::Duration RefitScheduler::quiet_period() const {
  absl::MutexLock lock(&mu_);
  return QuietPeriod(rule_, last_refit_);
}

void RefitScheduler::WaitIdle() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](RefitScheduler* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu_) {
        return (!s->wanted_ || s->stopping_) && !s->running_;
      },
      this));
}

void RefitScheduler::Loop() {
  // A failure leaves the thread at normal priority: refits still happen.
  if (rule_.nice > 0) SetThisThreadNice(rule_.nice).IgnoreError();
  struct Wake {
    RefitScheduler* s;
    int64_t seen;  // changes_since_fit_ when the wait began
  };
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      for (;;) {
        if (stopping_) return;
        if (wanted_) break;
        const Corpus corpus = corpus_();
        const absl::Duration quiet = QuietPeriod(rule_, last_refit_);
        const bool quiet_due = rule_.quiet_seconds > 0 && changes_since_fit_ > 0 &&
                               corpus.cases > 0 && corpus.cases <= rule_.quiet_max_cases;
        if (quiet_due && absl::Now() >= last_change_ + quiet) break;
        // Sleep until a refit is wanted, a change comes (it may start or
        // extend a quiet period), or the current quiet period ends.
        Wake wake{this, changes_since_fit_};
        const absl::Condition woken(
            +[](Wake* w) ABSL_NO_THREAD_SAFETY_ANALYSIS {
              return w->s->wanted_ || w->s->stopping_ || w->s->changes_since_fit_ != w->seen;
            },
            &wake);
        if (quiet_due) {
          mu_.AwaitWithDeadline(woken, last_change_ + quiet);
        } else {
          mu_.Await(woken);
        }
      }
      running_ = true;
      wanted_ = false;
    }
    const bool ok = RunRefit();
    absl::MutexLock lock(&mu_);
    running_ = false;
    // Changed() asks for no refit while one runs, and the refit counts the
    // writes it caught up (and those after its commit) as changes since its
    // fit: when they meet the drift rule, the next refit is wanted now, not
    // at the next write, which may never come. In the same critical section
    // as running_ = false, so WaitIdle() does not return in between. Not
    // after a failure: the next change asks again.
    if (ok && NeededLocked(corpus_())) wanted_ = true;
  }
}

}  // namespace peermatch::internal
