// Store's pairing rounds: ids, atomic updates that write nothing on error,
// durability across a reopen, replicas, and the decisions hook.
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/store.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace peermatch {
namespace {

using ::testing::HasSubstr;
using testing::IsOk;
using testing::StatusIs;

v1::Round TwoPairRound(const std::string& id) {
  v1::Round r;
  r.set_id(id);
  r.set_name(id);
  r.set_state(v1::ROUND_STATE_OPEN);
  for (const char* peer : {"fermo", "wuhan"}) {
    v1::RoundPair* p = r.add_pairs();
    p->mutable_pair()->set_asking_city_id("bahir-dar");
    p->mutable_pair()->set_peer_city_id(peer);
    p->mutable_pair()->set_challenge_id("bahir-dar-offline");
    p->mutable_pair()->set_solution_id(std::string(peer) + "-radio");
    p->set_state(v1::PAIR_STATE_PROPOSED);
  }
  return r;
}

TEST(StoreRounds, CreateTakesTheFirstFreeIdAndRefusesABadOne) {
  testing::TempDir dir;
  auto store = Store::Open(dir.Sub("db"));
  ASSERT_THAT(store, IsOk());
  EXPECT_EQ((*store)->CreateRound(TwoPairRound("cohort"))->id(), "cohort");
  EXPECT_EQ((*store)->CreateRound(TwoPairRound("cohort"))->id(), "cohort-2");
  EXPECT_EQ((*store)->CreateRound(TwoPairRound("cohort"))->id(), "cohort-3");
  EXPECT_THAT((*store)->CreateRound(TwoPairRound("Not An Id")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("round.id")));
  EXPECT_THAT((*store)->GetRound("nothing"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no round with id")));
  bool more = true;
  auto page = (*store)->ListRounds("", 2, &more);
  ASSERT_THAT(page, IsOk());
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[1].id(), "cohort-2");
  EXPECT_TRUE(more);
  page = (*store)->ListRounds("cohort-2", 2, &more);
  ASSERT_EQ(page->size(), 1u);
  EXPECT_FALSE(more);
}

TEST(StoreRounds, UpdateWritesNothingOnErrorOrNoChangeAndSurvivesAReopen) {
  testing::TempDir dir;
  {
    auto store = Store::Open(dir.Sub("db"));
    ASSERT_THAT(store, IsOk());
    ASSERT_THAT((*store)->CreateRound(TwoPairRound("r")), IsOk());
    const uint64_t seq = (*store)->LatestSequence();
    EXPECT_THAT((*store)->UpdateRound("r",
                                      [](v1::Round* r) -> absl::StatusOr<bool> {
                                        r->mutable_pairs(0)->set_state(v1::PAIR_STATE_DECLINED);
                                        return absl::FailedPreconditionError("no");
                                      }),
                StatusIs(absl::StatusCode::kFailedPrecondition));
    EXPECT_THAT((*store)->UpdateRound("r", [](v1::Round*) -> absl::StatusOr<bool> { return false; }),
                IsOk());
    EXPECT_EQ((*store)->LatestSequence(), seq);
    EXPECT_EQ((*store)->GetRound("r")->pairs(0).state(), v1::PAIR_STATE_PROPOSED);
    EXPECT_THAT((*store)->UpdateRound("absent", [](v1::Round*) -> absl::StatusOr<bool> { return true; }),
                StatusIs(absl::StatusCode::kNotFound));
    auto updated = (*store)->UpdateRound("r", [](v1::Round* r) -> absl::StatusOr<bool> {
      r->mutable_pairs(0)->set_state(v1::PAIR_STATE_DECLINED);
      r->mutable_pairs(0)->set_reason(v1::DECLINE_REASON_NOT_RELEVANT);
      r->mutable_pairs(1)->set_state(v1::PAIR_STATE_ACCEPTED);
      return true;
    });
    ASSERT_THAT(updated, IsOk());
  }
  auto reopened = Store::Open(dir.Sub("db"));
  ASSERT_THAT(reopened, IsOk());
  EXPECT_EQ((*reopened)->GetRound("r")->pairs(0).state(), v1::PAIR_STATE_DECLINED);
  auto decisions = (*reopened)->ListRoundDecisions();
  ASSERT_THAT(decisions, IsOk());
  ASSERT_EQ(decisions->size(), 2u);
  EXPECT_EQ((*decisions)[0].solution_id, "fermo-radio");
  EXPECT_EQ((*decisions)[0].challenge_id, "bahir-dar-offline");
  EXPECT_EQ((*decisions)[0].reason, v1::DECLINE_REASON_NOT_RELEVANT);
  EXPECT_EQ((*decisions)[1].state, v1::PAIR_STATE_ACCEPTED);
}

TEST(StoreRounds, AReplicaReadsRoundsAfterCatchingUpAndRefusesToWriteThem) {
  testing::TempDir dir;
  auto primary = Store::Open(dir.Sub("primary"));
  ASSERT_THAT(primary, IsOk());
  auto replica = Store::OpenReplica(dir.Sub("primary"), dir.Sub("replica"));
  ASSERT_THAT(replica, IsOk());
  ASSERT_THAT((*primary)->CreateRound(TwoPairRound("r")), IsOk());
  ASSERT_THAT((*replica)->CatchUp(), IsOk());
  auto seen = (*replica)->GetRound("r");
  ASSERT_THAT(seen, IsOk());
  EXPECT_EQ(seen->pairs_size(), 2);
  EXPECT_THAT((*replica)->UpdateRound("r", [](v1::Round*) -> absl::StatusOr<bool> { return true; }),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("read replica")));
}

}  // namespace
}  // namespace peermatch
