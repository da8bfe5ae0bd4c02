#include "service/console.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace peermatch {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Pair;

HttpRequest Get(std::string path, std::string method = "GET") {
  HttpRequest req;
  req.method = std::move(method);
  req.path = std::move(path);
  return req;
}

std::string HeaderOf(const HttpResponse& res, const std::string& name) {
  for (const auto& [k, v] : res.headers) {
    if (k == name) return v;
  }
  return "";
}

const std::vector<StaticFile>& Files() {
  static const auto* files = new std::vector<StaticFile>{
      {"/", "text/html; charset=utf-8", "<!doctype html><title>console</title>"},
      {"/console/app.js", "text/javascript; charset=utf-8", "console.log(1)"},
      {"/elsewhere/x.js", "text/javascript; charset=utf-8", "not served"},
      {"/console/a/b.js", "text/javascript; charset=utf-8", "not served"},
  };
  return *files;
}

TEST(Console, ServesEachFileAtItsPathWithTheContentSecurityPolicy) {
  HttpRouter router;
  AddConsoleRoutes(router, Files());
  HttpResponse page = router.Handle(Get("/"));
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(page.body, "<!doctype html><title>console</title>");
  EXPECT_EQ(HeaderOf(page, "Content-Security-Policy"), kConsoleContentSecurityPolicy);
  EXPECT_THAT(page.headers, Contains(Pair("X-Content-Type-Options", "nosniff")));
  EXPECT_THAT(page.headers, Contains(Pair("Referrer-Policy", "no-referrer")));

  HttpResponse script = router.Handle(Get("/console/app.js"));
  EXPECT_EQ(script.status, 200);
  EXPECT_EQ(script.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(script.body, "console.log(1)");
  EXPECT_EQ(HeaderOf(script, "Content-Security-Policy"), kConsoleContentSecurityPolicy);
  EXPECT_EQ(router.Handle(Get("/console/app.js", "HEAD")).status, 200);
}

TEST(Console, ThePolicyAllowsNoInlineScriptNoEvalAndNoOtherOrigin) {
  const std::string csp = kConsoleContentSecurityPolicy;
  EXPECT_THAT(csp, HasSubstr("default-src 'none'"));
  EXPECT_THAT(csp, HasSubstr("script-src 'self';"));
  EXPECT_THAT(csp, HasSubstr("connect-src 'self';"));
  EXPECT_THAT(csp, HasSubstr("frame-ancestors 'none'"));
  EXPECT_THAT(csp, ::testing::Not(HasSubstr("unsafe")));
  EXPECT_THAT(csp, ::testing::Not(HasSubstr("*")));
}

TEST(Console, OnlyItsOwnPathsAndOnlyGet) {
  HttpRouter router;
  AddConsoleRoutes(router, Files());
  EXPECT_EQ(router.Handle(Get("/console/missing.js")).status, 404);
  EXPECT_EQ(router.Handle(Get("/elsewhere/x.js")).status, 404);  // not under /console/
  EXPECT_EQ(router.Handle(Get("/console/a/b.js")).status, 404);  // one segment only
  HttpResponse post = router.Handle(Get("/", "POST"));
  EXPECT_EQ(post.status, 405);
  EXPECT_THAT(post.body, HasSubstr("\"status\": \"UNIMPLEMENTED\""));
  // Without files, nothing is served at / (peermatchd without a console).
  HttpRouter none;
  AddConsoleRoutes(none, {});
  EXPECT_EQ(none.Handle(Get("/")).status, 404);
}

}  // namespace
}  // namespace peermatch
