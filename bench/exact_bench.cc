// Section "exact": DenseScanner (index/dense_scan.h) against FAISS
// IndexFlatIP on the same data, and against the memory-bandwidth floor, in
// the same run. Keys: bench/README.md.
//
// Fairness of the single-query loop: each iteration times FAISS, then ours;
// every fifth also reads our matrix once for the floor, and every tenth
// (another one) times ours on one thread, each after an untimed FAISS
// query. So each timed read of our matrix (ours, the floor) follows a read
// of FAISS's copy, and each FAISS query follows a read of ours: no one finds
// its data warm in the last-level cache (which holds much of 100 MB here).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "bench/bandwidth.h"
#include "bench/bench_util.h"
#include "bench/faiss_anchor.h"
#include "bench/sections.h"
#include "index/dense_scan.h"

namespace peermatch::bench {
namespace {

struct ExactSizes {
  size_t n = 100000;             // rows
  size_t d = 256;                // peermatch's LSA dimension
  size_t k = 10;
  size_t single_queries = 200;
  size_t floor_every = 5;        // one floor repetition per this many queries
  size_t one_thread_every = 10;  // one single-thread query per this many
  size_t batch_queries = 1000;
  int batch_reps = 3;            // ours; FAISS runs the batch once (it is slow)
};

ExactSizes SizesFor(const BenchOptions& options) {
  ExactSizes s;
  if (options.quick) {
    s.n = 20000;
    s.single_queries = 40;
    s.floor_every = 4;
    s.one_thread_every = 4;
    s.batch_queries = 100;
    s.batch_reps = 2;
  }
  return s;
}

// Results of nq queries, k each, query-major.
struct TopLists {
  std::vector<float> scores;
  std::vector<int64_t> ids;
};

// Ours and FAISS's top-k of a query agree when their scores agree rank by
// rank within `tol` and every id of ours is in FAISS's list or scores within
// `tol` of the k-th: the lists may differ only in the order of near-equal
// scores, which two summation orders of the same floats can swap.
bool SameUpToNearTies(const float* s_ours, const int64_t* i_ours, const float* s_theirs,
                      const int64_t* i_theirs, size_t k, float tol) {
  for (size_t r = 0; r < k; ++r) {
    if (std::fabs(s_ours[r] - s_theirs[r]) > tol) return false;
    const bool listed = std::find(i_theirs, i_theirs + k, i_ours[r]) != i_theirs + k;
    if (!listed && std::fabs(s_ours[r] - s_theirs[k - 1]) > tol) return false;
  }
  return true;
}

struct Agreement {
  size_t compared = 0;
  size_t identical = 0;  // the same ids in the same order
  size_t agreeing = 0;   // identical, or SameUpToNearTies
};

void Compare(const TopLists& ours, const TopLists& theirs, size_t nq, size_t k, Agreement* a) {
  constexpr float kTol = 1e-5f;  // float rounding of a 256-term dot product is ~1e-7
  for (size_t q = 0; q < nq; ++q) {
    const size_t o = q * k;
    ++a->compared;
    const bool identical =
        std::equal(ours.ids.begin() + o, ours.ids.begin() + o + k, theirs.ids.begin() + o);
    a->identical += identical;
    a->agreeing += identical || SameUpToNearTies(&ours.scores[o], &ours.ids[o], &theirs.scores[o],
                                                 &theirs.ids[o], k, kTol);
  }
}

void Fail(BenchResults* results, const std::string& key, const absl::Status& status) {
  std::fprintf(stderr, "peermatch-bench: exact: %s\n", status.ToString().c_str());
  results->SetString(key, status.ToString());
}

struct SingleFigures {
  double ours_ms = NAN, ours_best_ms = NAN, one_thread_ms = NAN, faiss_ms = NAN, floor_ms = NAN;
  size_t floor_reps = 0;
};

SingleFigures RunSingleQueries(const ExactSizes& s, const std::vector<float>& x,
                               const std::vector<float>& queries, DenseScanner& scanner,
                               DenseScanner& one_thread, const FaissFlatIP& faiss,
                               TopLists* ours, TopLists* theirs, BenchResults* results) {
  const DenseMatrixView view{x.data(), s.n, s.d};
  std::vector<float> spare_scores(s.k);
  std::vector<int64_t> spare_ids(s.k);
  // An untimed FAISS query: reads FAISS's copy, evicting ours from the cache.
  auto flush = [&](const float* q) {
    (void)faiss.Search(q, 1, s.k, spare_scores.data(), spare_ids.data());
  };
  // Warm-up: first touches, OpenMP's thread team, page faults of FAISS's copy.
  for (int w = 0; w < 3; ++w) {
    (void)scanner.Search(view, queries.data(), s.k, nullptr, spare_scores.data(),
                         spare_ids.data());
    flush(queries.data());
  }
  std::vector<double> ours_s, one_thread_s, faiss_s, floor_s;
  for (size_t i = 0; i < s.single_queries; ++i) {
    const float* q = queries.data() + i * s.d;
    double t = NowSeconds();
    absl::Status st = faiss.Search(q, 1, s.k, &theirs->scores[i * s.k], &theirs->ids[i * s.k]);
    faiss_s.push_back(NowSeconds() - t);
    if (!st.ok()) {
      Fail(results, "exact_error", st);
      return SingleFigures{};
    }
    t = NowSeconds();
    absl::StatusOr<size_t> found =
        scanner.Search(view, q, s.k, nullptr, &ours->scores[i * s.k], &ours->ids[i * s.k]);
    ours_s.push_back(NowSeconds() - t);
    if (!found.ok()) {
      Fail(results, "exact_error", found.status());
      return SingleFigures{};
    }
    if (i % s.floor_every == 0) {
      flush(q);
      floor_s.push_back(ReadOnceSeconds(x.data(), s.n * s.d, scanner.num_threads()));
    }
    if (i % s.one_thread_every == s.one_thread_every / 2 + 1) {
      flush(q);
      t = NowSeconds();
      (void)one_thread.Search(view, q, s.k, nullptr, spare_scores.data(), spare_ids.data());
      one_thread_s.push_back(NowSeconds() - t);
    }
  }
  SingleFigures f;
  f.ours_ms = Median(ours_s) * 1e3;
  f.ours_best_ms = *std::min_element(ours_s.begin(), ours_s.end()) * 1e3;
  f.one_thread_ms = Median(one_thread_s) * 1e3;
  f.faiss_ms = Median(faiss_s) * 1e3;
  f.floor_ms = *std::min_element(floor_s.begin(), floor_s.end()) * 1e3;
  f.floor_reps = floor_s.size();
  return f;
}

struct BatchFigures {
  double ours_ms = NAN, faiss_ms = NAN;
};

BatchFigures RunBatch(const ExactSizes& s, const std::vector<float>& x,
                      const std::vector<float>& queries, DenseScanner& scanner,
                      const FaissFlatIP& faiss, TopLists* ours, TopLists* theirs,
                      BenchResults* results) {
  const DenseMatrixView view{x.data(), s.n, s.d};
  const size_t nq = s.batch_queries;
  // Warm-up, which also grows the scanner's batch buffers once.
  absl::Status st =
      scanner.SearchBatch(view, queries.data(), nq, s.k, nullptr, ours->scores.data(),
                          ours->ids.data());
  std::vector<double> ours_s;
  for (int r = 0; r < s.batch_reps && st.ok(); ++r) {
    const double t = NowSeconds();
    st = scanner.SearchBatch(view, queries.data(), nq, s.k, nullptr, ours->scores.data(),
                             ours->ids.data());
    ours_s.push_back(NowSeconds() - t);
  }
  if (!st.ok()) {
    Fail(results, "batch_error", st);
    return BatchFigures{};
  }
  const double t = NowSeconds();
  st = faiss.Search(queries.data(), nq, s.k, theirs->scores.data(), theirs->ids.data());
  const double faiss_s = NowSeconds() - t;
  if (!st.ok()) {
    Fail(results, "batch_error", st);
    return BatchFigures{};
  }
  return BatchFigures{Median(ours_s) * 1e3, faiss_s * 1e3};
}

}  // namespace

void RunExactBench(const BenchOptions& options, BenchResults* results) {
  const ExactSizes s = SizesFor(options);
  const std::string n_label = SizeLabel(s.n), b_label = SizeLabel(s.batch_queries);
  results->SetInt("exact_n", static_cast<int64_t>(s.n));
  results->SetInt("exact_d", static_cast<int64_t>(s.d));
  results->SetInt("exact_k", static_cast<int64_t>(s.k));
  results->SetInt("exact_queries", static_cast<int64_t>(s.single_queries));

  std::fprintf(stderr, "peermatch-bench: exact: %zu x %zu random unit vectors ...\n", s.n, s.d);
  const std::vector<float> x = RandomUnitVectors(s.n, s.d, /*seed=*/20240601);
  const std::vector<float> queries =
      RandomUnitVectors(std::max(s.single_queries, s.batch_queries), s.d, /*seed=*/20240602);

  DenseScanner scanner;
  DenseScanOptions one_thread_options;
  one_thread_options.num_threads = 1;
  DenseScanner one_thread(one_thread_options);
  results->SetString("exact_kernel", scanner.uses_avx2() ? "avx2+fma" : "portable");
  results->SetInt("exact_threads", scanner.num_threads());
  DescribeFaiss(results);
  FaissFlatIP faiss;
  if (absl::Status st = faiss.Build(x.data(), s.n, s.d); !st.ok()) {
    Fail(results, "exact_error", st);
    return;
  }

  std::fprintf(stderr, "peermatch-bench: exact: %zu single queries ...\n", s.single_queries);
  Agreement agreement;
  {
    TopLists ours{std::vector<float>(s.single_queries * s.k),
                  std::vector<int64_t>(s.single_queries * s.k)};
    TopLists theirs = ours;
    const SingleFigures f =
        RunSingleQueries(s, x, queries, scanner, one_thread, faiss, &ours, &theirs, results);
    if (std::isnan(f.ours_ms)) return;
    Compare(ours, theirs, s.single_queries, s.k, &agreement);
    const double bytes = static_cast<double>(s.n) * s.d * sizeof(float);
    results->SetNumber("exact_" + n_label + "_ms", f.ours_ms);
    results->SetNumber("exact_" + n_label + "_best_ms", f.ours_best_ms);
    results->SetNumber("exact_" + n_label + "_one_thread_ms", f.one_thread_ms);
    results->SetNumber("faiss_flat_" + n_label + "_ms", f.faiss_ms);
    results->SetNumber("bandwidth_floor_" + n_label + "_ms", f.floor_ms);
    results->SetNumber("bandwidth_gb_s", bytes / (f.floor_ms * 1e-3) / 1e9);
    results->SetInt("bandwidth_floor_reps", static_cast<int64_t>(f.floor_reps));
    results->SetNumber("exact_" + n_label + "_speedup_vs_faiss", f.faiss_ms / f.ours_ms);
    results->SetNumber("exact_" + n_label + "_vs_bandwidth_floor", f.ours_ms / f.floor_ms);
  }

  std::fprintf(stderr, "peermatch-bench: exact: a batch of %zu queries ...\n", s.batch_queries);
  {
    TopLists ours{std::vector<float>(s.batch_queries * s.k),
                  std::vector<int64_t>(s.batch_queries * s.k)};
    TopLists theirs = ours;
    const BatchFigures f = RunBatch(s, x, queries, scanner, faiss, &ours, &theirs, results);
    if (std::isnan(f.ours_ms)) return;
    Compare(ours, theirs, s.batch_queries, s.k, &agreement);
    results->SetNumber("batch_" + b_label + "_ms", f.ours_ms);
    results->SetNumber("faiss_batch_" + b_label + "_ms", f.faiss_ms);
    results->SetNumber("batch_speedup_vs_faiss", f.faiss_ms / f.ours_ms);
  }

  results->SetBool("exact_results_match_faiss", agreement.agreeing == agreement.compared);
  results->SetInt("exact_results_compared_queries", static_cast<int64_t>(agreement.compared));
  results->SetInt("exact_results_identical_queries", static_cast<int64_t>(agreement.identical));
}

}  // namespace peermatch::bench
