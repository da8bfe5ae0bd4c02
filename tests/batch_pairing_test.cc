// Batch pairing on the demo data, through the engine (with the service's
// request mapping around it) and through the `peermatch pair` command:
// every constraint holds, every city with a challenge and a feasible peer
// is paired, and each city left out is explained.
#include <cstdio>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/request_mapping.h"
#include "tests/testing/test_server.h"

namespace peermatch {
namespace {

using ::testing::HasSubstr;
using testing::TestServer;
using testing::TestServerOptions;

// A pairing as the service streams it: the pairs, then the summary.
struct WirePairing {
  std::vector<v1::Pair> pairs;
  v1::PairingSummary summary;
};

class PairingTest : public ::testing::Test {
 protected:
  // `req` mapped as the service maps it, paired by the engine, and the
  // result mapped back.
  static absl::StatusOr<WirePairing> PairCities(const v1::PairCitiesRequest& req) {
    absl::StatusOr<PairingQuery> query = ToPairingQuery(req);
    if (!query.ok()) return query.status();
    absl::StatusOr<PairingResult> result = engine().PairCities(*query);
    if (!result.ok()) return result.status();
    WirePairing out;
    for (PairedCities& pair : result->pairs) out.pairs.push_back(ToPair(std::move(pair)));
    out.summary = ToPairingSummary(result->summary, *query);
    return out;
  }
  static void SetUpTestSuite() {
    TestServerOptions options;
    options.demo_data = true;
    server_ = new TestServer(options);
  }
  static void TearDownTestSuite() { delete server_; }
  static Engine& engine() { return server_->engine(); }
  static TestServer* server_;
};
TestServer* PairingTest::server_ = nullptr;

// Checks every constraint of `req` on `result`; returns the asking cities
// that have at least one candidate peer meeting the exclusions.
void CheckConstraints(const v1::PairCitiesRequest& req, const WirePairing& result,
                      Store& store) {
  const int k = req.k() == 0 ? 3 : req.k();
  const int capacity = req.capacity() == 0 ? 3 : req.capacity();
  std::map<std::string, int> asks, serves;
  std::set<std::pair<std::string, std::string>> seen;
  double total = 0;
  for (const v1::Pair& p : result.pairs) {
    EXPECT_TRUE(seen.insert({p.asking_city_id(), p.peer_city_id()}).second) << "pair twice";
    EXPECT_NE(p.asking_city_id(), p.peer_city_id());
    ++asks[p.asking_city_id()];
    ++serves[p.peer_city_id()];
    total += p.score();
    const auto asker = store.GetCity(p.asking_city_id());
    const auto peer = store.GetCity(p.peer_city_id());
    ASSERT_TRUE(asker.ok() && peer.ok());
    if (req.exclude_same_country()) EXPECT_NE(asker->country(), peer->country());
    for (const auto& a : req.avoid()) {
      EXPECT_FALSE(a.asking_city_id() == p.asking_city_id() && a.peer_city_id() == p.peer_city_id());
    }
    if (!p.kept()) EXPECT_GE(p.score(), req.min_score());
    if (!p.challenge_id().empty()) {
      const auto challenge = store.GetCase(p.challenge_id());
      const auto solution = store.GetCase(p.solution_id());
      ASSERT_TRUE(challenge.ok() && solution.ok());
      EXPECT_EQ(challenge->city_id(), p.asking_city_id());
      EXPECT_EQ(challenge->kind(), v1::CASE_KIND_CHALLENGE);
      EXPECT_EQ(solution->city_id(), p.peer_city_id());
      EXPECT_EQ(solution->kind(), v1::CASE_KIND_SOLUTION);
      EXPECT_FALSE(p.shared_terms().empty());
    }
  }
  for (const auto& [city, n] : asks) EXPECT_LE(n, k) << city;
  for (const auto& [city, n] : serves) EXPECT_LE(n, capacity) << city;
  for (const auto& keep : req.keep()) {
    EXPECT_TRUE(seen.count({keep.asking_city_id(), keep.peer_city_id()})) << "keep dropped";
  }
  EXPECT_NEAR(result.summary.total_score(), total, 1e-6);
  EXPECT_EQ(result.summary.pairs(), static_cast<int>(result.pairs.size()));
  EXPECT_EQ(result.summary.matched_cities() + result.summary.unmatched_size(),
            result.summary.asking_cities());
  for (const auto& u : result.summary.unmatched()) {
    EXPECT_FALSE(u.reason().empty()) << u.city_id();
    EXPECT_EQ(asks.count(u.city_id()), 0u);
    EXPECT_EQ(u.peers(), 0);
  }
  // Issue 12: fewer_peers is exactly the asking cities with 1 to k-1 peers,
  // each with the number it got and a reason.
  std::map<std::string, int> fewer;
  for (const auto& [city, n] : asks) {
    if (n < (req.mutual() ? 1 : k)) fewer[city] = n;
  }
  std::map<std::string, int> reported;
  for (const auto& u : result.summary.fewer_peers()) {
    EXPECT_FALSE(u.reason().empty()) << u.city_id();
    reported[u.city_id()] = u.peers();
  }
  EXPECT_EQ(reported, fewer);
  EXPECT_EQ(result.summary.fully_matched_cities() + result.summary.fewer_peers_size(),
            result.summary.matched_cities());
}

TEST_F(PairingTest, DemoDataPairsEveryCityThatHasAFeasiblePeer) {
  v1::PairCitiesRequest req;
  req.set_k(3);
  req.set_capacity(3);
  req.set_exclude_same_country(true);
  auto result = PairCities(req);
  ASSERT_TRUE(result.ok()) << result.status();
  CheckConstraints(req, *result, server_->store());
  EXPECT_GT(result->summary.asking_cities(), 80);
  // A feasible peer: any other-country city with a matching solution. The
  // summary says which cities have none; every other asking city is paired.
  for (const auto& u : result->summary.unmatched()) {
    EXPECT_THAT(u.reason(), HasSubstr("no solution")) << u.city_id() << ": " << u.reason();
  }
  EXPECT_EQ(result->summary.matched_cities(), result->summary.asking_cities() -
                                                  result->summary.unmatched_size());
  // Deterministic.
  auto again = PairCities(req);
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->pairs.size(), result->pairs.size());
  for (size_t i = 0; i < result->pairs.size(); ++i) {
    EXPECT_EQ(again->pairs[i].SerializeAsString(), result->pairs[i].SerializeAsString());
  }
}

TEST_F(PairingTest, AvoidKeepMinScoreAndCohort) {
  v1::PairCitiesRequest req;
  req.set_k(2);
  req.set_capacity(2);
  req.set_min_score(1.5);
  auto* keep = req.add_keep();
  keep->set_asking_city_id("wuhan");
  keep->set_peer_city_id("fermo");  // whatever its score
  auto* avoid = req.add_avoid();
  avoid->set_asking_city_id("bahir-dar");
  avoid->set_peer_city_id("kashan");
  auto result = PairCities(req);
  ASSERT_TRUE(result.ok()) << result.status();
  CheckConstraints(req, *result, server_->store());

  v1::PairCitiesRequest cohort;
  cohort.add_regions(v1::REGION_AFRICA);
  auto african = PairCities(cohort);
  ASSERT_TRUE(african.ok());
  for (const auto& p : african->pairs) {
    EXPECT_EQ(server_->store().GetCity(p.asking_city_id())->region(), v1::REGION_AFRICA);
    EXPECT_EQ(server_->store().GetCity(p.peer_city_id())->region(), v1::REGION_AFRICA);
  }
}

TEST_F(PairingTest, MutualTwinningIsOneToOneAndScoredBothWays) {
  v1::PairCitiesRequest req;
  req.set_mutual(true);
  req.set_exclude_same_country(true);
  auto result = PairCities(req);
  ASSERT_TRUE(result.ok()) << result.status();
  std::set<std::string> cities;
  for (const auto& p : result->pairs) {
    EXPECT_TRUE(cities.insert(p.asking_city_id()).second) << p.asking_city_id() << " twice";
    EXPECT_TRUE(cities.insert(p.peer_city_id()).second) << p.peer_city_id() << " twice";
    // Both directions count: the pair's score is their (non-negative) sum.
    EXPECT_GE(p.score(), std::max(0.0, p.reverse_score()) - 1e-6);
    EXPECT_FALSE(p.challenge_id().empty() && p.reverse_challenge_id().empty());
  }
  EXPECT_GT(result->pairs.size(), 20u);
}

// Issue 12: a city that got some peers but fewer than k carries the
// server's reason, and the reason is the true one.
TEST_F(PairingTest, CitiesWithFewerPeersCarryTheServersReason) {
  // Capacity 1: peers fill up. A kept candidate with room and a score of 0
  // or more would raise the total, so every one left over is at capacity.
  v1::PairCitiesRequest tight;
  tight.set_k(3);
  tight.set_capacity(1);
  auto result = PairCities(tight);
  ASSERT_TRUE(result.ok()) << result.status();
  CheckConstraints(tight, *result, server_->store());
  ASSERT_GT(result->summary.fewer_peers_size(), 10);
  int at_capacity = 0;
  std::string reasons;
  for (const auto& u : result->summary.fewer_peers()) {
    EXPECT_THAT(u.reason(), ::testing::Not(HasSubstr("lower the total"))) << u.city_id();
    if (u.reason().find("at capacity (1 asker each)") != std::string::npos) ++at_capacity;
    reasons += u.city_id() + " " + std::to_string(u.peers()) + ": " + u.reason() + "\n";
  }
  EXPECT_GT(at_capacity, 10) << reasons;

  // Room for everyone (capacity 1000), a high min_score: what stops a city
  // is the bar, never capacity.
  v1::PairCitiesRequest high;
  high.set_k(20);
  high.set_capacity(1000);
  high.set_min_score(2.0);
  result = PairCities(high);
  ASSERT_TRUE(result.ok()) << result.status();
  CheckConstraints(high, *result, server_->store());
  ASSERT_GT(result->summary.fewer_peers_size(), 10);
  for (const auto& u : result->summary.fewer_peers()) {
    EXPECT_THAT(u.reason(), ::testing::Not(HasSubstr("capacity"))) << u.city_id();
    EXPECT_THAT(u.reason(), ::testing::AnyOf(HasSubstr("score below min_score 2.00"),
                                             HasSubstr("scores below min_score 2.00"),
                                             HasSubstr("no other cohort city")))
        << u.city_id() << ": " << u.reason();
  }
}

TEST_F(PairingTest, KeptPairsBeyondTheLimitsAreRefused) {
  v1::PairCitiesRequest req;
  req.set_k(1);
  for (const char* peer : {"fermo", "turin"}) {
    auto* keep = req.add_keep();
    keep->set_asking_city_id("wuhan");
    keep->set_peer_city_id(peer);
  }
  auto result = PairCities(req);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
  v1::PairCitiesRequest bad;
  bad.set_k(21);
  EXPECT_EQ(PairCities(bad).status().code(), absl::StatusCode::kInvalidArgument);
  bad.set_k(3);
  bad.add_city_ids("atlantis");
  EXPECT_EQ(PairCities(bad).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(PairingTest, PairCommandWritesCsvWithExplanations) {
  const std::string cmd = std::string(PEERMATCH_BIN_DIR) + "/peermatch --server " +
                          server_->address() +
                          " pair --k 3 --capacity 3 --exclude-same-country --format csv 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  std::string csv;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) csv.append(buf, n);
  ASSERT_EQ(pclose(p), 0);
  std::istringstream lines(csv);
  std::string header;
  std::getline(lines, header);
  EXPECT_EQ(header.rfind("asking_city,peer_city,score,", 0), 0u) << header;
  int rows = 0;
  for (std::string line; std::getline(lines, line);) {
    const std::vector<std::string> cols = absl::StrSplit(line, ',');
    ASSERT_GE(cols.size(), 5u);
    EXPECT_TRUE(server_->store().GetCity(cols[0]).ok()) << cols[0];
    EXPECT_TRUE(server_->store().GetCity(cols[1]).ok()) << cols[1];
    ++rows;
  }
  v1::PairCitiesRequest req;
  req.set_k(3);
  req.set_capacity(3);
  req.set_exclude_same_country(true);
  EXPECT_EQ(rows, static_cast<int>(PairCities(req)->pairs.size()));
}

}  // namespace
}  // namespace peermatch
