// HttpRouter: the HTTP API without a socket. A request in (method, path,
// query, headers, body, peer), a response out (status, headers, body); the
// transport (service/http_server.h) reads and writes the bytes, this decides
// what they mean. Pure, so that tests and fuzzers call Handle() directly.
//
//   HttpRouter router(RouterOptions{.cors_origin = "*"});
//   router.Add("GET", "/v1/cities/{id}", [](const HttpRequest& req,
//                                            const HttpRouter::Params& p) {
//     return JsonResponse(200, ...p[0]...);
//   });
//   HttpResponse res = router.Handle(request);
//
// Routing: a pattern is a path whose segments are literals or `{name}` (one
// non-empty segment). No route for the path: 404; a route for the path but
// not for the method: 405 with `Allow` listing the methods that are served.
// HEAD is routed as GET. OPTIONS is answered as a CORS preflight (204) when
// a CORS origin is set.
// Every error has the body ErrorBody() describes, as application/json.
//
// Thread-safety: Add() before the router is shared; Handle() and routes()
// are then safe from any number of threads (handlers must be too).
#ifndef PEERMATCH_SERVICE_HTTP_ROUTER_H_
#define PEERMATCH_SERVICE_HTTP_ROUTER_H_

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace peermatch {

struct HttpRequest {
  std::string method;  // "GET", "POST", ... as sent
  std::string path;    // percent-decoded, without the query; may hold any bytes
  // Percent-decoded query parameters in the order sent ('+' is a space).
  std::vector<std::pair<std::string, std::string>> query;
  // Header names in lower case; repeated headers joined with ", ".
  std::map<std::string, std::string> headers;
  std::string body;
  std::string peer;  // the client's address, "127.0.0.1:54321"

  // The header's value, "" when absent (`name` in lower case).
  const std::string& Header(const std::string& name) const;
};

// Issue 15: where a streamed response's body goes, part by part (see
// HttpResponse::stream). Used from the one thread that runs the stream.
class HttpBodyWriter {
 public:
  virtual ~HttpBodyWriter() = default;
  // Sends `bytes` as the next part of the body, as soon as the socket takes
  // it. False once the client has gone: nothing more will be sent, and the
  // stream should stop (and cancel what it waits for).
  virtual bool Write(absl::string_view bytes) = 0;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // What answered, for logs and metrics: "GET /v1/cities/{id}" (the route's
  // pattern, so that labels stay few), or "-" when no route did.
  std::string route = "-";
  // Why a request was refused before any route ran ("no_route",
  // "wrong_method", "body_too_large", ...); empty otherwise.
  std::string reason;
  // Issue 15: a streamed body. When set, the status and headers are sent at
  // once, then `body`, then whatever `stream` writes, each part as it is
  // written (chunked transfer encoding), until it returns. It runs on the
  // transport's worker thread and may block there; it must not use the
  // request (which may be gone), only what it captured.
  std::function<void(HttpBodyWriter&)> stream;
};

// The canonical code name an error body carries for an HTTP status the
// gateway answers itself: 400 and 411 INVALID_ARGUMENT, 401 UNAUTHENTICATED,
// 403 PERMISSION_DENIED, 404 NOT_FOUND, 405 and 415 UNIMPLEMENTED, 408
// DEADLINE_EXCEEDED, 413, 414 and 431 RESOURCE_EXHAUSTED (as gRPC names a
// message over its limit), 503 UNAVAILABLE. (Errors of gRPC calls carry
// the call's own code.)
absl::string_view StatusNameForHttp(int http_status);

// `s` with every byte sequence that is not UTF-8 replaced by U+FFFD.
std::string SanitizeUtf8(absl::string_view s);

// `s` as the inside of a JSON string: quotes, backslashes and control
// characters escaped, invalid UTF-8 replaced by U+FFFD. Always valid JSON.
std::string JsonEscape(absl::string_view s);

// {"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": "..."}}
// followed by a newline; `message` may hold any bytes (see JsonEscape).
std::string ErrorBody(int http_status, absl::string_view status_name, absl::string_view message);

// An error response with ErrorBody(status, StatusNameForHttp(status), message).
HttpResponse ErrorResponse(int http_status, absl::string_view message,
                           absl::string_view reason = "");

// Splits a request target ("/v1/cases?kind=challenge&pageSize=2") into the
// percent-decoded path and query of `request`. INVALID_ARGUMENT naming the
// part for a target that does not start with '/', a malformed or NUL escape
// ("%zz", "%00").
absl::Status ParseTarget(absl::string_view target, HttpRequest* request);

struct RouterOptions {
  // The portal's origin for CORS ("https://portal.example.org"), "*" for
  // any, empty for no CORS headers and no preflight answers.
  std::string cors_origin;
};

class HttpRouter {
 public:
  // The values of the pattern's `{name}` segments, in order.
  using Params = std::vector<std::string>;
  using Handler = std::function<HttpResponse(const HttpRequest&, const Params&)>;
  struct Route {
    std::string method;   // "GET"
    std::string pattern;  // "/v1/cities/{id}"
  };

  explicit HttpRouter(RouterOptions options = {}) : options_(std::move(options)) {}

  // Serves `method` on `pattern`. Adding the same method and pattern twice
  // is a programming error (the later one is never reached).
  void Add(std::string method, std::string pattern, Handler handler);

  // Routes `request` (see the top of this file). Never throws; a handler's
  // response is returned as it is, with CORS headers added.
  HttpResponse Handle(const HttpRequest& request) const;

  // Every route, in the order added (for /openapi.json's test and docs).
  std::vector<Route> routes() const;

 private:
  struct Entry {
    Route route;
    std::vector<std::string> segments;  // "{...}" for a parameter
    Handler handler;
  };
  // True when `path` fits `entry`'s pattern; fills `params`.
  static bool Matches(const Entry& entry, const std::vector<absl::string_view>& segments,
                      Params* params);
  void AddCors(const HttpRequest& request, HttpResponse* response) const;

  RouterOptions options_;
  std::vector<Entry> entries_;
};

}  // namespace peermatch

#endif  // PEERMATCH_SERVICE_HTTP_ROUTER_H_
