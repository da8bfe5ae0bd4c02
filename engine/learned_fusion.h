// Learned fusion (issue 14): fits the weights of the fused score (index/index.h
// ScoreWeights: lexical, subword, semantic, structure) to labelled
// (challenge, solution) judgements, with a pairwise learning-to-rank model.
//
// Model: the fused score is linear in the features the index already
// computes for every candidate, x = (z_lexical, z_subword, z_semantic,
// structure) (Hit in index/index.h), so a weight vector w ranks by w . x.
// For every challenge, every (relevant, not relevant) pair of judged
// solutions among its candidates gives one term of a logistic loss on
// w . (x_relevant - x_not_relevant); each challenge's pairs weigh 1 in all
// (one challenge with many pairs does not outweigh the others), and an L2
// penalty pulls w toward the default weights:
//   minimize  sum_q (1/|P_q|) sum_(p,n) log(1 + exp(-w.(x_p - x_n)))  / |Q|
//             + l2 * |w - w_default|^2
// solved exactly by Newton's method (4 unknowns; Eigen).
//
// When fitted weights are used (the line): at least `min_positives`
// relevant and `min_negatives` not-relevant usable judgements from at least
// `min_queries` challenges, and a held-out check: 5-fold cross-validation by
// challenge (a challenge's judgements are all in one fold), each fold ranked
// with weights fitted on the other four, must give a higher mean nDCG@10 of
// the judged-relevant solutions than the defaults by at least
// `min_heldout_gain`. Otherwise (too few, or contradictory or random labels
// that do not generalize) the defaults stay, and `reason` says why.
//
//   std::vector<FusionExample> examples = ...;  // candidates and labels per challenge
//   FusionFit fit = FitFusion(examples, ScoreWeights{}, FusionOptions{});
//   const ScoreWeights& w = fit.weights;  // the defaults unless fit.learned
//
// Thread-safety: pure functions over plain values.
#ifndef PEERMATCH_ENGINE_LEARNED_FUSION_H_
#define PEERMATCH_ENGINE_LEARNED_FUSION_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "index/index.h"

namespace peermatch {

inline constexpr int kFusionFeatures = 4;  // z_lexical, z_subword, z_semantic, structure
using FusionFeatures = std::array<float, kFusionFeatures>;

// The features of a hit, in the order of kFusionFeatures.
FusionFeatures FeaturesOf(const Hit& h);

struct FusionOptions {
  // false: never fit; the defaults are used and reported as turned off
  // (peermatchd --no-learned-fusion).
  bool enabled = true;
  // The line (see the top of this file). 20 and 20 over 10 challenges: with
  // 4 weights that is 5 judgements of each label per weight, and 5 folds of
  // at least 2 challenges each for the held-out check; below it the
  // held-out figures are too noisy to trust either way.
  int min_positives = 20;
  int min_negatives = 20;
  int min_queries = 10;
  // Held-out nDCG@10 the fitted weights must gain over the defaults; a
  // smaller gain is within what random labels give (fusion_test).
  double min_heldout_gain = 0.002;
  // Strength of the pull toward the default weights.
  double l2 = 0.05;
  // Candidates per challenge the features are read for (its top by the
  // default weights); a judged solution below them is not usable.
  int candidates = 1000;
};

// One judged challenge: its candidates' features and labels.
struct FusionExample {
  std::string key;  // the challenge (case id or text); decides its fold
  std::vector<FusionFeatures> features;  // candidates
  // +1 judged relevant, -1 judged not relevant, 0 not judged; one per
  // candidate.
  std::vector<int> labels;
};

struct FusionFit {
  ScoreWeights weights;  // in use: fitted when `learned`, else the defaults
  bool learned = false;
  int64_t positives = 0, negatives = 0, queries = 0;  // usable judgements
  double heldout_default_ndcg = 0, heldout_learned_ndcg = 0;  // 0 when not tried
  std::string reason;  // why the weights are what they are
  // Set by the engine: the model version the fit was made on (0 when not
  // learned) and the judgements stored when it was made.
  uint64_t model_version = 0;
  int64_t judgements = 0;
};

// Fits (see the top of this file). Examples without both a relevant and a
// not-relevant candidate still count toward the line and the held-out
// nDCG (a relevant one) but add no pairs. `defaults.depth` is kept.
FusionFit FitFusion(const std::vector<FusionExample>& examples, const ScoreWeights& defaults,
                    const FusionOptions& options);

// nDCG@10 of the candidates labelled +1 when ranked by `w` (ties by
// position); 0 when none is. Exposed for tests.
double FusionNdcgAt10(const FusionExample& example, const ScoreWeights& w);

}  // namespace peermatch

#endif  // PEERMATCH_ENGINE_LEARNED_FUSION_H_
