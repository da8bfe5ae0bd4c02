#include "clients/offline/eval_metrics.h"

#include <cmath>

#include "gtest/gtest.h"

namespace peermatch::cli {
namespace {

TEST(EvalMetrics, NdcgMatchesHandComputedValue) {
  // Relevant: a (grade 1) and b (grade 2). Ranking: x, b, a.
  // DCG = 2/log2(3) + 1/log2(4) = 1.26186 + 0.5; IDCG = 2/1 + 1/log2(3).
  const Judgments judged = {{"a", 1}, {"b", 2}, {"z", 0}};
  const double dcg = 2 / std::log2(3.0) + 1 / 2.0;
  const double idcg = 2 + 1 / std::log2(3.0);
  EXPECT_NEAR(NdcgAt({"x", "b", "a"}, judged, 10), dcg / idcg, 1e-12);
  EXPECT_NEAR(NdcgAt({"b", "a"}, judged, 10), 1.0, 1e-12);
  // Cut at 1: only "x" counts.
  EXPECT_EQ(NdcgAt({"x", "b", "a"}, judged, 1), 0.0);
}

TEST(EvalMetrics, RecallAndMrr) {
  const Judgments judged = {{"a", 1}, {"b", 1}, {"c", 1}, {"n", 0}};
  EXPECT_NEAR(RecallAt({"n", "a", "x", "c"}, judged, 100), 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(RecallAt({"n", "a", "x", "c"}, judged, 2), 1.0 / 3.0, 1e-12);
  EXPECT_NEAR(MrrAt({"n", "x", "c"}, judged, 10), 1.0 / 3.0, 1e-12);
  EXPECT_EQ(MrrAt({"n", "x", "c"}, judged, 2), 0.0);
}

TEST(EvalMetrics, NothingRelevantScoresZero) {
  EXPECT_EQ(NdcgAt({"a"}, {{"a", 0}}, 10), 0.0);
  EXPECT_EQ(RecallAt({"a"}, {}, 10), 0.0);
}

}  // namespace
}  // namespace peermatch::cli
