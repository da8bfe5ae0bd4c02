// The HTTP/JSON gateway: the same answers as gRPC, errors in Google's HTTP
// mapping, tokens, CORS, health and metrics.
#include <map>
#include <set>
#include <string>

#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "service/http_gateway.h"
#include "tests/testing/test_server.h"
// After Eigen: httplib pulls in <resolv.h>, whose `_res` macro breaks Eigen.
#include "httplib.h"

namespace peermatch {
namespace {

using ::testing::HasSubstr;
using testing::TestServer;
using testing::TestServerOptions;

class HttpTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    TestServerOptions options;
    options.tokens = true;
    options.http = true;
    options.demo_data = true;
    options.cors_origin = "https://portal.example.org";
    server_ = new TestServer(options);
  }
  static void TearDownTestSuite() { delete server_; }

  static httplib::Client Client() {
    httplib::Client client("127.0.0.1", server_->server().http_port());
    client.set_read_timeout(10, 0);
    return client;
  }
  static httplib::Headers Bearer(const char* token) {
    return {{"Authorization", std::string("Bearer ") + token}};
  }
  static TestServer* server_;
};
TestServer* HttpTest::server_ = nullptr;

TEST_F(HttpTest, PostMatchGivesTheSamePeersAsGrpc) {
  const std::string body =
      R"({"text": "older adults are isolated and cannot use video calls", "k": 5,
          "filters": {"excludeCountries": ["CN"]}})";
  auto client = Client();
  auto res = client.Post("/v1/match", Bearer(testing::kReadToken), body, "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  v1::MatchResponse via_http;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(res->body, &via_http).ok());

  v1::MatchRequest req;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(body, &req).ok());
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", std::string("Bearer ") + testing::kReadToken);
  v1::MatchResponse via_grpc;
  ASSERT_TRUE(server_->stub().Match(&ctx, req, &via_grpc).ok());
  ASSERT_EQ(via_http.peers_size(), 5);
  ASSERT_EQ(via_http.peers_size(), via_grpc.peers_size());
  for (int i = 0; i < via_grpc.peers_size(); ++i) {
    EXPECT_EQ(via_http.peers(i).city().id(), via_grpc.peers(i).city().id());
    EXPECT_EQ(via_http.peers(i).evidence(0).case_id(), via_grpc.peers(i).evidence(0).case_id());
    EXPECT_DOUBLE_EQ(via_http.peers(i).score(), via_grpc.peers(i).score());
    EXPECT_NE(via_http.peers(i).city().country(), "CN");
  }
  EXPECT_EQ(via_http.SerializeAsString(), via_grpc.SerializeAsString());
}

TEST_F(HttpTest, ReadCalls) {
  auto client = Client();
  auto city = client.Get("/v1/cities/fermo", Bearer(testing::kReadToken));
  ASSERT_EQ(city->status, 200);
  EXPECT_THAT(city->body, HasSubstr("\"name\":\"Fermo\""));
  auto cases = client.Get("/v1/cases?cityId=wuhan&kind=CASE_KIND_SOLUTION&pageSize=2",
                          Bearer(testing::kReadToken));
  ASSERT_EQ(cases->status, 200) << cases->body;
  v1::ListCasesResponse list;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(cases->body, &list).ok());
  EXPECT_EQ(list.cases_size(), 2);
  EXPECT_FALSE(list.next_page_token().empty());
  auto stats = client.Get("/v1/stats", Bearer(testing::kReadToken));
  EXPECT_THAT(stats->body, HasSubstr("\"cities\":\"93\""));
  auto similar = client.Post("/v1/similar", Bearer(testing::kReadToken),
                             R"({"caseId": "bahir-dar-covid-pupils-offline", "k": 3})",
                             "application/json");
  ASSERT_EQ(similar->status, 200) << similar->body;
}

TEST_F(HttpTest, ErrorsUseGoogleHttpMapping) {
  auto client = Client();
  auto bad_k = client.Post("/v1/match", Bearer(testing::kReadToken), R"({"text": "x", "k": 500})",
                           "application/json");
  EXPECT_EQ(bad_k->status, 400);
  EXPECT_THAT(bad_k->body, HasSubstr("\"status\": \"INVALID_ARGUMENT\""));
  EXPECT_THAT(bad_k->body, HasSubstr("k: 500 is outside 0-100"));
  auto bad_json = client.Post("/v1/match", Bearer(testing::kReadToken), "{not json",
                              "application/json");
  EXPECT_EQ(bad_json->status, 400);
  auto unknown_field = client.Post("/v1/match", Bearer(testing::kReadToken),
                                   R"({"text": "x", "kk": 1})", "application/json");
  EXPECT_EQ(unknown_field->status, 400);
  auto missing = client.Get("/v1/cities/atlantis", Bearer(testing::kReadToken));
  EXPECT_EQ(missing->status, 404);
  auto bad_param = client.Get("/v1/cities?pageSize=abc", Bearer(testing::kReadToken));
  EXPECT_EQ(bad_param->status, 400);
  auto unknown_param = client.Get("/v1/cities?drop=1", Bearer(testing::kReadToken));
  EXPECT_EQ(unknown_param->status, 400);
  auto no_route = client.Get("/v1/nothing-here", Bearer(testing::kReadToken));
  EXPECT_EQ(no_route->status, 404);
  EXPECT_THAT(no_route->body, HasSubstr("\"status\": \"NOT_FOUND\""));
  EXPECT_THAT(no_route->body, HasSubstr("GET /v1/nothing-here"));
  auto wrong_method = client.Get("/v1/match", Bearer(testing::kReadToken));
  EXPECT_EQ(wrong_method->status, 405);
  EXPECT_EQ(wrong_method->get_header_value("Allow"), "POST, OPTIONS");
  EXPECT_THAT(wrong_method->body, HasSubstr("does not serve GET"));
  auto no_token = client.Post("/v1/match", R"({"text": "x"})", "application/json");
  EXPECT_EQ(no_token->status, 401);
  const std::string huge(5 << 20, 'x');
  auto too_big = client.Post("/v1/match", Bearer(testing::kReadToken), huge, "application/json");
  ASSERT_TRUE(too_big);
  EXPECT_EQ(too_big->status, 413);
  EXPECT_THAT(too_big->body, HasSubstr("\"code\": 413"));
  EXPECT_THAT(too_big->body, HasSubstr("limit of 4194304 bytes"));
  // Input echoed in an error stays valid JSON, whatever its bytes.
  auto bad_bytes = client.Post("/v1/match", Bearer(testing::kReadToken), "{\"t\xff\xfe\": 1}",
                               "application/json");
  EXPECT_EQ(bad_bytes->status, 400);
  google::protobuf::Struct parsed;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(bad_bytes->body, &parsed).ok())
      << bad_bytes->body;
}

TEST_F(HttpTest, EnumQueryParametersTakeTheCliShortForms) {
  auto client = Client();
  auto canonical = client.Get("/v1/cities?region=REGION_AFRICA&pageSize=1000",
                              Bearer(testing::kReadToken));
  auto short_form = client.Get("/v1/cities?region=africa&pageSize=1000", Bearer(testing::kReadToken));
  ASSERT_EQ(short_form->status, 200) << short_form->body;
  EXPECT_EQ(short_form->body, canonical->body);
  v1::ListCitiesResponse african;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(short_form->body, &african).ok());
  ASSERT_GT(african.cities_size(), 0);
  for (const auto& city : african.cities()) EXPECT_EQ(city.region(), v1::REGION_AFRICA);
  auto cases = client.Get("/v1/cases?kind=challenge&theme=learning-technologies&pageSize=1000",
                          Bearer(testing::kReadToken));
  ASSERT_EQ(cases->status, 200) << cases->body;
  v1::ListCasesResponse list;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(cases->body, &list).ok());
  ASSERT_GT(list.cases_size(), 0);
  for (const auto& c : list.cases()) EXPECT_EQ(c.kind(), v1::CASE_KIND_CHALLENGE);
  auto unknown = client.Get("/v1/cities?region=atlantis", Bearer(testing::kReadToken));
  EXPECT_EQ(unknown->status, 400);
  EXPECT_THAT(unknown->body,
              HasSubstr(R"(region: \"atlantis\" is not a region; use one of africa, arab-states)"));
}

TEST_F(HttpTest, CurlsDefaultFormContentTypeIsReadAsJson) {
  auto client = Client();
  // curl -d '{...}' sends application/x-www-form-urlencoded.
  auto res = client.Post("/v1/match", Bearer(testing::kReadToken), R"({"text": "radio", "k": 2})",
                         "application/x-www-form-urlencoded");
  ASSERT_EQ(res->status, 200) << res->body;
  v1::MatchResponse reply;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(res->body, &reply).ok());
  EXPECT_EQ(reply.peers_size(), 2);
}

TEST_F(HttpTest, OpenApiIsServed) {
  auto res = Client().Get("/openapi.json");
  ASSERT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(res->body, std::string(OpenApiJson()));
}

TEST_F(HttpTest, MetricsCanRequireAToken) {
  HttpOptions options;
  options.listen = "127.0.0.1:0";
  Auth auth;
  auth.AddToken(Access::kRead, testing::kReadToken);
  options.metrics_authorization = [&auth](absl::string_view authorization) {
    return auth.Check(authorization, Access::kRead);
  };
  auto gateway = HttpGateway::Start(server_->server().InProcessChannel(),
                                    &server_->server().metrics(), nullptr, options);
  ASSERT_TRUE(gateway.ok()) << gateway.status();
  httplib::Client client("127.0.0.1", (*gateway)->port());
  auto open = client.Get("/metrics");
  EXPECT_EQ(open->status, 401);
  EXPECT_THAT(open->body, HasSubstr("\"status\": \"UNAUTHENTICATED\""));
  auto with_token = client.Get("/metrics", Bearer(testing::kReadToken));
  EXPECT_EQ(with_token->status, 200);
  EXPECT_THAT(with_token->body, HasSubstr("peermatch_http_responses_total{route=\"GET /metrics\",code=\"401\"} 1"));
}

TEST_F(HttpTest, CorsForThePortalOrigin) {
  auto client = Client();
  httplib::Headers headers = Bearer(testing::kReadToken);
  headers.emplace("Origin", "https://portal.example.org");
  auto res = client.Post("/v1/match", headers, R"({"text": "radio"})", "application/json");
  EXPECT_EQ(res->get_header_value("Access-Control-Allow-Origin"), "https://portal.example.org");
  httplib::Headers other = Bearer(testing::kReadToken);
  other.emplace("Origin", "https://elsewhere.example.com");
  res = client.Post("/v1/match", other, R"({"text": "radio"})", "application/json");
  EXPECT_FALSE(res->has_header("Access-Control-Allow-Origin"));
  auto preflight = client.Options("/v1/match", {{"Origin", "https://portal.example.org"}});
  EXPECT_EQ(preflight->status, 204);
  EXPECT_THAT(preflight->get_header_value("Access-Control-Allow-Headers"),
              HasSubstr("Authorization"));
}

TEST_F(HttpTest, WritesImportAndPairs) {
  auto client = Client();
  const std::string city =
      R"({"id": "http-city", "name": "HTTP City", "country": "FR", "region": "REGION_EUROPE_NORTH_AMERICA"})";
  auto denied = client.Post("/v1/cities", Bearer(testing::kReadToken), city, "application/json");
  EXPECT_EQ(denied->status, 403);
  auto put = client.Post("/v1/cities", Bearer(testing::kWriteToken), city, "application/json");
  ASSERT_EQ(put->status, 200) << put->body;
  EXPECT_THAT(put->body, HasSubstr("\"changed\":true"));
  const std::string lines =
      R"({"case": {"id": "http-city-a", "cityId": "http-city", "kind": "CASE_KIND_SOLUTION", "title": "Rooftop gardens", "description": "Residents learn urban gardening", "themes": ["THEME_CULTURE_OF_LEARNING"]}})"
      "\nnot json\n";
  auto imported = client.Post("/v1/import", Bearer(testing::kWriteToken), lines, "application/x-ndjson");
  ASSERT_EQ(imported->status, 200) << imported->body;
  v1::ImportSummary summary;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(imported->body, &summary).ok());
  EXPECT_EQ(summary.cases_written(), 1);
  ASSERT_EQ(summary.errors_size(), 1);
  EXPECT_EQ(summary.errors(0).index(), 1);
  EXPECT_THAT(summary.errors(0).message(), HasSubstr("line 2"));
  auto refused = client.Delete("/v1/cities/http-city", Bearer(testing::kWriteToken));
  EXPECT_EQ(refused->status, 400);  // FAILED_PRECONDITION: it has a case
  auto deleted = client.Delete("/v1/cities/http-city?cascade=true", Bearer(testing::kWriteToken));
  ASSERT_EQ(deleted->status, 200) << deleted->body;
  EXPECT_THAT(deleted->body, HasSubstr("\"deletedCases\":1"));

  auto pairs = client.Post("/v1/pairs", Bearer(testing::kReadToken),
                           R"({"k": 2, "capacity": 2, "excludeSameCountry": true})",
                           "application/json");
  ASSERT_EQ(pairs->status, 200) << pairs->body.substr(0, 300);
  EXPECT_THAT(pairs->body, HasSubstr("\"askingCityId\""));
  EXPECT_THAT(pairs->body, HasSubstr("\"summary\": {"));
  // The whole body is one JSON object whose summary counts its pairs.
  google::protobuf::Struct body;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(pairs->body, &body).ok())
      << pairs->body.substr(pairs->body.size() > 300 ? pairs->body.size() - 300 : 0);
  const auto& fields = body.fields();
  ASSERT_EQ(fields.count("pairs"), 1u);
  ASSERT_EQ(fields.count("summary"), 1u);
  const int listed = fields.at("pairs").list_value().values_size();
  EXPECT_GT(listed, 0);
  EXPECT_EQ(fields.at("summary").struct_value().fields().at("pairs").number_value(), listed);
  // Issue 12: the summary's fewerPeers are the asking cities with 1 of the
  // 2 peers asked, each with the server's reason.
  std::map<std::string, int> asked;
  for (const auto& p : fields.at("pairs").list_value().values()) {
    ++asked[p.struct_value().fields().at("askingCityId").string_value()];
  }
  std::set<std::string> one, reported;
  for (const auto& [city, n] : asked) {
    if (n == 1) one.insert(city);
  }
  const auto& pairing = fields.at("summary").struct_value().fields();
  if (pairing.count("fewerPeers") > 0) {
    for (const auto& u : pairing.at("fewerPeers").list_value().values()) {
      const auto& f = u.struct_value().fields();
      EXPECT_EQ(f.at("peers").number_value(), 1);
      EXPECT_FALSE(f.at("reason").string_value().empty());
      reported.insert(f.at("cityId").string_value());
    }
  }
  EXPECT_EQ(reported, one);
  auto bad_pairs = client.Post("/v1/pairs", Bearer(testing::kReadToken), R"({"k": 99})",
                               "application/json");
  EXPECT_EQ(bad_pairs->status, 400);
}

TEST_F(HttpTest, PatchChangesOneFieldAndRefusesAnUnknownOne) {
  auto client = Client();
  const std::string city =
      R"({"id": "patch-town", "name": "Patch Town", "country": "FR", "region": "REGION_EUROPE_NORTH_AMERICA", "population": 1200})";
  ASSERT_EQ(client.Post("/v1/cities", Bearer(testing::kWriteToken), city, "application/json")->status,
            200);
  const std::string kase =
      R"({"id": "patch-town-radio", "cityId": "patch-town", "kind": "CASE_KIND_SOLUTION", "title": "Lessons on local radio", "description": "Teachers record lessons for the local radio station", "themes": ["THEME_LEARNING_TECHNOLOGIES"]})";
  ASSERT_EQ(client.Post("/v1/cases", Bearer(testing::kWriteToken), kase, "application/json")->status,
            200);
  auto get = [&](const std::string& path) {
    auto res = client.Get(path.c_str(), Bearer(testing::kReadToken));
    return res ? res->body : std::string();
  };

  // One field, named by the body's keys; the others stay as they were.
  auto patched = client.Patch("/v1/cities/patch-town", Bearer(testing::kWriteToken),
                              R"({"population": 5400})", "application/json");
  ASSERT_EQ(patched->status, 200) << patched->body;
  v1::City stored;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(get("/v1/cities/patch-town"), &stored).ok());
  EXPECT_EQ(stored.population(), 5400);
  EXPECT_EQ(stored.name(), "Patch Town");
  EXPECT_EQ(stored.country(), "FR");

  // The same with ?updateMask=: only the masked field changes.
  auto masked = client.Patch("/v1/cases/patch-town-radio?updateMask=title",
                             Bearer(testing::kWriteToken),
                             R"({"title": "Radio lessons", "description": "ignored"})",
                             "application/json");
  ASSERT_EQ(masked->status, 200) << masked->body;
  v1::Case stored_case;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(get("/v1/cases/patch-town-radio"),
                                                         &stored_case).ok());
  EXPECT_EQ(stored_case.title(), "Radio lessons");
  EXPECT_EQ(stored_case.description(), "Teachers record lessons for the local radio station");

  // An unknown field is 400 naming it, and nothing changes.
  const std::string before = get("/v1/cities/patch-town");
  auto unknown = client.Patch("/v1/cities/patch-town?updateMask=nmae", Bearer(testing::kWriteToken),
                              R"({"name": "Renamed"})", "application/json");
  EXPECT_EQ(unknown->status, 400);
  EXPECT_THAT(unknown->body, HasSubstr("nmae"));
  EXPECT_THAT(unknown->body, HasSubstr("\"status\": \"INVALID_ARGUMENT\""));
  auto unknown_key = client.Patch("/v1/cities/patch-town", Bearer(testing::kWriteToken),
                                  R"({"mayor": "X"})", "application/json");
  EXPECT_EQ(unknown_key->status, 400);
  auto unknown_param = client.Patch("/v1/cities/patch-town?cascade=true",
                                    Bearer(testing::kWriteToken), R"({"population": 1})",
                                    "application/json");
  EXPECT_EQ(unknown_param->status, 400);
  EXPECT_THAT(unknown_param->body, HasSubstr("cascade"));
  // A read token cannot change anything; a missing record is 404.
  EXPECT_EQ(client.Patch("/v1/cities/patch-town", Bearer(testing::kReadToken),
                         R"({"population": 1})", "application/json")->status,
            403);
  EXPECT_EQ(client.Patch("/v1/cities/atlantis", Bearer(testing::kWriteToken),
                         R"({"population": 1})", "application/json")->status,
            404);
  EXPECT_EQ(get("/v1/cities/patch-town"), before);

  ASSERT_EQ(client.Delete("/v1/cities/patch-town?cascade=true", Bearer(testing::kWriteToken))->status,
            200);
}

TEST_F(HttpTest, HealthAndMetrics) {
  auto client = Client();
  auto health = client.Get("/healthz");
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, "SERVING\n");
  client.Post("/v1/match", Bearer(testing::kReadToken), R"({"text": "radio"})", "application/json");
  auto metrics = client.Get("/metrics");
  EXPECT_EQ(metrics->status, 200);
  EXPECT_THAT(metrics->body,
              HasSubstr("peermatch_requests_total{method=\"/peermatch.v1.Peermatch/Match\",code=\"OK\"}"));
  EXPECT_THAT(metrics->body, HasSubstr("peermatch_request_seconds_bucket{method="));
  EXPECT_THAT(metrics->body, HasSubstr("peermatch_index_cases 379"));
  EXPECT_THAT(metrics->body, HasSubstr("peermatch_store_bytes "));
  EXPECT_THAT(metrics->body,
              HasSubstr("peermatch_http_responses_total{route=\"POST /v1/match\",code=\"200\"} 1"));
}

}  // namespace
}  // namespace peermatch
