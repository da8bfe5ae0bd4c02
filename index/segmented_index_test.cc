// SegmentedIndex (a base, a delta and tombstones) against one Index built
// over the same live cases, on random corpora, writes, deletes, filters,
// boosts and queries with fixed seeds: the same hits, bit for bit, and the
// same answers from every accessor the engine reads.
#include "index/segmented_index.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>
#include <set>
#include <string>

#include "gtest/gtest.h"
#include "index/testing/random_cases.h"

namespace peermatch {
namespace {

using testing::Case;
using testing::CaseId;
using testing::Corpus;
using testing::Generator;
using testing::kTerms;
using testing::BuildIndex;
using testing::Cities;
using testing::ExpectSameHits;
using testing::RandomWrites;
using testing::Segmented;

// A filter as Match's: decided by a case's attributes and city, so the
// same on both layouts (position by position; dead positions are left out).
template <typename View, typename Live>
std::vector<bool> Filter(const View& index, uint32_t positions, int kind, Live live) {
  std::vector<bool> keep(positions, false);
  for (uint32_t d = 0; d < positions; ++d) {
    if (!live(d)) continue;
    const DocInfo& doc = index.doc(d);
    keep[d] = kind == 1 ? index.attributes(d).kind == v1::CASE_KIND_SOLUTION &&
                              index.city_of(d).country != "it"
                        : (doc.year % 3 == 0 && doc.case_id.back() != '7');
  }
  return keep;
}
const auto kAllLive = [](uint32_t) { return true; };

// A base of `num_cases` cases, `num_writes` random writes after it, and
// both views of the result: the segmented one and one index.
struct Scenario {
  Corpus base_cases, live;
  std::shared_ptr<const SegmentedIndex> seg;
  std::shared_ptr<const Index> one;
};
Scenario MakeScenario(Generator& gen, uint32_t num_cases, int num_writes, int dim) {
  Scenario s;
  for (uint32_t n = 0; n < num_cases; ++n) s.base_cases[CaseId(n * 2)] = gen.MakeCase(CaseId(n * 2));
  s.live = s.base_cases;
  uint32_t next_id = num_cases * 2;
  RandomWrites(gen, num_writes, &next_id, &s.live);
  s.seg = Segmented(s.base_cases, BuildIndex(s.base_cases, Cities(), dim), s.live, dim);
  s.one = BuildIndex(s.live, Cities(), dim);
  return s;
}

// Returns how many searches the segments' ranking differed in from the
// base's alone (the writes matter, else this tests nothing).
int CheckSegmentedEqualsOneIndex(uint32_t seed, int num_cases, int num_writes, int dim) {
  Generator gen(seed, dim);
  Corpus base_cases;
  uint32_t next_id = 0;
  for (; next_id < static_cast<uint32_t>(num_cases); ++next_id) {
    const std::string id = CaseId(next_id * 2);
    base_cases[id] = gen.MakeCase(id);
  }
  const std::shared_ptr<const Index> base = BuildIndex(base_cases, Cities(), dim);
  Corpus live = base_cases;
  next_id *= 2;
  std::shared_ptr<const SegmentedIndex> seg;
  int differed = 0;
  const size_t ks[] = {1, 10, 100, 256};
  for (int round = 0; round < 4; ++round) {
    RandomWrites(gen, num_writes, &next_id, &live);
    seg = Segmented(base_cases, base, live, dim, seg.get());
    const std::shared_ptr<const Index> one = BuildIndex(live, Cities(), dim);
    EXPECT_EQ(seg->num_cases(), one->size());
    for (int trial = 0; trial < 12; ++trial) {
      const IndexQuery q = gen.Query(1 + trial % 9, 2 + (trial * 7) % 60);
      StructuredQuery structured;
      if (trial % 3 == 1) structured.themes = 1u << (trial % 7), structured.sdgs = 1u << 3;
      ScoreWeights weights;
      weights.depth = trial % 4 == 0 ? 10 : 100;
      if (trial % 5 == 2) {  // boosts by case id, of both signs, some on dead cases
        auto boosts = std::make_shared<CaseBoosts>();
        for (const auto& [id, c] : base_cases) {
          if (gen.rng()() % 9 == 0) boosts->emplace_back(id, (gen.rng()() % 100) / 20.0f - 2.0f);
        }
        for (const auto& [id, c] : live) {
          if (gen.rng()() % 40 == 0 && !base_cases.count(id)) boosts->emplace_back(id, 3.0f);
        }
        std::sort(boosts->begin(), boosts->end());
        boosts->erase(std::unique(boosts->begin(), boosts->end(),
                                  [](const auto& a, const auto& b) { return a.first == b.first; }),
                      boosts->end());
        weights.boosts = std::move(boosts);
      }
      const int filter = trial % 3;  // none, Match's, another
      const std::vector<bool> keep_seg =
          filter == 0 ? std::vector<bool>()
                      : Filter(*seg, seg->num_positions(), filter,
                               [&](uint32_t d) { return seg->live(d); });
      const std::vector<bool> keep_one =
          filter == 0 ? std::vector<bool>() : Filter(*one, one->size(), filter, kAllLive);
      const size_t k = ks[trial % 4];
      const std::string where = "seed " + std::to_string(seed) + " round " +
                                std::to_string(round) + " trial " + std::to_string(trial);
      const std::vector<Hit> got = seg->Search(q, structured, keep_seg, weights, k);
      const std::vector<Hit> want = one->Search(q, structured, keep_one, weights, k);
      ExpectSameHits(*seg, got, *one, want, where);
      // The reference itself: the exhaustive ranking of the one index.
      ExpectSameHits(*seg, got, *one, one->SearchExhaustive(q, structured, keep_one, weights, k),
                     where + " (exhaustive)");
      const std::vector<bool> base_keep =
          filter == 0 ? std::vector<bool>() : Filter(*base, base->size(), filter, kAllLive);
      const std::vector<Hit> stale = base->Search(q, structured, base_keep, weights, k);
      bool same = stale.size() == want.size();
      for (size_t i = 0; same && i < want.size(); ++i) {
        same = base->doc(stale[i].doc).case_id == one->doc(want[i].doc).case_id &&
               stale[i].score == want[i].score;
      }
      differed += same ? 0 : 1;
    }
  }
  return differed;
}

TEST(SegmentedIndex, RanksAsOneIndexOverTheLiveCases) {
  EXPECT_GE(CheckSegmentedEqualsOneIndex(1, 600, 60, 16), 40);
}

TEST(SegmentedIndex, RanksAsOneIndexAcrossPrunedWindows) {
  // A base of more than one pruning window (4,096 cases) with 8-bit dense
  // codes (2,048 cases and up), and a delta of several hundred.
  EXPECT_GE(CheckSegmentedEqualsOneIndex(2, 9000, 300, 16), 40);
}

TEST(SegmentedIndex, RanksAsOneIndexWithoutDenseVectors) {
  EXPECT_GE(CheckSegmentedEqualsOneIndex(3, 3000, 200, 0), 40);
}

TEST(SegmentedIndex, RanksAsOneIndexWhenFewCasesScore) {
  // Queries of one rare term: fewer than `depth` cases score above zero,
  // so the candidate set is filled with zero-score cases in id order,
  // across both segments.
  Generator gen(4, 8);
  const Scenario s = MakeScenario(gen, 800, 120, 8);
  const auto& seg = s.seg;
  const auto& one = s.one;
  for (int trial = 0; trial < 16; ++trial) {
    IndexQuery q;
    q.words = {{kTerms - 1 - trial, 1.0f}};
    q.grams = {{kTerms - 50 - trial, 2.0f}};
    if (trial % 2 == 0) q.dense = gen.Query(1, 1).dense;
    ExpectSameHits(*seg, seg->Search(q, {}, {}, ScoreWeights(), 50), *one,
                   one->Search(q, {}, {}, ScoreWeights(), 50), "rare " + std::to_string(trial));
  }
}

TEST(SegmentedIndex, ReadsAsOneIndexOverTheLiveCases) {
  Generator gen(5, 8);
  const Scenario s = MakeScenario(gen, 500, 150, 8);
  const auto& seg = s.seg;
  const auto& one = s.one;
  const Corpus& live = s.live;

  // The live positions, in id order, are one index's positions.
  std::vector<uint32_t> order;
  seg->ForEachLiveInIdOrder([&](uint32_t d) { order.push_back(d); });
  ASSERT_EQ(order.size(), one->size());
  size_t live_positions = 0, challenges = 0, solutions = 0;
  for (uint32_t d = 0; d < seg->num_positions(); ++d) live_positions += seg->live(d);
  EXPECT_EQ(live_positions, one->size());
  for (uint32_t i = 0; i < one->size(); ++i) {
    const uint32_t d = order[i];
    const std::string& id = one->doc(i).case_id;
    EXPECT_EQ(seg->doc(d).case_id, id);
    EXPECT_EQ(seg->CasePosition(id), static_cast<int>(d));
    EXPECT_EQ(&seg->entry(d), &one->entry(i));
    EXPECT_EQ(seg->attributes(d).year, one->attributes(i).year);
    EXPECT_EQ(seg->city_of(d).id, one->city_of(i).id);
    EXPECT_EQ(seg->city_of(d).country, one->city_of(i).country);
    EXPECT_EQ(seg->cities()[seg->city_position(d)].id, one->city_of(i).id);
    EXPECT_TRUE(std::equal(seg->dense_row(d), seg->dense_row(d) + 8, one->dense_row(i))) << id;
    const SparseIds words = {{1, 1.0f}, {5, 2.0f}, {30, 1.0f}};
    EXPECT_EQ(seg->Contributions(words, d), one->Contributions(words, i));
    challenges += one->attributes(i).kind == v1::CASE_KIND_CHALLENGE;
    solutions += one->attributes(i).kind == v1::CASE_KIND_SOLUTION;
  }
  EXPECT_EQ(seg->num_challenges(), challenges);
  EXPECT_EQ(seg->num_solutions(), solutions);
  // Deleted and replaced cases' old positions are not found.
  for (const uint32_t t : seg->tombstones()) {
    EXPECT_FALSE(seg->live(t));
    const std::string& id = seg->doc(t).case_id;
    EXPECT_NE(seg->CasePosition(id), static_cast<int>(t)) << id;
    EXPECT_EQ(seg->CasePosition(id) >= 0, live.count(id) > 0) << id;
  }
  ASSERT_FALSE(seg->tombstones().empty());
  // The same cities, placeholders for unknown ones included.
  std::set<std::string> seg_cities, one_cities;
  for (const CityInfo& c : seg->cities()) seg_cities.insert(c.id);
  for (const CityInfo& c : one->cities()) one_cities.insert(c.id);
  EXPECT_EQ(seg_cities, one_cities);
  EXPECT_EQ(seg->CityPosition("city-3") >= 0, true);
  EXPECT_EQ(seg->CityPosition("nowhere"), -1);
}

}  // namespace
}  // namespace peermatch
