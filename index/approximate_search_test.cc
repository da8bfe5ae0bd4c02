// Index::SearchApproximate (issue 16: large indexes) against
// Index::SearchExhaustive on random corpora with fixed seeds: bit for bit
// where its candidates must hold every case that scores, the recall of the
// exhaustive top 10 where the high tiers leave postings out, and the exact
// ranking where a narrow filter sends it back to the exact pass.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>

#include "gtest/gtest.h"
#include "index/index.h"
#include "index/segmented_index.h"
#include "index/testing/random_cases.h"

namespace peermatch {
namespace {

using testing::CaseId;

// `num_cases` random cases (index/testing/random_cases.h), their grams
// shuffled (the engine gives them in any order), built with the high tiers
// from `approximate_from` cases on.
std::shared_ptr<const Index> MakeIndex(testing::Generator& gen, int num_cases, int dim,
                                       size_t approximate_from) {
  testing::Corpus cases;
  for (int d = 0; d < num_cases; ++d) {
    testing::Case c = gen.MakeCase(CaseId(d));
    auto entry = std::make_shared<IndexEntry>(*c.entry);
    std::shuffle(entry->grams.begin(), entry->grams.end(), gen.rng());
    c.entry = std::move(entry);
    cases[CaseId(d)] = std::move(c);
  }
  Index::SetApproximateFromForTesting(approximate_from);
  auto index = testing::BuildIndex(cases, testing::Cities(), dim);
  Index::SetApproximateFromForTesting(0);
  return index;
}

void ExpectSameHits(const std::vector<Hit>& got, const std::vector<Hit>& exhaustive,
                    const std::string& where) {
  ASSERT_EQ(got.size(), exhaustive.size()) << where;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].doc, exhaustive[i].doc) << where << " rank " << i;
    EXPECT_EQ(got[i].score, exhaustive[i].score) << where << " rank " << i;
    EXPECT_EQ(got[i].lexical, exhaustive[i].lexical) << where << " rank " << i;
    EXPECT_EQ(got[i].subword, exhaustive[i].subword) << where << " rank " << i;
    EXPECT_EQ(got[i].semantic, exhaustive[i].semantic) << where << " rank " << i;
    EXPECT_EQ(got[i].structure, exhaustive[i].structure) << where << " rank " << i;
    EXPECT_EQ(got[i].z_lexical, exhaustive[i].z_lexical) << where << " rank " << i;
    EXPECT_EQ(got[i].z_subword, exhaustive[i].z_subword) << where << " rank " << i;
    EXPECT_EQ(got[i].z_semantic, exhaustive[i].z_semantic) << where << " rank " << i;
    EXPECT_EQ(got[i].boost, exhaustive[i].boost) << where << " rank " << i;
  }
}

// 90 cases: every list is shorter than a tier's least length, so the tiers
// hold whole lists, the partial sums are the exact ones, every case that
// any list holds is a candidate (at most 90 < 4 x depth) and the dense top
// 100 is every case. So the candidates hold every case that scores, and the
// ranking must be the exhaustive one, bit for bit: the exact sums from the
// forward lists (grams shuffled), the moments, the fused order, filters,
// structure, boosts, any k.
TEST(ApproximateSearch, EqualsExhaustiveWhenTheCandidatesHoldEveryScoringCase) {
  for (uint32_t seed : {1u, 2u, 3u}) {
    testing::Generator gen(seed, 16);
    const int n = 90;
    const auto index = MakeIndex(gen, n, 16, 1);
    ASSERT_TRUE(index->approximate());
    const size_t ks[] = {1, 10, 50, 256};
    for (int trial = 0; trial < 40; ++trial) {
      const IndexQuery q = gen.Query(1 + trial % 12, 2 + (trial * 7) % 80);
      StructuredQuery structured;
      if (trial % 3 == 1) structured.themes = 1u << (trial % 7), structured.sdgs = 1u << 3;
      std::vector<bool> keep;
      if (trial % 4 == 2) {
        keep.resize(n);
        for (int d = 0; d < n; ++d) keep[d] = (d * 7 + trial) % 5 >= 2;
      }
      ScoreWeights weights;
      if (trial % 2 == 1) {
        auto boosts = std::make_shared<CaseBoosts>();
        for (int d = trial % 9; d < n; d += 9) boosts->emplace_back(CaseId(d), (d % 3) - 0.7f);
        weights.boosts = boosts;
      }
      const size_t k = ks[trial % 4];
      const std::string where = "seed " + std::to_string(seed) + " trial " + std::to_string(trial);
      ExpectSameHits(index->SearchApproximate(q, structured, keep, weights, k),
                     index->SearchExhaustive(q, structured, keep, weights, k), where);
    }
  }
}

// 40,000 cases: the common terms' lists are cut to a sixteenth, so the
// candidates may miss cases. What is measured: the share of the exhaustive
// top 10 found (solutions-like filter of 60% of the cases). The hits it
// does return carry their exact scores, are kept cases, and come best first.
TEST(ApproximateSearch, FindsTheExhaustiveTopTenWhenTheTiersCutLists) {
  testing::Generator gen(7, 16);
  const int n = 40000;
  const auto index = MakeIndex(gen, n, 16, 1);
  ASSERT_TRUE(index->approximate());
  std::vector<bool> keep(n);
  for (int d = 0; d < n; ++d) keep[d] = d % 5 >= 2;
  size_t found = 0, wanted = 0;
  for (int trial = 0; trial < 30; ++trial) {
    const IndexQuery q = gen.Query(4 + trial % 10, 40 + trial * 3);
    const std::vector<Hit> exact = index->SearchExhaustive(q, {}, keep, ScoreWeights(), 10);
    const std::vector<Hit> got = index->SearchApproximate(q, {}, keep, ScoreWeights(), 10);
    ASSERT_EQ(got.size(), 10u);
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_TRUE(keep[got[i].doc]);
      if (i > 0) {
        EXPECT_GE(got[i - 1].score, got[i].score);
      }
    }
    for (const Hit& e : exact) {
      ++wanted;
      for (const Hit& h : got) found += h.doc == e.doc ? 1 : 0;
    }
  }
  const double recall = static_cast<double>(found) / wanted;
  std::printf("recall@10 against the exhaustive ranking: %.3f (%zu of %zu)\n", recall, found,
              wanted);
  EXPECT_GE(recall, 0.9);
}

// A narrow filter (fewer kept cases in the tiers than the candidates it
// wants): the exact pass, so the exhaustive ranking.
TEST(ApproximateSearch, ANarrowFilterGivesTheExactRanking) {
  testing::Generator gen(8, 16);
  const int n = 40000;
  const auto index = MakeIndex(gen, n, 16, 1);
  std::vector<bool> keep(n, false);
  for (int d = 5; d < n; d += 211) keep[d] = true;  // 190 cases
  for (int trial = 0; trial < 10; ++trial) {
    const IndexQuery q = gen.Query(4 + trial, 40 + trial * 5);
    ExpectSameHits(index->SearchApproximate(q, {}, keep, ScoreWeights(), 20),
                   index->SearchExhaustive(q, {}, keep, ScoreWeights(), 20),
                   "narrow trial " + std::to_string(trial));
  }
}

// A segmented index whose base and delta both take the approximate pass
// (index/segmented_index.h: the candidate set across both through the
// hook), with tombstones: with fewer than 100 live cases the candidates hold
// every scoring case, so the ranking is one index's exhaustive one, bit for
// bit.
TEST(ApproximateSearch, SegmentsRankAsOneExhaustiveIndex) {
  testing::Generator gen(11, 16);
  testing::Corpus base_cases;
  for (uint32_t d = 0; d < 60; ++d) base_cases[CaseId(d * 2)] = gen.MakeCase(CaseId(d * 2));
  testing::Corpus live = base_cases;
  uint32_t next_id = 120;
  testing::RandomWrites(gen, 30, &next_id, &live);
  Index::SetApproximateFromForTesting(1);
  const auto seg = testing::Segmented(
      base_cases, testing::BuildIndex(base_cases, testing::Cities(), 16), live, 16);
  Index::SetApproximateFromForTesting(0);
  const auto one = testing::BuildIndex(live, testing::Cities(), 16);
  ASSERT_TRUE(seg->base()->approximate());
  ASSERT_TRUE(seg->delta()->approximate());
  ASSERT_FALSE(one->approximate());
  ASSERT_LT(live.size(), 100u);
  ASSERT_FALSE(seg->tombstones().empty());
  int approximate = 0;
  for (int trial = 0; trial < 30; ++trial) {
    const IndexQuery q = gen.Query(8 + trial % 8, 60 + trial);
    approximate += seg->base()->PrunesFor(q, ScoreWeights()) ? 0 : 1;
    StructuredQuery structured;
    if (trial % 3 == 1) structured.themes = 1u << (trial % 7);
    const size_t k = trial % 2 == 0 ? 10 : 50;
    const std::string where = "trial " + std::to_string(trial);
    testing::ExpectSameHits(*seg, seg->Search(q, structured, {}, ScoreWeights(), k), *one,
                            one->SearchExhaustive(q, structured, {}, ScoreWeights(), k), where);
  }
  // The base took the approximate pass (not the pruned one) for most queries.
  EXPECT_GT(approximate, 15);
}

// Below the size, an index has no tiers and Search stays exact.
TEST(ApproximateSearch, SmallIndexesHaveNoTiers) {
  testing::Generator gen(9, 8);
  const auto index = MakeIndex(gen, 3000, 8, 0);
  EXPECT_FALSE(index->approximate());
  const IndexQuery q = gen.Query(10, 70);
  ExpectSameHits(index->Search(q, {}, {}, ScoreWeights(), 30),
                 index->SearchExhaustive(q, {}, {}, ScoreWeights(), 30), "small");
}

}  // namespace
}  // namespace peermatch
