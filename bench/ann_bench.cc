#include "bench/ann_bench.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bench/bench_util.h"
#include "index/ann_index.h"

namespace peermatch::bench {
namespace {

using Keys = std::vector<std::pair<std::string, std::string>>;

constexpr size_t kDim = 256;
constexpr size_t kK = 10;
constexpr size_t kQueries = 1000;
constexpr int kThreads = 2;

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Runs fn(t) for t in [0, kThreads) on kThreads threads.
template <typename Fn>
void OnThreads(Fn fn) {
  std::vector<std::thread> threads;
  for (int t = 1; t < kThreads; ++t) threads.emplace_back(fn, t);
  fn(0);
  for (std::thread& t : threads) t.join();
}

// --- Synthetic case vectors ---
//
// Shaped after the LSA vectors peermatch computes for a real corpus (its
// Model fitted on BEIR SciFact, 5,183 abstracts, 256-d), which have:
// - a common direction: LSA's first axis (all term weights are positive),
//   holding ~9% of the energy (mean vector norm 0.30, random pairs at cosine
//   0.09 +- 0.07);
// - energy falling over the other axes like the singular values (axis 1
//   3.2%, 4 1.2%, 16 0.63%, 64 0.36%, 255 0.23%);
// - topical neighbourhoods: the nearest other document at cosine 0.63 on
//   average, the 10th at 0.47, the 100th at 0.28.
// The generator draws from a fixed topic hierarchy (kFields broad fields x
// kTopics topics x kSubtopics subtopics, Gaussian centres with the weights
// below), adds a second topic to each case (mixed in with a uniform weight)
// and Gaussian noise, shapes the result with the spectrum above, and adds
// the common axis. Its weights were chosen so that a sample of SciFact's size
// has SciFact's neighbour cosines: 5,183 draws have their nearest neighbour
// at 0.65 on average, the 10th at 0.47, the 100th at 0.28, random pairs at
// 0.10 +- 0.08. Larger samples are more of the same corpus, so their
// neighbours are closer (at 1,000,000: the nearest at ~0.81, the 10th ~0.78).
constexpr int kFields = 20;
constexpr int kTopics = 20;     // per field
constexpr int kSubtopics = 20;  // per topic
constexpr float kFieldWeight = 0.44f;
constexpr float kTopicWeight = 0.58f;
constexpr float kSubtopicWeight = 0.48f;
constexpr float kSecondTopicMax = 0.5f;
constexpr float kNoiseMin = 0.25f;  // per case, uniform: some cases are
constexpr float kNoiseMax = 0.85f;  // typical of their topic, some are not
constexpr float kCommon = 0.31f;  // length of the common axis before normalizing
constexpr uint64_t kSeed = 20240601;
constexpr char kDataText[] =
    "synthetic LSA-like unit vectors, 256-d, seed 20240601: a topic hierarchy of 20 fields x 20 "
    "topics x 20 subtopics (8,000 subtopic centres) plus a second topic per case, Gaussian "
    "noise, energy per axis falling like peermatch's LSA singular values and a common first "
    "axis; calibrated on peermatch's LSA vectors of SciFact (5,183 docs: nearest-neighbour "
    "cosine 0.63, 10th 0.47, 100th 0.28, random pairs 0.09; 5,183 synthetic draws: 0.65, "
    "0.47, 0.28, 0.10); queries drawn the same way, not in the data";

class SyntheticCases {
 public:
  SyntheticCases() {
    // Axis j >= 1 keeps energy ~ 0.0023 + 0.03 j^-0.8 (fit to SciFact's LSA).
    scale_.assign(kDim, 0.0f);
    for (size_t j = 1; j < kDim; ++j) {
      scale_[j] = std::sqrt(0.0023f + 0.03f * std::pow(static_cast<float>(j), -0.8f));
    }
    std::mt19937_64 rng(kSeed);
    fields_ = Centres(kFields, rng);
    topics_ = Centres(kFields * kTopics, rng);
    subtopics_ = Centres(kFields * kTopics * kSubtopics, rng);
  }

  // Rows [first, first + count) of the stream `stream` (0: data, 1: queries),
  // into out (count * kDim floats). Each block of 4,096 rows has its own
  // generator: the same rows whatever the threads.
  void Draw(uint64_t stream, size_t first, size_t count, float* out) const {
    constexpr size_t kBlock = 4096;
    for (size_t row = first; row < first + count;) {
      const size_t block = row / kBlock;
      std::mt19937_64 rng(kSeed ^ (stream << 40) ^ (block * 0x9E3779B97F4A7C15ull));
      const size_t end = std::min(first + count, (block + 1) * kBlock);
      for (size_t r = block * kBlock; r < end; ++r) {
        // Every row of the block is drawn, so that the stream does not
        // depend on where a range starts.
        float* v = r >= row ? out + (r - first) * kDim : scratch();
        DrawOne(rng, v);
      }
      row = end;
    }
  }

 private:
  using Matrix = std::vector<float>;

  static float* scratch() {
    thread_local std::vector<float> s(kDim);
    return s.data();
  }

  static Matrix Centres(size_t count, std::mt19937_64& rng) {
    std::normal_distribution<float> g(0.0f, 1.0f / std::sqrt(static_cast<float>(kDim - 1)));
    Matrix m(count * kDim, 0.0f);
    for (size_t c = 0; c < count; ++c) {
      for (size_t j = 1; j < kDim; ++j) m[c * kDim + j] = g(rng);
    }
    return m;
  }

  void DrawOne(std::mt19937_64& rng, float* v) const {
    std::uniform_int_distribution<size_t> pick(0, subtopics_.size() / kDim - 1);
    std::uniform_real_distribution<float> second(0.0f, kSecondTopicMax);
    std::uniform_real_distribution<float> noise_level(kNoiseMin, kNoiseMax);
    std::normal_distribution<float> noise(0.0f, 1.0f / std::sqrt(static_cast<float>(kDim - 1)));
    const size_t sub = pick(rng);
    const size_t topic = sub / kSubtopics;
    const size_t field = topic / kTopics;
    const size_t other = pick(rng) / kSubtopics;
    const float w2 = second(rng);
    const float sigma = noise_level(rng);
    const float* f = &fields_[field * kDim];
    const float* t = &topics_[topic * kDim];
    const float* s = &subtopics_[sub * kDim];
    const float* o = &topics_[other * kDim];
    double norm = 0;
    v[0] = 0;
    for (size_t j = 1; j < kDim; ++j) {
      const float x = kFieldWeight * f[j] + kTopicWeight * t[j] + kSubtopicWeight * s[j] +
                      w2 * o[j] + sigma * noise(rng);
      v[j] = scale_[j] * x;
      norm += double{v[j]} * v[j];
    }
    const float inv = static_cast<float>(1.0 / std::sqrt(norm));
    for (size_t j = 1; j < kDim; ++j) v[j] *= inv;
    v[0] = kCommon;
    const float inv_all = 1.0f / std::sqrt(1.0f + kCommon * kCommon);
    for (size_t j = 0; j < kDim; ++j) v[j] *= inv_all;
  }

  std::vector<float> scale_;
  Matrix fields_, topics_, subtopics_;
};

std::vector<float> DrawRows(const SyntheticCases& gen, uint64_t stream, size_t n) {
  std::vector<float> out(n * kDim);
  const size_t per_thread = (n + kThreads - 1) / kThreads;
  OnThreads([&](int t) {
    const size_t first = std::min(n, t * per_thread);
    const size_t count = std::min(n, first + per_thread) - first;
    gen.Draw(stream, first, count, out.data() + first * kDim);
  });
  return out;
}

// --- Exact reference ---

// Eight independent sums, so that the compiler vectorizes it.
float Dot(const float* a, const float* b) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (size_t j = 0; j < kDim; j += 8) {
    for (int l = 0; l < 8; ++l) acc[l] += a[j + l] * b[j + l];
  }
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

// The best kK (score, row) pairs offered, best first after Sorted().
class Top {
 public:
  void Offer(float score, uint32_t row) {
    if (hits_.size() == kK && score <= hits_.back().first) return;
    auto at = std::upper_bound(hits_.begin(), hits_.end(), std::make_pair(score, row),
                               [](const auto& a, const auto& b) { return a.first > b.first; });
    hits_.insert(at, {score, row});
    if (hits_.size() > kK) hits_.pop_back();
  }
  void Merge(const Top& other) {
    for (const auto& [score, row] : other.hits_) Offer(score, row);
  }
  const std::vector<std::pair<float, uint32_t>>& hits() const { return hits_; }

 private:
  std::vector<std::pair<float, uint32_t>> hits_;  // score descending
};

// Exact top-kK of every query among the kept rows (all when keep is empty):
// rows in blocks that stay in cache while every query passes over them, the
// blocks split between the threads.
std::vector<Top> ExactTopK(const std::vector<float>& data, const std::vector<float>& queries,
                           const std::vector<bool>& keep) {
  const size_t n = data.size() / kDim;
  const size_t nq = queries.size() / kDim;
  constexpr size_t kBlock = 256;
  std::vector<std::vector<Top>> partial(kThreads, std::vector<Top>(nq));
  OnThreads([&](int t) {
    for (size_t start = t * kBlock; start < n; start += kThreads * kBlock) {
      const size_t end = std::min(n, start + kBlock);
      for (size_t q = 0; q < nq; ++q) {
        const float* query = &queries[q * kDim];
        for (size_t r = start; r < end; ++r) {
          if (!keep.empty() && !keep[r]) continue;
          partial[t][q].Offer(Dot(query, &data[r * kDim]), static_cast<uint32_t>(r));
        }
      }
    }
  });
  for (int t = 1; t < kThreads; ++t) {
    for (size_t q = 0; q < nq; ++q) partial[0][q].Merge(partial[t][q]);
  }
  return std::move(partial[0]);
}

double Recall(const std::vector<AnnHit>& got, const Top& truth) {
  size_t found = 0;
  for (const auto& [score, row] : truth.hits()) {
    for (const AnnHit& h : got) found += h.row == row;
  }
  return truth.hits().empty() ? 1.0 : static_cast<double>(found) / truth.hits().size();
}

std::vector<bool> RandomMask(size_t n, double fraction, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::bernoulli_distribution keep(fraction);
  std::vector<bool> mask(n);
  for (size_t i = 0; i < n; ++i) mask[i] = keep(rng);
  return mask;
}

// Latencies (ms) and mean recall of single searches, one thread.
struct SearchFigures {
  double p50_ms = NAN;
  double p99_ms = NAN;
  double recall = NAN;
  std::string error;
};

SearchFigures TimeSearches(const AnnIndex& index, const std::vector<float>& queries,
                           const std::vector<Top>& truth, const std::vector<bool>& keep) {
  SearchFigures f;
  const size_t nq = queries.size() / kDim;
  std::vector<double> ms;
  double recall = 0;
  for (size_t q = 0; q < nq; ++q) {
    const absl::Span<const float> query(&queries[q * kDim], kDim);
    const double start = Now();
    absl::StatusOr<std::vector<AnnHit>> hits = index.Search(query, kK, keep);
    ms.push_back((Now() - start) * 1e3);
    if (!hits.ok()) {
      f.error = std::string(hits.status().message());
      return f;
    }
    recall += Recall(*hits, truth[q]);
  }
  f.p50_ms = Percentile(ms, 0.5);
  f.p99_ms = Percentile(ms, 0.99);
  f.recall = recall / static_cast<double>(nq);
  return f;
}

// --- Output ---

// Four significant digits (one decimal from 100 up).
std::string FormatNumber(double value) {
  char text[64];
  if (std::abs(value) >= 100) {
    std::snprintf(text, sizeof(text), "%.1f", value);
  } else {
    std::snprintf(text, sizeof(text), "%.4g", value);
  }
  return text;
}

class Out {
 public:
  Out(Keys* keys, std::string prefix) : keys_(keys), prefix_(std::move(prefix)) {}
  // Leaves out a figure that could not be measured (not finite).
  void Number(const std::string& name, double value) {
    if (std::isfinite(value)) keys_->emplace_back(prefix_ + name, FormatNumber(value));
  }
  void Text(const std::string& name, std::string value) {
    keys_->emplace_back(prefix_ + name, std::move(value));
  }

 private:
  Keys* keys_;
  std::string prefix_;
};

void Progress(const char* what, double seconds) {
  std::fprintf(stderr, "ann_bench: %s (%.1f s)\n", what, seconds);
}

}  // namespace

void RunAnnBench(bool quick, std::vector<std::pair<std::string, std::string>>* keys) {
  const size_t n = quick ? 100000 : 1000000;
  Out out(keys, quick ? "ann_100k_" : "ann_1m_");
  AnnIndexOptions options;  // the defaults are what is measured
  out.Text("data", kDataText);
  out.Text("params", "M=" + std::to_string(options.m) +
                         " ef_construction=" + std::to_string(options.ef_construction) +
                         " ef_search=" + std::to_string(options.ef_search) +
                         " filter_overfetch=" + FormatNumber(options.filter_overfetch) +
                         " graph_candidate_cost=" + FormatNumber(options.graph_candidate_cost) +
                         " build_threads=" + std::to_string(kThreads));

  double t = Now();
  const SyntheticCases gen;
  const std::vector<float> data = DrawRows(gen, 0, n);
  const std::vector<float> queries = DrawRows(gen, 1, kQueries);
  Progress("vectors drawn", Now() - t);

  t = Now();
  const std::vector<Top> truth = ExactTopK(data, queries, {});
  Progress("exact top-10 of every query", Now() - t);
  double top1 = 0, top10 = 0;
  for (const Top& top : truth) {
    top1 += top.hits().front().first;
    top10 += top.hits().back().first;
  }
  out.Number("true_top1_cos", top1 / kQueries);
  out.Number("true_top10_cos", top10 / kQueries);

  const double rss_before = static_cast<double>(ResidentBytes(/*trim=*/true));
  t = Now();
  absl::StatusOr<std::unique_ptr<AnnIndex>> built = AnnIndex::Build(data, kDim, options);
  const double build_seconds = Now() - t;
  if (!built.ok()) {
    out.Text("error", "build: " + built.status().ToString());
    return;
  }
  const double index_bytes = static_cast<double>(ResidentBytes(/*trim=*/true)) - rss_before;
  Progress("index built", build_seconds);
  const AnnIndex& index = **built;
  out.Number("build_seconds", build_seconds);
  out.Number("memory_ratio", index_bytes / (static_cast<double>(n) * kDim * sizeof(float)));
  out.Number("index_mb", index_bytes / 1e6);

  t = Now();
  TimeSearches(index, queries, truth, {});  // warm-up
  SearchFigures plain = TimeSearches(index, queries, truth, {});
  if (!plain.error.empty()) {
    out.Text("error", "search: " + plain.error);
    return;
  }
  out.Number("recall_at_10", plain.recall);
  out.Number("p50_ms", plain.p50_ms);
  out.Number("p99_ms", plain.p99_ms);

  // The same queries by a plain scan of the raw vectors, one thread.
  std::vector<double> exact_ms;
  for (size_t q = 0; q < (quick ? 100 : 30); ++q) {
    const double start = Now();
    Top top;
    for (size_t r = 0; r < n; ++r) top.Offer(Dot(&queries[q * kDim], &data[r * kDim]), r);
    exact_ms.push_back((Now() - start) * 1e3);
  }
  out.Number("exact_p50_ms", Percentile(exact_ms, 0.5));
  Progress("unfiltered searches", Now() - t);

  t = Now();
  const std::vector<bool> keep10 = RandomMask(n, 0.10, kSeed + 10);
  SearchFigures filter10 = TimeSearches(index, queries, ExactTopK(data, queries, keep10), keep10);
  out.Number("filter10_recall_at_10", filter10.recall);
  out.Number("filter10_p50_ms", filter10.p50_ms);
  const std::vector<bool> keep1 = RandomMask(n, 0.01, kSeed + 1);
  SearchFigures filter1 = TimeSearches(index, queries, ExactTopK(data, queries, keep1), keep1);
  out.Number("filter1_p50_ms", filter1.p50_ms);
  out.Number("filter1_recall_at_10", filter1.recall);
  if (!filter10.error.empty() || !filter1.error.empty()) {
    out.Text("error", "filtered search: " + filter10.error + filter1.error);
    return;
  }
  Progress("filtered searches", Now() - t);

  const std::string path =
      (std::filesystem::temp_directory_path() / ("peermatch-ann-bench-" + std::to_string(getpid())))
          .string();
  t = Now();
  absl::Status saved = index.Save(path);
  const double save_seconds = Now() - t;
  if (!saved.ok()) {
    out.Text("error", "save: " + saved.ToString());
    return;
  }
  built->reset();  // the loaded copy takes its place in memory
  t = Now();
  absl::StatusOr<std::unique_ptr<AnnIndex>> loaded = AnnIndex::Load(path, kDim, options);
  const double load_seconds = Now() - t;
  std::error_code ec;
  std::filesystem::remove(path, ec);
  if (!loaded.ok()) {
    out.Text("error", "load: " + loaded.status().ToString());
    return;
  }
  out.Number("save_seconds", save_seconds);
  out.Number("load_seconds", load_seconds);
  SearchFigures reloaded = TimeSearches(**loaded, queries, truth, {});
  if (reloaded.recall != plain.recall) {
    out.Text("error", "the loaded index answers differently");
  }
  Progress("saved and loaded", save_seconds + load_seconds);
}

}  // namespace peermatch::bench
