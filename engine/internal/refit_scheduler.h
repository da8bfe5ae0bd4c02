// RefitScheduler: decides when the engine's model is refitted, and runs the
// refits on its own thread (or inline, in the write that triggers one).
//
// The drift rule: refit when the cases written or deleted since the last
// fit reach max(min_changes, fraction x cases at the last fit), or when
// there is no fitted model yet. With a background thread, also once writes
// have paused after any change, on corpora of up to `quiet_max_cases` cases
// (so the model ends up fitted on the current corpus, whatever the order of
// the writes): the pause it waits for is QuietPeriod(), at least
// `quiet_seconds` and `quiet_cost_factor` times as long as the last refit
// took, so that quiet refits take at most 1 / (1 + quiet_cost_factor) of
// the time however the writes come (issue 16: before, any write followed by
// a one-second pause cost a whole refit). The thread sleeps until there is
// something to do (a wanted refit, or the end of a quiet period): it never
// polls. Changes made while a refit runs (caught up by it, or after its
// commit) count towards the next one, and the drift rule is checked again
// when it ends: they start the next refit themselves, without waiting for
// another write.
//
// Refits on the thread run at low priority (`nice`, Linux: the thread's own
// nice value, which the threads a fit starts inherit), so that queries keep
// their latency during one. (The engine hands the memory a refit freed back
// to the system: ReleaseFreeMemory.)
//
// Thread-safety: every method is safe to call concurrently.
#ifndef PEERMATCH_ENGINE_INTERNAL_REFIT_SCHEDULER_H_
#define PEERMATCH_ENGINE_INTERNAL_REFIT_SCHEDULER_H_

#include <cstdint>
#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace peermatch::internal {

struct RefitRule {
  int min_changes = 20;
  double fraction = 0.2;
  bool background = true;      // a thread of its own; false: inline
  double quiet_seconds = 1.0;  // 0: no quiet refits
  size_t quiet_max_cases = 100000;
  // A quiet refit waits for a pause of at least this many times the last
  // refit's duration (0: quiet_seconds alone, as before issue 16).
  double quiet_cost_factor = 10;
  // The nice value refits on the thread run at (0-19; 0 leaves it).
  int nice = 19;
};

// How long writes must have paused before a quiet refit, when the last
// refit took `last_refit` (zero when none was timed yet): the larger of
// rule.quiet_seconds and rule.quiet_cost_factor x last_refit.
absl::Duration QuietPeriod(const RefitRule& rule, absl::Duration last_refit);

// Sets the calling thread's nice value to `nice` (Linux: per thread, and
// inherited by the threads it starts). Returns the error of setpriority.
absl::Status SetThisThreadNice(int nice);

// Hands the heap's free memory back to the system (glibc: malloc_trim(0)).
void ReleaseFreeMemory();

class RefitScheduler {
 public:
  // What the rule reads of the corpus now: its number of cases, and the
  // fitted model's version (0: none) and number of documents.
  struct Corpus {
    size_t cases = 0;
    uint64_t model_version = 0;
    int64_t model_docs = 0;
  };
  // `corpus` is called with this class's lock held and must not call back
  // into it; `refit` is called without it: it fits, commits and publishes a
  // new model and, on success, calls Refitted().
  RefitScheduler(const RefitRule& rule, std::function<Corpus()> corpus,
                 std::function<absl::Status()> refit);
  ~RefitScheduler();  // stops the thread; waits for a running refit
  RefitScheduler(const RefitScheduler&) = delete;
  RefitScheduler& operator=(const RefitScheduler&) = delete;

  // Starts the background thread (with rule.background).
  void Start();
  // Counts `changes` written cases; refits when the drift rule says so (on
  // the thread, or inline here).
  void Changed(int64_t changes);
  // The count of changes since the fit, after a load or a refit.
  void Refitted(int64_t changes_since_fit);
  // Whether the drift rule asks for a refit now.
  bool Needed() const;
  // Blocks until no refit is running or wanted.
  void WaitIdle();
  // The pause a quiet refit waits for now: QuietPeriod(rule, how long the
  // last refit run by this class took).
  absl::Duration quiet_period() const;

 private:
  bool NeededLocked(const Corpus& corpus) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Loop();
  // Runs refit_ and times it; whether it succeeded.
  bool RunRefit() ABSL_LOCKS_EXCLUDED(mu_);

  const RefitRule rule_;
  const std::function<Corpus()> corpus_;
  const std::function<absl::Status()> refit_;

  mutable absl::Mutex mu_;
  int64_t changes_since_fit_ ABSL_GUARDED_BY(mu_) = 0;
  bool wanted_ ABSL_GUARDED_BY(mu_) = false;
  bool running_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time last_change_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  // How long the last refit run by this class took (zero: none yet).
  absl::Duration last_refit_ ABSL_GUARDED_BY(mu_) = absl::ZeroDuration();
  std::thread thread_;
};

}  // namespace peermatch::internal

#endif  // PEERMATCH_ENGINE_INTERNAL_REFIT_SCHEDULER_H_
