// Engine::PairCities against a brute-force reference: on a cohort of five
// cities, every assignment of the candidate pairs is enumerated and the
// best total score (and, covering first, the most cities matched) is
// compared with what PairCities returns; and cancellation.
#include <map>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "engine/engine.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_engine.h"

namespace peermatch {
namespace {

using testing::StatusIs;

constexpr int kCities = 5;
const char* const kWords[] = {"school",  "pupils",  "tablets",  "internet", "radio",
                              "lessons", "seniors", "library",  "mobile",   "teachers",
                              "parents", "literacy", "digital", "reading",  "garden"};

const char* const kCountries[kCities] = {"FR", "IT", "CN", "BR", "CO"};

std::string CityId(int i) { return "city-" + std::to_string(i); }

// Words drawn from one shared vocabulary, so that every city's challenges
// match other cities' solutions to different degrees.
std::string Words(std::mt19937* rng, int n) {
  std::uniform_int_distribution<int> pick(0, std::size(kWords) - 1);
  std::string out;
  for (int i = 0; i < n; ++i) out += std::string(kWords[pick(*rng)]) + " ";
  return out;
}

// A directed candidate: askers[a] -> peer, with its score.
struct Edge {
  int asker, peer;
  double score;
};

struct Reference {
  double total = 0;
  int covered = 0;  // askers with at least one peer
};

// The best assignment of `edges` by enumeration: each asker at most k
// peers, each peer at most `capacity` askers; the largest total, or (cover
// first) the most askers covered and then the largest total.
Reference BestAssignment(const std::vector<Edge>& edges, int k, int capacity, bool cover_first) {
  Reference best{-1, -1};
  for (uint32_t mask = 0; mask < (1u << edges.size()); ++mask) {
    int out[kCities] = {}, in[kCities] = {};
    Reference r;
    bool ok = true;
    for (size_t e = 0; e < edges.size() && ok; ++e) {
      if ((mask >> e & 1) == 0) continue;
      if (out[edges[e].asker]++ == 0) ++r.covered;
      ok = out[edges[e].asker] <= k && ++in[edges[e].peer] <= capacity;
      r.total += edges[e].score;
    }
    if (!ok) continue;
    const bool better = cover_first ? std::make_pair(r.covered, r.total) >
                                          std::make_pair(best.covered, best.total)
                                    : r.total > best.total;
    if (better) best = r;
  }
  return best;
}

// The best 1:1 twinning of unordered `edges` (asker < peer) by enumeration.
double BestMatching(const std::vector<Edge>& edges) {
  double best = 0;
  for (uint32_t mask = 0; mask < (1u << edges.size()); ++mask) {
    int used = 0;
    double total = 0;
    bool ok = true;
    for (size_t e = 0; e < edges.size() && ok; ++e) {
      if ((mask >> e & 1) == 0) continue;
      const int both = (1 << edges[e].asker) | (1 << edges[e].peer);
      ok = (used & both) == 0;
      used |= both;
      total += edges[e].score;
    }
    if (ok) best = std::max(best, total);
  }
  return best;
}

class PairCitiesReferenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(engine_, nullptr);
    std::mt19937 rng(20261201);
    for (int i = 0; i < kCities; ++i) {
      v1::City city;
      city.set_id(CityId(i));
      city.set_name(city.id());
      city.set_country(kCountries[i]);
      city.set_region(v1::REGION_EUROPE_NORTH_AMERICA);
      const auto put_city = engine_->PutCity(city);
      ASSERT_TRUE(put_city.ok()) << put_city.status();
      for (int j = 0; j < 4; ++j) {
        v1::Case c;
        c.set_id(city.id() + "-case-" + std::to_string(j));
        c.set_city_id(city.id());
        c.set_kind(j < 2 ? v1::CASE_KIND_CHALLENGE : v1::CASE_KIND_SOLUTION);
        c.set_title(Words(&rng, 3));
        c.set_description(Words(&rng, 12));
        c.add_themes(v1::THEME_INCLUSIVE_EDUCATION);
        const auto put_case = engine_->PutCase(c);
        ASSERT_TRUE(put_case.ok()) << put_case.status();
      }
    }
    ASSERT_TRUE(engine_->Refit().ok());
    Scores();
  }

  // Every directed pair's candidate score, from one pairing that keeps
  // them all (a kept pair that no challenge matches has no candidate).
  void Scores() {
    PairingQuery query;
    query.k = kCities - 1;
    query.capacity = kCities - 1;
    for (int a = 0; a < kCities; ++a) {
      for (int p = 0; p < kCities; ++p) {
        if (a == p) continue;
        query.keep.push_back({CityId(a), CityId(p)});
      }
    }
    auto all = engine_->PairCities(query);
    ASSERT_TRUE(all.ok()) << all.status();
    ASSERT_EQ(all->pairs.size(), static_cast<size_t>(kCities * (kCities - 1)));
    for (const PairedCities& pair : all->pairs) {
      if (!pair.forward.has_value()) continue;
      score_[{pair.asking_city_id.back() - '0', pair.peer_city_id.back() - '0'}] = pair.score;
    }
  }

  // The directed pairs PairCities may choose from (min_score 0).
  std::vector<Edge> Directed() const {
    std::vector<Edge> edges;
    for (const auto& [key, score] : score_) {
      if (score >= 0) edges.push_back({key.first, key.second, score});
    }
    return edges;
  }

  testing::TempDir dir_;
  testing::TestEngine opened_{dir_.Sub("db")};
  Engine* const engine_ = opened_.engine.get();
  std::map<std::pair<int, int>, double> score_;  // (asker, peer) -> candidate score
};

TEST_F(PairCitiesReferenceTest, AssignmentIsOptimalAgainstEnumeration) {
  const std::vector<Edge> edges = Directed();
  ASSERT_GE(edges.size(), 10u);  // a cohort with choices to make
  for (int k : {1, 2}) {
    for (int capacity : {1, 2}) {
      for (bool score_only : {false, true}) {
        SCOPED_TRACE(::testing::Message() << "k " << k << ", capacity " << capacity
                                          << (score_only ? ", score only" : ", cover first"));
        PairingQuery query;
        query.k = k;
        query.capacity = capacity;
        query.score_only = score_only;
        auto result = engine_->PairCities(query);
        ASSERT_TRUE(result.ok()) << result.status();
        const Reference ref = BestAssignment(edges, k, capacity, !score_only);
        // The solvers optimize round(score * 1e6): within 1e-6 per pair.
        EXPECT_NEAR(result->summary.total_score, ref.total, 1e-6 * kCities * k);
        if (!score_only) EXPECT_EQ(result->summary.matched_cities, ref.covered);
        double total = 0;
        for (const PairedCities& p : result->pairs) {
          total += p.score;
          EXPECT_DOUBLE_EQ(p.score, score_.at({p.asking_city_id.back() - '0',
                                               p.peer_city_id.back() - '0'}));
        }
        EXPECT_NEAR(total, result->summary.total_score, 1e-9);
      }
    }
  }
}

TEST_F(PairCitiesReferenceTest, MutualTwinningIsOptimalAgainstEnumeration) {
  // Each direction counts max(0, its score); directions below min_score (0)
  // are pruned, which max(0, .) already gives.
  std::vector<Edge> edges;
  for (int a = 0; a < kCities; ++a) {
    for (int p = a + 1; p < kCities; ++p) {
      const auto forward = score_.find({a, p});
      const auto reverse = score_.find({p, a});
      const bool has_forward = forward != score_.end() && forward->second >= 0;
      const bool has_reverse = reverse != score_.end() && reverse->second >= 0;
      if (!has_forward && !has_reverse) continue;
      edges.push_back({a, p, (has_forward ? forward->second : 0) +
                                 (has_reverse ? reverse->second : 0)});
    }
  }
  PairingQuery query;
  query.mutual = true;
  auto result = engine_->PairCities(query);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_NEAR(result->summary.total_score, BestMatching(edges), 1e-6 * kCities);
  EXPECT_LE(result->pairs.size(), static_cast<size_t>(kCities / 2));
}

TEST_F(PairCitiesReferenceTest, DomainErrorsNameTheQueryField) {
  PairingQuery zero_k;
  zero_k.k = 0;  // the wire's 0 is the mapping's to turn into the default
  EXPECT_THAT(engine_->PairCities(zero_k),
              StatusIs(absl::StatusCode::kInvalidArgument, "query.k: 0 is outside 1-20"));
  PairingQuery self;
  self.keep = {{CityId(0), CityId(1)}, {CityId(2), CityId(2)}};
  EXPECT_THAT(engine_->PairCities(self),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "query.keep[1]: a city cannot be its own peer"));
  PairingQuery unknown;
  unknown.city_ids = {CityId(0), "atlantis"};
  EXPECT_THAT(engine_->PairCities(unknown),
              StatusIs(absl::StatusCode::kNotFound, "city_ids[1]: no city with id \"atlantis\""));
  PairingQuery unknown_peer;
  unknown_peer.avoid = {{CityId(0), "atlantis"}};
  EXPECT_THAT(engine_->PairCities(unknown_peer),
              StatusIs(absl::StatusCode::kNotFound,
                       "avoid[0].peer_city_id: no city with id \"atlantis\""));
  PairingQuery too_many_kept;
  too_many_kept.k = 1;
  too_many_kept.keep = {{CityId(0), CityId(1)}, {CityId(0), CityId(2)}};
  EXPECT_THAT(engine_->PairCities(too_many_kept),
              StatusIs(absl::StatusCode::kFailedPrecondition, ::testing::StartsWith("keep: ")));
}

TEST_F(PairCitiesReferenceTest, CancelledPairingReturnsCancelled) {
  Cancellation cancel;
  cancel.Cancel();
  EXPECT_THAT(engine_->PairCities(PairingQuery(), nullptr, &cancel),
              StatusIs(absl::StatusCode::kCancelled));
  // Cancelled at the first progress report, before any asker is scored.
  Cancellation during;
  std::vector<int64_t> reported;
  auto result = engine_->PairCities(
      PairingQuery(),
      [&](const PairingProgress& p) {
        reported.push_back(p.done);
        during.Cancel();
      },
      &during);
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kCancelled,
                               ::testing::HasSubstr("0 of 5 asking cities scored")));
  EXPECT_EQ(reported, std::vector<int64_t>{0});
}

TEST_F(PairCitiesReferenceTest, ProgressRunsFromZeroToEveryAsker) {
  std::vector<int64_t> done;
  auto result = engine_->PairCities(PairingQuery(), [&](const PairingProgress& p) {
    EXPECT_EQ(p.stage, "scoring");
    EXPECT_EQ(p.total, kCities);
    done.push_back(p.done);
  });
  ASSERT_TRUE(result.ok());
  ASSERT_GE(done.size(), 2u);
  EXPECT_EQ(done.front(), 0);
  EXPECT_EQ(done.back(), kCities);
  EXPECT_TRUE(std::is_sorted(done.begin(), done.end()));
}

}  // namespace
}  // namespace peermatch
