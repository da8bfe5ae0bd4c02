// Random cases, corpora and queries for the index's tests (fixed seeds):
// term ids skewed towards small ones (a few common terms, a long tail, as in
// text), some cases without words, grams or a dense vector, a few naming a
// city no table knows. Test-only.
#ifndef PEERMATCH_INDEX_TESTING_RANDOM_CASES_H_
#define PEERMATCH_INDEX_TESTING_RANDOM_CASES_H_

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "index/index.h"
#include "index/segmented_index.h"

namespace peermatch::testing {

inline constexpr uint32_t kTerms = 2000;  // term ids are below this

// A case as a corpus holds it: its entry and its dense vector (empty: none).
struct Case {
  std::shared_ptr<const IndexEntry> entry;
  std::vector<float> dense;
};
using Corpus = std::map<std::string, Case>;  // by case id

// "case-000042": ids in numeric order.
inline std::string CaseId(uint32_t n) {
  char id[32];
  std::snprintf(id, sizeof id, "case-%06u", n);
  return id;
}

// Draws cases and queries; `dim` 0: no dense vectors.
class Generator {
 public:
  Generator(uint32_t seed, int dim) : rng_(seed), dim_(dim) {}

  // Term ids skewed towards small ones (common terms), as in text.
  SparseIds Terms(int count, float max_weight) {
    std::map<uint32_t, float> out;
    std::uniform_real_distribution<float> weight(0.05f, max_weight);
    for (int i = 0; i < count; ++i) {
      const double u = std::uniform_real_distribution<double>(0, 1)(rng_);
      out[static_cast<uint32_t>(std::pow(double{kTerms}, u)) - 1] = weight(rng_);
    }
    return SparseIds(out.begin(), out.end());
  }

  Case MakeCase(const std::string& id) {
    auto e = std::make_shared<IndexEntry>();
    e->info.case_id = id;
    e->info.city_id = "city-" + std::to_string(rng_() % 40);
    if (rng_() % 50 == 0) e->info.city_id = "unknown-" + std::to_string(rng_() % 3);
    e->info.kind = rng_() % 3 == 0 ? v1::CASE_KIND_CHALLENGE : v1::CASE_KIND_SOLUTION;
    e->info.themes = 1u << (rng_() % 7);
    e->info.sdgs = 1u << (1 + rng_() % 17);
    e->info.year = 2000 + static_cast<int>(rng_() % 25);
    if (rng_() % 9 != 0) e->words = Terms(1 + static_cast<int>(rng_() % 20), 4.0f);
    if (rng_() % 11 != 0) e->grams = Terms(1 + static_cast<int>(rng_() % 50), 2.0f);
    Case c;
    if (dim_ > 0 && rng_() % 13 != 0) {  // some have no dense vector (a zero row)
      std::normal_distribution<float> normal;
      c.dense.resize(dim_);
      float norm = 0;
      for (float& x : c.dense) x = normal(rng_), norm += x * x;
      for (float& x : c.dense) x /= std::sqrt(norm);
    }
    c.entry = std::move(e);
    return c;
  }

  IndexQuery Query(int words, int grams) {
    IndexQuery q;
    q.words = Terms(words, 3.0f);
    for (auto& [t, c] : q.words) c = rng_() % 4 == 0 ? 0.5f : 1.0f + rng_() % 3;
    q.grams = Terms(grams, 1.0f);
    for (auto& [t, c] : q.grams) c = 1.0f + rng_() % 2;
    if (dim_ > 0) {
      std::normal_distribution<float> normal;
      q.dense.resize(dim_);
      for (int i = 0; i < dim_; ++i) q.dense(i) = normal(rng_);
      q.dense.normalize();
    }
    return q;
  }

  std::mt19937& rng() { return rng_; }

 private:
  std::mt19937 rng_;
  const int dim_;
};

// 40 cities in id order ("city-0" .. "city-39"), a third in "it".
inline std::vector<CityInfo> Cities() {
  std::vector<CityInfo> cities;
  for (int c = 0; c < 40; ++c) {
    CityInfo info{"city-" + std::to_string(c), c % 3 == 0 ? "it" : "fr",
                  c % 2 == 0 ? v1::REGION_EUROPE_NORTH_AMERICA : v1::REGION_AFRICA, nullptr};
    info.city = std::make_shared<v1::City>();
    cities.push_back(std::move(info));
  }
  std::sort(cities.begin(), cities.end(),
            [](const CityInfo& a, const CityInfo& b) { return a.id < b.id; });
  return cities;
}

// One index over `cases` (in id order), as the engine builds one.
inline std::shared_ptr<const Index> BuildIndex(const Corpus& cases, std::vector<CityInfo> cities,
                                        int dim) {
  std::vector<std::shared_ptr<const IndexEntry>> entries;
  std::vector<const float*> rows;
  for (const auto& [id, c] : cases) {
    entries.push_back(c.entry);
    rows.push_back(c.dense.empty() ? nullptr : c.dense.data());
  }
  return Index::Build(std::move(entries), rows, std::move(cities), kTerms, dim);
}

// Hits of a segmented index equal one index's, bit for bit.
inline void ExpectSameHits(const SegmentedIndex& seg, const std::vector<Hit>& got, const Index& one,
                    const std::vector<Hit>& want, const std::string& where) {
  ASSERT_EQ(got.size(), want.size()) << where;
  for (size_t i = 0; i < got.size(); ++i) {
    // Bit for bit: the same floats, not merely close ones.
    EXPECT_EQ(seg.doc(got[i].doc).case_id, one.doc(want[i].doc).case_id) << where << " rank " << i;
    EXPECT_EQ(got[i].score, want[i].score) << where << " rank " << i;
    EXPECT_EQ(got[i].lexical, want[i].lexical) << where << " rank " << i;
    EXPECT_EQ(got[i].subword, want[i].subword) << where << " rank " << i;
    EXPECT_EQ(got[i].semantic, want[i].semantic) << where << " rank " << i;
    EXPECT_EQ(got[i].structure, want[i].structure) << where << " rank " << i;
    EXPECT_EQ(got[i].z_lexical, want[i].z_lexical) << where << " rank " << i;
    EXPECT_EQ(got[i].z_subword, want[i].z_subword) << where << " rank " << i;
    EXPECT_EQ(got[i].z_semantic, want[i].z_semantic) << where << " rank " << i;
    EXPECT_EQ(got[i].boost, want[i].boost) << where << " rank " << i;
  }
}

// Applies `n` random writes to `live`: new cases, replaced ones, deletions.
inline void RandomWrites(Generator& gen, int n, uint32_t* next_id, Corpus* live) {
  for (int i = 0; i < n; ++i) {
    const uint32_t op = gen.rng()() % 10;
    if (op < 4 || live->empty()) {  // a new case, its id anywhere among the old ones
      const std::string id = CaseId(gen.rng()() % (*next_id + 1)) + "n" + std::to_string(i);
      (*live)[id] = gen.MakeCase(id);
    } else {
      auto it = live->begin();
      std::advance(it, gen.rng()() % live->size());
      if (op < 7) {
        it->second = gen.MakeCase(it->first);  // replaced
      } else {
        live->erase(it);
      }
    }
  }
  *next_id += n;
}

// A base built over `base`, then the changes of `live` against it: the
// delta holds every live case that is not the base's, the tombstones every
// base case that is not live any more (deleted or replaced).
inline std::shared_ptr<const SegmentedIndex> Segmented(const Corpus& base_cases,
                                                std::shared_ptr<const Index> base,
                                                const Corpus& live, int dim,
                                                const SegmentedIndex* previous = nullptr) {
  SegmentedIndex::Parts parts;
  parts.base = std::move(base);
  Corpus delta;
  for (const auto& [id, c] : live) {
    auto it = base_cases.find(id);
    if (it == base_cases.end() || it->second.entry != c.entry) delta.emplace(id, c);
  }
  for (const auto& [id, c] : base_cases) {
    auto it = live.find(id);
    if (it == live.end() || it->second.entry != c.entry) {
      parts.tombstones.push_back(static_cast<uint32_t>(parts.base->CasePosition(id)));
    }
  }
  parts.delta = BuildIndex(delta, {}, dim);
  parts.cities = CityTable::Make(Cities());
  return SegmentedIndex::Make(std::move(parts), previous);
}

}  // namespace peermatch::testing

#endif  // PEERMATCH_INDEX_TESTING_RANDOM_CASES_H_
