#include "engine/learned_fusion.h"

#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace peermatch {
namespace {

using ::testing::HasSubstr;

// Ids for `n` challenges of 50 candidates each.
std::vector<std::string> Ids(int n) {
  std::vector<std::string> ids;
  for (int i = 0; i < n * 50; ++i) ids.push_back("s" + std::to_string(i));
  return ids;
}

// `n` challenges of 50 candidates (each a solution no other challenge has)
// with random features. In `relevant_by`
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
      TextFeatures f = {normal(rng), normal(rng), normal(rng), 0.0f};
      e.features.push_back(f);
      e.solutions.push_back(static_cast<uint32_t>(q * 50 + i));  // each seen once
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
  const FusionFit fit = FitFusion(examples, Ids(int(examples.size())), ScoreWeights{}, FusionOptions{});
  ASSERT_TRUE(fit.learned) << fit.reason;
  // Toward the truth's ratio (4.5) from the defaults' (0.5); the pull
  // toward the defaults keeps it from going all the way.
  EXPECT_GT(fit.weights.subword / fit.weights.lexical, 0.7) << fit.weights.lexical << " "
                                                            << fit.weights.subword;
  EXPECT_GT(fit.heldout_learned_ndcg, fit.heldout_default_ndcg + 0.05);
  EXPECT_EQ(fit.positives, 200);
  EXPECT_EQ(fit.negatives, 600);
  EXPECT_EQ(fit.queries, 200);
  EXPECT_THAT(fit.reason, HasSubstr("fitted on 200 relevant and 600 not relevant"));
  EXPECT_EQ(fit.weights.boosts->size(), 0u) << "no solution was judged twice";
}

TEST(LearnedFusion, TooFewJudgementsKeepTheDefaults) {
  ScoreWeights truth;
  truth.subword = 2.0f;
  const std::vector<FusionExample> examples = Examples(9, truth, false, 3);  // 9 challenges
  const FusionFit fit = FitFusion(examples, Ids(int(examples.size())), ScoreWeights{}, FusionOptions{});
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
    const FusionFit fit = FitFusion(examples, Ids(int(examples.size())), ScoreWeights{}, FusionOptions{});
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
  const FusionFit fit = FitFusion(Examples(200, truth, false, 4), Ids(200), ScoreWeights{}, options);
  EXPECT_FALSE(fit.learned);
  EXPECT_EQ(fit.weights.subword, ScoreWeights{}.subword);
  EXPECT_THAT(fit.reason, HasSubstr("turned off"));
}

// A few solutions are relevant to many challenges (and rank low by the
// text features): the fit learns to boost solutions judged relevant for
// other challenges, and the boosts name them.
TEST(LearnedFusion, LearnsThatSolutionsAcceptedElsewhereServeAgain) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  std::vector<std::string> ids;
  for (int i = 0; i < 1000; ++i) ids.push_back("s" + std::to_string(i));
  std::vector<FusionExample> examples;
  for (int q = 0; q < 200; ++q) {
    FusionExample e;
    e.key = "challenge-" + std::to_string(q);
    for (int i = 0; i < 40; ++i) {
      // Candidates from a pool of 1000; the relevant one is one of ten
      // "good" solutions (0-9), with unremarkable text features.
      const uint32_t s = i == 0 ? static_cast<uint32_t>(q % 10)
                                : static_cast<uint32_t>(10 + (q * 37 + i * 11) % 990);
      e.solutions.push_back(s);
      e.features.push_back({normal(rng), normal(rng), normal(rng), 0.0f});
      e.labels.push_back(i == 0 ? 1 : (i <= 3 ? -1 : 0));
    }
    examples.push_back(std::move(e));
  }
  const FusionFit fit = FitFusion(examples, ids, ScoreWeights{}, FusionOptions{});
  ASSERT_TRUE(fit.learned) << fit.reason;
  EXPECT_GT(fit.accepted_weight, 0.1);
  EXPECT_GT(fit.heldout_learned_ndcg, fit.heldout_default_ndcg + 0.1);
  ASSERT_NE(fit.weights.boosts, nullptr);
  // The ten good solutions are boosted most, by the same amount (20 each).
  std::vector<std::pair<float, std::string>> ranked;
  for (const auto& [id, b] : *fit.weights.boosts) ranked.emplace_back(-b, id);
  std::sort(ranked.begin(), ranked.end());
  ASSERT_GE(ranked.size(), 10u);
  for (int i = 0; i < 10; ++i) {
    EXPECT_LT(std::stoi(ranked[i].second.substr(1)), 10) << ranked[i].second;
    EXPECT_FLOAT_EQ(ranked[i].first, ranked[0].first);
  }
}

}  // namespace
}  // namespace peermatch
