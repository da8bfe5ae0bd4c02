// Background refits of a real Engine over real RocksDB (issue 16): which
// writes start one, and that it is committed and published. No test here
// times anything: each waits on a condition, polled with a generous
// deadline (a refit of these few cases takes milliseconds).
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "engine/engine.h"
#include "gtest/gtest.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace peermatch {
namespace {

using testing::City;
using testing::IsOk;
using testing::TempDir;

constexpr int kSeeded = 30;

v1::Case Numbered(int i) {
  return testing::Solution(absl::StrCat("case-", i), i % 2 ? "fermo" : "osan",
                           absl::StrCat("Programme ", i),
                           i % 3 ? "Radio lessons for pupils in rural villages"
                                 : absl::StrCat("Reading clubs in libraries for families ", i));
}

// Polls `done` every 10 ms for up to 60 s; whether it became true.
bool Eventually(const std::function<bool()>& done) {
  for (int i = 0; i < 6000; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

// The bench's latency child's rule: a refit at every change, no quiet ones.
EngineOptions DriftRuleAtOneChange() {
  EngineOptions eo;
  eo.refit_min_changes = 1;
  eo.refit_fraction = 0;
  eo.quiet_refit_seconds = 0;
  return eo;
}

class EngineRefitTest : public ::testing::Test {
 protected:
  // A store with two cities and kSeeded cases, and a model fitted on them
  // (inline, by an engine without a refit thread, closed again).
  void SetUp() override {
    StoreOptions so;
    so.sync = false;
    store_ = *Store::Open(dir_.Sub("db"), so);
    EngineOptions eo;
    eo.background_refit = false;
    auto engine = *Engine::Open(store_.get(), eo);
    ASSERT_THAT(engine->PutCity(City("fermo", "IT", v1::REGION_EUROPE_NORTH_AMERICA)).status(),
                IsOk());
    ASSERT_THAT(engine->PutCity(City("osan", "KR", v1::REGION_ASIA_PACIFIC)).status(), IsOk());
    for (int i = 0; i < kSeeded; ++i) {
      ASSERT_THAT(engine->PutCase(Numbered(i), Visibility::kDeferred).status(), IsOk());
    }
    ASSERT_THAT(engine->Refit(), IsOk());
  }

  // The engine under test, with a refit thread and `eo`'s other options.
  void Open(EngineOptions eo) {
    eo.background_refit = true;
    eo.background_merge = false;  // only refits publish here
    engine_ = *Engine::Open(store_.get(), eo);
    fitted_ = engine_->snapshot()->model->version();
  }

  // The published model is the store's current one.
  void ExpectPublishedIsCommitted() {
    auto stored = store_->CurrentModelVersion();
    ASSERT_THAT(stored.status(), IsOk());
    EXPECT_EQ(engine_->snapshot()->model->version(), *stored);
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Engine> engine_;
  uint64_t fitted_ = 0;  // the model version at open
};

// The bench's latency child: one write starts a refit, which is committed
// and published.
TEST_F(EngineRefitTest, OneWriteMeetingTheDriftRuleIsRefittedAndPublished) {
  Open(DriftRuleAtOneChange());
  v1::Case c = Numbered(0);
  c.set_title("Programme 0, rewritten");
  ASSERT_THAT(engine_->PutCase(c).status(), IsOk());
  ASSERT_TRUE(Eventually([&] { return engine_->snapshot()->model->version() > fitted_; }))
      << "no refit published within 60 s";
  engine_->WaitForRefit();
  ExpectPublishedIsCommitted();
}

// The quiet refit: a write below the drift rule, then a pause.
TEST_F(EngineRefitTest, OneWriteThenAPauseIsRefittedAndPublished) {
  EngineOptions eo;
  eo.quiet_refit_seconds = 0.05;  // the drift rule (20 changes) is not met
  Open(eo);
  ASSERT_THAT(engine_->PutCase(Numbered(kSeeded)).status(), IsOk());
  ASSERT_TRUE(Eventually([&] { return engine_->snapshot()->model->num_docs() == kSeeded + 1; }))
      << "no quiet refit fitted on the new case within 60 s";
  engine_->WaitForRefit();
  ExpectPublishedIsCommitted();
}

// What hung the bench: a write identical to the stored case writes
// nothing, counts as no change, and starts no refit.
TEST_F(EngineRefitTest, AnUnchangedWriteStartsNoRefit) {
  Open(DriftRuleAtOneChange());
  auto r = engine_->PutCase(Numbered(0));
  ASSERT_THAT(r.status(), IsOk());
  EXPECT_EQ(*r, PutResult::kUnchanged);
  engine_->WaitForRefit();  // returns at once: none is wanted
  EXPECT_EQ(engine_->snapshot()->model->version(), fitted_);
}

// Writes while a refit runs (here: after its commit, before it publishes)
// ask for no refit of their own; they count as changes since its fit, and
// when they meet the drift rule the next refit follows by itself. Before
// the fix the refit thread slept until some later write.
TEST_F(EngineRefitTest, WritesDuringARefitMeetingTheDriftRuleStartTheNextOne) {
  std::atomic<bool> hold{false};
  absl::Notification in_publish, release;
  EngineOptions eo;
  eo.refit_min_changes = 3;
  eo.refit_fraction = 0;
  eo.quiet_refit_seconds = 0;
  // Only the refit thread publishes here (the writes are kDeferred, merges
  // are off): the first publish after `hold` is the refit's.
  eo.before_publish_for_test = [&] {
    if (hold.exchange(false)) {
      in_publish.Notify();
      release.WaitForNotification();
    }
  };
  Open(eo);
  hold = true;
  for (int i = 0; i < 3; ++i) {
    ASSERT_THAT(engine_->PutCase(Numbered(kSeeded + i), Visibility::kDeferred).status(), IsOk());
  }
  const bool held = in_publish.WaitForNotificationWithTimeout(absl::Seconds(60));
  for (int i = 3; held && i < 6; ++i) {
    EXPECT_THAT(engine_->PutCase(Numbered(kSeeded + i), Visibility::kDeferred).status(), IsOk());
  }
  release.Notify();
  ASSERT_TRUE(held) << "the first refit did not reach its publish within 60 s";
  EXPECT_TRUE(Eventually([&] { return engine_->snapshot()->model->num_docs() == kSeeded + 6; }))
      << "no second refit, fitted on the 3 cases written during the first, within 60 s (model "
      << engine_->snapshot()->model->num_docs() << " docs)";
  engine_->WaitForRefit();
  EXPECT_EQ(engine_->snapshot()->model->version(), fitted_ + 2);
  ExpectPublishedIsCommitted();
}

}  // namespace
}  // namespace peermatch
