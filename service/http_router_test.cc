// The HTTP router without a socket: matching, 404 / 405 with Allow, CORS,
// targets, JSON error bodies for any input, and the route table against
// service/openapi.json.
#include "service/http_router.h"

#include <set>
#include <string>

#include "absl/strings/ascii.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "service/http_routes.h"

namespace peermatch {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

// The body parses as JSON of the error shape with this code.
void ExpectErrorBody(const HttpResponse& res, int code) {
  EXPECT_EQ(res.status, code);
  EXPECT_EQ(res.content_type, "application/json");
  google::protobuf::Struct body;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(res.body, &body).ok()) << res.body;
  const auto& error = body.fields().at("error").struct_value().fields();
  EXPECT_EQ(error.at("code").number_value(), code);
  EXPECT_FALSE(error.at("status").string_value().empty());
  EXPECT_TRUE(error.count("message")) << res.body;
}

HttpRouter TwoRoutes(RouterOptions options = {}) {
  HttpRouter router(options);
  router.Add("GET", "/v1/things/{id}", [](const HttpRequest&, const HttpRouter::Params& p) {
    HttpResponse res;
    res.body = "got " + p[0];
    return res;
  });
  router.Add("DELETE", "/v1/things/{id}", [](const HttpRequest&, const HttpRouter::Params&) {
    return HttpResponse();
  });
  return router;
}

HttpRequest Request(std::string method, std::string path) {
  HttpRequest req;
  req.method = std::move(method);
  req.path = std::move(path);
  return req;
}

TEST(HttpRouter, MatchesParametersAndNamesTheRoute) {
  HttpRouter router = TwoRoutes();
  HttpResponse res = router.Handle(Request("GET", "/v1/things/abc"));
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "got abc");
  EXPECT_EQ(res.route, "GET /v1/things/{id}");
  EXPECT_EQ(router.Handle(Request("HEAD", "/v1/things/abc")).status, 200);
}

TEST(HttpRouter, UnknownPathIs404WrongMethodIs405WithAllow) {
  HttpRouter router = TwoRoutes();
  HttpResponse none = router.Handle(Request("GET", "/v1/things"));
  ExpectErrorBody(none, 404);
  EXPECT_EQ(none.reason, "no_route");
  ExpectErrorBody(router.Handle(Request("GET", "/v1/things/")), 404);  // empty {id}
  HttpResponse wrong = router.Handle(Request("POST", "/v1/things/abc"));
  ExpectErrorBody(wrong, 405);
  EXPECT_THAT(wrong.headers, ElementsAre(Pair("Allow", "GET, DELETE")));
  EXPECT_THAT(wrong.body, HasSubstr("POST"));
}

TEST(HttpRouter, CorsPreflightAndOrigin) {
  RouterOptions options;
  options.cors_origin = "https://portal.example.org";
  HttpRouter router = TwoRoutes(options);
  HttpRequest preflight = Request("OPTIONS", "/v1/things/abc");
  preflight.headers["origin"] = "https://portal.example.org";
  HttpResponse res = router.Handle(preflight);
  EXPECT_EQ(res.status, 204);
  EXPECT_THAT(res.headers, testing::Contains(Pair("Access-Control-Allow-Methods",
                                                  "GET, DELETE, OPTIONS")));
  EXPECT_THAT(res.headers, testing::Contains(Pair("Access-Control-Allow-Origin",
                                                  "https://portal.example.org")));
  HttpRequest other = Request("GET", "/v1/things/abc");
  other.headers["origin"] = "https://elsewhere.example.com";
  for (const auto& [name, value] : router.Handle(other).headers) {
    EXPECT_NE(name, "Access-Control-Allow-Origin");
  }
  // Without a CORS origin, OPTIONS is a method like any other.
  ExpectErrorBody(TwoRoutes().Handle(preflight), 405);
}

TEST(HttpRouter, ErrorBodiesStayJsonForAnyBytes) {
  HttpRouter router = TwoRoutes();
  const std::string hostile = std::string("/\xff\xfe\"\\\x01\xc3(\xed\xa0\x80", 12);
  HttpResponse res = router.Handle(Request("GET", hostile));
  ExpectErrorBody(res, 404);
  EXPECT_THAT(res.body, HasSubstr("\xEF\xBF\xBD"));  // U+FFFD for the bad bytes
  EXPECT_EQ(SanitizeUtf8("ok \xc3\xa9"), "ok \xc3\xa9");  // valid UTF-8 is kept
  EXPECT_EQ(SanitizeUtf8("\xc0\xaf"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '/'
}

TEST(ParseTarget, DecodesPathAndQuery) {
  HttpRequest req;
  ASSERT_TRUE(ParseTarget("/v1/cities/s%C3%A3o?region=africa&pageSize=2&q=a+b%26c", &req).ok());
  EXPECT_EQ(req.path, "/v1/cities/s\xc3\xa3o");
  EXPECT_THAT(req.query, ElementsAre(Pair("region", "africa"), Pair("pageSize", "2"),
                                     Pair("q", "a b&c")));
  EXPECT_EQ(ParseTarget("/a%zz", &req).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseTarget("/a%2", &req).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseTarget("/a%00b", &req).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseTarget("http://x/", &req).code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(ParseTarget("/%FF", &req).ok());  // any bytes; the router answers 404
  EXPECT_EQ(req.path, "/\xff");
}

// Every route of the API is in service/openapi.json with its method, and
// every path and method there is a route.
TEST(OpenApi, DescribesExactlyTheRouteTable) {
  ApiBackend backend;
  backend.channel = grpc::CreateChannel("127.0.0.1:1", grpc::InsecureChannelCredentials());
  backend.metrics_text = [] { return std::string(); };
  std::unique_ptr<HttpRouter> router = NewApiRouter(backend);
  std::set<std::string> routes;
  for (const auto& r : router->routes()) routes.insert(r.method + " " + r.pattern);

  google::protobuf::Struct spec;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(std::string(OpenApiJson()), &spec).ok());
  EXPECT_THAT(spec.fields().at("openapi").string_value(), testing::StartsWith("3.0"));
  std::set<std::string> described;
  for (const auto& [path, item] : spec.fields().at("paths").struct_value().fields()) {
    for (const auto& [method, op] : item.struct_value().fields()) {
      if (method == "parameters") continue;
      described.insert(absl::AsciiStrToUpper(method) + " " + path);
      // Every operation documents the error body for its failures.
      const auto& responses = op.struct_value().fields().at("responses").struct_value().fields();
      EXPECT_TRUE(responses.count("default")) << method << " " << path;
    }
  }
  EXPECT_EQ(described, routes);
  EXPECT_GE(routes.size(), 16u);
  EXPECT_TRUE(spec.fields().at("components").struct_value().fields().at("schemas")
                  .struct_value().fields().count("Error"));
}

}  // namespace
}  // namespace peermatch
