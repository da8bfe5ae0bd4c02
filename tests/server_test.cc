// The server over a real loopback gRPC connection: health, reflection,
// the data calls and the streaming import.
#include <atomic>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_server.h"

namespace peermatch {
namespace {

using ::testing::HasSubstr;
using testing::City;
using testing::TestServer;
using testing::StatusIs;

// A solution whose title and text name it.
v1::Case Case(const std::string& id, const std::string& city) {
  return testing::Solution(id, city, "Title " + id, "Description " + id,
                           v1::THEME_QUALITY_EXCELLENCE);
}

TEST(Server, HealthCheckIsServing) {
  TestServer server;
  auto health = grpc::health::v1::Health::NewStub(server.channel());
  grpc::ClientContext ctx;
  grpc::health::v1::HealthCheckResponse resp;
  ASSERT_TRUE(health->Check(&ctx, grpc::health::v1::HealthCheckRequest(), &resp).ok());
  EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

// With the reply cache off, repeated questions are answered afresh, the same.
TEST(Server, MatchWithoutTheReplyCache) {
  testing::TestServerOptions options;
  options.demo_data = true;
  options.reply_cache_bytes = 0;
  TestServer server(options);
  v1::MatchRequest req;
  req.set_text("radio lessons for pupils during school closures");
  v1::MatchResponse first, second;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(server.stub().Match(&ctx, req, &first).ok());
  }
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(server.stub().Match(&ctx, req, &second).ok());
  }
  ASSERT_FALSE(first.peers().empty());
  EXPECT_EQ(first.SerializeAsString(), second.SerializeAsString());
}

TEST(Server, PutGetDeleteWithCanonicalCodes) {
  TestServer server;
  auto& stub = server.stub();
  {
    grpc::ClientContext ctx;
    v1::PutCityRequest req;
    *req.mutable_city() = City("fermo");
    v1::PutCityResponse resp;
    ASSERT_TRUE(stub.PutCity(&ctx, req, &resp).ok());
    EXPECT_TRUE(resp.changed());
  }
  {
    grpc::ClientContext ctx;
    v1::PutCityRequest req;
    *req.mutable_city() = City("fermo");
    v1::PutCityResponse resp;
    ASSERT_TRUE(stub.PutCity(&ctx, req, &resp).ok());
    EXPECT_FALSE(resp.changed()) << "an identical put is idempotent";
  }
  {
    grpc::ClientContext ctx;
    v1::PutCityRequest req;
    *req.mutable_city() = City("rome", "ITA");
    v1::PutCityResponse resp;
    grpc::Status s = stub.PutCity(&ctx, req, &resp);
    EXPECT_THAT(s, StatusIs(grpc::StatusCode::INVALID_ARGUMENT, HasSubstr("city.country")));
  }
  {
    grpc::ClientContext ctx;
    v1::PutCaseRequest req;
    *req.mutable_case_() = Case("x-a", "nowhere");
    v1::PutCaseResponse resp;
    EXPECT_THAT(stub.PutCase(&ctx, req, &resp), StatusIs(grpc::StatusCode::NOT_FOUND));
  }
  {
    grpc::ClientContext ctx;
    v1::PutCaseRequest req;
    *req.mutable_case_() = Case("fermo-a", "fermo");
    v1::PutCaseResponse resp;
    ASSERT_TRUE(stub.PutCase(&ctx, req, &resp).ok());
  }
  {
    grpc::ClientContext ctx;
    v1::GetCaseRequest req;
    req.set_id("fermo-a");
    v1::Case c;
    ASSERT_TRUE(stub.GetCase(&ctx, req, &c).ok());
    EXPECT_EQ(c.title(), "Title fermo-a");
  }
  {
    grpc::ClientContext ctx;
    v1::DeleteCityRequest req;
    req.set_id("fermo");
    v1::DeleteCityResponse resp;
    EXPECT_THAT(stub.DeleteCity(&ctx, req, &resp), StatusIs(grpc::StatusCode::FAILED_PRECONDITION));
  }
  {
    grpc::ClientContext ctx;
    v1::GetCityRequest req;
    v1::City c;
    grpc::Status s = stub.GetCity(&ctx, req, &c);
    EXPECT_THAT(s, StatusIs(grpc::StatusCode::INVALID_ARGUMENT, HasSubstr("id")));
  }
}

TEST(Server, ListCitiesPagesWithOpaqueTokens) {
  TestServer server;
  for (int i = 0; i < 25; ++i) {
    ASSERT_TRUE(server.store().PutCity(City("city-" + std::to_string(100 + i))).ok());
  }
  std::vector<std::string> seen;
  v1::ListCitiesRequest req;
  req.set_page_size(10);
  int pages = 0;
  do {
    grpc::ClientContext ctx;
    v1::ListCitiesResponse resp;
    ASSERT_TRUE(server.stub().ListCities(&ctx, req, &resp).ok());
    for (const auto& c : resp.cities()) seen.push_back(c.id());
    req.set_page_token(resp.next_page_token());
    ++pages;
  } while (!req.page_token().empty());
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(seen.size(), 25u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));

  grpc::ClientContext ctx;
  req.set_page_token("not-a-token");
  v1::ListCitiesResponse resp;
  grpc::Status s = server.stub().ListCities(&ctx, req, &resp);
  EXPECT_THAT(s, StatusIs(grpc::StatusCode::INVALID_ARGUMENT, HasSubstr("page_token")));
}

TEST(Server, ImportStreamReportsBadRecordsAndKeepsGoing) {
  TestServer server;
  grpc::ClientContext ctx;
  v1::ImportSummary summary;
  auto writer = server.stub().ImportRecords(&ctx, &summary);
  v1::ImportRecord r;
  *r.mutable_city() = City("turin");
  ASSERT_TRUE(writer->Write(r));
  *r.mutable_case_() = Case("turin-a", "turin");
  ASSERT_TRUE(writer->Write(r));
  v1::Case bad = Case("turin-b", "turin");
  bad.add_sdgs(99);
  *r.mutable_case_() = bad;
  ASSERT_TRUE(writer->Write(r));
  *r.mutable_case_() = Case("turin-c", "turin");
  ASSERT_TRUE(writer->Write(r));
  *r.mutable_case_() = Case("turin-c", "turin");  // again: unchanged
  ASSERT_TRUE(writer->Write(r));
  writer->WritesDone();
  ASSERT_TRUE(writer->Finish().ok());
  EXPECT_EQ(summary.cities_written(), 1);
  EXPECT_EQ(summary.cases_written(), 2);
  EXPECT_EQ(summary.unchanged(), 1);
  ASSERT_EQ(summary.errors_size(), 1);
  EXPECT_EQ(summary.errors(0).index(), 2);
  EXPECT_EQ(summary.errors(0).id(), "turin-b");
  EXPECT_EQ(summary.errors(0).code(), "INVALID_ARGUMENT");
  EXPECT_THAT(summary.errors(0).message(), HasSubstr("case.sdgs[0]"));
  EXPECT_THAT(server.store().GetCase("turin-b"), StatusIs(absl::StatusCode::kNotFound));
}

// Writers publish, readers read: while an import's index is being built
// (held just before it is published), a Match, GetStats and the health
// check are answered from the previous snapshot; none waits for the build.
TEST(Server, ReadsDoNotWaitForAWriteBeingIndexed) {
  std::atomic<bool> hold{false};
  absl::Notification built, release;
  testing::TestServerOptions options;
  options.demo_data = true;
  options.reply_cache_bytes = 0;  // every Match is computed
  options.before_publish = [&] {
    if (!hold.exchange(false)) return;
    built.Notify();
    release.WaitForNotification();
  };
  TestServer server(options);
  // A read that waited for the held write would fail here, not hang.
  auto bounded = [](grpc::ClientContext* ctx) {
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  };
  auto count_cases = [&] {
    grpc::ClientContext ctx;
    bounded(&ctx);
    v1::Stats stats;
    EXPECT_TRUE(server.stub().GetStats(&ctx, v1::GetStatsRequest(), &stats).ok());
    return stats.cases();
  };
  const int64_t cases_before = count_cases();
  v1::MatchRequest req;
  req.set_text("zyxquartz lantern festival volunteers");
  auto match = [&] {
    grpc::ClientContext ctx;
    bounded(&ctx);
    v1::MatchResponse resp;
    grpc::Status s = server.stub().Match(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  };
  auto mentions_new_case = [](const v1::MatchResponse& resp) {
    for (const auto& peer : resp.peers()) {
      if (peer.city().id() == "new-city") return true;
    }
    return false;
  };
  ASSERT_FALSE(mentions_new_case(match()));

  hold = true;
  std::thread writer([&] {
    grpc::ClientContext ctx;
    v1::ImportSummary summary;
    auto stream = server.stub().ImportRecords(&ctx, &summary);
    ASSERT_TRUE(stream->Write([] {
      v1::ImportRecord r;
      *r.mutable_city() = City("new-city");
      return r;
    }()));
    for (int i = 0; i < 300; ++i) {
      v1::ImportRecord r;
      *r.mutable_case_() = Case("new-" + std::to_string(i), "new-city");
      r.mutable_case_()->set_description("zyxquartz lantern festival run by volunteers " +
                                         std::to_string(i));
      ASSERT_TRUE(stream->Write(r));
    }
    stream->WritesDone();
    grpc::Status s = stream->Finish();
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(summary.cases_written(), 300);
  });
  built.WaitForNotification();  // the import is written and its index built, not published

  const v1::MatchResponse during = match();
  EXPECT_FALSE(mentions_new_case(during));
  EXPECT_EQ(count_cases(), cases_before);
  {
    auto health = grpc::health::v1::Health::NewStub(server.channel());
    grpc::ClientContext ctx;
    bounded(&ctx);
    grpc::health::v1::HealthCheckResponse resp;
    EXPECT_TRUE(health->Check(&ctx, grpc::health::v1::HealthCheckRequest(), &resp).ok());
  }
  // Every read above returned while the write was still held.
  EXPECT_FALSE(release.HasBeenNotified());

  release.Notify();
  writer.join();
  EXPECT_EQ(count_cases(), cases_before + 300);
  EXPECT_TRUE(mentions_new_case(match()));
}

}  // namespace
}  // namespace peermatch
