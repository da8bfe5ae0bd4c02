// Learned fusion (issue 14): fits the fused score of Match and SimilarCases
// to labelled (challenge, solution) judgements with a pairwise
// learning-to-rank model.
//
// Features of a candidate solution for a challenge (x, 6 numbers): the
// four the index already computes and weighs (Hit in index/index.h:
// z_lexical, z_subword, z_semantic, structure), and the solution's record
// in the judgements of *other* challenges: log(1 + times judged relevant)
// and log(1 + times judged not relevant) (a solution that staff accepted
// for other challenges is more likely to serve this one). The score is
// w . x: the first four weights are ScoreWeights' lexical, subword,
// semantic and structure; the last two become a per-solution boost
// (ScoreWeights::boosts). The defaults are ScoreWeights{} and 0, 0.
//
// Fit: for every challenge, every (relevant, not relevant) pair of judged
// solutions among its candidates gives one term of a logistic loss on
// w . (x_relevant - x_not_relevant); each challenge's pairs weigh 1 in all,
// and an L2 penalty pulls w toward the defaults:
//   minimize  (1/|Q|) sum_q (1/|P_q|) sum_(p,n) log(1 + exp(-w.(x_p - x_n)))
//             + l2 * |w - w_default|^2
// solved by Newton's method (6 unknowns; Eigen). The pull on the four text
// weights is chosen by the held-out check below. While fitting, a
// challenge's own judgements are left out of its solutions' counts (else
// every relevant solution would carry its own label).
//
// When fitted weights are used (the line): at least `min_positives`
// relevant and `min_negatives` not-relevant usable judgements from at least
// `min_queries` challenges, and a held-out check: 5-fold cross-validation by
// challenge (a challenge and its judgements are in one fold; the held-out
// fold's counts come from the other four only), each fold ranked with
// weights fitted on the other four, must raise the mean nDCG@10 of the
// judged-relevant solutions over the defaults by at least
// `min_heldout_gain` and by at least `min_heldout_standard_errors` (3)
// standard errors of that gain across the held-out challenges. Otherwise (too few labels, or contradictory or
// random ones that do not generalize) the defaults stay, and `reason` says
// why.
//
//   std::vector<FusionExample> examples = ...;  // candidates and labels per challenge
//   FusionFit fit = FitFusion(examples, solution_ids, ScoreWeights{}, FusionOptions{});
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

// What the index computes for a candidate: z_lexical, z_subword,
// z_semantic, structure.
using TextFeatures = std::array<float, 4>;
TextFeatures FeaturesOf(const Hit& h);

struct FusionOptions {
  // false: never fit; the defaults are used and reported as turned off
  // (peermatchd --no-learned-fusion).
  bool enabled = true;
  // The line (see the top of this file). 20 and 20 over 10 challenges: with
  // 6 weights that is a few judgements of each label per weight, and 5
  // folds of at least 2 challenges each for the held-out check; below it
  // the held-out figures are too noisy to trust either way.
  int min_positives = 20;
  int min_negatives = 20;
  int min_queries = 10;
  // Held-out nDCG@10 the fitted weights must gain over the defaults, and
  // how many standard errors of that gain (across held-out challenges) it
  // must be at least. 3: random labels pass 2 standard errors about 2% of
  // the time for each of the three pulls tried (learned_fusion_test saw 1
  // of 10 seeds pass), 3 about 0.1%; SciFact's train decisions pass with 8.
  double min_heldout_gain = 0.002;
  double min_heldout_standard_errors = 3;
  // Strength of the pull toward the defaults (of the prior's two weights;
  // the four text weights' pull is chosen by the held-out check among this,
  // 1 and 20: a strong pull keeps them near the weights tuned on SciFact).
  double l2 = 0.05;
  // Candidates per challenge the features are read for (its top by the
  // default weights); a judged solution below them is not usable.
  int candidates = 1000;
};

// One judged challenge: its candidates, their features and labels.
struct FusionExample {
  std::string key;  // the challenge (case id or text); decides its fold
  std::vector<TextFeatures> features;  // one per candidate
  // Each candidate's solution, as an index into FitFusion's solution_ids.
  std::vector<uint32_t> solutions;
  // +1 judged relevant, -1 judged not relevant, 0 not judged; one per
  // candidate.
  std::vector<int> labels;
};

struct FusionFit {
  // In use: fitted when `learned` (with `boosts` set), else the defaults.
  ScoreWeights weights;
  // The weights of log(1 + relevant count) and log(1 + not relevant count).
  double accepted_weight = 0, declined_weight = 0;
  bool learned = false;
  int64_t positives = 0, negatives = 0, queries = 0;  // usable judgements
  double heldout_default_ndcg = 0, heldout_learned_ndcg = 0;  // 0 when not tried
  std::string reason;  // why the weights are what they are
  // Set by the engine: the model version the fit was made on (0 when not
  // learned) and the judgements stored when it was made.
  uint64_t model_version = 0;
  int64_t judgements = 0;
};

// Fits (see the top of this file). `solution_ids[i]` is solution i's case
// id (for the boosts). Examples without both a relevant and a not-relevant
// candidate add no pairs but count toward the line and the held-out nDCG
// (when they have a relevant one). `defaults.depth` is kept.
FusionFit FitFusion(const std::vector<FusionExample>& examples,
                    const std::vector<std::string>& solution_ids, const ScoreWeights& defaults,
                    const FusionOptions& options);

}  // namespace peermatch

#endif  // PEERMATCH_ENGINE_LEARNED_FUSION_H_
