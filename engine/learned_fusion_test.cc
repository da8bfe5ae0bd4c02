#include "engine/learned_fusion.h"

#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace peermatch {
namespace {

using ::testing::HasSubstr;

// `n` challenges of 50 candidates with random features. In `relevant_by`
// mode the relevant candidate of each challenge is the best by
// `truth` . x (a ranking the defaults only partly agree with), the next
// three by the same are judged not relevant; with `random_labels` the
// labels are put on random candidates instead.
std::vector<FusionExample> Examples(int n, const ScoreWeights& truth, bool random_labels,
                                    uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<FusionExample> out;
  for (int q = 0; q < n; ++q) {
    FusionExample e;
    e.key = "challenge-" + std::to_string(q);
    std::vector<std::pair<float, size_t>> by_truth;
    for (size_t i = 0; i < 50; ++i) {
      FusionFeatures f = {normal(rng), normal(rng), normal(rng), 0.0f};
      e.features.push_back(f);
      by_truth.emplace_back(-(truth.lexical * f[0] + truth.subword * f[1] + truth.semantic * f[2]),
                            i);
    }
    std::sort(by_truth.begin(), by_truth.end());
    e.labels.assign(50, 0);
    if (random_labels) {
      std::shuffle(by_truth.begin(), by_truth.end(), rng);
    }
    e.labels[by_truth[0].second] = 1;
    for (int k = 1; k <= 3; ++k) e.labels[by_truth[k].second] = -1;
    out.push_back(std::move(e));
  }
  return out;
}

// The relevant solutions follow the subword part much more than the
// defaults (0.6, 0.3, 0.1) say: the fit moves toward it and ranks held-out
// challenges better.
TEST(LearnedFusion, FitsWeightsThatRankHeldOutJudgementsBetter) {
  ScoreWeights truth;
  truth.lexical = 0.2f, truth.subword = 0.9f, truth.semantic = 0.1f;
  const std::vector<FusionExample> examples = Examples(200, truth, false, 1);
  const FusionFit fit = FitFusion(examples, ScoreWeights{}, FusionOptions{});
  ASSERT_TRUE(fit.learned) << fit.reason;
  EXPECT_GT(fit.weights.subword / fit.weights.lexical, 1.5) << fit.weights.lexical << " "
                                                            << fit.weights.subword;
  EXPECT_GT(fit.heldout_learned_ndcg, fit.heldout_default_ndcg + 0.05);
  EXPECT_EQ(fit.positives, 200);
  EXPECT_EQ(fit.negatives, 600);
  EXPECT_EQ(fit.queries, 200);
  EXPECT_THAT(fit.reason, HasSubstr("fitted on 200 relevant and 600 not relevant"));
  // Re-ranking by the fitted weights puts more relevant candidates on top
  // than the defaults do, on fresh challenges.
  const std::vector<FusionExample> fresh = Examples(200, truth, false, 2);
  double learned = 0, defaults = 0;
  for (const FusionExample& e : fresh) {
    learned += FusionNdcgAt10(e, fit.weights);
    defaults += FusionNdcgAt10(e, ScoreWeights{});
  }
  EXPECT_GT(learned, defaults * 1.1);
}

TEST(LearnedFusion, TooFewJudgementsKeepTheDefaults) {
  ScoreWeights truth;
  truth.subword = 2.0f;
  const std::vector<FusionExample> examples = Examples(9, truth, false, 3);  // 9 challenges
  const FusionFit fit = FitFusion(examples, ScoreWeights{}, FusionOptions{});
  EXPECT_FALSE(fit.learned);
  EXPECT_EQ(fit.weights.lexical, ScoreWeights{}.lexical);
  EXPECT_EQ(fit.weights.subword, ScoreWeights{}.subword);
  EXPECT_THAT(fit.reason, HasSubstr("too few judgements: 9 relevant and 27 not relevant from 9"));
  EXPECT_EQ(fit.heldout_learned_ndcg, 0) << "no fit was tried";
}

// Labels on random candidates carry no signal: the held-out check refuses
// the fitted weights, whatever the seed.
TEST(LearnedFusion, RandomLabelsKeepTheDefaults) {
  for (uint32_t seed = 10; seed < 20; ++seed) {
    const std::vector<FusionExample> examples = Examples(200, ScoreWeights{}, true, seed);
    const FusionFit fit = FitFusion(examples, ScoreWeights{}, FusionOptions{});
    EXPECT_FALSE(fit.learned) << "seed " << seed << ": " << fit.reason;
    EXPECT_EQ(fit.weights.subword, ScoreWeights{}.subword);
    EXPECT_THAT(fit.reason, HasSubstr("do not generalize"));
  }
}

TEST(LearnedFusion, TurnedOffKeepsTheDefaultsAndSaysSo) {
  ScoreWeights truth;
  truth.subword = 2.0f;
  FusionOptions options;
  options.enabled = false;
  const FusionFit fit = FitFusion(Examples(200, truth, false, 4), ScoreWeights{}, options);
  EXPECT_FALSE(fit.learned);
  EXPECT_EQ(fit.weights.subword, ScoreWeights{}.subword);
  EXPECT_THAT(fit.reason, HasSubstr("turned off"));
}

TEST(LearnedFusion, NdcgCountsOnlyTheRelevantAndBreaksTiesByPosition) {
  FusionExample e;
  e.features = {{1, 0, 0, 0}, {1, 0, 0, 0}, {0, 0, 0, 0}};
  e.labels = {-1, 1, 0};
  ScoreWeights w;  // candidates 0 and 1 tie: 0 first, so the relevant one is second
  EXPECT_NEAR(FusionNdcgAt10(e, w), 1 / std::log2(3.0), 1e-9);
  e.labels = {-1, -1, 0};
  EXPECT_EQ(FusionNdcgAt10(e, w), 0);
}

}  // namespace
}  // namespace peermatch
