// Every RPC of peermatch.v1.Peermatch through a real client over loopback,
// on the demo data: results, error codes, deadlines, cancellation, tokens,
// and concurrent writes with matches.
#include <atomic>
#include <set>
#include <string>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_server.h"

namespace peermatch {
namespace {

using ::testing::HasSubstr;
using testing::TestServer;
using testing::TestServerOptions;
using testing::StatusIs;

class ApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    TestServerOptions options;
    options.tokens = true;
    options.demo_data = true;
    server_ = new TestServer(options);
  }
  static void TearDownTestSuite() { delete server_; }

  // A context with the write token and a 10 s deadline.
  static std::unique_ptr<grpc::ClientContext> Writer() {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->AddMetadata("authorization", std::string("Bearer ") + testing::kWriteToken);
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return ctx;
  }
  static std::unique_ptr<grpc::ClientContext> Reader() {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->AddMetadata("authorization", std::string("Bearer ") + testing::kReadToken);
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return ctx;
  }
  static v1::Peermatch::Stub& stub() { return server_->stub(); }

  static TestServer* server_;
};
TestServer* ApiTest::server_ = nullptr;

TEST_F(ApiTest, MatchReturnsDistinctPeerCitiesWithEvidenceAndReasons) {
  v1::MatchRequest req;
  req.set_text("Since schools closed, many pupils in rural areas have no internet at home");
  req.set_k(8);
  v1::MatchResponse resp;
  ASSERT_TRUE(stub().Match(Reader().get(), req, &resp).ok());
  ASSERT_EQ(resp.peers_size(), 8);
  std::set<std::string> cities;
  for (const auto& p : resp.peers()) {
    cities.insert(p.city().id());
    EXPECT_FALSE(p.city().name().empty());
    ASSERT_GE(p.evidence_size(), 1);
    EXPECT_FALSE(p.evidence(0).shared_terms().empty());
    EXPECT_GT(p.parts().lexical(), 0.0);
  }
  EXPECT_EQ(cities.size(), 8u);
  EXPECT_GT(resp.model_version(), 0);
  // The top solution talks about connectivity.
  const std::string top = resp.peers(0).evidence(0).title();
  EXPECT_TRUE(absl::StrContains(absl::AsciiStrToLower(top), "internet") ||
              absl::StrContains(absl::AsciiStrToLower(top), "wi-fi") ||
              absl::StrContains(absl::AsciiStrToLower(top), "tablet") ||
              absl::StrContains(absl::AsciiStrToLower(top), "radio"))
      << top;
}

TEST_F(ApiTest, MatchPagesWithOpaqueTokens) {
  v1::MatchRequest req;
  req.set_text("literacy classes for adults");
  req.set_k(3);
  v1::MatchResponse first, second, all;
  ASSERT_TRUE(stub().Match(Reader().get(), req, &first).ok());
  ASSERT_FALSE(first.next_page_token().empty());
  req.set_page_token(first.next_page_token());
  ASSERT_TRUE(stub().Match(Reader().get(), req, &second).ok());
  req.clear_page_token();
  req.set_k(6);
  ASSERT_TRUE(stub().Match(Reader().get(), req, &all).ok());
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(first.peers(i).city().id(), all.peers(i).city().id());
    EXPECT_EQ(second.peers(i).city().id(), all.peers(i + 3).city().id());
    EXPECT_EQ(second.peers(i).rank(), i + 4);
  }
}

TEST_F(ApiTest, APageTokenOnlyContinuesItsOwnQuery) {
  v1::MatchRequest req;
  req.set_text("literacy classes for adults");
  req.set_k(2);
  v1::MatchResponse first;
  ASSERT_TRUE(stub().Match(Reader().get(), req, &first).ok());
  ASSERT_FALSE(first.next_page_token().empty());
  req.set_text("radio lessons");
  req.set_page_token(first.next_page_token());
  v1::MatchResponse other;
  grpc::Status s = stub().Match(Reader().get(), req, &other);
  EXPECT_THAT(s, StatusIs(grpc::StatusCode::INVALID_ARGUMENT, HasSubstr("another query")));
}

TEST_F(ApiTest, MatchByCaseAndSimilarCases) {
  v1::MatchRequest req;
  req.set_case_id("bahir-dar-covid-pupils-offline");
  v1::MatchResponse resp;
  ASSERT_TRUE(stub().Match(Reader().get(), req, &resp).ok());
  ASSERT_FALSE(resp.peers().empty());
  for (const auto& p : resp.peers()) EXPECT_NE(p.city().id(), "bahir-dar");

  v1::SimilarCasesRequest sreq;
  sreq.set_case_id("bahir-dar-covid-pupils-offline");
  sreq.mutable_filters()->set_kind(v1::CASE_KIND_CHALLENGE);
  sreq.set_k(5);
  v1::SimilarCasesResponse sresp;
  ASSERT_TRUE(stub().SimilarCases(Reader().get(), sreq, &sresp).ok());
  ASSERT_EQ(sresp.cases_size(), 5);
  for (const auto& m : sresp.cases()) {
    EXPECT_EQ(m.case_().kind(), v1::CASE_KIND_CHALLENGE);
    EXPECT_NE(m.case_().id(), "bahir-dar-covid-pupils-offline");
  }
}

TEST_F(ApiTest, ListGetAndStats) {
  v1::ListCasesRequest req;
  req.set_city_id("wuhan");
  req.set_kind(v1::CASE_KIND_SOLUTION);
  v1::ListCasesResponse resp;
  ASSERT_TRUE(stub().ListCases(Reader().get(), req, &resp).ok());
  ASSERT_FALSE(resp.cases().empty());
  for (const auto& c : resp.cases()) {
    EXPECT_EQ(c.city_id(), "wuhan");
    EXPECT_EQ(c.kind(), v1::CASE_KIND_SOLUTION);
  }
  v1::ListCitiesRequest creq;
  creq.set_region(v1::REGION_AFRICA);
  v1::ListCitiesResponse cresp;
  ASSERT_TRUE(stub().ListCities(Reader().get(), creq, &cresp).ok());
  for (const auto& c : cresp.cities()) EXPECT_EQ(c.region(), v1::REGION_AFRICA);
  v1::Stats stats;
  ASSERT_TRUE(stub().GetStats(Reader().get(), v1::GetStatsRequest(), &stats).ok());
  EXPECT_EQ(stats.cities(), 93);
  EXPECT_EQ(stats.cases(), 379);
  EXPECT_EQ(stats.challenges() + stats.solutions(), 379);
  EXPECT_GT(stats.index_bytes(), 0);
}

TEST_F(ApiTest, ListCasesOfAnUnknownCityIsNotFound) {
  v1::ListCasesRequest req;
  req.set_city_id("atlantis");
  v1::ListCasesResponse resp;
  EXPECT_THAT(stub().ListCases(Reader().get(), req, &resp),
              StatusIs(grpc::StatusCode::NOT_FOUND, "city_id: no city with id \"atlantis\""));
  req.set_city_id("Not A Slug");
  EXPECT_THAT(stub().ListCases(Reader().get(), req, &resp),
              StatusIs(grpc::StatusCode::INVALID_ARGUMENT, ::testing::StartsWith("city_id: ")));
  // A known city with no case of the kind asked is an empty page.
  req.set_city_id("wuhan");
  req.set_theme(v1::THEME_WORKPLACE);
  req.set_kind(v1::CASE_KIND_CHALLENGE);
  EXPECT_TRUE(stub().ListCases(Reader().get(), req, &resp).ok());
}

TEST_F(ApiTest, TokensControlAccess) {
  v1::PutCityRequest put;
  *put.mutable_city() = testing::City("token-test-city", "FR");
  put.mutable_city()->set_name("Token Test");
  v1::PutCityResponse out;
  grpc::ClientContext none;
  EXPECT_THAT(stub().PutCity(&none, put, &out), StatusIs(grpc::StatusCode::UNAUTHENTICATED));
  grpc::ClientContext wrong;
  wrong.AddMetadata("authorization", "Bearer not-a-real-token-at-all");
  EXPECT_THAT(stub().PutCity(&wrong, put, &out), StatusIs(grpc::StatusCode::UNAUTHENTICATED));
  EXPECT_THAT(stub().PutCity(Reader().get(), put, &out),
              StatusIs(grpc::StatusCode::PERMISSION_DENIED));
  EXPECT_THAT(server_->store().GetCity("token-test-city"), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_TRUE(stub().PutCity(Writer().get(), put, &out).ok());
  EXPECT_TRUE(out.changed());
  grpc::ClientContext anonymous_read;
  v1::Stats stats;
  EXPECT_THAT(stub().GetStats(&anonymous_read, v1::GetStatsRequest(), &stats),
              StatusIs(grpc::StatusCode::UNAUTHENTICATED));
  v1::DeleteCityRequest del;
  del.set_id("token-test-city");
  v1::DeleteCityResponse dout;
  ASSERT_TRUE(stub().DeleteCity(Writer().get(), del, &dout).ok());
}

TEST_F(ApiTest, CaseLifecycleThroughTheApi) {
  v1::PutCaseRequest put;
  *put.mutable_case_() =
      testing::Solution("fermo-api-beekeeping", "fermo", "Beekeeping school for retirees",
                        "Retired people learn urban beekeeping with the agricultural institute",
                        v1::THEME_CULTURE_OF_LEARNING);
  v1::PutCaseResponse out;
  ASSERT_TRUE(stub().PutCase(Writer().get(), put, &out).ok());
  EXPECT_TRUE(out.changed());
  ASSERT_TRUE(stub().PutCase(Writer().get(), put, &out).ok());
  EXPECT_FALSE(out.changed()) << "an identical put is idempotent";
  // Matchable at once.
  v1::MatchRequest m;
  m.set_text("beekeeping");
  v1::MatchResponse resp;
  ASSERT_TRUE(stub().Match(Reader().get(), m, &resp).ok());
  ASSERT_FALSE(resp.peers().empty());
  EXPECT_EQ(resp.peers(0).evidence(0).case_id(), "fermo-api-beekeeping");
  v1::GetCaseRequest get;
  get.set_id("fermo-api-beekeeping");
  v1::Case got;
  ASSERT_TRUE(stub().GetCase(Reader().get(), get, &got).ok());
  EXPECT_EQ(got.title(), put.case_().title());
  v1::DeleteCaseRequest del;
  del.set_id("fermo-api-beekeeping");
  v1::DeleteCaseResponse dout;
  // The same question again is answered from the reply cache, byte for byte.
  v1::MatchResponse again;
  ASSERT_TRUE(stub().Match(Reader().get(), m, &again).ok());
  EXPECT_EQ(again.SerializeAsString(), resp.SerializeAsString());
  ASSERT_TRUE(stub().DeleteCase(Writer().get(), del, &dout).ok());
  EXPECT_THAT(stub().GetCase(Reader().get(), get, &got), StatusIs(grpc::StatusCode::NOT_FOUND));
  EXPECT_THAT(stub().DeleteCase(Writer().get(), del, &dout), StatusIs(grpc::StatusCode::NOT_FOUND));
  // After the write the cached reply is not served: the case is gone.
  ASSERT_TRUE(stub().Match(Reader().get(), m, &again).ok());
  for (const auto& peer : again.peers()) {
    for (const auto& e : peer.evidence()) EXPECT_NE(e.case_id(), "fermo-api-beekeeping");
  }
}

TEST_F(ApiTest, CityDeleteNeedsCascadeWhenItHasCases) {
  v1::PutCityRequest put;
  *put.mutable_city() = *server_->store().GetCity("fermo");
  put.mutable_city()->set_id("fermo-copy");
  v1::PutCityResponse pout;
  ASSERT_TRUE(stub().PutCity(Writer().get(), put, &pout).ok());
  v1::PutCaseRequest pc;
  *pc.mutable_case_() = testing::Challenge("fermo-copy-case", "fermo-copy", "A challenge",
                                           "Something to solve", v1::THEME_WORKPLACE);
  v1::PutCaseResponse cout;
  ASSERT_TRUE(stub().PutCase(Writer().get(), pc, &cout).ok());
  v1::DeleteCityRequest del;
  del.set_id("fermo-copy");
  v1::DeleteCityResponse dout;
  grpc::Status refused = stub().DeleteCity(Writer().get(), del, &dout);
  EXPECT_THAT(refused, StatusIs(grpc::StatusCode::FAILED_PRECONDITION, HasSubstr("cascade")));
  del.set_cascade(true);
  ASSERT_TRUE(stub().DeleteCity(Writer().get(), del, &dout).ok());
  EXPECT_EQ(dout.deleted_cases(), 1);
}

TEST_F(ApiTest, ExpiredDeadlineIsDeadlineExceeded) {
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", std::string("Bearer ") + testing::kReadToken);
  ctx.set_deadline(std::chrono::system_clock::now() - std::chrono::milliseconds(1));
  v1::MatchRequest req;
  req.set_text("radio lessons");
  v1::MatchResponse resp;
  EXPECT_THAT(stub().Match(&ctx, req, &resp), StatusIs(grpc::StatusCode::DEADLINE_EXCEEDED));
}

// Counts the engine's QueryStop checks and, once armed, holds the first
// one until that query's deadline has passed: a deadline that passes
// mid-scan, at a known point, whatever the machine's speed.
struct ExpireMidScan {
  std::atomic<int> checks{0};
  std::atomic<bool> armed{false};
  std::function<void(const QueryStop&)> Hook() {
    return [this](const QueryStop& stop) {
      ++checks;
      if (!armed.exchange(false)) return;
      while (absl::Now() <= stop.deadline) absl::SleepFor(absl::Milliseconds(5));
    };
  }
};

TEST(QueryDeadline, AMatchWhoseDeadlinePassesMidScanStopsThere) {
  ExpireMidScan expire;
  TestServerOptions options;
  options.demo_data = true;
  options.at_query_check = expire.Hook();
  TestServer server(options);
  MatchQuery query;
  query.about.text = "radio lessons for pupils without internet during school closures";
  // Unhindered, a Match checks its deadline at several points.
  ASSERT_TRUE(server.engine().Match(query).ok());
  EXPECT_GT(expire.checks.load(), 2);

  // In the engine: the first check (the start of the filter scan) outlives
  // the deadline; the query ends there, at that check.
  expire.checks = 0;
  expire.armed = true;
  QueryStop stop;
  stop.deadline = absl::Now() + absl::Milliseconds(50);
  EXPECT_THAT(server.engine().Match(query, stop),
              StatusIs(absl::StatusCode::kDeadlineExceeded,
                       HasSubstr("deadline passed while filtering the cases (0 of ")));
  EXPECT_EQ(expire.checks.load(), 1);
  SimilarQuery similar;
  similar.about = query.about;
  expire.checks = 0;
  expire.armed = true;
  stop.deadline = absl::Now() + absl::Milliseconds(50);
  EXPECT_THAT(server.engine().SimilarCases(similar, stop),
              StatusIs(absl::StatusCode::kDeadlineExceeded, HasSubstr("SimilarCases: ")));
  EXPECT_EQ(expire.checks.load(), 1);
  // A cancelled caller stops it the same way.
  stop.deadline = absl::InfiniteFuture();
  stop.cancelled = [] { return true; };
  EXPECT_THAT(server.engine().Match(query, stop), StatusIs(absl::StatusCode::kCancelled));

  // Over gRPC: the call's deadline is the query's.
  expire.checks = 0;
  expire.armed = true;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  v1::MatchRequest req;
  req.set_text(query.about.text);
  v1::MatchResponse resp;
  EXPECT_THAT(server.stub().Match(&ctx, req, &resp),
              StatusIs(grpc::StatusCode::DEADLINE_EXCEEDED));
  // Once the server has finished the call (its metrics count it), the scan
  // had stopped at its first check.
  for (int i = 0; i < 2000; ++i) {
    if (absl::StrContains(server.server().metrics().Render({}), "Match\",code=")) break;
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_THAT(server.server().metrics().Render({}), HasSubstr("Match\",code=\"DEADLINE_EXCEEDED"));
  EXPECT_EQ(expire.checks.load(), 1) << "the scan went on after its deadline";
  // The server answers the next question.
  grpc::ClientContext next;
  EXPECT_TRUE(server.stub().Match(&next, req, &resp).ok());
  EXPECT_GT(resp.peers_size(), 0);
}

TEST_F(ApiTest, CancelledImportWritesOnlyWhatWasAcknowledgedAndServerGoesOn) {
  const std::string before = testing::DumpStore(server_->store());
  {
    auto ctx = Writer();
    v1::ImportSummary summary;
    auto writer = stub().ImportRecords(ctx.get(), &summary);
    v1::ImportRecord bad;  // holds nothing: rejected, never written
    ASSERT_TRUE(writer->Write(bad));
    ctx->TryCancel();
    EXPECT_THAT(writer->Finish(), StatusIs(grpc::StatusCode::CANCELLED));
  }
  EXPECT_EQ(testing::DumpStore(server_->store()), before);
  v1::Stats stats;
  EXPECT_TRUE(stub().GetStats(Reader().get(), v1::GetStatsRequest(), &stats).ok());
}

TEST_F(ApiTest, ConcurrentWritesAndMatches) {
  std::atomic<int> failures{0};
  std::atomic<bool> writing{true};
  std::thread writer([&] {
    for (int i = 0; i < 30; ++i) {
      v1::PutCaseRequest put;
      *put.mutable_case_() = testing::Solution(
          "turin-concurrent-" + std::to_string(i), "turin",
          "Night school number " + std::to_string(i),
          "Evening lessons in carpentry and welding for unemployed adults", v1::THEME_WORKPLACE);
      v1::PutCaseResponse out;
      if (!stub().PutCase(Writer().get(), put, &out).ok()) ++failures;
    }
    writing = false;
  });
  std::vector<std::thread> readers;
  std::atomic<int> matches{0};
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (writing.load() || matches.load() < 10) {
        v1::MatchRequest req;
        req.set_text("evening lessons for unemployed adults in carpentry");
        v1::MatchResponse resp;
        if (!stub().Match(Reader().get(), req, &resp).ok() || resp.peers().empty()) ++failures;
        ++matches;
      }
    });
  }
  writer.join();
  for (auto& r : readers) r.join();
  EXPECT_EQ(failures.load(), 0);
  // Every acknowledged write is there and matchable.
  v1::MatchRequest req;
  req.set_text("carpentry welding night school");
  v1::MatchResponse resp;
  ASSERT_TRUE(stub().Match(Reader().get(), req, &resp).ok());
  EXPECT_EQ(resp.peers(0).city().id(), "turin");
  for (int i = 0; i < 30; ++i) {
    EXPECT_TRUE(server_->store().GetCase("turin-concurrent-" + std::to_string(i)).ok());
  }
  v1::DeleteCaseResponse dout;
  for (int i = 0; i < 30; ++i) {
    v1::DeleteCaseRequest del;
    del.set_id("turin-concurrent-" + std::to_string(i));
    ASSERT_TRUE(stub().DeleteCase(Writer().get(), del, &dout).ok());
  }
}

}  // namespace
}  // namespace peermatch
