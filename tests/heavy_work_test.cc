// Heavy calls on a real loopback server: a PairCities whose client cancels
// (or whose deadline passes) stops computing; a full heavy-work queue
// answers RESOURCE_EXHAUSTED at once; shutdown cancels a running pairing.
// Pairings are held at a known point through ServerOptions'
// pairing_after_progress seam; every wait is on an event, none on time.
#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_server.h"

namespace peermatch {
namespace {

using ::testing::HasSubstr;
using testing::StatusIs;
using testing::TestServer;
using testing::TestServerOptions;

// What the server's heavy jobs returned, in the order they ended.
class JobOutcomes {
 public:
  std::function<void(const absl::Status&)> Recorder() {
    return [this](const absl::Status& s) {
      absl::MutexLock lock(&mu_);
      outcomes_.push_back(s);
    };
  }
  // Blocks until `n` jobs have ended.
  std::vector<absl::Status> WaitFor(size_t n) {
    auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return outcomes_.size() >= n; };
    absl::MutexLock lock(&mu_, absl::Condition(&enough));
    return outcomes_;
  }

 private:
  absl::Mutex mu_;
  std::vector<absl::Status> outcomes_ ABSL_GUARDED_BY(mu_);
};

// Holds the first pairing at its first progress message: `held` is
// notified there, and it goes on once `release(cancel)` returns.
struct Hold {
  absl::Notification held;
  std::atomic<bool> first{true};
  std::function<void(const Cancellation&)> Hook(std::function<void(const Cancellation&)> release) {
    return [this, release](const Cancellation& cancel) {
      if (!first.exchange(false)) return;
      held.Notify();
      release(cancel);
    };
  }
};

v1::PairCitiesRequest DemoRequest() {
  v1::PairCitiesRequest req;
  req.set_k(3);
  req.set_capacity(3);
  req.set_exclude_same_country(true);
  return req;
}

// A server whose first pairing is held at its first progress message
// until its job is cancelled (by its client, its deadline or shutdown).
TestServerOptions HeldUntilCancelled(JobOutcomes* jobs, Hold* hold, bool demo_data) {
  TestServerOptions options;
  options.demo_data = demo_data;
  options.heavy.on_job_done = jobs->Recorder();
  options.pairing_after_progress = hold->Hook([](const Cancellation& c) { c.Wait(); });
  return options;
}

TEST(HeavyWork, PairCitiesStopsComputingAfterItsClientCancels) {
  JobOutcomes jobs;
  Hold hold;
  TestServer server(HeldUntilCancelled(&jobs, &hold, /*demo_data=*/true));

  grpc::ClientContext ctx;
  auto reader = server.stub().PairCities(&ctx, DemoRequest());
  v1::PairCitiesResponse msg;
  ASSERT_TRUE(reader->Read(&msg));
  ASSERT_TRUE(msg.has_progress());
  EXPECT_EQ(msg.progress().done(), 0);
  EXPECT_GT(msg.progress().total(), 80);
  ctx.TryCancel();
  while (reader->Read(&msg)) EXPECT_FALSE(msg.has_summary());
  EXPECT_THAT(reader->Finish(), StatusIs(grpc::StatusCode::CANCELLED));

  const std::vector<absl::Status> ended = jobs.WaitFor(1);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_THAT(ended[0], StatusIs(absl::StatusCode::kCancelled, HasSubstr("while scoring")));
  // The executor is free again: the same pairing now runs to its end.
  grpc::ClientContext again;
  auto second = server.stub().PairCities(&again, DemoRequest());
  bool summary = false;
  while (second->Read(&msg)) summary = summary || msg.has_summary();
  EXPECT_TRUE(second->Finish().ok());
  EXPECT_TRUE(summary);
}

TEST(HeavyWork, PairCitiesStopsWhenItsDeadlinePasses) {
  JobOutcomes jobs;
  Hold hold;
  TestServer server(HeldUntilCancelled(&jobs, &hold, /*demo_data=*/true));

  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  auto reader = server.stub().PairCities(&ctx, DemoRequest());
  v1::PairCitiesResponse msg;
  while (reader->Read(&msg)) EXPECT_FALSE(msg.has_summary());
  EXPECT_THAT(reader->Finish(), StatusIs(grpc::StatusCode::DEADLINE_EXCEEDED));
  if (!hold.held.HasBeenNotified()) return;  // refused before it started (a slow start)
  EXPECT_THAT(jobs.WaitFor(1)[0], StatusIs(absl::StatusCode::kCancelled));
}

TEST(HeavyWork, AFullQueueAnswersResourceExhausted) {
  JobOutcomes jobs;
  Hold hold;
  absl::Notification release;
  TestServerOptions options;
  options.heavy.threads = 1;
  options.heavy.queue_capacity = 0;
  options.heavy.on_job_done = jobs.Recorder();
  options.pairing_after_progress =
      hold.Hook([&release](const Cancellation&) { release.WaitForNotification(); });
  TestServer server(options);

  grpc::ClientContext busy_ctx;
  auto busy = server.stub().PairCities(&busy_ctx, v1::PairCitiesRequest());
  v1::PairCitiesResponse msg;
  ASSERT_TRUE(busy->Read(&msg));  // the only heavy thread is now held
  hold.held.WaitForNotification();

  grpc::ClientContext refused_ctx;
  auto refused = server.stub().PairCities(&refused_ctx, v1::PairCitiesRequest());
  EXPECT_FALSE(refused->Read(&msg));
  EXPECT_THAT(refused->Finish(), StatusIs(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                          HasSubstr("busy with 1 heavy jobs")));
  grpc::ClientContext backup_ctx;
  v1::CreateBackupRequest backup;
  backup.set_to_dir("never-written");  // under the test server's backup root
  v1::BackupInfo info;
  EXPECT_THAT(server.stub().CreateBackup(&backup_ctx, backup, &info),
              StatusIs(grpc::StatusCode::RESOURCE_EXHAUSTED, HasSubstr("retry later")));

  release.Notify();
  bool summary = false;
  while (busy->Read(&msg)) summary = summary || msg.has_summary();
  EXPECT_TRUE(busy->Finish().ok());
  EXPECT_TRUE(summary);
  EXPECT_TRUE(jobs.WaitFor(1)[0].ok());
}

// Three times what the executor holds (its threads and its queue), all at
// once: exactly the excess is refused, at once, saying the queue is full;
// health, GetStats and Match answer while the accepted pairings are held;
// then the accepted ones run to their end.
TEST(HeavyWork, ABurstOfPairingsBeyondTheQueueIsRefusedWhileReadsGoOn) {
  constexpr int kThreads = 1, kQueue = 2, kHeld = kThreads + kQueue, kCalls = 3 * kHeld;
  JobOutcomes jobs;
  Hold hold;
  absl::Notification release;
  TestServerOptions options;
  options.demo_data = true;
  options.heavy.threads = kThreads;
  options.heavy.queue_capacity = kQueue;
  options.heavy.on_job_done = jobs.Recorder();
  options.pairing_after_progress =
      hold.Hook([&release](const Cancellation&) { release.WaitForNotification(); });
  TestServer server(options);

  absl::Mutex mu;
  std::vector<grpc::Status> refused;
  std::vector<grpc::Status> finished;
  int summaries = 0;
  std::vector<std::thread> callers;
  for (int i = 0; i < kCalls; ++i) {
    callers.emplace_back([&] {
      grpc::ClientContext ctx;
      auto reader = server.stub().PairCities(&ctx, DemoRequest());
      v1::PairCitiesResponse msg;
      bool summary = false;
      while (reader->Read(&msg)) summary = summary || msg.has_summary();
      const grpc::Status s = reader->Finish();
      absl::MutexLock lock(&mu);
      (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED ? refused : finished).push_back(s);
      summaries += summary;
    });
  }
  // Every call beyond what the executor holds is refused, while the held
  // ones are still held (none can end before `release`).
  {
    auto excess_refused = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
      return refused.size() == static_cast<size_t>(kCalls - kHeld);
    };
    absl::MutexLock lock(&mu, absl::Condition(&excess_refused));
    EXPECT_TRUE(finished.empty());
    for (const grpc::Status& s : refused) {
      EXPECT_THAT(s, StatusIs(grpc::StatusCode::RESOURCE_EXHAUSTED,
                              HasSubstr("its heavy threads (1) are all taken and its queue "
                                        "(2 waiting) is full; retry later")));
    }
  }
  hold.held.WaitForNotification();
  auto health = grpc::health::v1::Health::NewStub(server.channel());
  grpc::ClientContext health_ctx;
  grpc::health::v1::HealthCheckResponse serving;
  ASSERT_TRUE(health->Check(&health_ctx, grpc::health::v1::HealthCheckRequest(), &serving).ok());
  EXPECT_EQ(serving.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  grpc::ClientContext stats_ctx;
  v1::Stats stats;
  ASSERT_TRUE(server.stub().GetStats(&stats_ctx, v1::GetStatsRequest(), &stats).ok());
  EXPECT_GT(stats.cases(), 0);
  grpc::ClientContext match_ctx;
  v1::MatchRequest match;
  match.set_text("radio lessons for pupils without internet");
  v1::MatchResponse peers;
  ASSERT_TRUE(server.stub().Match(&match_ctx, match, &peers).ok());
  EXPECT_GT(peers.peers_size(), 0);

  release.Notify();
  for (std::thread& t : callers) t.join();
  EXPECT_EQ(refused.size(), static_cast<size_t>(kCalls - kHeld));
  ASSERT_EQ(finished.size(), static_cast<size_t>(kHeld));
  for (const grpc::Status& s : finished) EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(summaries, kHeld);
  EXPECT_EQ(jobs.WaitFor(kHeld).size(), static_cast<size_t>(kHeld));
}

TEST(HeavyWork, ShutdownCancelsARunningPairing) {
  JobOutcomes jobs;
  Hold hold;
  TestServer server(HeldUntilCancelled(&jobs, &hold, /*demo_data=*/false));

  grpc::ClientContext ctx;
  auto reader = server.stub().PairCities(&ctx, v1::PairCitiesRequest());
  v1::PairCitiesResponse msg;
  ASSERT_TRUE(reader->Read(&msg));
  hold.held.WaitForNotification();
  EXPECT_TRUE(server.server().Shutdown(std::chrono::seconds(30)));
  EXPECT_THAT(jobs.WaitFor(1)[0], StatusIs(absl::StatusCode::kCancelled));
  while (reader->Read(&msg)) EXPECT_FALSE(msg.has_summary());
  EXPECT_THAT(reader->Finish(), StatusIs(grpc::StatusCode::CANCELLED));
}

}  // namespace
}  // namespace peermatch
