#include "engine/internal/refit_scheduler.h"

#include <atomic>

#include "absl/synchronization/notification.h"
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

}  // namespace
}  // namespace peermatch::internal
