#include "index/index.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "gtest/gtest.h"

namespace peermatch {
namespace {

constexpr uint32_t kTerms = 120;
constexpr int kDim = 8;

SparseIds RandomSparse(std::mt19937& rng, int max_terms, float max_weight) {
  std::uniform_int_distribution<uint32_t> term(0, kTerms - 1);
  std::uniform_real_distribution<float> weight(0.01f, max_weight);
  std::vector<uint32_t> ids;
  const int n = std::uniform_int_distribution<int>(0, max_terms)(rng);
  for (int i = 0; i < n; ++i) ids.push_back(term(rng));
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  SparseIds out;
  for (uint32_t id : ids) out.emplace_back(id, weight(rng));
  return out;
}

Eigen::VectorXf RandomUnit(std::mt19937& rng) {
  std::normal_distribution<float> normal;
  Eigen::VectorXf v(kDim);
  for (int i = 0; i < kDim; ++i) v(i) = normal(rng);
  return v.normalized();
}

// The reference: every score computed the slow, obvious way.
struct Reference {
  std::vector<std::pair<uint32_t, float>> ranking;  // (doc, fused), best first
};

float Dot(const SparseIds& query, const SparseIds& doc) {
  float s = 0;
  for (const auto& [qt, qw] : query) {
    for (const auto& [dt, dw] : doc) {
      if (qt == dt) s += qw * dw;
    }
  }
  return s;
}

Reference BruteForce(const std::vector<std::shared_ptr<const IndexEntry>>& entries,
                     const std::vector<Eigen::VectorXf>& dense, const IndexQuery& q, const std::vector<bool>& keep, const ScoreWeights& w) {
  std::vector<uint32_t> kept;
  for (uint32_t d = 0; d < entries.size(); ++d) {
    if (keep.empty() || keep[d]) kept.push_back(d);
  }
  std::vector<float> s1(entries.size()), s2(entries.size()), s3(entries.size());
  for (uint32_t d : kept) {
    s1[d] = Dot(q.words, entries[d]->words);
    s2[d] = Dot(q.grams, entries[d]->grams);
    s3[d] = q.dense.dot(dense[d]);
  }
  std::vector<bool> in(entries.size(), false);
  for (const std::vector<float>* s : {&s1, &s2, &s3}) {
    std::vector<uint32_t> order = kept;
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
      return (*s)[a] != (*s)[b] ? (*s)[a] > (*s)[b] : a < b;
    });
    for (size_t i = 0; i < order.size() && i < static_cast<size_t>(w.depth); ++i) in[order[i]] = true;
  }
  auto z = [&](const std::vector<float>& s, uint32_t d) {
    double mean = 0, var = 0, n = 0;
    for (uint32_t c : kept) {
      if (in[c]) mean += s[c], ++n;
    }
    mean /= n;
    for (uint32_t c : kept) {
      if (in[c]) var += (s[c] - mean) * (s[c] - mean);
    }
    return static_cast<float>((s[d] - mean) / (std::sqrt(var / n) + 1e-9));
  };
  Reference ref;
  for (uint32_t d : kept) {
    if (s1[d] <= 0 && s2[d] <= 0 && s3[d] <= 0) continue;  // no evidence: no match
    ref.ranking.emplace_back(d, w.lexical * z(s1, d) + w.subword * z(s2, d) + w.semantic * z(s3, d));
  }
  std::sort(ref.ranking.begin(), ref.ranking.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  return ref;
}

// Both ways of giving Build the dense vectors, on a small index and on one
// large enough for Build's second thread.
void CheckSearchAgainstBruteForce(int num_cases, bool ready_matrix) {
  std::mt19937 rng(20261125);
  std::vector<std::shared_ptr<const IndexEntry>> entries;
  std::vector<Eigen::VectorXf> dense;
  for (int d = 0; d < num_cases; ++d) {
    auto e = std::make_shared<IndexEntry>();
    e->info.case_id = "case-" + std::to_string(d);
    e->info.city_id = "city-" + std::to_string(d % 37);
    e->words = RandomSparse(rng, 12, 3.0f);
    e->grams = RandomSparse(rng, 30, 2.0f);
    dense.push_back(RandomUnit(rng));
    entries.push_back(e);
  }
  std::shared_ptr<const Index> index;
  if (ready_matrix) {
    DenseRows rows(kDim, 16);  // grows
    rows.Reserve(dense.size());
    for (size_t d = 0; d < dense.size(); ++d) {
      std::copy(dense[d].data(), dense[d].data() + kDim, rows.row(d));
    }
    index = Index::Build(entries, std::move(rows), {}, kTerms);
  } else {
    std::vector<const float*> rows;
    for (const auto& v : dense) rows.push_back(v.data());
    index = Index::Build(entries, rows, {}, kTerms, kDim);
  }
  ASSERT_EQ(index->dense_dim(), kDim);
  for (size_t d = 0; d < dense.size(); ++d) {
    ASSERT_TRUE(std::equal(dense[d].data(), dense[d].data() + kDim, index->dense_row(d)));
  }
  ScoreWeights weights;
  weights.depth = 50;  // smaller than N, so that the candidate set matters
  for (int trial = 0; trial < 50; ++trial) {
    IndexQuery q;
    q.words = RandomSparse(rng, 5, 2.0f);
    q.grams = RandomSparse(rng, 15, 1.0f);
    q.dense = RandomUnit(rng);
    std::vector<bool> keep;
    if (trial % 2 == 1) {
      keep.resize(entries.size());
      for (size_t d = 0; d < keep.size(); ++d) keep[d] = (d * 7 + trial) % 3 != 0;
    }
    const Reference ref = BruteForce(entries, dense, q, keep, weights);
    const std::vector<Hit> hits = index->Search(q, StructuredQuery(), keep, weights, 20);
    ASSERT_EQ(hits.size(), 20u);
    for (size_t i = 0; i < hits.size(); ++i) {
      EXPECT_EQ(hits[i].doc, ref.ranking[i].first) << "trial " << trial << " rank " << i;
      EXPECT_NEAR(hits[i].score, ref.ranking[i].second, 1e-3) << "trial " << trial;
      if (!keep.empty()) EXPECT_TRUE(keep[hits[i].doc]);
    }
  }
}

TEST(Index, SearchMatchesBruteForceReference) { CheckSearchAgainstBruteForce(400, false); }

TEST(Index, SearchMatchesBruteForceReferenceWithReadyMatrix) {
  CheckSearchAgainstBruteForce(400, true);
}

TEST(Index, LargeIndexMatchesBruteForceReference) { CheckSearchAgainstBruteForce(5000, false); }

TEST(Index, NoEvidenceNoHits) {
  auto e = std::make_shared<IndexEntry>();
  e->words = {{1, 1.0f}};
  e->grams = {{2, 1.0f}};
  auto index = Index::Build({e}, {nullptr}, {}, 10, 0);
  IndexQuery q;
  q.words = {{5, 1.0f}};  // a term the case does not have
  EXPECT_TRUE(index->Search(q, StructuredQuery(), {}, ScoreWeights(), 10).empty());
  q.grams = {{2, 1.0f}};
  EXPECT_EQ(index->Search(q, StructuredQuery(), {}, ScoreWeights(), 10).size(), 1u);
}

TEST(Index, StructureOverlapIsMeanJaccard) {
  StructuredQuery q;
  q.themes = (1u << 1) | (1u << 2);
  q.sdgs = 1u << 4;
  DocInfo d;
  d.themes = 1u << 2;              // Jaccard 1/2
  d.sdgs = (1u << 4) | (1u << 5);  // Jaccard 1/2
  EXPECT_FLOAT_EQ(StructureOverlap(q, d), 0.5f);
  q.target_groups = {"older adults"};
  d.target_groups = {"older adults"};  // Jaccard 1
  EXPECT_FLOAT_EQ(StructureOverlap(q, d), 2.0f / 3.0f);
  EXPECT_FLOAT_EQ(StructureOverlap(StructuredQuery(), d), 0.0f);
}

TEST(Index, ContributionsAreTheSharedTermsLargestFirst) {
  auto e = std::make_shared<IndexEntry>();
  e->words = {{1, 0.5f}, {3, 2.0f}, {9, 1.0f}};
  auto index = Index::Build({e}, {nullptr}, {}, 10, 0);
  const SparseIds c = index->Contributions({{1, 2.0f}, {3, 1.0f}, {5, 1.0f}}, 0);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0], std::make_pair(3u, 2.0f));
  EXPECT_EQ(c[1], std::make_pair(1u, 1.0f));
}

}  // namespace
}  // namespace peermatch
