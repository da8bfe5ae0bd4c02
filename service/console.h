// The staff console (issue 15): the single-page app that peermatchd serves
// at `/` on its HTTP port, beside the JSON API it calls (same origin, so no
// CORS). The files are built from web/ by `make build` and embedded in the
// program (web/console_files.h); this header only knows how to serve them.
//
//   HttpOptions http;
//   http.console = ConsoleFiles();          // web/console_files.h
//   // GET /               -> the file whose path is "/"  (index.html)
//   // GET /console/app.js -> the file whose path is "/console/app.js"
//
// The console's routes are not API operations and are not in
// /openapi.json: they are added to the router after NewApiRouter() (whose
// table the OpenAPI description matches exactly), and a client generated
// from the description has no use for them.
//
// Every console response carries kConsoleContentSecurityPolicy (scripts and
// styles from this origin only: no inline script, no eval, no inline style
// attribute; API calls to this origin only; nothing may frame the page) and
// `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`,
// `Cache-Control: no-cache` (the files change with the program).
//
// Thread-safety: the routes read only the immutable files.
#ifndef PEERMATCH_SERVICE_CONSOLE_H_
#define PEERMATCH_SERVICE_CONSOLE_H_

#include <vector>

#include "absl/strings/string_view.h"
#include "service/http_router.h"

namespace peermatch {

// One file of the console. The views point at static storage.
struct StaticFile {
  absl::string_view path;          // "/" or "/console/NAME"
  absl::string_view content_type;  // "text/javascript; charset=utf-8"
  absl::string_view body;
};

// The Content-Security-Policy header of every console response.
extern const char kConsoleContentSecurityPolicy[];

// Serves each of `files` on GET (and HEAD) at its path. A path other than
// "/" must be "/console/NAME" with one segment; other paths are a
// programming error (not served). `files` must outlive `router`.
void AddConsoleRoutes(HttpRouter& router, const std::vector<StaticFile>& files);

}  // namespace peermatch

#endif  // PEERMATCH_SERVICE_CONSOLE_H_
