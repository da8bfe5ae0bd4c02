#include "engine/learned_fusion.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>

#include "Eigen/Dense"
#include "absl/strings/str_format.h"
#include "common/stable_hash.h"

namespace peermatch {
namespace {

constexpr int kFeatures = 6;  // the 4 text features, then log1p(relevant), log1p(not relevant)
constexpr int kFolds = 5;
constexpr int kNewtonIterations = 50;

using Vec = Eigen::Matrix<double, kFeatures, 1>;
using Mat = Eigen::Matrix<double, kFeatures, kFeatures>;

Vec Defaults(const ScoreWeights& w) {
  Vec v;
  v << w.lexical, w.subword, w.semantic, w.structure, 0, 0;
  return v;
}

// log(1 + exp(-m)) without overflow, and the logistic function.
double LogLoss(double m) { return m > 0 ? std::log1p(std::exp(-m)) : -m + std::log1p(std::exp(m)); }
double Sigmoid(double m) { return m >= 0 ? 1 / (1 + std::exp(-m)) : std::exp(m) / (1 + std::exp(m)); }

// How often each solution was judged relevant and not relevant by the
// examples `use` keeps.
struct Counts {
  std::vector<int> relevant, not_relevant;
};

Counts Count(const std::vector<FusionExample>& examples, const std::vector<bool>& use,
             size_t num_solutions) {
  Counts c{std::vector<int>(num_solutions, 0), std::vector<int>(num_solutions, 0)};
  for (size_t q = 0; q < examples.size(); ++q) {
    if (!use[q]) continue;
    const FusionExample& e = examples[q];
    for (size_t i = 0; i < e.labels.size(); ++i) {
      if (e.labels[i] == 1) ++c.relevant[e.solutions[i]];
      if (e.labels[i] == -1) ++c.not_relevant[e.solutions[i]];
    }
  }
  return c;
}

// An example's full features; `own`: the counts include its own labels,
// which are taken out.
struct Prepared {
  std::vector<Vec> x;
  const std::vector<int>* labels;
};

Prepared Prepare(const FusionExample& e, const Counts& c, bool own) {
  Prepared p{{}, &e.labels};
  p.x.reserve(e.features.size());
  for (size_t i = 0; i < e.features.size(); ++i) {
    const uint32_t s = e.solutions[i];
    const int relevant = c.relevant[s] - (own && e.labels[i] == 1);
    const int not_relevant = c.not_relevant[s] - (own && e.labels[i] == -1);
    Vec v;
    v << e.features[i][0], e.features[i][1], e.features[i][2], e.features[i][3],
        std::log1p(double(relevant)), std::log1p(double(not_relevant));
    p.x.push_back(v);
  }
  return p;
}

// The pairwise differences of `examples`, each weighted 1 / its example's
// pairs / examples with pairs.
struct Pairs {
  std::vector<Vec> diffs;
  std::vector<double> weights;
};

Pairs MakePairs(const std::vector<Prepared>& examples) {
  Pairs out;
  std::vector<std::pair<size_t, size_t>> spans;
  for (const Prepared& e : examples) {
    const std::vector<int>& labels = *e.labels;
    const size_t begin = out.diffs.size();
    for (size_t p = 0; p < labels.size(); ++p) {
      if (labels[p] != 1) continue;
      for (size_t n = 0; n < labels.size(); ++n) {
        if (labels[n] == -1) out.diffs.push_back(e.x[p] - e.x[n]);
      }
    }
    if (out.diffs.size() > begin) spans.emplace_back(begin, out.diffs.size());
  }
  out.weights.assign(out.diffs.size(), 0.0);
  for (const auto& [b, e] : spans) {
    for (size_t i = b; i < e; ++i) out.weights[i] = 1.0 / double(e - b) / double(spans.size());
  }
  return out;
}

double Loss(const Pairs& pairs, const Vec& w, const Vec& w0, const Vec& l2) {
  double loss = (l2.array() * (w - w0).array().square()).sum();
  for (size_t i = 0; i < pairs.diffs.size(); ++i) {
    loss += pairs.weights[i] * LogLoss(w.dot(pairs.diffs[i]));
  }
  return loss;
}

// Newton's method with step halving; the loss is strictly convex (l2 > 0).
Vec Fit(const Pairs& pairs, const Vec& w0, const Vec& l2) {
  Vec w = w0;
  double loss = Loss(pairs, w, w0, l2);
  for (int it = 0; it < kNewtonIterations; ++it) {
    Vec grad = 2 * (l2.array() * (w - w0).array()).matrix();
    Mat hess = Mat(2 * l2.asDiagonal());
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

// nDCG@10 of the candidates labelled +1 when ranked by w . x (ties by
// position); -1 when none is.
double NdcgAt10(const Prepared& e, const Vec& w) {
  const std::vector<int>& labels = *e.labels;
  const int relevant = static_cast<int>(std::count(labels.begin(), labels.end(), 1));
  if (relevant == 0) return -1;
  std::vector<double> score(e.x.size());
  for (size_t i = 0; i < e.x.size(); ++i) score[i] = w.dot(e.x[i]);
  std::vector<size_t> order(e.x.size());
  std::iota(order.begin(), order.end(), 0);
  const size_t top = std::min<size_t>(10, order.size());
  std::partial_sort(order.begin(), order.begin() + top, order.end(), [&](size_t a, size_t b) {
    return score[a] != score[b] ? score[a] > score[b] : a < b;
  });
  double dcg = 0, ideal = 0;
  for (size_t r = 0; r < top; ++r) {
    if (labels[order[r]] == 1) dcg += 1 / std::log2(r + 2.0);
  }
  for (int r = 0; r < std::min(relevant, 10); ++r) ideal += 1 / std::log2(r + 2.0);
  return dcg / ideal;
}

}  // namespace

TextFeatures FeaturesOf(const Hit& h) { return {h.z_lexical, h.z_subword, h.z_semantic, h.structure}; }

FusionFit FitFusion(const std::vector<FusionExample>& examples,
                    const std::vector<std::string>& solution_ids, const ScoreWeights& defaults,
                    const FusionOptions& options) {
  FusionFit fit;
  fit.weights = defaults;
  fit.weights.boosts = nullptr;
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

  // The held-out check: each fold ranked by weights fitted on the others,
  // with counts from the others only; for each strength of the pull on the
  // four text weights (the prior's pull is options.l2), and the strongest
  // held-out result is the one checked and used.
  const Vec w0 = Defaults(defaults);
  const size_t n = examples.size();
  struct Trial {
    Vec l2;
    std::vector<double> gains;
    double default_sum = 0, learned_sum = 0;
  };
  std::vector<Trial> trials;
  for (double text_l2 : {options.l2, 1.0, 20.0}) {
    Trial& t = trials.emplace_back();
    t.l2 << text_l2, text_l2, text_l2, text_l2, options.l2, options.l2;
  }
  for (int f = 0; f < kFolds; ++f) {
    std::vector<bool> train(n);
    for (size_t q = 0; q < n; ++q) train[q] = StableHash64(examples[q].key) % kFolds != uint64_t(f);
    const Counts counts = Count(examples, train, solution_ids.size());
    std::vector<Prepared> fitting;
    for (size_t q = 0; q < n; ++q) {
      if (train[q]) fitting.push_back(Prepare(examples[q], counts, true));
    }
    const Pairs pairs = MakePairs(fitting);
    std::vector<Prepared> held_out;
    for (size_t q = 0; q < n; ++q) {
      if (!train[q]) held_out.push_back(Prepare(examples[q], counts, false));
    }
    for (Trial& t : trials) {
      const Vec w = Fit(pairs, w0, t.l2);
      for (const Prepared& h : held_out) {
        const double base = NdcgAt10(h, w0);
        if (base < 0) continue;  // nothing relevant to find
        const double learned = NdcgAt10(h, w);
        t.default_sum += base;
        t.learned_sum += learned;
        t.gains.push_back(learned - base);
      }
    }
  }
  const Trial* best = &trials[0];
  for (const Trial& t : trials) {
    if (t.learned_sum > best->learned_sum) best = &t;
  }
  const std::vector<double>& gains = best->gains;
  const double judged = static_cast<double>(gains.size());
  fit.heldout_default_ndcg = gains.empty() ? 0 : best->default_sum / judged;
  fit.heldout_learned_ndcg = gains.empty() ? 0 : best->learned_sum / judged;
  const double gain = fit.heldout_learned_ndcg - fit.heldout_default_ndcg;
  double var = 0;
  for (double g : gains) var += (g - gain) * (g - gain);
  const double se = gains.size() > 1 ? std::sqrt(var / (judged - 1) / judged) : 0;
  if (gains.empty() || gain < options.min_heldout_gain || gain < options.min_heldout_standard_errors * se) {
    fit.reason = absl::StrFormat(
        "the judgements do not generalize: held-out nDCG@10 %.4f with fitted weights against "
        "%.4f with the defaults (a gain of %+.4f, standard error %.4f; at least %.3f and %g "
        "standard errors are needed): the default weights are used",
        fit.heldout_learned_ndcg, fit.heldout_default_ndcg, gain, se, options.min_heldout_gain,
        options.min_heldout_standard_errors);
    return fit;
  }

  // The weights in use: fitted on every example; the boosts from every
  // judgement.
  const std::vector<bool> all(n, true);
  const Counts counts = Count(examples, all, solution_ids.size());
  std::vector<Prepared> fitting;
  for (const FusionExample& e : examples) fitting.push_back(Prepare(e, counts, true));
  const Vec w = Fit(MakePairs(fitting), w0, best->l2);
  fit.weights.lexical = static_cast<float>(w[0]);
  fit.weights.subword = static_cast<float>(w[1]);
  fit.weights.semantic = static_cast<float>(w[2]);
  fit.weights.structure = static_cast<float>(w[3]);
  fit.accepted_weight = w[4];
  fit.declined_weight = w[5];
  auto boosts = std::make_shared<CaseBoosts>();
  for (size_t s = 0; s < solution_ids.size(); ++s) {
    const double b = w[4] * std::log1p(double(counts.relevant[s])) +
                     w[5] * std::log1p(double(counts.not_relevant[s]));
    if (b != 0) boosts->emplace_back(solution_ids[s], static_cast<float>(b));
  }
  std::sort(boosts->begin(), boosts->end());
  fit.weights.boosts = std::move(boosts);
  fit.learned = true;
  fit.reason = absl::StrFormat(
      "fitted on %d relevant and %d not relevant judgements from %d challenges; held-out "
      "nDCG@10 %.4f against %.4f with the defaults (%+.4f, standard error %.4f; pull on the "
      "text weights %g)",
      fit.positives, fit.negatives, fit.queries, fit.heldout_learned_ndcg,
      fit.heldout_default_ndcg, gain, se, best->l2[0]);
  return fit;
}

}  // namespace peermatch
