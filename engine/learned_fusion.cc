#include "engine/learned_fusion.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "Eigen/Dense"
#include "absl/strings/str_format.h"

namespace peermatch {
namespace {

constexpr int kFolds = 5;
constexpr int kNewtonIterations = 50;

using Vec = Eigen::Matrix<double, kFusionFeatures, 1>;
using Mat = Eigen::Matrix<double, kFusionFeatures, kFusionFeatures>;

Vec ToVec(const ScoreWeights& w) {
  Vec v;
  v << w.lexical, w.subword, w.semantic, w.structure;
  return v;
}

ScoreWeights ToWeights(const Vec& v, const ScoreWeights& defaults) {
  ScoreWeights w = defaults;
  w.lexical = static_cast<float>(v[0]);
  w.subword = static_cast<float>(v[1]);
  w.semantic = static_cast<float>(v[2]);
  w.structure = static_cast<float>(v[3]);
  return w;
}

Vec ToVec(const FusionFeatures& f) {
  Vec v;
  for (int i = 0; i < kFusionFeatures; ++i) v[i] = f[i];
  return v;
}

// Stable across builds and machines, so a challenge's fold never changes.
uint64_t Fnv1a64(const std::string& s) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

// log(1 + exp(-m)) without overflow.
double LogLoss(double m) { return m > 0 ? std::log1p(std::exp(-m)) : -m + std::log1p(std::exp(m)); }
double Sigmoid(double m) { return m >= 0 ? 1 / (1 + std::exp(-m)) : std::exp(m) / (1 + std::exp(m)); }

// The pairwise differences of the examples `use` keeps, each with its
// weight (1 / pairs of its example / examples with pairs).
struct Pairs {
  std::vector<Vec> diffs;
  std::vector<double> weights;
};

Pairs MakePairs(const std::vector<FusionExample>& examples, const std::vector<bool>& use) {
  Pairs out;
  size_t with_pairs = 0;
  std::vector<std::pair<size_t, size_t>> spans;  // [begin, end) in out per example
  for (size_t q = 0; q < examples.size(); ++q) {
    if (!use[q]) continue;
    const FusionExample& e = examples[q];
    const size_t begin = out.diffs.size();
    for (size_t p = 0; p < e.labels.size(); ++p) {
      if (e.labels[p] != 1) continue;
      for (size_t n = 0; n < e.labels.size(); ++n) {
        if (e.labels[n] == -1) out.diffs.push_back(ToVec(e.features[p]) - ToVec(e.features[n]));
      }
    }
    if (out.diffs.size() > begin) spans.emplace_back(begin, out.diffs.size()), ++with_pairs;
  }
  out.weights.assign(out.diffs.size(), 0.0);
  for (const auto& [b, e] : spans) {
    for (size_t i = b; i < e; ++i) out.weights[i] = 1.0 / double(e - b) / double(with_pairs);
  }
  return out;
}

double Loss(const Pairs& pairs, const Vec& w, const Vec& w0, double l2) {
  double loss = l2 * (w - w0).squaredNorm();
  for (size_t i = 0; i < pairs.diffs.size(); ++i) loss += pairs.weights[i] * LogLoss(w.dot(pairs.diffs[i]));
  return loss;
}

// Newton's method with step halving; the loss is strictly convex (l2 > 0).
Vec Fit(const Pairs& pairs, const Vec& w0, double l2) {
  Vec w = w0;
  double loss = Loss(pairs, w, w0, l2);
  for (int it = 0; it < kNewtonIterations; ++it) {
    Vec grad = 2 * l2 * (w - w0);
    Mat hess = 2 * l2 * Mat::Identity();
    for (size_t i = 0; i < pairs.diffs.size(); ++i) {
      const Vec& d = pairs.diffs[i];
      const double m = w.dot(d);
      grad -= pairs.weights[i] * Sigmoid(-m) * d;
      hess += pairs.weights[i] * Sigmoid(m) * Sigmoid(-m) * d * d.transpose();
    }
    const Vec step = hess.ldlt().solve(grad);
    double t = 1;
    Vec next = w - step;
    double next_loss = Loss(pairs, next, w0, l2);
    while (next_loss > loss && t > 1e-6) {
      t /= 2;
      next = w - t * step;
      next_loss = Loss(pairs, next, w0, l2);
    }
    if (next_loss > loss) break;
    const bool converged = (next - w).norm() < 1e-9;
    w = next;
    loss = next_loss;
    if (converged) break;
  }
  return w;
}

}  // namespace

FusionFeatures FeaturesOf(const Hit& h) {
  return {h.z_lexical, h.z_subword, h.z_semantic, h.structure};
}

double FusionNdcgAt10(const FusionExample& e, const ScoreWeights& weights) {
  const Vec w = ToVec(weights);
  std::vector<double> score(e.features.size());
  int relevant = 0;
  for (size_t i = 0; i < e.features.size(); ++i) {
    score[i] = w.dot(ToVec(e.features[i]));
    relevant += e.labels[i] == 1;
  }
  if (relevant == 0) return 0;
  std::vector<size_t> order(e.features.size());
  std::iota(order.begin(), order.end(), 0);
  const size_t top = std::min<size_t>(10, order.size());
  std::partial_sort(order.begin(), order.begin() + top, order.end(), [&](size_t a, size_t b) {
    return score[a] != score[b] ? score[a] > score[b] : a < b;
  });
  double dcg = 0, ideal = 0;
  for (size_t r = 0; r < top; ++r) {
    if (e.labels[order[r]] == 1) dcg += 1 / std::log2(r + 2.0);
  }
  for (int r = 0; r < std::min(relevant, 10); ++r) ideal += 1 / std::log2(r + 2.0);
  return dcg / ideal;
}

FusionFit FitFusion(const std::vector<FusionExample>& examples, const ScoreWeights& defaults,
                    const FusionOptions& options) {
  FusionFit fit;
  fit.weights = defaults;
  for (const FusionExample& e : examples) {
    bool any = false;
    for (int label : e.labels) {
      fit.positives += label == 1;
      fit.negatives += label == -1;
      any = any || label != 0;
    }
    fit.queries += any;
  }
  if (!options.enabled) {
    fit.reason = "turned off: the default weights are used";
    return fit;
  }
  if (fit.positives < options.min_positives || fit.negatives < options.min_negatives ||
      fit.queries < options.min_queries) {
    fit.reason = absl::StrFormat(
        "too few judgements: %d relevant and %d not relevant from %d challenges; the "
        "learned fusion needs at least %d and %d from %d: the default weights are used",
        fit.positives, fit.negatives, fit.queries, options.min_positives, options.min_negatives,
        options.min_queries);
    return fit;
  }

  // The held-out check: each fold ranked by weights fitted on the others.
  const Vec w0 = ToVec(defaults);
  std::vector<int> fold(examples.size());
  for (size_t q = 0; q < examples.size(); ++q) fold[q] = int(Fnv1a64(examples[q].key) % kFolds);
  double default_sum = 0, learned_sum = 0;
  int judged = 0;
  for (int f = 0; f < kFolds; ++f) {
    std::vector<bool> train(examples.size());
    for (size_t q = 0; q < examples.size(); ++q) train[q] = fold[q] != f;
    const ScoreWeights fitted = ToWeights(Fit(MakePairs(examples, train), w0, options.l2), defaults);
    for (size_t q = 0; q < examples.size(); ++q) {
      if (train[q]) continue;
      if (std::find(examples[q].labels.begin(), examples[q].labels.end(), 1) ==
          examples[q].labels.end()) {
        continue;
      }
      default_sum += FusionNdcgAt10(examples[q], defaults);
      learned_sum += FusionNdcgAt10(examples[q], fitted);
      ++judged;
    }
  }
  fit.heldout_default_ndcg = judged > 0 ? default_sum / judged : 0;
  fit.heldout_learned_ndcg = judged > 0 ? learned_sum / judged : 0;
  const double gain = fit.heldout_learned_ndcg - fit.heldout_default_ndcg;
  if (gain < options.min_heldout_gain) {
    fit.reason = absl::StrFormat(
        "the judgements do not generalize: held-out nDCG@10 %.4f with fitted weights against "
        "%.4f with the defaults (a gain of at least %.3f is needed): the default weights are used",
        fit.heldout_learned_ndcg, fit.heldout_default_ndcg, options.min_heldout_gain);
    return fit;
  }
  std::vector<bool> all(examples.size(), true);
  fit.weights = ToWeights(Fit(MakePairs(examples, all), w0, options.l2), defaults);
  fit.learned = true;
  fit.reason = absl::StrFormat(
      "fitted on %d relevant and %d not relevant judgements from %d challenges; held-out "
      "nDCG@10 %.4f against %.4f with the defaults",
      fit.positives, fit.negatives, fit.queries, fit.heldout_learned_ndcg,
      fit.heldout_default_ndcg);
  return fit;
}

}  // namespace peermatch
