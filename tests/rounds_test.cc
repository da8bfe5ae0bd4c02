// Pairing rounds through a real gRPC server on loopback over RocksDB, on the
// demo data: create, decide, rematch (issue 14's "done when"), validation,
// avoiding earlier rounds, and a backup -> restore round trip.
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "store/backup.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_server.h"

namespace peermatch {
namespace {

using ::testing::HasSubstr;
using testing::StatusIs;
using Key = std::pair<std::string, std::string>;

Key KeyOf(const v1::RoundPair& p) { return {p.pair().asking_city_id(), p.pair().peer_city_id()}; }

bool Active(const v1::RoundPair& p) {
  return p.state() == v1::PAIR_STATE_PROPOSED || p.state() == v1::PAIR_STATE_ACCEPTED;
}

v1::CreateRoundRequest CohortRequest(const std::string& name) {
  v1::CreateRoundRequest req;
  req.set_name(name);
  req.mutable_options()->set_k(3);
  req.mutable_options()->set_capacity(3);
  req.mutable_options()->set_exclude_same_country(true);
  return req;
}

// A client of one server's round calls; failures are returned, not asserted.
class Rounds {
 public:
  explicit Rounds(v1::Peermatch::Stub& stub) : stub_(stub) {}

  grpc::Status Create(const v1::CreateRoundRequest& req, v1::Round* out) {
    grpc::ClientContext ctx;
    return stub_.CreateRound(&ctx, req, out);
  }
  v1::Round Get(const std::string& id) {
    grpc::ClientContext ctx;
    v1::GetRoundRequest req;
    req.set_round_id(id);
    v1::Round out;
    EXPECT_TRUE(stub_.GetRound(&ctx, req, &out).ok());
    return out;
  }
  grpc::Status Decide(const std::string& id, const Key& pair, v1::PairState decision,
                      v1::DeclineReason reason = v1::DECLINE_REASON_UNSPECIFIED,
                      v1::DecideRoundPairResponse* out = nullptr, const std::string& comment = "") {
    grpc::ClientContext ctx;
    v1::DecideRoundPairRequest req;
    req.set_round_id(id);
    req.set_asking_city_id(pair.first);
    req.set_peer_city_id(pair.second);
    req.set_decision(decision);
    req.set_reason(reason);
    req.set_comment(comment);
    v1::DecideRoundPairResponse ignored;
    return stub_.DecideRoundPair(&ctx, req, out != nullptr ? out : &ignored);
  }
  grpc::Status Rematch(const std::string& id, v1::RematchRoundResponse* out) {
    grpc::ClientContext ctx;
    v1::RematchRoundRequest req;
    req.set_round_id(id);
    return stub_.RematchRound(&ctx, req, out);
  }
  grpc::Status Close(const std::string& id) {
    grpc::ClientContext ctx;
    v1::CloseRoundRequest req;
    req.set_round_id(id);
    v1::Round out;
    return stub_.CloseRound(&ctx, req, &out);
  }

 private:
  v1::Peermatch::Stub& stub_;
};

// The done-when steps: a round of the demo cohort, 20 pairs accepted and 10
// declined (spread over the list), then a rematch. Returns the rematch's
// answer; *created is the round as created.
struct Steps {
  v1::Round created;
  std::vector<Key> accepted, declined;
  v1::RematchRoundResponse rematch;
};
Steps RunSteps(Rounds& rounds) {
  Steps s;
  EXPECT_TRUE(rounds.Create(CohortRequest("2027 cohort"), &s.created).ok());
  const v1::DeclineReason reasons[] = {v1::DECLINE_REASON_NOT_RELEVANT,
                                       v1::DECLINE_REASON_NO_CAPACITY,
                                       v1::DECLINE_REASON_LANGUAGE};
  for (int i = 0; i < s.created.pairs_size() && s.declined.size() < 10; i += 7) {
    const Key key = KeyOf(s.created.pairs(i));
    EXPECT_TRUE(rounds.Decide(s.created.id(), key, v1::PAIR_STATE_DECLINED,
                              reasons[s.declined.size() % 3]).ok());
    s.declined.push_back(key);
  }
  for (int i = 3; i < s.created.pairs_size() && s.accepted.size() < 20; i += 7) {
    const Key key = KeyOf(s.created.pairs(i));
    EXPECT_TRUE(rounds.Decide(s.created.id(), key, v1::PAIR_STATE_ACCEPTED).ok());
    s.accepted.push_back(key);
  }
  EXPECT_TRUE(rounds.Rematch(s.created.id(), &s.rematch).ok());
  return s;
}

// What must be equal when the same steps run twice: every pair and its
// state, reason and wave (not the times).
std::string Comparable(v1::Round r) {
  r.clear_created_at();
  r.clear_updated_at();
  r.mutable_summary()->clear_scoring_seconds();
  r.mutable_summary()->clear_solving_seconds();
  for (v1::RoundPair& p : *r.mutable_pairs()) p.clear_decided_at();
  return r.DebugString();
}

TEST(RoundsDemo, RematchKeepsAcceptedNeverReturnsDeclinedAndHoldsEveryConstraint) {
  testing::TestServerOptions options;
  options.demo_data = true;
  testing::TestServer server(options);
  Rounds rounds(server.stub());
  const Steps s = RunSteps(rounds);
  ASSERT_EQ(s.declined.size(), 10u);
  ASSERT_EQ(s.accepted.size(), 20u);
  EXPECT_EQ(s.created.id(), "2027-cohort");
  EXPECT_EQ(s.created.proposed(), s.created.pairs_size());
  const v1::Round& after = s.rematch.round();
  EXPECT_EQ(after.rematches(), 1);
  EXPECT_EQ(after.declined(), 10);
  EXPECT_EQ(after.accepted(), 20);

  std::map<Key, std::vector<v1::PairState>> states;
  for (const v1::RoundPair& p : after.pairs()) states[KeyOf(p)].push_back(p.state());
  // No declined pair returns: each is in the round once, still declined.
  for (const Key& k : s.declined) {
    EXPECT_THAT(states[k], ::testing::ElementsAre(v1::PAIR_STATE_DECLINED)) << k.first << "->" << k.second;
  }
  for (const v1::Pair& p : s.rematch.added()) {
    EXPECT_EQ(std::count(s.declined.begin(), s.declined.end(), Key(p.asking_city_id(), p.peer_city_id())), 0);
  }
  // All accepted pairs stay, accepted; every created pair is still there.
  for (const Key& k : s.accepted) {
    EXPECT_THAT(states[k], ::testing::ElementsAre(v1::PAIR_STATE_ACCEPTED));
  }
  for (const v1::RoundPair& p : s.created.pairs()) EXPECT_EQ(states[KeyOf(p)].size(), 1u);
  EXPECT_EQ(after.pairs_size(), s.created.pairs_size() + s.rematch.added_size());
  EXPECT_GT(s.rematch.added_size(), 0);

  // Capacities and exclusions hold over every active pair.
  std::map<std::string, int> peers_of, served_by;
  for (const v1::RoundPair& p : after.pairs()) {
    if (!Active(p)) continue;
    ++peers_of[p.pair().asking_city_id()];
    ++served_by[p.pair().peer_city_id()];
    auto a = server.store().GetCity(p.pair().asking_city_id());
    auto b = server.store().GetCity(p.pair().peer_city_id());
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_NE(a->country(), b->country()) << a->id() << " -> " << b->id();
  }
  for (const auto& [city, n] : peers_of) EXPECT_LE(n, 3) << city;
  for (const auto& [city, n] : served_by) EXPECT_LE(n, 3) << city;

  // Every city that can still get a peer gets one: every asking city of
  // the round has an active pair, and one that lost a pair is back at k
  // unless the rematch says why not.
  std::set<std::string> short_cities;
  for (const v1::Unmatched& u : s.rematch.fewer_peers()) short_cities.insert(u.city_id());
  for (const v1::RoundPair& p : s.created.pairs()) {
    EXPECT_GE(peers_of[p.pair().asking_city_id()], 1) << p.pair().asking_city_id();
  }
  for (const Key& k : s.declined) {
    if (short_cities.count(k.first) == 0) EXPECT_EQ(peers_of[k.first], 3) << k.first;
  }
  EXPECT_EQ(after.summary().matched_cities(), after.summary().asking_cities());

  // Optimal under the constraints: the new pairs are exactly those of
  // PairCities keeping every pair the round had before the rematch
  // (accepted or proposed) and avoiding the declined ones.
  v1::PairCitiesRequest direct = s.created.options();
  for (const v1::RoundPair& p : s.created.pairs()) {
    const Key k = KeyOf(p);
    v1::CityPair* to = std::count(s.declined.begin(), s.declined.end(), k) ? direct.add_avoid()
                                                                           : direct.add_keep();
    to->set_asking_city_id(k.first);
    to->set_peer_city_id(k.second);
  }
  grpc::ClientContext ctx;
  auto reader = server.stub().PairCities(&ctx, direct);
  std::set<Key> expected_new;
  v1::PairCitiesResponse item;
  while (reader->Read(&item)) {
    if (item.has_pair() && !item.pair().kept()) {
      expected_new.emplace(item.pair().asking_city_id(), item.pair().peer_city_id());
    }
  }
  ASSERT_TRUE(reader->Finish().ok());
  std::set<Key> added;
  for (const v1::Pair& p : s.rematch.added()) added.emplace(p.asking_city_id(), p.peer_city_id());
  EXPECT_EQ(added, expected_new);

  // The same steps on another server over the same data give the same round.
  testing::TestServer again(options);
  Rounds rounds_again(again.stub());
  const Steps t = RunSteps(rounds_again);
  EXPECT_EQ(t.declined, s.declined);
  EXPECT_EQ(Comparable(t.rematch.round()), Comparable(after));
  EXPECT_EQ(Comparable(rounds_again.Get("2027-cohort")), Comparable(rounds.Get("2027-cohort")));
}

// One demo server for the tests below (a round each).
class RoundsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    testing::TestServerOptions options;
    options.demo_data = true;
    server_ = new testing::TestServer(options);
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static testing::TestServer* server_;
  Rounds rounds_{server_->stub()};
};
testing::TestServer* RoundsTest::server_ = nullptr;

TEST_F(RoundsTest, BadDecisionsGetTheRightCodeNameTheFieldAndWriteNothing) {
  v1::Round r;
  ASSERT_TRUE(rounds_.Create(CohortRequest("validation round"), &r).ok());
  ASSERT_EQ(r.id(), "validation-round");
  const Key first = KeyOf(r.pairs(0));
  const std::string before = rounds_.Get(r.id()).SerializeAsString();

  EXPECT_THAT(rounds_.Decide("atlantis", first, v1::PAIR_STATE_ACCEPTED),
              StatusIs(grpc::StatusCode::NOT_FOUND, HasSubstr("round_id: no round with id")));
  EXPECT_THAT(rounds_.Decide(r.id(), {first.first, first.first}, v1::PAIR_STATE_ACCEPTED),
              StatusIs(grpc::StatusCode::NOT_FOUND, HasSubstr("peer_city_id: round")));
  EXPECT_THAT(rounds_.Decide(r.id(), {"no-such-city", "x"}, v1::PAIR_STATE_DECLINED),
              StatusIs(grpc::StatusCode::NOT_FOUND, HasSubstr("no-such-city has no pair in it")));
  EXPECT_THAT(rounds_.Decide(r.id(), first, v1::PAIR_STATE_PROPOSED),
              StatusIs(grpc::StatusCode::INVALID_ARGUMENT, HasSubstr("decision:")));
  EXPECT_THAT(rounds_.Decide(r.id(), first, v1::PAIR_STATE_ACCEPTED,
                             v1::DECLINE_REASON_LANGUAGE),
              StatusIs(grpc::StatusCode::INVALID_ARGUMENT, HasSubstr("reason: only a decline")));
  EXPECT_THAT(rounds_.Decide(r.id(), first, v1::PAIR_STATE_DECLINED,
                             static_cast<v1::DeclineReason>(99)),
              StatusIs(grpc::StatusCode::INVALID_ARGUMENT, HasSubstr("reason: 99")));
  EXPECT_THAT(rounds_.Decide(r.id(), first, v1::PAIR_STATE_DECLINED,
                             v1::DECLINE_REASON_OTHER, nullptr, std::string(2001, 'x')),
              StatusIs(grpc::StatusCode::INVALID_ARGUMENT, HasSubstr("comment: 2001 bytes")));
  EXPECT_THAT(rounds_.Decide(r.id(), {"Bad Id", first.second}, v1::PAIR_STATE_ACCEPTED),
              StatusIs(grpc::StatusCode::INVALID_ARGUMENT, HasSubstr("asking_city_id")));
  EXPECT_EQ(rounds_.Get(r.id()).SerializeAsString(), before);

  // Idempotent: the same decision twice changes nothing the second time.
  v1::DecideRoundPairResponse once, twice;
  ASSERT_TRUE(rounds_.Decide(r.id(), first, v1::PAIR_STATE_DECLINED,
                             v1::DECLINE_REASON_NO_CAPACITY, &once, "next year").ok());
  EXPECT_TRUE(once.changed());
  EXPECT_EQ(once.pair().reason(), v1::DECLINE_REASON_NO_CAPACITY);
  EXPECT_EQ(once.pair().comment(), "next year");
  EXPECT_GT(once.pair().decided_at(), 0);
  const std::string decided = rounds_.Get(r.id()).SerializeAsString();
  ASSERT_TRUE(rounds_.Decide(r.id(), first, v1::PAIR_STATE_DECLINED,
                             v1::DECLINE_REASON_NO_CAPACITY, &twice, "next year").ok());
  EXPECT_FALSE(twice.changed());
  EXPECT_EQ(rounds_.Get(r.id()).SerializeAsString(), decided);

  // Once a rematch has filled its place, a declined pair cannot be accepted.
  v1::RematchRoundResponse rematched;
  ASSERT_TRUE(rounds_.Rematch(r.id(), &rematched).ok());
  const std::string after_rematch = rounds_.Get(r.id()).SerializeAsString();
  EXPECT_THAT(rounds_.Decide(r.id(), first, v1::PAIR_STATE_ACCEPTED),
              StatusIs(grpc::StatusCode::FAILED_PRECONDITION, HasSubstr("decision:")));
  EXPECT_EQ(rounds_.Get(r.id()).SerializeAsString(), after_rematch);

  // A closed round takes no decisions and no rematches; closing is idempotent.
  ASSERT_TRUE(rounds_.Close(r.id()).ok());
  ASSERT_TRUE(rounds_.Close(r.id()).ok());
  const std::string closed = rounds_.Get(r.id()).SerializeAsString();
  EXPECT_THAT(rounds_.Decide(r.id(), KeyOf(r.pairs(1)), v1::PAIR_STATE_ACCEPTED),
              StatusIs(grpc::StatusCode::FAILED_PRECONDITION, HasSubstr("round_id: round")));
  EXPECT_THAT(rounds_.Rematch(r.id(), &rematched),
              StatusIs(grpc::StatusCode::FAILED_PRECONDITION, HasSubstr("is closed")));
  EXPECT_THAT(rounds_.Rematch("atlantis", &rematched),
              StatusIs(grpc::StatusCode::NOT_FOUND, HasSubstr("round_id: no round")));
  EXPECT_EQ(rounds_.Get(r.id()).SerializeAsString(), closed);
}

TEST_F(RoundsTest, BadCreationsNameTheFieldAndStoreNoRound) {
  auto count = [&] {
    grpc::ClientContext ctx;
    v1::ListRoundsRequest req;
    v1::ListRoundsResponse resp;
    EXPECT_TRUE(server_->stub().ListRounds(&ctx, req, &resp).ok());
    return resp.rounds_size();
  };
  const int before = count();
  v1::Round r;
  v1::CreateRoundRequest req = CohortRequest("");
  EXPECT_THAT(rounds_.Create(req, &r), StatusIs(grpc::StatusCode::INVALID_ARGUMENT, HasSubstr("name:")));
  req = CohortRequest("   ");
  EXPECT_THAT(rounds_.Create(req, &r), StatusIs(grpc::StatusCode::INVALID_ARGUMENT, HasSubstr("name:")));
  req = CohortRequest("k too large");
  req.mutable_options()->set_k(21);
  EXPECT_THAT(rounds_.Create(req, &r),
              StatusIs(grpc::StatusCode::INVALID_ARGUMENT, HasSubstr("options.k: 21")));
  req = CohortRequest("unknown city");
  req.mutable_options()->add_city_ids("atlantis");
  EXPECT_THAT(rounds_.Create(req, &r),
              StatusIs(grpc::StatusCode::NOT_FOUND, HasSubstr("options.city_ids[0]")));
  req = CohortRequest("unknown earlier round");
  req.add_avoid_round_ids("no-such-round");
  EXPECT_THAT(rounds_.Create(req, &r),
              StatusIs(grpc::StatusCode::NOT_FOUND, HasSubstr("avoid_round_ids[0]: no round")));
  EXPECT_EQ(count(), before);
}

TEST_F(RoundsTest, ANewWaveAvoidsThePairsOfEarlierRounds) {
  v1::Round first;
  ASSERT_TRUE(rounds_.Create(CohortRequest("wave one"), &first).ok());
  std::set<Key> declined;
  for (int i = 0; i < first.pairs_size(); i += 5) {
    ASSERT_TRUE(rounds_.Decide(first.id(), KeyOf(first.pairs(i)), v1::PAIR_STATE_DECLINED).ok());
    declined.insert(KeyOf(first.pairs(i)));
  }
  std::set<Key> all;
  for (const v1::RoundPair& p : first.pairs()) all.insert(KeyOf(p));

  v1::CreateRoundRequest req = CohortRequest("wave two");
  req.add_avoid_round_ids(first.id());
  v1::Round second;
  ASSERT_TRUE(rounds_.Create(req, &second).ok());
  EXPECT_GT(second.pairs_size(), 0);
  for (const v1::RoundPair& p : second.pairs()) EXPECT_EQ(all.count(KeyOf(p)), 0u);
  EXPECT_EQ(second.avoided_size(), static_cast<int>(all.size()));

  req.set_name("wave two");  // the same name again: a new id
  req.set_avoid_declined_only(true);
  v1::Round third;
  ASSERT_TRUE(rounds_.Create(req, &third).ok());
  EXPECT_EQ(third.id(), "wave-two-2");
  int repeated = 0;
  for (const v1::RoundPair& p : third.pairs()) {
    EXPECT_EQ(declined.count(KeyOf(p)), 0u);
    repeated += all.count(KeyOf(p));
  }
  EXPECT_GT(repeated, 0);  // pairs not declined may come back
}

TEST_F(RoundsTest, RoundsSurviveABackupAndRestore) {
  v1::Round r;
  ASSERT_TRUE(rounds_.Create(CohortRequest("backed up"), &r).ok());
  ASSERT_TRUE(rounds_.Decide(r.id(), KeyOf(r.pairs(0)), v1::PAIR_STATE_DECLINED,
                             v1::DECLINE_REASON_ALREADY_PARTNERS, nullptr, "since 2019").ok());
  ASSERT_TRUE(rounds_.Decide(r.id(), KeyOf(r.pairs(1)), v1::PAIR_STATE_ACCEPTED).ok());
  const v1::Round stored = rounds_.Get(r.id());
  grpc::ClientContext ctx;
  v1::CreateBackupRequest req;
  req.set_to_dir("rounds");
  v1::BackupInfo info;
  ASSERT_TRUE(server_->stub().CreateBackup(&ctx, req, &info).ok());

  testing::TempDir dir;
  ASSERT_TRUE(RestoreBackup(server_->backup_root() + "/rounds", dir.Sub("restored"), 0).ok());
  auto restored = Store::Open(dir.Sub("restored"));
  ASSERT_TRUE(restored.ok()) << restored.status();
  auto round = (*restored)->GetRound(r.id());
  ASSERT_TRUE(round.ok()) << round.status();
  EXPECT_EQ(round->SerializeAsString(), stored.SerializeAsString());
  auto decisions = (*restored)->ListRoundDecisions();
  ASSERT_TRUE(decisions.ok());
  int here = 0;
  for (const RoundDecision& d : *decisions) {
    if (d.round_id != r.id()) continue;
    ++here;
    if (d.state == v1::PAIR_STATE_DECLINED) {
      EXPECT_EQ(d.reason, v1::DECLINE_REASON_ALREADY_PARTNERS);
      EXPECT_EQ(d.comment, "since 2019");
      EXPECT_EQ(d.challenge_id, r.pairs(0).pair().challenge_id());
      EXPECT_EQ(d.solution_id, r.pairs(0).pair().solution_id());
    }
  }
  EXPECT_EQ(here, 2);
}

}  // namespace
}  // namespace peermatch
