#include "service/console.h"

#include <string>

#include "absl/strings/match.h"

namespace peermatch {

// 'self' is the HTTP port's own origin. img-src allows data: for nothing
// the page makes today but an SVG's own markers; there is no font, object,
// frame or form target.
const char kConsoleContentSecurityPolicy[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

void AddConsoleRoutes(HttpRouter& router, const std::vector<StaticFile>& files) {
  for (const StaticFile& file : files) {
    const bool served_path =
        file.path == "/" || (absl::StartsWith(file.path, "/console/") &&
                             file.path.size() > 9 && !absl::StrContains(file.path.substr(9), "/"));
    if (!served_path) continue;
    router.Add("GET", std::string(file.path), [file](const HttpRequest&, const HttpRouter::Params&) {
      HttpResponse res;
      res.content_type = std::string(file.content_type);
      res.body = std::string(file.body);
      res.headers = {{"Content-Security-Policy", kConsoleContentSecurityPolicy},
                     {"X-Content-Type-Options", "nosniff"},
                     {"Referrer-Policy", "no-referrer"},
                     {"X-Frame-Options", "DENY"},
                     {"Cache-Control", "no-cache"}};
      return res;
    });
  }
}

}  // namespace peermatch
