#include "index/ann_index.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace peermatch {
namespace {

using ::testing::HasSubstr;
using testing::StatusIs;

constexpr size_t kDim = 64;
constexpr size_t kRows = 20000;
constexpr size_t kQueries = 200;
constexpr size_t kK = 10;

// Unit vectors around `centroids` topic centres (noise of about the centre's
// length), row-major: clustered like LSA vectors of cases, not uniform.
class ClusteredData {
 public:
  ClusteredData(size_t dim, size_t centroids, uint64_t seed) : dim_(dim), rng_(seed) {
    centres_.resize(centroids * dim);
    for (size_t c = 0; c < centroids; ++c) Normalize(Gaussian(&centres_[c * dim], 1.0f));
  }
  std::vector<float> Draw(size_t n) {
    std::vector<float> out(n * dim_);
    std::uniform_int_distribution<size_t> pick(0, centres_.size() / dim_ - 1);
    for (size_t i = 0; i < n; ++i) {
      float* v = &out[i * dim_];
      const float* c = &centres_[pick(rng_) * dim_];
      Gaussian(v, 0.12f);
      for (size_t j = 0; j < dim_; ++j) v[j] += c[j];
      Normalize(v);
    }
    return out;
  }

 private:
  float* Gaussian(float* v, float sd) {
    std::normal_distribution<float> g(0.0f, sd);
    for (size_t j = 0; j < dim_; ++j) v[j] = g(rng_);
    return v;
  }
  void Normalize(float* v) const {
    double norm = 0;
    for (size_t j = 0; j < dim_; ++j) norm += double{v[j]} * v[j];
    const float inv = static_cast<float>(1.0 / std::sqrt(norm));
    for (size_t j = 0; j < dim_; ++j) v[j] *= inv;
  }

  size_t dim_;
  std::mt19937_64 rng_;
  std::vector<float> centres_;
};

absl::Span<const float> Row(const std::vector<float>& m, size_t i, size_t dim = kDim) {
  return absl::MakeConstSpan(m).subspan(i * dim, dim);
}

// The brute-force reference: best k kept rows by inner product (in double),
// score descending then row ascending.
std::vector<AnnHit> BruteForce(const std::vector<float>& data, absl::Span<const float> query,
                               size_t k, const std::vector<bool>& keep = {}) {
  const size_t n = data.size() / query.size();
  std::vector<std::pair<double, uint32_t>> all;
  for (size_t i = 0; i < n; ++i) {
    if (!keep.empty() && !keep[i]) continue;
    double dot = 0;
    for (size_t j = 0; j < query.size(); ++j) dot += double{data[i * query.size() + j]} * query[j];
    all.emplace_back(-dot, static_cast<uint32_t>(i));
  }
  k = std::min(k, all.size());
  std::partial_sort(all.begin(), all.begin() + k, all.end());
  std::vector<AnnHit> out;
  for (size_t i = 0; i < k; ++i) out.push_back({all[i].second, static_cast<float>(-all[i].first)});
  return out;
}

std::vector<uint32_t> Rows(const std::vector<AnnHit>& hits) {
  std::vector<uint32_t> rows;
  for (const AnnHit& h : hits) rows.push_back(h.row);
  return rows;
}

// Share of `truth`'s rows that `got` found.
double Recall(const std::vector<AnnHit>& got, const std::vector<AnnHit>& truth) {
  size_t found = 0;
  for (const AnnHit& t : truth) {
    found += std::any_of(got.begin(), got.end(), [&](const AnnHit& g) { return g.row == t.row; });
  }
  return truth.empty() ? 1.0 : static_cast<double>(found) / truth.size();
}

std::vector<bool> RandomMask(size_t n, double keep_fraction, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::bernoulli_distribution keep(keep_fraction);
  std::vector<bool> mask(n);
  for (size_t i = 0; i < n; ++i) mask[i] = keep(rng);
  return mask;
}

// One 20,000 x 64 index (300 clusters) built with two threads and the
// default options, shared by the tests that only search it. For k = 10,
// masks keeping more than 2,828 rows (sqrt(20 * 2k * n)) search the graph,
// masks keeping fewer are scanned.
class AnnIndexTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ClusteredData gen(kDim, 300, /*seed=*/42);
    data_ = new std::vector<float>(gen.Draw(kRows));
    queries_ = new std::vector<float>(gen.Draw(kQueries));
    absl::StatusOr<std::unique_ptr<AnnIndex>> index = AnnIndex::Build(*data_, kDim);
    ASSERT_TRUE(index.ok()) << index.status();
    index_ = index->release();
  }
  static void TearDownTestSuite() {
    delete index_;
    delete data_;
    delete queries_;
  }
  static absl::Span<const float> Query(size_t q) { return Row(*queries_, q); }

  static std::vector<float>* data_;
  static std::vector<float>* queries_;
  static AnnIndex* index_;
};
std::vector<float>* AnnIndexTest::data_ = nullptr;
std::vector<float>* AnnIndexTest::queries_ = nullptr;
AnnIndex* AnnIndexTest::index_ = nullptr;

TEST_F(AnnIndexTest, ReportsItsShape) {
  EXPECT_EQ(index_->size(), kRows);
  EXPECT_EQ(index_->dim(), kDim);
  EXPECT_EQ(index_->options().m, 16);
}

TEST_F(AnnIndexTest, RecallAt10AgainstBruteForce) {
  double recall = 0;
  for (size_t q = 0; q < kQueries; ++q) {
    AnnSearchInfo info;
    absl::StatusOr<std::vector<AnnHit>> hits = index_->Search(Query(q), kK, {}, &info);
    ASSERT_TRUE(hits.ok()) << hits.status();
    ASSERT_EQ(hits->size(), kK);
    EXPECT_FALSE(info.exact_scan);
    EXPECT_EQ(info.graph_tries, 1);
    recall += Recall(*hits, BruteForce(*data_, Query(q), kK));
  }
  EXPECT_GE(recall / kQueries, 0.95);
}

TEST_F(AnnIndexTest, ScoresAreInnerProductsBestFirst) {
  for (size_t q = 0; q < 20; ++q) {
    absl::StatusOr<std::vector<AnnHit>> hits = index_->Search(Query(q), kK);
    ASSERT_TRUE(hits.ok()) << hits.status();
    for (size_t i = 0; i < hits->size(); ++i) {
      const AnnHit& h = (*hits)[i];
      double dot = 0;
      for (size_t j = 0; j < kDim; ++j) dot += double{Query(q)[j]} * Row(*data_, h.row)[j];
      EXPECT_NEAR(h.score, dot, 1e-5);
      if (i > 0) {
        EXPECT_GE((*hits)[i - 1].score, h.score);
      }
    }
  }
}

TEST_F(AnnIndexTest, FilteredSearchReturnsOnlyKeptRows) {
  for (double fraction : {0.5, 0.2}) {
    SCOPED_TRACE(fraction);
    const std::vector<bool> keep = RandomMask(kRows, fraction, /*seed=*/7);
    double recall = 0;
    for (size_t q = 0; q < kQueries; ++q) {
      AnnSearchInfo info;
      absl::StatusOr<std::vector<AnnHit>> hits = index_->Search(Query(q), kK, keep, &info);
      ASSERT_TRUE(hits.ok()) << hits.status();
      EXPECT_FALSE(info.exact_scan);
      ASSERT_EQ(hits->size(), kK);
      for (const AnnHit& h : *hits) EXPECT_TRUE(keep[h.row]) << "row " << h.row;
      recall += Recall(*hits, BruteForce(*data_, Query(q), kK, keep));
    }
    EXPECT_GE(recall / kQueries, 0.95);
  }
}

TEST_F(AnnIndexTest, SelectiveFilterScansExactly) {
  // 1% of the rows (200), including the last rows (the mask's partial last
  // word).
  std::vector<bool> keep = RandomMask(kRows, 0.01, /*seed=*/8);
  keep[kRows - 1] = true;
  keep[kRows - 33] = true;
  for (size_t q = 0; q < 50; ++q) {
    AnnSearchInfo info;
    absl::StatusOr<std::vector<AnnHit>> hits = index_->Search(Query(q), kK, keep, &info);
    ASSERT_TRUE(hits.ok()) << hits.status();
    EXPECT_TRUE(info.exact_scan);
    EXPECT_EQ(info.graph_tries, 0);
    const std::vector<AnnHit> truth = BruteForce(*data_, Query(q), kK, keep);
    ASSERT_EQ(Rows(*hits), Rows(truth));
    for (size_t i = 0; i < kK; ++i) EXPECT_NEAR((*hits)[i].score, truth[i].score, 1e-5);
  }
}

TEST_F(AnnIndexTest, ExactScanSeesTheLastRows) {
  std::vector<bool> keep(kRows, false);
  keep[kRows - 1] = true;
  keep[kRows - 2] = true;
  keep[0] = true;
  absl::StatusOr<std::vector<AnnHit>> hits = index_->Search(Query(0), kK, keep);
  ASSERT_TRUE(hits.ok()) << hits.status();
  EXPECT_THAT(Rows(*hits), ::testing::UnorderedElementsAre(0, kRows - 2, kRows - 1));
  EXPECT_EQ(Rows(*hits), Rows(BruteForce(*data_, Query(0), kK, keep)));
}

TEST_F(AnnIndexTest, FewerKeptRowsThanKGivesThemAll) {
  std::vector<bool> keep(kRows, false);
  keep[5] = keep[500] = keep[5000] = true;
  absl::StatusOr<std::vector<AnnHit>> hits = index_->Search(Query(1), kK, keep);
  ASSERT_TRUE(hits.ok()) << hits.status();
  EXPECT_THAT(Rows(*hits), ::testing::UnorderedElementsAre(5, 500, 5000));

  std::vector<bool> none(kRows, false);
  hits = index_->Search(Query(1), kK, none);
  ASSERT_TRUE(hits.ok()) << hits.status();
  EXPECT_TRUE(hits->empty());
}

TEST_F(AnnIndexTest, KZeroGivesNothingAndLargeKIsCapped) {
  absl::StatusOr<std::vector<AnnHit>> hits = index_->Search(Query(2), 0);
  ASSERT_TRUE(hits.ok()) << hits.status();
  EXPECT_TRUE(hits->empty());

  std::vector<bool> keep(kRows, false);
  for (size_t i = 0; i < 40; ++i) keep[i * 7] = true;
  hits = index_->Search(Query(2), 1000, keep);
  ASSERT_TRUE(hits.ok()) << hits.status();
  EXPECT_EQ(hits->size(), 40u);
}

TEST_F(AnnIndexTest, ConcurrentSearchesMatchSequentialOnes) {
  std::vector<std::vector<AnnHit>> expected(kQueries);
  for (size_t q = 0; q < kQueries; ++q) expected[q] = *index_->Search(Query(q), kK);
  std::vector<std::vector<AnnHit>> got(kQueries);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (size_t q = t; q < kQueries; q += 4) got[q] = *index_->Search(Query(q), kK);
    });
  }
  for (std::thread& t : threads) t.join();
  for (size_t q = 0; q < kQueries; ++q) EXPECT_EQ(Rows(got[q]), Rows(expected[q])) << q;
}

TEST_F(AnnIndexTest, RejectsBadQueries) {
  std::vector<float> short_query(kDim - 1, 0.1f);
  EXPECT_THAT(index_->Search(short_query, kK), StatusIs(absl::StatusCode::kInvalidArgument));
  std::vector<float> nan_query(Query(0).begin(), Query(0).end());
  nan_query[3] = std::numeric_limits<float>::quiet_NaN();
  absl::Status s = index_->Search(nan_query, kK).status();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not finite")));
  std::vector<bool> wrong_size(kRows - 1, true);
  s = index_->Search(Query(0), kK, wrong_size).status();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("keep")));
}

TEST_F(AnnIndexTest, SaveAndLoadGiveIdenticalResults) {
  testing::TempDir dir;
  const std::string path = dir.Sub("ann.hnsw");
  ASSERT_TRUE(index_->Save(path).ok());
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  absl::StatusOr<std::unique_ptr<AnnIndex>> loaded = AnnIndex::Load(path, kDim);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ((*loaded)->size(), kRows);
  EXPECT_EQ((*loaded)->options().m, index_->options().m);
  EXPECT_EQ((*loaded)->options().ef_construction, index_->options().ef_construction);
  const std::vector<bool> keep = RandomMask(kRows, 0.3, /*seed=*/9);
  for (size_t q = 0; q < kQueries; ++q) {
    for (const std::vector<bool>* mask : {&keep, static_cast<const std::vector<bool>*>(nullptr)}) {
      const std::vector<bool>& m = mask ? *mask : std::vector<bool>();
      absl::StatusOr<std::vector<AnnHit>> a = index_->Search(Query(q), kK, m);
      absl::StatusOr<std::vector<AnnHit>> b = (*loaded)->Search(Query(q), kK, m);
      ASSERT_TRUE(a.ok() && b.ok());
      ASSERT_EQ(a->size(), b->size());
      for (size_t i = 0; i < a->size(); ++i) {
        EXPECT_EQ((*a)[i].row, (*b)[i].row);
        EXPECT_EQ((*a)[i].score, (*b)[i].score);
      }
    }
  }
  // Saving again replaces the file.
  ASSERT_TRUE((*loaded)->Save(path).ok());
  EXPECT_TRUE(AnnIndex::Load(path, kDim).ok());
}

TEST_F(AnnIndexTest, LoadRejectsMissingWrongAndDamagedFiles) {
  testing::TempDir dir;
  EXPECT_THAT(AnnIndex::Load(dir.Sub("missing"), kDim), StatusIs(absl::StatusCode::kNotFound));

  const std::string path = dir.Sub("ann.hnsw");
  ASSERT_TRUE(index_->Save(path).ok());
  absl::Status s = AnnIndex::Load(path, 256).status();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("64-d")));

  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  auto load_bytes = [&](const std::string& content) {
    const std::string damaged = dir.Sub("damaged");
    std::ofstream(damaged, std::ios::binary | std::ios::trunc) << content;
    return AnnIndex::Load(damaged, kDim).status();
  };
  EXPECT_THAT(load_bytes(""), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(load_bytes("not an index at all"), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(load_bytes(bytes.substr(0, bytes.size() / 2)), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(load_bytes(bytes.substr(0, bytes.size() - 1)), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(load_bytes(bytes + "x"), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(load_bytes(std::string(bytes.size(), '\xff')), StatusIs(absl::StatusCode::kDataLoss));

  // Row 0's first level-0 link (after the 96-byte header and the list's
  // 4-byte count) pointing past the last row.
  std::string bad_link = bytes;
  const uint32_t beyond = kRows + 5;
  bad_link.replace(96 + 4, sizeof(beyond), reinterpret_cast<const char*>(&beyond), sizeof(beyond));
  s = load_bytes(bad_link);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kDataLoss, HasSubstr("links")));
}

TEST_F(AnnIndexTest, SaveIntoAMissingDirectoryFailsAndKeepsNothing) {
  testing::TempDir dir;
  const std::string path = dir.Sub("no/such/dir/ann.hnsw");
  absl::Status s = index_->Save(path);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInternal));
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(AnnIndex, SmallIndexIsScannedExactly) {
  ClusteredData gen(kDim, 20, /*seed=*/5);
  const std::vector<float> data = gen.Draw(500);
  const std::vector<float> queries = gen.Draw(10);
  absl::StatusOr<std::unique_ptr<AnnIndex>> index = AnnIndex::Build(data, kDim);
  ASSERT_TRUE(index.ok()) << index.status();
  for (size_t q = 0; q < 10; ++q) {
    AnnSearchInfo info;
    absl::StatusOr<std::vector<AnnHit>> hits = (*index)->Search(Row(queries, q), kK, {}, &info);
    ASSERT_TRUE(hits.ok()) << hits.status();
    EXPECT_TRUE(info.exact_scan);
    EXPECT_EQ(Rows(*hits), Rows(BruteForce(data, Row(queries, q), kK)));
  }
}

TEST(AnnIndex, FilterAwayFromTheQueryStillFindsKRows) {
  // Rows alternate between two far-apart clusters; the mask keeps only a
  // few rows of the cluster the query is not in, so a graph search near the
  // query finds none at first. Scanning instead is switched off.
  const size_t n = 4000;
  const size_t dim = 16;
  std::vector<float> data(n * dim, 0.0f);
  std::mt19937_64 rng(11);
  std::normal_distribution<float> noise(0.0f, 0.05f);
  for (size_t i = 0; i < n; ++i) {
    float* v = &data[i * dim];
    v[i % 2] = 1.0f;
    for (size_t j = 2; j < dim; ++j) v[j] = noise(rng);
  }
  AnnIndexOptions options;
  options.graph_candidate_cost = 0;
  absl::StatusOr<std::unique_ptr<AnnIndex>> index = AnnIndex::Build(data, dim, options);
  ASSERT_TRUE(index.ok()) << index.status();
  std::vector<bool> keep(n, false);
  for (size_t i = 1; i < n; i += 2 * 25) keep[i] = true;  // 80 rows of cluster 1
  std::vector<float> query(dim, 0.0f);
  query[0] = 1.0f;  // cluster 0
  AnnSearchInfo info;
  absl::StatusOr<std::vector<AnnHit>> hits = (*index)->Search(query, kK, keep, &info);
  ASSERT_TRUE(hits.ok()) << hits.status();
  ASSERT_EQ(hits->size(), kK);
  for (const AnnHit& h : *hits) EXPECT_TRUE(keep[h.row]);
  EXPECT_GE(info.graph_tries, 1);
  EXPECT_EQ(Rows(*hits), Rows(BruteForce(data, query, kK, keep)));
}

TEST(AnnIndex, SingleThreadedBuildIsReproducible) {
  ClusteredData gen(kDim, 50, /*seed=*/3);
  const std::vector<float> data = gen.Draw(5000);
  const std::vector<float> queries = gen.Draw(20);
  AnnIndexOptions options;
  options.num_threads = 1;
  absl::StatusOr<std::unique_ptr<AnnIndex>> a = AnnIndex::Build(data, kDim, options);
  absl::StatusOr<std::unique_ptr<AnnIndex>> b = AnnIndex::Build(data, kDim, options);
  ASSERT_TRUE(a.ok() && b.ok());
  for (size_t q = 0; q < 20; ++q) {
    EXPECT_EQ(Rows(*(*a)->Search(Row(queries, q), kK)), Rows(*(*b)->Search(Row(queries, q), kK)));
  }
}

TEST(AnnIndex, BuildRejectsBadInput) {
  const std::vector<float> data(10 * 4, 0.5f);
  EXPECT_THAT(AnnIndex::Build(data, 0), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(AnnIndex::Build({}, 4), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(AnnIndex::Build(data, 3), StatusIs(absl::StatusCode::kInvalidArgument));
  std::vector<float> with_inf = data;
  with_inf[17] = std::numeric_limits<float>::infinity();
  absl::Status s = AnnIndex::Build(with_inf, 4).status();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("value 1 of row 4")));

  auto with = [&](auto edit) {
    AnnIndexOptions o;
    edit(o);
    return AnnIndex::Build(data, 4, o).status();
  };
  s = with([](AnnIndexOptions& o) { o.m = 1; });
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("options.m")));
  EXPECT_THAT(with([](AnnIndexOptions& o) { o.m = 1000; }),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(with([](AnnIndexOptions& o) { o.ef_construction = 0; }),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(with([](AnnIndexOptions& o) { o.ef_search = 0; }),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(with([](AnnIndexOptions& o) { o.num_threads = -1; }),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(with([](AnnIndexOptions& o) { o.filter_overfetch = 0.5; }),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(with([](AnnIndexOptions& o) { o.graph_candidate_cost = -1; }),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(with([](AnnIndexOptions& o) { o.graph_candidate_cost = std::nan(""); }),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_TRUE(with([](AnnIndexOptions& o) {}).ok());
}

}  // namespace
}  // namespace peermatch
