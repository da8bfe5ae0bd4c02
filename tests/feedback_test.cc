// RecordFeedback and the learned fusion (issue 14) through a real client
// over loopback gRPC, on the demo data in real RocksDB.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_server.h"

namespace peermatch {
namespace {

using ::testing::HasSubstr;
using testing::TestServer;
using testing::TestServerOptions;

grpc::Status Feedback(TestServer& server, const v1::RecordFeedbackRequest& req,
                      v1::RecordFeedbackResponse* resp, const char* token = testing::kWriteToken) {
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", std::string("Bearer ") + token);
  return server.stub().RecordFeedback(&ctx, req, resp);
}

v1::Stats Stats(TestServer& server) {
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", std::string("Bearer ") + testing::kReadToken);
  v1::Stats stats;
  EXPECT_TRUE(server.stub().GetStats(&ctx, v1::GetStatsRequest(), &stats).ok());
  return stats;
}

v1::MatchResponse Match(TestServer& server, const std::string& text) {
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", std::string("Bearer ") + testing::kReadToken);
  v1::MatchRequest req;
  req.set_text(text);
  req.set_k(6);
  v1::MatchResponse resp;
  grpc::Status s = server.stub().Match(&ctx, req, &resp);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return resp;
}

v1::RecordFeedbackRequest Request(const std::string& text, const std::string& solution,
                                  bool useful) {
  v1::RecordFeedbackRequest req;
  req.set_query_text(text);
  req.set_solution_case_id(solution);
  req.set_useful(useful);
  return req;
}

size_t StoredJudgements(TestServer& server) {
  auto all = server.store().ListJudgements();
  EXPECT_TRUE(all.ok()) << all.status();
  return all.ok() ? all->size() : 0;
}

TEST(Feedback, BadRequestsNameTheFieldAndWriteNothing) {
  TestServerOptions options;
  options.demo_data = true;
  options.tokens = true;
  options.tokens = true;
  TestServer server(options);
  v1::RecordFeedbackResponse resp;
  const std::string solution = "kashan-covid-device-lending";

  grpc::Status s = Feedback(server, Request("pupils offline", solution, true), &resp,
                            testing::kReadToken);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();

  s = Feedback(server, Request("pupils offline", "atlantis-radio", true), &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(s.error_message(), HasSubstr("solution_case_id: no case with id \"atlantis-radio\""));

  v1::RecordFeedbackRequest by_case = Request("", solution, true);
  by_case.set_query_case_id("atlantis-offline");
  s = Feedback(server, by_case, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(s.error_message(), HasSubstr("query_case_id: no case with id \"atlantis-offline\""));

  v1::RecordFeedbackRequest both = Request("pupils offline", solution, true);
  both.set_query_case_id("bahir-dar-covid-pupils-offline");
  s = Feedback(server, both, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("query_case_id: set exactly one of"));

  s = Feedback(server, Request("  ", solution, true), &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("query_text: is only white space"));

  v1::RecordFeedbackRequest city = Request("pupils offline", solution, true);
  city.set_city_id("fermo");
  s = Feedback(server, city, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("city_id: solution \"kashan-covid-device-lending\" is a case of \"kashan\""));

  // A challenge is not a solution.
  s = Feedback(server, Request("pupils offline", "bahir-dar-covid-pupils-offline", true), &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("solution_case_id: case \"bahir-dar-covid-pupils-offline\" is not a solution"));

  EXPECT_EQ(StoredJudgements(server), 0u);
  EXPECT_EQ(Stats(server).fusion().judgements(), 0);
}

// With the default line, one judgement changes nothing, and stats say why.
TEST(Feedback, OneJudgementIsStoredAndLeavesTheDefaults) {
  TestServerOptions options;
  options.demo_data = true;
  options.tokens = true;
  TestServer server(options);
  const std::string text = "pupils without internet during closures";
  const v1::MatchResponse before = Match(server, text);
  ASSERT_GE(before.peers_size(), 2);
  v1::RecordFeedbackRequest req = Request(text, before.peers(1).evidence(0).case_id(), true);
  req.set_city_id(before.peers(1).city().id());
  v1::RecordFeedbackResponse resp;
  grpc::Status s = Feedback(server, req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.judgement().solution_case_id(), req.solution_case_id());
  EXPECT_EQ(resp.judgement().source(), v1::Judgement::SOURCE_MATCH_FEEDBACK);
  EXPECT_TRUE(resp.judgement().relevant());
  EXPECT_EQ(StoredJudgements(server), 1u);
  const v1::FusionStats fusion = Stats(server).fusion();
  EXPECT_FALSE(fusion.learned());
  EXPECT_EQ(fusion.judgements(), 1);
  EXPECT_EQ(fusion.positives(), 1);
  EXPECT_FLOAT_EQ(fusion.weights().lexical(), ScoreWeights{}.lexical);
  EXPECT_THAT(fusion.reason(), HasSubstr("too few judgements: 1 relevant and 0 not relevant"));
  EXPECT_EQ(Match(server, text).DebugString(), before.DebugString());
}

// A pairing round's decisions are judgements too (Engine::RefitFusion reads
// them from the rounds): an accept is relevant, a decline as not relevant is
// not, a decline for another reason says nothing; a changed decision counts
// as it stands.
TEST(Feedback, RoundDecisionsAreJudgementsAsTheyStand) {
  TestServerOptions options;
  options.demo_data = true;
  options.tokens = true;
  TestServer server(options);
  auto call = [&](auto method, const auto& req, auto* resp) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", std::string("Bearer ") + testing::kWriteToken);
    return (server.stub().*method)(&ctx, req, resp);
  };
  v1::CreateRoundRequest create;
  create.set_name("judgement test");
  create.mutable_options()->set_k(2);
  v1::Round round;
  grpc::Status s = call(&v1::Peermatch::Stub::CreateRound, create, &round);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_GE(round.pairs_size(), 4);
  auto decide = [&](int i, v1::PairState state, v1::DeclineReason reason) {
    v1::DecideRoundPairRequest req;
    req.set_round_id(round.id());
    req.set_asking_city_id(round.pairs(i).pair().asking_city_id());
    req.set_peer_city_id(round.pairs(i).pair().peer_city_id());
    req.set_decision(state);
    req.set_reason(reason);
    v1::DecideRoundPairResponse resp;
    grpc::Status d = call(&v1::Peermatch::Stub::DecideRoundPair, req, &resp);
    ASSERT_TRUE(d.ok()) << d.error_message();
  };
  decide(0, v1::PAIR_STATE_ACCEPTED, v1::DECLINE_REASON_UNSPECIFIED);
  decide(1, v1::PAIR_STATE_DECLINED, v1::DECLINE_REASON_NOT_RELEVANT);
  decide(2, v1::PAIR_STATE_DECLINED, v1::DECLINE_REASON_NOT_RELEVANT);
  decide(3, v1::PAIR_STATE_DECLINED, v1::DECLINE_REASON_NO_CAPACITY);
  v1::FusionStats fusion = Stats(server).fusion();
  EXPECT_EQ(fusion.judgements(), 3);
  EXPECT_EQ(fusion.positives(), 1);
  EXPECT_EQ(fusion.negatives(), 2);
  EXPECT_EQ(StoredJudgements(server), 0u);  // read from the round, not copied
  decide(2, v1::PAIR_STATE_DECLINED, v1::DECLINE_REASON_NO_CAPACITY);  // changed
  fusion = Stats(server).fusion();
  EXPECT_EQ(fusion.judgements(), 2);
  EXPECT_EQ(fusion.negatives(), 1);
}

// Over a low line, feedback refits the weights at once: stats report them,
// and the next Match (the same question, so a cached reply would be stale)
// is ranked with them.
TEST(Feedback, LearnedWeightsAreUsedByTheNextMatch) {
  TestServerOptions options;
  options.demo_data = true;
  options.tokens = true;
  options.fusion.min_positives = 3;
  options.fusion.min_negatives = 3;
  options.fusion.min_queries = 1;
  options.fusion.min_heldout_gain = -1;  // take any fit: this tests the plumbing
  options.fusion.min_heldout_standard_errors = -1e9;
  TestServer server(options);
  const std::vector<std::string> texts = {"pupils without internet during closures",
                                          "older adults learning digital skills",
                                          "literacy classes for parents"};
  std::vector<v1::MatchResponse> before;
  for (const std::string& text : texts) before.push_back(Match(server, text));
  // The top two cities were not useful; the fifth and sixth were.
  for (size_t t = 0; t < texts.size(); ++t) {
    ASSERT_GE(before[t].peers_size(), 6) << texts[t];
    for (int rank : {0, 1, 4, 5}) {
      v1::RecordFeedbackResponse resp;
      grpc::Status s = Feedback(
          server, Request(texts[t], before[t].peers(rank).evidence(0).case_id(), rank >= 4), &resp);
      ASSERT_TRUE(s.ok()) << s.error_message();
    }
  }
  const v1::FusionStats fusion = Stats(server).fusion();
  ASSERT_TRUE(fusion.learned()) << fusion.reason();
  EXPECT_EQ(fusion.positives(), 6);
  EXPECT_EQ(fusion.negatives(), 6);
  EXPECT_EQ(fusion.model_version(), Stats(server).model_version());
  EXPECT_NE(fusion.weights().lexical(), ScoreWeights{}.lexical);
  EXPECT_THAT(fusion.reason(), HasSubstr("fitted on 6 relevant and 6 not relevant"));
  // The same questions are answered with the new weights: the scores moved.
  for (size_t t = 0; t < texts.size(); ++t) {
    const v1::MatchResponse after = Match(server, texts[t]);
    ASSERT_GT(after.peers_size(), 0);
    EXPECT_NE(after.peers(0).score(), before[t].peers(0).score()) << texts[t];
  }
}

// Turned off: the same feedback leaves the defaults, and stats say so.
TEST(Feedback, TurnedOffKeepsTheDefaults) {
  TestServerOptions options;
  options.demo_data = true;
  options.tokens = true;
  options.fusion.enabled = false;
  options.fusion.min_positives = 1;
  options.fusion.min_negatives = 1;
  options.fusion.min_queries = 1;
  options.fusion.min_heldout_gain = -1;
  options.fusion.min_heldout_standard_errors = -1e9;
  TestServer server(options);
  const std::string text = "pupils without internet during closures";
  const v1::MatchResponse before = Match(server, text);
  ASSERT_GE(before.peers_size(), 3);
  v1::RecordFeedbackResponse resp;
  ASSERT_TRUE(Feedback(server, Request(text, before.peers(0).evidence(0).case_id(), false), &resp).ok());
  ASSERT_TRUE(Feedback(server, Request(text, before.peers(2).evidence(0).case_id(), true), &resp).ok());
  EXPECT_FALSE(resp.fusion().learned());
  EXPECT_THAT(resp.fusion().reason(), HasSubstr("turned off"));
  EXPECT_EQ(Match(server, text).DebugString(), before.DebugString());
}

}  // namespace
}  // namespace peermatch
