// Crash safety of rounds: SIGKILL the real peermatchd in the middle of a
// stream of decisions, restart it on the same data directory, and find
// every acknowledged decision. Three kills; which decisions are in flight
// when a kill lands is up to the scheduler, but every assertion is about
// acknowledged ones, so the outcome does not depend on timing.
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "peermatch/v1/peermatch.grpc.pb.h"
#include "tests/testing/peermatchd_process.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_server.h"

namespace peermatch {
namespace {

using Key = std::pair<std::string, std::string>;

std::unique_ptr<v1::Peermatch::Stub> Connect(const std::string& address) {
  return v1::Peermatch::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
}

TEST(RoundsCrash, EveryAcknowledgedDecisionSurvivesASigkill) {
  testing::TempDir dir;
  const std::string data = dir.Sub("db");
  {
    // The demo data, loaded in process and closed, for the daemon to open.
    testing::TestEngine loaded(data);
    testing::TestServer::LoadInto(*loaded.engine);
  }
  std::string round_id;
  std::vector<Key> pairs;
  std::map<Key, v1::PairState> acknowledged;
  size_t next = 0;
  for (int life = 0; life < 4; ++life) {
    SCOPED_TRACE("life " + std::to_string(life));
    testing::PeermatchdProcess server({"--data-dir", data, "--quiet"});
    ASSERT_FALSE(server.address().empty()) << "the server did not start";
    auto stub = Connect(server.address());
    if (life == 0) {
      grpc::ClientContext ctx;
      v1::CreateRoundRequest req;
      req.set_name("crash round");
      req.mutable_options()->set_exclude_same_country(true);
      v1::Round round;
      ASSERT_TRUE(stub->CreateRound(&ctx, req, &round).ok());
      round_id = round.id();
      for (const v1::RoundPair& p : round.pairs()) {
        pairs.emplace_back(p.pair().asking_city_id(), p.pair().peer_city_id());
      }
      ASSERT_GE(pairs.size(), 150u);
    }
    // Every decision acknowledged before the last kill is there.
    {
      grpc::ClientContext ctx;
      v1::GetRoundRequest req;
      req.set_round_id(round_id);
      v1::Round round;
      ASSERT_TRUE(stub->GetRound(&ctx, req, &round).ok());
      std::map<Key, v1::PairState> stored;
      for (const v1::RoundPair& p : round.pairs()) {
        stored[{p.pair().asking_city_id(), p.pair().peer_city_id()}] = p.state();
      }
      for (const auto& [key, state] : acknowledged) {
        EXPECT_EQ(stored[key], state) << key.first << " -> " << key.second << " lost";
      }
    }
    if (life == 3) break;
    // A stream of decisions on one thread; this thread kills the server once
    // 15 more are acknowledged, while the next ones (up to 40) are being sent.
    std::atomic<int> acked{0};
    std::map<Key, v1::PairState> acked_now;
    std::thread decider([&] {
      auto own = Connect(server.address());
      for (const size_t stop = next + 40; next < pairs.size() && next < stop; ++next) {
        grpc::ClientContext ctx;
        v1::DecideRoundPairRequest req;
        req.set_round_id(round_id);
        req.set_asking_city_id(pairs[next].first);
        req.set_peer_city_id(pairs[next].second);
        const v1::PairState state = next % 3 == 0 ? v1::PAIR_STATE_DECLINED : v1::PAIR_STATE_ACCEPTED;
        req.set_decision(state);
        v1::DecideRoundPairResponse resp;
        if (!own->DecideRoundPair(&ctx, req, &resp).ok()) break;  // killed
        acked_now[pairs[next]] = state;
        ++acked;
      }
    });
    while (acked.load() < 15) std::this_thread::yield();
    server.Kill();
    decider.join();
    ASSERT_GE(acked_now.size(), 15u);
    for (const auto& [key, state] : acked_now) acknowledged[key] = state;
    ++next;  // the call the kill cut short may or may not be there; skip it
  }
  EXPECT_GE(acknowledged.size(), 45u);
}

}  // namespace
}  // namespace peermatch
