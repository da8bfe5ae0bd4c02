// Engine::UpdateCity and UpdateCase: read, change and write as one step
// under the write lock; errors write nothing.
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_engine.h"

namespace peermatch {
namespace {

using ::testing::HasSubstr;
using testing::StatusIs;

class EngineUpdateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(engine().PutCity(testing::City("fermo")).ok());
    ASSERT_TRUE(engine()
                    .PutCase(testing::Solution("fermo-radio", "fermo", "Radio lessons",
                                               "Daily radio lessons for pupils"))
                    .ok());
  }
  Engine& engine() { return *test_.engine; }

  testing::TempDir dir_;
  testing::TestEngine test_{dir_.Sub("db")};
};

// Increments made from two threads through read-modify-write updates all
// count: no write comes between an update's read and its write.
TEST_F(EngineUpdateTest, ConcurrentReadModifyWritesLoseNoUpdate) {
  constexpr int kThreads = 2, kRounds = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this] {
      for (int i = 0; i < kRounds; ++i) {
        auto r = engine().UpdateCity("fermo", [](v1::City* c) {
          c->set_population(c->population() + 1);
          return absl::OkStatus();
        });
        ASSERT_TRUE(r.ok()) << r.status();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(engine().store().GetCity("fermo")->population(), kThreads * kRounds);
}

TEST_F(EngineUpdateTest, ReturnsTheRecordAsStoredAndQueriesSeeIt) {
  auto c = engine().UpdateCase("fermo-radio", [](v1::Case* c) {
    c->set_title("Radio and podcast lessons");
    return absl::OkStatus();
  });
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->title(), "Radio and podcast lessons");
  EXPECT_EQ(c->description(), "Daily radio lessons for pupils");
  EXPECT_EQ(engine().store().GetCase("fermo-radio")->ShortDebugString(), c->ShortDebugString());
  SimilarQuery q;
  q.about.text = "podcast";
  auto r = engine().SimilarCases(q);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_FALSE(r->cases.items.empty());
  EXPECT_EQ(r->cases.items[0].record.title(), "Radio and podcast lessons");
}

TEST_F(EngineUpdateTest, ErrorsWriteNothing) {
  const std::string before = engine().store().GetCase("fermo-radio")->ShortDebugString();
  EXPECT_THAT(engine().UpdateCase("no-such-case", [](v1::Case*) { return absl::OkStatus(); }),
              StatusIs(absl::StatusCode::kNotFound, "no case with id \"no-such-case\""));
  EXPECT_THAT(engine().UpdateCase("fermo-radio",
                                  [](v1::Case* c) {
                                    c->set_title("changed");
                                    return absl::FailedPreconditionError("the change's own");
                                  }),
              StatusIs(absl::StatusCode::kFailedPrecondition, "the change's own"));
  EXPECT_THAT(engine().UpdateCase("fermo-radio",
                                  [](v1::Case* c) {
                                    c->set_title("");
                                    return absl::OkStatus();
                                  }),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("case.title")));
  EXPECT_THAT(engine().UpdateCase("fermo-radio",
                                  [](v1::Case* c) {
                                    c->set_id("fermo-other");
                                    return absl::OkStatus();
                                  }),
              StatusIs(absl::StatusCode::kInvalidArgument, "case.id: an update cannot change it"));
  EXPECT_THAT(engine().UpdateCase("fermo-radio",
                                  [](v1::Case* c) {
                                    c->set_city_id("atlantis");
                                    return absl::OkStatus();
                                  }),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("case.city_id")));
  EXPECT_EQ(engine().store().GetCase("fermo-radio")->ShortDebugString(), before);
  EXPECT_FALSE(engine().store().GetCase("fermo-other").ok());
}

}  // namespace
}  // namespace peermatch
