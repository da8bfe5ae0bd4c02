#include "index/dense_scan.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <new>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

// Counts every allocation of the process, to check that a scanner in
// steady state allocates nothing per call. (GCC's -Wmismatched-new-delete
// cannot tell that these replacements pair malloc with free.)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
namespace {
std::atomic<size_t> g_allocations{0};
}  // namespace

void* operator new(size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new(size_t size, std::align_val_t align) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  const size_t a = static_cast<size_t>(align);
  if (void* p = std::aligned_alloc(a, (std::max<size_t>(size, 1) + a - 1) / a * a)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace peermatch {
namespace {

using ::testing::HasSubstr;
using testing::IsOk;
using testing::StatusIs;

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// n x d Gaussian rows scaled to unit length.
std::vector<float> RandomUnitRows(size_t n, size_t d, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> gauss;
  std::vector<float> x(n * d);
  for (size_t i = 0; i < n; ++i) {
    double norm = 0;
    for (size_t j = 0; j < d; ++j) {
      x[i * d + j] = gauss(rng);
      norm += double{x[i * d + j]} * x[i * d + j];
    }
    const float inv = static_cast<float>(1 / std::sqrt(norm));
    for (size_t j = 0; j < d; ++j) x[i * d + j] *= inv;
  }
  return x;
}

std::vector<uint8_t> RandomMask(size_t n, double keep_fraction, uint32_t seed) {
  std::mt19937 rng(seed);
  std::bernoulli_distribution keep(keep_fraction);
  std::vector<uint8_t> mask(n);
  for (auto& m : mask) m = keep(rng) ? 1 : 0;
  return mask;
}

struct Result {
  std::vector<float> scores;
  std::vector<int64_t> ids;
};

// Brute force in double: every kept row, best score first, then lower id.
Result Reference(const std::vector<float>& x, size_t d, const float* q, size_t k,
                 const uint8_t* keep) {
  const size_t n = x.size() / d;
  std::vector<std::pair<double, int64_t>> all;
  for (size_t i = 0; i < n; ++i) {
    if (keep != nullptr && keep[i] == 0) continue;
    double s = 0;
    for (size_t j = 0; j < d; ++j) s += double{x[i * d + j]} * q[j];
    all.emplace_back(s, static_cast<int64_t>(i));
  }
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  });
  Result r;
  for (size_t i = 0; i < k; ++i) {
    r.scores.push_back(i < all.size() ? static_cast<float>(all[i].first) : kNegInf);
    r.ids.push_back(i < all.size() ? all[i].second : -1);
  }
  return r;
}

void ExpectMatchesReference(const Result& got, const Result& want, const std::string& what) {
  ASSERT_EQ(got.ids.size(), want.ids.size()) << what;
  EXPECT_EQ(got.ids, want.ids) << what;
  for (size_t i = 0; i < want.scores.size(); ++i) {
    if (want.ids[i] < 0) {
      EXPECT_EQ(got.scores[i], kNegInf) << what << " slot " << i;
    } else {
      EXPECT_NEAR(got.scores[i], want.scores[i], 1e-4) << what << " slot " << i;
    }
  }
}

Result RunSearch(DenseScanner& scanner, const std::vector<float>& x, size_t d, const float* q,
                 size_t k, const uint8_t* keep, size_t* found = nullptr) {
  Result r{std::vector<float>(k, 7.0f), std::vector<int64_t>(k, 7)};
  absl::StatusOr<size_t> n =
      scanner.Search({x.data(), x.size() / d, d}, q, k, keep, r.scores.data(), r.ids.data());
  EXPECT_TRUE(n.ok()) << n.status();
  if (found != nullptr) *found = n.value_or(0);
  return r;
}

// (AVX2 allowed, threads): every test runs with both kernels and with one,
// two and three threads (three parts split rows unevenly).
class DenseScanTest : public ::testing::TestWithParam<std::tuple<bool, int>> {
 protected:
  // Not movable, but returned as a prvalue (C++17 guaranteed elision).
  DenseScanner MakeScanner() {
    DenseScanOptions options;
    options.allow_avx2 = std::get<0>(GetParam());
    options.num_threads = std::get<1>(GetParam());
    options.min_rows_per_thread = 64;  // small test matrices still use every thread
    return DenseScanner(options);
  }
};

TEST_P(DenseScanTest, MatchesBruteForce) {
  DenseScanner scanner = MakeScanner();
  // d = 256 (production), and dimensions that are not multiples of 8. Work
  // is shared in chunks of 256 KB of rows: the larger n span several.
  for (size_t d : {256, 1, 7, 13, 100}) {
    for (size_t n : {1, 3, 5, 301, 2000, 12007}) {
      const std::vector<float> x = RandomUnitRows(n, d, 1000 + d * 7 + n);
      const std::vector<float> queries = RandomUnitRows(3, d, 77 + d);
      for (size_t qi = 0; qi < 3; ++qi) {
        const float* q = queries.data() + qi * d;
        const Result all = Reference(x, d, q, 50, nullptr);
        for (size_t k : {1, 10, 50}) {
          const Result want{{all.scores.begin(), all.scores.begin() + k},
                            {all.ids.begin(), all.ids.begin() + k}};
          size_t found = 0;
          const Result got = RunSearch(scanner, x, d, q, k, nullptr, &found);
          const std::string what = "n=" + std::to_string(n) + " d=" + std::to_string(d) +
                                   " k=" + std::to_string(k) + " q=" + std::to_string(qi);
          ExpectMatchesReference(got, want, what);
          EXPECT_EQ(found, std::min(n, k)) << what;
        }
      }
    }
  }
}

TEST_P(DenseScanTest, MaskKeepsOnlyMarkedRows) {
  DenseScanner scanner = MakeScanner();
  for (size_t d : {256, 13}) {
    const size_t n = 3001;
    const std::vector<float> x = RandomUnitRows(n, d, 5 + d);
    const std::vector<float> q = RandomUnitRows(1, d, 6 + d);
    for (double fraction : {0.5, 0.01}) {
      const std::vector<uint8_t> keep = RandomMask(n, fraction, 9);
      size_t kept = std::count(keep.begin(), keep.end(), 1);
      size_t found = 0;
      const Result got = RunSearch(scanner, x, d, q.data(), 40, keep.data(), &found);
      ExpectMatchesReference(got, Reference(x, d, q.data(), 40, keep.data()),
                             "d=" + std::to_string(d) + " keep=" + std::to_string(fraction));
      EXPECT_EQ(found, std::min<size_t>(kept, 40));
      for (size_t i = 0; i < found; ++i) EXPECT_EQ(keep[got.ids[i]], 1);
    }
  }
}

TEST_P(DenseScanTest, EmptyMaskFindsNothing) {
  DenseScanner scanner = MakeScanner();
  const std::vector<float> x = RandomUnitRows(500, 16, 1);
  const std::vector<uint8_t> keep(500, 0);
  size_t found = 99;
  const Result got = RunSearch(scanner, x, 16, x.data(), 5, keep.data(), &found);
  EXPECT_EQ(found, 0u);
  EXPECT_EQ(got.ids, std::vector<int64_t>(5, -1));
  EXPECT_EQ(got.scores, std::vector<float>(5, kNegInf));
}

TEST_P(DenseScanTest, KAboveNFillsTheRest) {
  DenseScanner scanner = MakeScanner();
  const std::vector<float> x = RandomUnitRows(6, 9, 3);
  const std::vector<float> q = RandomUnitRows(1, 9, 4);
  size_t found = 0;
  const Result got = RunSearch(scanner, x, 9, q.data(), 10, nullptr, &found);
  EXPECT_EQ(found, 6u);
  ExpectMatchesReference(got, Reference(x, 9, q.data(), 10, nullptr), "k > n");
  EXPECT_EQ(got.ids[6], -1);
  EXPECT_EQ(got.scores[9], kNegInf);
}

TEST_P(DenseScanTest, TiesGoToTheLowerRow) {
  DenseScanner scanner = MakeScanner();
  // 5,001 rows of 256 dims (20 chunks of work); rows 3, 1500, 1501, 3000 and
  // 5000 (in different chunks, the last alone in its group of four) are
  // copies of row 10; the query is that row, so the six tie at the top.
  const size_t n = 5001, d = 256;
  std::vector<float> x = RandomUnitRows(n, d, 11);
  for (size_t c : {5000, 3000, 1501, 1500, 3}) {
    std::copy(x.begin() + 10 * d, x.begin() + 11 * d, x.begin() + c * d);
  }
  const std::vector<float> q(x.begin() + 10 * d, x.begin() + 11 * d);
  for (int rep = 0; rep < 5; ++rep) {  // whichever thread takes which chunk
    const Result got = RunSearch(scanner, x, d, q.data(), 5, nullptr);
    EXPECT_EQ(got.ids, (std::vector<int64_t>{3, 10, 1500, 1501, 3000}));
    for (size_t i = 1; i < 5; ++i) EXPECT_EQ(got.scores[i], got.scores[0]);
  }
  std::vector<float> scores(2 * 5);
  std::vector<int64_t> ids(2 * 5);
  const std::vector<float> twice = {q.begin(), q.end()};
  std::vector<float> queries(twice);
  queries.insert(queries.end(), twice.begin(), twice.end());
  ASSERT_TRUE(
      scanner.SearchBatch({x.data(), n, d}, queries.data(), 2, 5, nullptr, scores.data(), ids.data())
          .ok());
  EXPECT_EQ(ids, (std::vector<int64_t>{3, 10, 1500, 1501, 3000, 3, 10, 1500, 1501, 3000}));
  // All scores equal: the first k rows, in order.
  const std::vector<float> zeros(n * d, 0.0f);
  EXPECT_EQ(RunSearch(scanner, zeros, d, q.data(), 3, nullptr).ids,
            (std::vector<int64_t>{0, 1, 2}));
}

TEST_P(DenseScanTest, BatchGivesSearchResultsExactly) {
  DenseScanner scanner = MakeScanner();
  for (size_t d : {256, 13}) {
    const size_t n = 1503, nq = 7, k = 12;
    const std::vector<float> x = RandomUnitRows(n, d, 21 + d);
    const std::vector<float> queries = RandomUnitRows(nq, d, 22 + d);
    for (bool masked : {false, true}) {
      const std::vector<uint8_t> keep = RandomMask(n, 0.3, 23);
      const uint8_t* mask = masked ? keep.data() : nullptr;
      std::vector<float> scores(nq * k);
      std::vector<int64_t> ids(nq * k);
      ASSERT_TRUE(scanner.SearchBatch({x.data(), n, d}, queries.data(), nq, k, mask,
                                      scores.data(), ids.data())
                      .ok());
      for (size_t qi = 0; qi < nq; ++qi) {
        const float* q = queries.data() + qi * d;
        const Result single = RunSearch(scanner, x, d, q, k, mask);
        const Result batch{{scores.begin() + qi * k, scores.begin() + (qi + 1) * k},
                           {ids.begin() + qi * k, ids.begin() + (qi + 1) * k}};
        EXPECT_EQ(batch.ids, single.ids) << "q=" << qi;
        EXPECT_EQ(batch.scores, single.scores) << "q=" << qi;  // bit for bit
        ExpectMatchesReference(batch, Reference(x, d, q, k, mask), "batch q=" + std::to_string(qi));
      }
    }
  }
}

// ScoreAll writes every row's inner product: near the double-precision
// reference, and bit for bit the score Search gives the rows it returns.
TEST_P(DenseScanTest, ScoreAllGivesEveryRowsSearchScore) {
  DenseScanner scanner = MakeScanner();
  for (size_t d : {256, 1, 7, 13}) {
    for (size_t n : {1, 3, 5, 301, 12007}) {
      const std::vector<float> x = RandomUnitRows(n, d, 31 + d * 7 + n);
      const std::vector<float> q = RandomUnitRows(1, d, 32 + d);
      std::vector<float> scores(n, 7.0f);
      ASSERT_TRUE(scanner.ScoreAll({x.data(), n, d}, q.data(), scores.data()).ok());
      const std::string what = "n=" + std::to_string(n) + " d=" + std::to_string(d);
      for (size_t i = 0; i < n; ++i) {
        double want = 0;
        for (size_t j = 0; j < d; ++j) want += double{x[i * d + j]} * q[j];
        ASSERT_NEAR(scores[i], want, 1e-5) << what << " row " << i;
      }
      const size_t k = std::min<size_t>(n, 20);
      const Result top = RunSearch(scanner, x, d, q.data(), k, nullptr);
      for (size_t r = 0; r < k; ++r) {
        EXPECT_EQ(top.scores[r], scores[top.ids[r]]) << what << " rank " << r;
      }
    }
  }
  std::vector<float> out(1);
  EXPECT_THAT(scanner.ScoreAll({nullptr, 0, 4}, nullptr, nullptr), IsOk());
  EXPECT_THAT(scanner.ScoreAll({nullptr, 3, 4}, out.data(), out.data()),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(scanner.ScoreAll({out.data(), 1, 0}, out.data(), out.data()),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_P(DenseScanTest, BatchWithKAboveNAndTinyMatrix) {
  DenseScanner scanner = MakeScanner();
  const size_t n = 2, d = 5, nq = 4, k = 3;
  const std::vector<float> x = RandomUnitRows(n, d, 31);
  const std::vector<float> queries = RandomUnitRows(nq, d, 32);
  std::vector<float> scores(nq * k);
  std::vector<int64_t> ids(nq * k);
  ASSERT_TRUE(scanner.SearchBatch({x.data(), n, d}, queries.data(), nq, k, nullptr,
                                  scores.data(), ids.data())
                  .ok());
  for (size_t qi = 0; qi < nq; ++qi) {
    const Result batch{{scores.begin() + qi * k, scores.begin() + (qi + 1) * k},
                       {ids.begin() + qi * k, ids.begin() + (qi + 1) * k}};
    ExpectMatchesReference(batch, Reference(x, d, queries.data() + qi * d, k, nullptr),
                           "q=" + std::to_string(qi));
  }
}

TEST_P(DenseScanTest, ConcurrentCallersGetTheirOwnResults) {
  DenseScanner scanner = MakeScanner();
  const size_t n = 4000, d = 32;
  const std::vector<float> x = RandomUnitRows(n, d, 41);
  const std::vector<float> queries = RandomUnitRows(4, d, 42);
  std::vector<Result> want;
  for (size_t qi = 0; qi < 4; ++qi) want.push_back(Reference(x, d, &queries[qi * d], 5, nullptr));
  std::vector<std::thread> callers;
  for (size_t qi = 0; qi < 4; ++qi) {
    callers.emplace_back([&, qi] {
      for (int rep = 0; rep < 20; ++rep) {
        ExpectMatchesReference(RunSearch(scanner, x, d, &queries[qi * d], 5, nullptr), want[qi],
                               "caller " + std::to_string(qi));
      }
    });
  }
  for (auto& t : callers) t.join();
}

TEST_P(DenseScanTest, SteadyStateCallsDoNotAllocate) {
  DenseScanner scanner = MakeScanner();
  const size_t n = 20000, d = 256, nq = 16, k = 10;
  const std::vector<float> x = RandomUnitRows(n, d, 51);
  const std::vector<float> queries = RandomUnitRows(nq, d, 52);
  const std::vector<uint8_t> keep = RandomMask(n, 0.5, 53);
  std::vector<float> scores(nq * k);
  std::vector<int64_t> ids(nq * k);
  const DenseMatrixView view{x.data(), n, d};
  auto calls = [&] {
    for (size_t qi = 0; qi < nq; ++qi) {
      ASSERT_TRUE(scanner.Search(view, &queries[qi * d], k, qi % 2 ? keep.data() : nullptr,
                                 scores.data(), ids.data()).ok());
    }
    ASSERT_TRUE(
        scanner.SearchBatch(view, queries.data(), nq, k, nullptr, scores.data(), ids.data()).ok());
  };
  calls();  // the first batch sizes the batch buffers
  const size_t before = g_allocations.load();
  calls();
  calls();
  EXPECT_EQ(g_allocations.load(), before);
}

INSTANTIATE_TEST_SUITE_P(KernelsAndThreads, DenseScanTest,
                         ::testing::Combine(::testing::Bool(), ::testing::Values(1, 2, 3)),
                         [](const auto& info) {
                           return std::string(std::get<0>(info.param) ? "Avx2" : "Portable") +
                                  std::to_string(std::get<1>(info.param)) + "Threads";
                         });

TEST(DenseScanner, RejectsBadArguments) {
  DenseScanOptions options;
  options.max_k = 100;
  DenseScanner scanner(options);
  const std::vector<float> x = RandomUnitRows(10, 4, 1);
  float scores[101];
  int64_t ids[101];
  const DenseMatrixView view{x.data(), 10, 4};

  absl::StatusOr<size_t> r = scanner.Search(view, x.data(), 101, nullptr, scores, ids);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("max_k 100")));
  r = scanner.Search({x.data(), 10, 0}, x.data(), 5, nullptr, scores, ids);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kInvalidArgument));
  r = scanner.Search({nullptr, 10, 4}, x.data(), 5, nullptr, scores, ids);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kInvalidArgument));
  r = scanner.Search(view, nullptr, 5, nullptr, scores, ids);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kInvalidArgument));
  r = scanner.Search(view, x.data(), 5, nullptr, nullptr, ids);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kInvalidArgument));
  r = scanner.Search(view, x.data(), 5, nullptr, scores, nullptr);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(scanner.SearchBatch(view, x.data(), 2, 101, nullptr, scores, ids),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(scanner.SearchBatch(view, nullptr, 2, 5, nullptr, scores, ids),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(DenseScanner, EmptyInputsAreNotErrors) {
  DenseScanner scanner;
  float score = 1;
  int64_t id = 1;
  // k = 0: nothing written, nothing required.
  absl::StatusOr<size_t> r = scanner.Search({nullptr, 0, 4}, nullptr, 0, nullptr, nullptr, nullptr);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 0u);
  // n = 0: no results.
  const float q[4] = {1, 0, 0, 0};
  r = scanner.Search({nullptr, 0, 4}, q, 1, nullptr, &score, &id);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 0u);
  EXPECT_EQ(id, -1);
  EXPECT_EQ(score, kNegInf);
  EXPECT_TRUE(scanner.SearchBatch({nullptr, 0, 4}, q, 0, 3, nullptr, nullptr, nullptr).ok());
}

TEST(DenseScanner, DefaultsUseTheMachine) {
  DenseScanner scanner;
  EXPECT_GE(scanner.num_threads(), 1);
  EXPECT_LE(scanner.num_threads(), 8);
#if defined(__x86_64__)
  __builtin_cpu_init();
  EXPECT_EQ(scanner.uses_avx2(),
            __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"));
#endif
  DenseScanOptions portable;
  portable.allow_avx2 = false;
  EXPECT_FALSE(DenseScanner(portable).uses_avx2());
}

}  // namespace
}  // namespace peermatch
