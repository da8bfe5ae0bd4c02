#include "common/executor.h"

#include <atomic>
#include <memory>
#include <vector>

#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace peermatch {
namespace {

using ::testing::HasSubstr;
using testing::StatusIs;

TEST(Cancellation, CancelIsIdempotentAndSeenByWaiters) {
  Cancellation c;
  EXPECT_FALSE(c.cancelled());
  EXPECT_FALSE(c.WaitWithTimeout(absl::ZeroDuration()));
  c.Cancel();
  c.Cancel();
  EXPECT_TRUE(c.cancelled());
  c.Wait();  // returns at once
}

ExecutorOptions Options(int threads, int queue_capacity,
                        std::function<void(const absl::Status&)> on_job_done = nullptr) {
  ExecutorOptions o;
  o.threads = threads;
  o.queue_capacity = queue_capacity;
  o.on_job_done = std::move(on_job_done);
  return o;
}

TEST(Executor, RunsEveryJobOnce) {
  std::atomic<int> runs{0};
  absl::BlockingCounter done(20);
  Executor executor(Options(3, 20));
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(executor
                    .Submit([&](const Cancellation&) {
                      ++runs;
                      done.DecrementCount();
                      return absl::OkStatus();
                    })
                    .ok());
  }
  done.Wait();
  EXPECT_TRUE(executor.Shutdown(absl::InfiniteDuration()));
  EXPECT_EQ(runs.load(), 20);
  EXPECT_EQ(executor.stats().completed, 20);
}

// A job that holds its thread until `release` is notified.
Executor::Job Blocker(absl::Notification* started, absl::Notification* release) {
  return [started, release](const Cancellation&) {
    started->Notify();
    release->WaitForNotification();
    return absl::OkStatus();
  };
}

TEST(Executor, FullQueueAnswersResourceExhausted) {
  Executor executor(Options(1, 1));
  absl::Notification started, release, unused;
  ASSERT_TRUE(executor.Submit(Blocker(&started, &release)).ok());
  started.WaitForNotification();  // the only thread is busy
  absl::Notification queued_started;
  ASSERT_TRUE(executor.Submit(Blocker(&queued_started, &release)).ok());  // waits
  EXPECT_THAT(executor.Submit(Blocker(&unused, &release)),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("busy with 2 heavy jobs")));
  EXPECT_EQ(executor.stats().rejected, 1);
  EXPECT_EQ(executor.stats().running, 1);
  EXPECT_EQ(executor.stats().queued, 1);
  release.Notify();
  queued_started.WaitForNotification();
  EXPECT_TRUE(executor.Shutdown(absl::InfiniteDuration()));
  EXPECT_FALSE(unused.HasBeenNotified());
}

TEST(Executor, QueueOfZeroAcceptsOnlyWhatIdleThreadsTake) {
  Executor executor(Options(2, 0));
  absl::Notification a, b, c, release;
  ASSERT_TRUE(executor.Submit(Blocker(&a, &release)).ok());
  ASSERT_TRUE(executor.Submit(Blocker(&b, &release)).ok());
  EXPECT_THAT(executor.Submit(Blocker(&c, &release)),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("retry later")));
  release.Notify();
}

TEST(Executor, CancellationReachesARunningJob) {
  absl::Notification started;
  absl::Notification saw_cancel;
  absl::Status outcome;
  Executor executor(Options(1, 0, [&](const absl::Status& s) { outcome = s; }));
  auto job = executor.Submit([&](const Cancellation& cancel) {
    started.Notify();
    cancel.Wait();
    saw_cancel.Notify();
    return absl::CancelledError("stopped");
  });
  ASSERT_TRUE(job.ok());
  started.WaitForNotification();
  (*job)->Cancel();
  saw_cancel.WaitForNotification();
  EXPECT_TRUE(executor.Shutdown(absl::InfiniteDuration()));
  EXPECT_THAT(outcome, StatusIs(absl::StatusCode::kCancelled));
}

TEST(Executor, ShutdownCancelsRunningAndQueuedJobsAndRunsEach) {
  std::vector<absl::Status> outcomes;
  absl::Mutex mu;
  Executor executor(Options(1, 2, [&](const absl::Status& s) {
    absl::MutexLock lock(&mu);
    outcomes.push_back(s);
  }));
  absl::Notification started;
  auto wait_for_cancel = [&](const Cancellation& cancel) {
    started.Notify();
    cancel.Wait();
    return absl::CancelledError("stopped");
  };
  auto never_started = [](const Cancellation& cancel) {
    return cancel.cancelled() ? absl::CancelledError("before it started") : absl::OkStatus();
  };
  ASSERT_TRUE(executor.Submit(wait_for_cancel).ok());
  started.WaitForNotification();
  ASSERT_TRUE(executor.Submit(never_started).ok());
  ASSERT_TRUE(executor.Submit(never_started).ok());
  EXPECT_TRUE(executor.Shutdown(absl::InfiniteDuration()));
  ASSERT_EQ(outcomes.size(), 3u);
  for (const absl::Status& s : outcomes) EXPECT_THAT(s, StatusIs(absl::StatusCode::kCancelled));
  EXPECT_THAT(executor.Submit(never_started), StatusIs(absl::StatusCode::kUnavailable));
}

TEST(Executor, ShutdownReportsAJobThatOutlivesItsGrace) {
  absl::Notification started, release;
  auto executor = std::make_unique<Executor>(Options(1, 0));
  ASSERT_TRUE(executor->Submit(Blocker(&started, &release)).ok());  // ignores cancellation
  started.WaitForNotification();
  EXPECT_FALSE(executor->Shutdown(absl::ZeroDuration()));
  release.Notify();
  EXPECT_TRUE(executor->Shutdown(absl::InfiniteDuration()));
}

}  // namespace
}  // namespace peermatch
