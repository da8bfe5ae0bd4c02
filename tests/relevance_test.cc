// What Match and SimilarCases may show, through a real client over loopback
// on the demo data: no row without evidence, min_score, whitespace-only text
// refused, and empty answers that say why in terms of the request.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_server.h"

namespace peermatch {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::StatusIs;
using testing::TestServer;
using testing::TestServerOptions;

class RelevanceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    TestServerOptions options;
    options.demo_data = true;
    server_ = new TestServer(options);
  }
  static void TearDownTestSuite() { delete server_; }

  static v1::MatchResponse Match(const v1::MatchRequest& req) {
    grpc::ClientContext ctx;
    v1::MatchResponse resp;
    grpc::Status s = server_->stub().Match(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  }
  static grpc::Status MatchStatus(const v1::MatchRequest& req) {
    grpc::ClientContext ctx;
    v1::MatchResponse resp;
    return server_->stub().Match(&ctx, req, &resp);
  }
  static v1::SimilarCasesResponse Similar(const v1::SimilarCasesRequest& req) {
    grpc::ClientContext ctx;
    v1::SimilarCasesResponse resp;
    grpc::Status s = server_->stub().SimilarCases(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  }

  static TestServer* server_;
};
TestServer* RelevanceTest::server_ = nullptr;

bool HasEvidence(const v1::ScoreParts& p) {
  return p.lexical() > 0 || p.semantic() >= kMinSemanticEvidence ||
         p.subword() >= kMinSubwordEvidence;
}

// The example: "older adults online" among African cities filled
// ranks 5-8 with scores -0.41 to -0.61 and every part 0.00.
TEST_F(RelevanceTest, RowsWithoutEvidenceAreNeverShown) {
  v1::MatchRequest req;
  req.set_text("older adults online");
  req.mutable_filters()->add_regions(v1::REGION_AFRICA);
  req.set_k(8);
  const v1::MatchResponse resp = Match(req);
  ASSERT_FALSE(resp.peers().empty());
  EXPECT_LT(resp.peers_size(), 8) << "the junk rows are back";
  for (const v1::PeerMatch& p : resp.peers()) {
    for (const v1::Evidence& e : p.evidence()) {
      EXPECT_TRUE(HasEvidence(e.parts())) << p.city().id() << " " << e.ShortDebugString();
    }
  }
  // The same for SimilarCases, on a word of one solution.
  v1::SimilarCasesRequest similar;
  similar.set_text("radio");
  similar.set_k(20);
  const v1::SimilarCasesResponse cases = Similar(similar);
  ASSERT_FALSE(cases.cases().empty());
  EXPECT_LT(cases.cases_size(), 20);
  for (const v1::CaseMatch& m : cases.cases()) {
    EXPECT_TRUE(HasEvidence(m.parts())) << m.ShortDebugString();
  }
}

TEST_F(RelevanceTest, MinScoreHidesLowerRowsAndPagesStayConsistent) {
  v1::MatchRequest req;
  req.set_text("literacy classes for adults");
  req.set_k(30);
  const v1::MatchResponse all = Match(req);
  constexpr double kMin = 2.0;
  std::vector<std::string> above;
  for (const v1::PeerMatch& p : all.peers()) {
    if (p.score() >= kMin) above.push_back(p.city().id());
  }
  ASSERT_GE(above.size(), 3u);
  ASSERT_LT(above.size(), static_cast<size_t>(all.peers_size()));

  req.mutable_min_score()->set_value(kMin);
  req.set_k(2);
  std::vector<std::string> paged;
  for (int page = 0; page < 20; ++page) {
    const v1::MatchResponse resp = Match(req);
    for (const v1::PeerMatch& p : resp.peers()) {
      paged.push_back(p.city().id());
      for (const v1::Evidence& e : p.evidence()) EXPECT_GE(e.score(), kMin);
    }
    if (resp.next_page_token().empty()) break;
    req.set_page_token(resp.next_page_token());
  }
  EXPECT_EQ(paged, above);

  v1::SimilarCasesRequest similar;
  similar.set_text("literacy classes for adults");
  similar.mutable_min_score()->set_value(kMin);
  similar.set_k(100);
  const v1::SimilarCasesResponse cases = Similar(similar);
  ASSERT_FALSE(cases.cases().empty());
  for (const v1::CaseMatch& m : cases.cases()) EXPECT_GE(m.score(), kMin);
  similar.clear_min_score();
  int at_least = 0;
  const v1::SimilarCasesResponse unthresholded = Similar(similar);
  for (const v1::CaseMatch& m : unthresholded.cases()) at_least += m.score() >= kMin;
  EXPECT_EQ(cases.cases_size(), at_least);
}

TEST_F(RelevanceTest, MinScoreMustBeFinite) {
  for (double bad : {std::nan(""), std::numeric_limits<double>::infinity()}) {
    v1::MatchRequest req;
    req.set_text("radio");
    req.mutable_min_score()->set_value(bad);
    EXPECT_THAT(MatchStatus(req),
                StatusIs(grpc::StatusCode::INVALID_ARGUMENT, HasSubstr("min_score: must be")));
  }
}

TEST_F(RelevanceTest, WhitespaceOnlyTextIsInvalid) {
  for (const char* blank : {"   ", "\t\n \r", "\xc2\xa0\xe3\x80\x80", "\xe2\x80\x8b "}) {
    v1::MatchRequest req;
    req.set_text(blank);
    EXPECT_THAT(MatchStatus(req), StatusIs(grpc::StatusCode::INVALID_ARGUMENT,
                                           HasSubstr("text: is only white space")));
    v1::SimilarCasesRequest similar;
    similar.set_text(blank);
    grpc::ClientContext ctx;
    v1::SimilarCasesResponse resp;
    EXPECT_THAT(server_->stub().SimilarCases(&ctx, similar, &resp),
                StatusIs(grpc::StatusCode::INVALID_ARGUMENT, HasSubstr("text: is only white")));
  }
}

TEST_F(RelevanceTest, AnEmptyAnswerSaysWhyInTermsOfTheRequest) {
  v1::MatchRequest req;
  req.set_text("tsunami");  // a word no case has
  v1::MatchResponse resp = Match(req);
  ASSERT_TRUE(resp.peers().empty());
  EXPECT_THAT(resp.empty_reason(),
              AllOf(HasSubstr("shares evidence with the text"), HasSubstr("more or other words"),
                    HasSubstr("language"), Not(HasSubstr("filter"))));

  req.mutable_filters()->add_regions(v1::REGION_AFRICA);
  req.mutable_filters()->add_exclude_countries("EG");
  resp = Match(req);
  ASSERT_TRUE(resp.peers().empty());
  EXPECT_THAT(resp.empty_reason(),
              AllOf(HasSubstr("filters.regions: africa; filters.exclude_countries: EG"),
                    HasSubstr("try fewer filters"), Not(HasSubstr("min_score"))));

  // Evidence that exists, cut by min_score.
  v1::SimilarCasesRequest similar;
  similar.set_text("radio lessons");
  similar.mutable_min_score()->set_value(1000);
  const v1::SimilarCasesResponse cases = Similar(similar);
  ASSERT_TRUE(cases.cases().empty());
  EXPECT_THAT(cases.empty_reason(),
              AllOf(HasSubstr("no case shares evidence with the text"),
                    HasSubstr("scores at least min_score 1000"),
                    HasSubstr("a lower min_score"), Not(HasSubstr("filter"))));
  // An answer with results has no reason.
  similar.clear_min_score();
  EXPECT_EQ(Similar(similar).empty_reason(), "");
}

}  // namespace
}  // namespace peermatch
