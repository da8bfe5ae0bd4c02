#include "engine/internal/refit_scheduler.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace peermatch::internal {
namespace {

struct Fake {
  std::atomic<size_t> cases{100};
  std::atomic<uint64_t> version{1};
  std::atomic<int64_t> docs{100};
  std::atomic<int> refits{0};
  RefitScheduler::Corpus Corpus() const { return {cases.load(), version.load(), docs.load()}; }
  // What a refit does here: counts, resets the scheduler's count of changes.
  absl::Status Refit(RefitScheduler* scheduler, absl::Notification* done = nullptr) {
    ++refits;
    scheduler->Refitted(0);
    if (done != nullptr && !done->HasBeenNotified()) done->Notify();
    return absl::OkStatus();
  }
};

TEST(RefitScheduler, InlineRefitsWhenTheDriftRuleIsMet) {
  Fake fake;
  RefitRule rule;
  rule.background = false;
  rule.min_changes = 5;
  rule.fraction = 0.2;  // 20 of 100 cases
  RefitScheduler scheduler(rule, [&] { return fake.Corpus(); },
                           [&] { return fake.Refit(&scheduler); });
  scheduler.Start();
  scheduler.Changed(19);
  EXPECT_EQ(fake.refits, 0);
  EXPECT_FALSE(scheduler.Needed());
  scheduler.Changed(1);  // 20: max(5, 0.2 x 100) reached, refitted in this call
  EXPECT_EQ(fake.refits, 1);
  EXPECT_FALSE(scheduler.Needed());
}

TEST(RefitScheduler, NoModelYetIsAlwaysARefitAndNoCasesNever) {
  Fake fake;
  fake.version = 0;
  RefitScheduler scheduler(RefitRule(), [&] { return fake.Corpus(); },
                           [] { return absl::OkStatus(); });
  EXPECT_TRUE(scheduler.Needed());
  fake.cases = 0;
  EXPECT_FALSE(scheduler.Needed());
}

TEST(RefitScheduler, BackgroundRefitOnceWritesPause) {
  Fake fake;
  RefitRule rule;
  rule.min_changes = 1000;  // the drift rule never fires here
  rule.quiet_seconds = 0.01;
  absl::Notification refitted;
  RefitScheduler scheduler(rule, [&] { return fake.Corpus(); },
                           [&] { return fake.Refit(&scheduler, &refitted); });
  scheduler.Start();
  scheduler.Changed(1);
  refitted.WaitForNotification();  // the quiet refit came without a drift
  scheduler.WaitIdle();
  EXPECT_EQ(fake.refits, 1);
}

TEST(RefitScheduler, BackgroundRefitWhenTheDriftRuleIsMet) {
  Fake fake;
  RefitRule rule;
  rule.quiet_seconds = 0;  // no quiet refits
  rule.min_changes = 3;
  rule.fraction = 0;
  absl::Notification refitted;
  RefitScheduler scheduler(rule, [&] { return fake.Corpus(); },
                           [&] { return fake.Refit(&scheduler, &refitted); });
  scheduler.Start();
  scheduler.Changed(2);
  scheduler.WaitIdle();
  EXPECT_EQ(fake.refits, 0);
  scheduler.Changed(1);
  refitted.WaitForNotification();
  scheduler.WaitIdle();
  EXPECT_EQ(fake.refits, 1);
}

// Writes while a refit runs ask for no refit of their own (Changed sees it
// running), and the engine counts them as changes since the new fit: when
// they meet the drift rule, the next refit follows by itself, not at some
// later write (issue 16: before, the thread slept until one came).
TEST(RefitScheduler, WritesDuringARefitThatMeetTheDriftRuleStartTheNextOne) {
  Fake fake;
  RefitRule rule;
  rule.quiet_seconds = 0;  // the drift rule alone
  rule.min_changes = 3;
  rule.fraction = 0;
  absl::Notification in_first, written;
  RefitScheduler scheduler(rule, [&] { return fake.Corpus(); }, [&] {
    const bool first = ++fake.refits == 1;
    if (first) {
      in_first.Notify();
      written.WaitForNotification();
    }
    // As Engine::CommitRefit: the first caught up the 3 written during it,
    // which still count as changes since its fit; the second, none.
    scheduler.Refitted(first ? 3 : 0);
    return absl::OkStatus();
  });
  scheduler.Start();
  scheduler.Changed(3);
  in_first.WaitForNotification();
  scheduler.Changed(3);  // during the first refit
  written.Notify();
  scheduler.WaitIdle();  // idle only once no refit is wanted either
  EXPECT_EQ(fake.refits, 2);
}

// Issue 16: a quiet refit waits for a pause that grows with what a refit
// costs, so a write now and then cannot keep the machine refitting.
TEST(RefitScheduler, TheQuietPeriodIsTheLongerOfTheRuleAndTenRefits) {
  RefitRule rule;  // quiet_seconds 1, quiet_cost_factor 10
  EXPECT_EQ(QuietPeriod(rule, absl::ZeroDuration()), absl::Seconds(1));
  EXPECT_EQ(QuietPeriod(rule, absl::Milliseconds(50)), absl::Seconds(1));
  EXPECT_EQ(QuietPeriod(rule, absl::Seconds(15)), absl::Seconds(150));
  rule.quiet_cost_factor = 0;  // as before issue 16
  EXPECT_EQ(QuietPeriod(rule, absl::Seconds(15)), absl::Seconds(1));
}

TEST(RefitScheduler, TheQuietPeriodFollowsHowLongTheLastRefitTook) {
  Fake fake;
  RefitRule rule;
  rule.background = false;
  rule.min_changes = 1;
  rule.fraction = 0;
  rule.quiet_seconds = 0.001;
  rule.quiet_cost_factor = 1000;
  RefitScheduler scheduler(rule, [&] { return fake.Corpus(); }, [&] {
    absl::SleepFor(absl::Milliseconds(5));  // a refit takes at least 5 ms
    return fake.Refit(&scheduler);
  });
  EXPECT_EQ(scheduler.quiet_period(), absl::Milliseconds(1));  // no refit timed yet
  scheduler.Changed(1);
  ASSERT_EQ(fake.refits, 1);
  EXPECT_GE(scheduler.quiet_period(), absl::Seconds(5));  // 1000 x at least 5 ms
}

// The refit thread, and the threads a fit starts from it, run at nice 19:
// a refit yields the cores to queries.
TEST(RefitScheduler, BackgroundRefitsRunAtLowPriority) {
  Fake fake;
  RefitRule rule;
  rule.quiet_seconds = 0;
  rule.min_changes = 1;
  rule.fraction = 0;
  std::atomic<int> refit_nice{-100}, helper_nice{-100};
  absl::Notification refitted;
  auto nice_of_this_thread = [] {
    errno = 0;
    return getpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)));
  };
  RefitScheduler scheduler(rule, [&] { return fake.Corpus(); }, [&] {
    refit_nice = nice_of_this_thread();
    std::thread helper([&] { helper_nice = nice_of_this_thread(); });
    helper.join();
    return fake.Refit(&scheduler, &refitted);
  });
  const int ours = nice_of_this_thread();  // 10 under `nice -n 10 ctest`
  scheduler.Start();
  scheduler.Changed(1);
  refitted.WaitForNotification();
  scheduler.WaitIdle();
  EXPECT_EQ(refit_nice, 19);
  EXPECT_EQ(helper_nice, 19);
  EXPECT_EQ(nice_of_this_thread(), ours) << "only the refit thread is lowered";
}

}  // namespace
}  // namespace peermatch::internal
