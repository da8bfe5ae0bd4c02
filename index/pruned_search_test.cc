// Index::SearchPruned and Index::SearchAccumulated (and Search, which picks
// one of them) against Index::SearchExhaustive (every case scored)
// on random corpora and queries with fixed seeds: the same hits, bit for bit,
// with and without per-case boosts (the learned fusion's, ScoreWeights::boosts).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>

#include "gtest/gtest.h"
#include "index/index.h"

namespace peermatch {
namespace {

constexpr uint32_t kTerms = 3000;

// Term ids drawn Zipf-like (a few very common terms, a long tail), as in text,
// so that lists differ in length and bound and pruning has work to do.
uint32_t ZipfTerm(std::mt19937& rng) {
  const double u = std::uniform_real_distribution<double>(0, 1)(rng);
  return static_cast<uint32_t>(std::pow(kTerms, u)) - 1;
}

SparseIds RandomSparse(std::mt19937& rng, int terms, float max_weight) {
  std::uniform_real_distribution<float> weight(0.05f, max_weight);
  SparseIds out;
  for (int i = 0; i < terms; ++i) out.emplace_back(ZipfTerm(rng), weight(rng));
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  out.erase(std::unique(out.begin(), out.end(),
                        [](const auto& a, const auto& b) { return a.first == b.first; }),
            out.end());
  return out;
}

// Ids in position order (as the engine builds them), so that the boosts
// find their cases by binary search.
std::string CaseId(int d) {
  char id[32];
  std::snprintf(id, sizeof id, "case-%07d", d);
  return id;
}

struct Corpus {
  std::shared_ptr<const Index> index;
  int dim = 0;
};

Corpus MakeCorpus(std::mt19937& rng, int num_cases, int dim) {
  std::vector<std::shared_ptr<const IndexEntry>> entries;
  DenseRows rows(dim, num_cases);
  std::normal_distribution<float> normal;
  for (int d = 0; d < num_cases; ++d) {
    auto e = std::make_shared<IndexEntry>();
    e->info.case_id = CaseId(d);
    e->info.city_id = "city-" + std::to_string(d % 97);
    e->info.themes = 1u << (d % 7);
    e->info.sdgs = 1u << (1 + d % 17);
    e->words = RandomSparse(rng, 1 + static_cast<int>(rng() % 20), 4.0f);
    e->grams = RandomSparse(rng, 1 + static_cast<int>(rng() % 60), 2.0f);
    if (d % 11 == 0) e->words.clear();  // cases found by grams or meaning only
    if (d % 13 == 0) e->grams.clear();
    if (dim > 0 && d % 17 != 0) {  // some cases have no dense vector (a zero row)
      float norm = 0;
      float* row = rows.row(d);
      for (int i = 0; i < dim; ++i) row[i] = normal(rng), norm += row[i] * row[i];
      for (int i = 0; i < dim; ++i) row[i] /= std::sqrt(norm);
    }
    entries.push_back(std::move(e));
  }
  return {Index::Build(std::move(entries), std::move(rows), {}, kTerms), dim};
}

IndexQuery RandomQuery(std::mt19937& rng, int dim, int words, int grams) {
  IndexQuery q;
  q.words = RandomSparse(rng, words, 3.0f);
  // Counts as the analyzer gives them (whole numbers) and fractional ones
  // (extra weighted terms, e.g. translations).
  for (auto& [t, c] : q.words) c = (rng() % 3 == 0) ? 0.25f + (rng() % 7) * 0.1f : 1 + rng() % 3;
  q.grams = RandomSparse(rng, grams, 1.0f);
  for (auto& [t, c] : q.grams) c = 1 + rng() % 2;
  if (dim > 0) {
    std::normal_distribution<float> normal;
    q.dense.resize(dim);
    for (int i = 0; i < dim; ++i) q.dense(i) = normal(rng);
    q.dense.normalize();
  }
  return q;
}

void ExpectSameHits(const std::vector<Hit>& pruned, const std::vector<Hit>& exhaustive,
                    const std::string& where) {
  ASSERT_EQ(pruned.size(), exhaustive.size()) << where;
  for (size_t i = 0; i < pruned.size(); ++i) {
    // Bit for bit: the same floats, not merely close ones.
    EXPECT_EQ(pruned[i].doc, exhaustive[i].doc) << where << " rank " << i;
    EXPECT_EQ(pruned[i].score, exhaustive[i].score) << where << " rank " << i;
    EXPECT_EQ(pruned[i].lexical, exhaustive[i].lexical) << where << " rank " << i;
    EXPECT_EQ(pruned[i].subword, exhaustive[i].subword) << where << " rank " << i;
    EXPECT_EQ(pruned[i].semantic, exhaustive[i].semantic) << where << " rank " << i;
    EXPECT_EQ(pruned[i].structure, exhaustive[i].structure) << where << " rank " << i;
    EXPECT_EQ(pruned[i].z_lexical, exhaustive[i].z_lexical) << where << " rank " << i;
    EXPECT_EQ(pruned[i].z_subword, exhaustive[i].z_subword) << where << " rank " << i;
    EXPECT_EQ(pruned[i].z_semantic, exhaustive[i].z_semantic) << where << " rank " << i;
    EXPECT_EQ(pruned[i].boost, exhaustive[i].boost) << where << " rank " << i;
  }
}

// What boosts a trial gives.
enum class Boosts { kNone, kMixed, kNegative };

// Random boosts, as the learned fusion's (sorted by case id): on about one
// case in `every`, of either sign (or only negative), a few of them large
// enough to lift a case the texts barely find into the top; plus ids the
// index does not hold (ignored).
std::shared_ptr<const CaseBoosts> RandomBoosts(std::mt19937& rng, int num_cases, int every,
                                               Boosts kind) {
  if (kind == Boosts::kNone) return nullptr;
  auto boosts = std::make_shared<CaseBoosts>();
  std::uniform_real_distribution<float> small(kind == Boosts::kNegative ? -1.5f : -1.0f,
                                              kind == Boosts::kNegative ? -0.01f : 1.5f);
  std::uniform_real_distribution<float> large(kind == Boosts::kNegative ? -8.0f : 2.0f,
                                              kind == Boosts::kNegative ? -2.0f : 8.0f);
  for (int d = 0; d < num_cases; ++d) {
    if (rng() % every != 0) continue;
    boosts->emplace_back(CaseId(d), rng() % 10 == 0 ? large(rng) : small(rng));
  }
  boosts->emplace_back("case-unknown", 5.0f);
  std::sort(boosts->begin(), boosts->end());
  return boosts;
}

// Returns how many trials' hits the boosts changed (0 without boosts).
int CheckPrunedEqualsExhaustive(uint32_t seed, int num_cases, int dim,
                                Boosts boosts = Boosts::kNone) {
  std::mt19937 rng(seed);
  int changed = 0;
  const Corpus corpus = MakeCorpus(rng, num_cases, dim);
  const size_t ks[] = {1, 10, 100, 256, 2000};
  for (int trial = 0; trial < 40; ++trial) {
    const IndexQuery q = RandomQuery(rng, dim, 1 + trial % 12, 2 + (trial * 7) % 80);
    StructuredQuery structured;
    if (trial % 3 == 1) structured.themes = 1u << (trial % 7), structured.sdgs = 1u << 3;
    std::vector<bool> keep;
    if (trial % 4 == 2) {  // a filter, as Match's (solutions of other cities)
      keep.resize(num_cases);
      for (int d = 0; d < num_cases; ++d) keep[d] = (d * 7 + trial) % 5 >= 2;
    } else if (trial % 4 == 3) {  // a selective one
      keep.assign(num_cases, false);
      for (int d = trial; d < num_cases; d += 53) keep[d] = true;
    }
    ScoreWeights weights;
    weights.depth = trial % 5 == 0 ? 10 : 100;
    const size_t k = ks[trial % 5];
    const std::string where = "seed " + std::to_string(seed) + " cases " +
                              std::to_string(num_cases) + " trial " + std::to_string(trial);
    const std::vector<Hit> plain = corpus.index->SearchExhaustive(q, structured, keep, weights, k);
    weights.boosts = RandomBoosts(rng, num_cases, trial % 2 == 0 ? 7 : 200, boosts);
    const std::vector<Hit> exhaustive =
        corpus.index->SearchExhaustive(q, structured, keep, weights, k);
    ExpectSameHits(corpus.index->SearchPruned(q, structured, keep, weights, k), exhaustive, where);
    ExpectSameHits(corpus.index->SearchAccumulated(q, structured, keep, weights, k), exhaustive,
                   where + " accumulated");
    bool same = plain.size() == exhaustive.size();
    for (size_t i = 0; same && i < plain.size(); ++i) same = plain[i].doc == exhaustive[i].doc;
    changed += same ? 0 : 1;
  }
  return changed;
}

TEST(PrunedSearch, EqualsExhaustiveOnASmallCorpus) { CheckPrunedEqualsExhaustive(1, 300, 16); }

TEST(PrunedSearch, EqualsExhaustiveAcrossWindows) {
  // More cases than one window (4,096), so thresholds carry across windows.
  CheckPrunedEqualsExhaustive(2, 20000, 16);
}

TEST(PrunedSearch, EqualsExhaustiveWithCodedVectorsOfTheAvx2Width) {
  // 256 dimensions as the engine's LSA (the 8-bit codes' AVX2 kernels, the
  // filtered one included), more cases than the codes start from.
  CheckPrunedEqualsExhaustive(10, 4000, 256);
}

TEST(PrunedSearch, EqualsExhaustiveWithoutDenseVectors) {
  CheckPrunedEqualsExhaustive(3, 9000, 0);
}

TEST(PrunedSearch, EqualsExhaustiveWithBoosts) {
  // The bounds include each case's boost; the boosts change most rankings
  // (else this would test nothing).
  EXPECT_GE(CheckPrunedEqualsExhaustive(7, 20000, 16, Boosts::kMixed), 20);
  EXPECT_GE(CheckPrunedEqualsExhaustive(8, 3000, 0, Boosts::kMixed), 20);
}

TEST(PrunedSearch, EqualsExhaustiveWithNegativeBoosts) {
  // Only negative boosts: the largest boost is the unboosted cases' 0.
  EXPECT_GE(CheckPrunedEqualsExhaustive(9, 9000, 16, Boosts::kNegative), 10);
}

TEST(PrunedSearch, EqualsExhaustiveWhenFewCasesScore) {
  // Queries of one or two rare terms: fewer than `depth` cases score above
  // zero, so the candidate set is filled with zero-score cases by position.
  std::mt19937 rng(4);
  const Corpus corpus = MakeCorpus(rng, 5000, 8);
  for (int trial = 0; trial < 20; ++trial) {
    IndexQuery q;
    q.words = {{kTerms - 1 - trial, 1.0f}};
    q.grams = {{kTerms - 100 - trial, 2.0f}};
    if (trial % 2 == 0) q.dense = RandomQuery(rng, 8, 1, 1).dense;
    ScoreWeights weights;
    // Boosts on the many cases found by meaning alone, too.
    if (trial % 3 == 0) weights.boosts = RandomBoosts(rng, 5000, 5, Boosts::kMixed);
    const std::vector<Hit> exhaustive = corpus.index->SearchExhaustive(q, {}, {}, weights, 50);
    ExpectSameHits(corpus.index->SearchPruned(q, {}, {}, weights, 50), exhaustive,
                   "rare trial " + std::to_string(trial));
    ExpectSameHits(corpus.index->SearchAccumulated(q, {}, {}, weights, 50), exhaustive,
                   "rare trial accumulated " + std::to_string(trial));
  }
}

TEST(PrunedSearch, SearchGivesTheExhaustiveRankingWhicheverPathItTakes) {
  std::mt19937 rng(6);
  const Corpus corpus = MakeCorpus(rng, 6000, 8);
  int pruned = 0;
  for (int trial = 0; trial < 10; ++trial) {
    // From a few rare terms (pruned) to many common ones (accumulated).
    const IndexQuery q = RandomQuery(rng, 8, 1 + trial * 3, 1 + trial * 20);
    pruned += corpus.index->PrunesFor(q, ScoreWeights()) ? 1 : 0;
    ExpectSameHits(corpus.index->Search(q, {}, {}, ScoreWeights(), 40),
                   corpus.index->SearchExhaustive(q, {}, {}, ScoreWeights(), 40),
                   "either trial " + std::to_string(trial));
  }
  // Both paths were taken.
  EXPECT_GT(pruned, 0);
  EXPECT_LT(pruned, 10);
}

TEST(PrunedSearch, NonPositiveCountsFallBackToTheExhaustiveRanking) {
  std::mt19937 rng(5);
  const Corpus corpus = MakeCorpus(rng, 2000, 8);
  IndexQuery q = RandomQuery(rng, 8, 6, 20);
  q.words[0].second = -1.0f;  // the bounds assume positive counts
  ExpectSameHits(corpus.index->SearchPruned(q, {}, {}, ScoreWeights(), 30),
                 corpus.index->SearchExhaustive(q, {}, {}, ScoreWeights(), 30), "negative");
  ExpectSameHits(corpus.index->SearchAccumulated(q, {}, {}, ScoreWeights(), 30),
                 corpus.index->SearchExhaustive(q, {}, {}, ScoreWeights(), 30),
                 "negative accumulated");
}

}  // namespace
}  // namespace peermatch
