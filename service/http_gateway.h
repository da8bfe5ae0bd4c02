// HttpGateway: HTTP/JSON for the portal. The API's routes
// (service/http_routes.h, described at GET /openapi.json) served by the
// hardened transport (service/http_server.h: limits, deadlines, a bounded
// worker pool), with one access-log line and a count in /metrics for every
// request, refused ones included:
//
//   peermatch_http_responses_total{route="POST /v1/match",code="200"} 12
//   peermatch_http_rejections_total{reason="body_too_large"} 1
//
// `route` is the pattern that answered, "-" when none did (refused before
// routing, no route, wrong method); `reason` says why the gateway refused a
// request itself (see HttpResponse::reason and http_server.h).
//
// Thread-safety: Start() and Stop() from one thread; requests are served on
// the transport's threads.
#ifndef PEERMATCH_SERVICE_HTTP_GATEWAY_H_
#define PEERMATCH_SERVICE_HTTP_GATEWAY_H_

#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/channel.h"
#include "service/console.h"
#include "service/http_routes.h"
#include "service/http_server.h"
#include "service/metrics.h"

namespace peermatch {

struct HttpOptions {
  // host:port; port 0 picks a free one (see port()).
  std::string listen = "127.0.0.1:8080";
  // The portal's origin for CORS ("https://portal.example.org"), "*" for
  // any, empty for no CORS headers.
  std::string cors_origin;
  // Body, header, connection and time limits (service/http_server.h).
  HttpLimits limits;
  // Checks the token of a /metrics request; empty: /metrics is open.
  std::function<absl::Status(absl::string_view authorization)> metrics_authorization;
  // Where access-log lines go, one JSON object a line (null: none).
  FILE* access_log = nullptr;
  // The staff console's files, served at / beside the API (issue 15,
  // service/console.h); empty: no console.
  std::vector<StaticFile> console;
};

// The gateway's own counters (the gRPC calls it makes are counted by the
// gRPC server's Metrics). Thread-safe.
class HttpCounters {
 public:
  void Record(const HttpExchange& exchange) ABSL_LOCKS_EXCLUDED(mu_);
  // Prometheus text of both counters.
  std::string Render() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable absl::Mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> responses_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, uint64_t> rejections_ ABSL_GUARDED_BY(mu_);
};

class HttpGateway {
 public:
  // Serves on options.listen. `channel` reaches the gRPC server; `metrics`
  // and `gauges` feed /metrics. INVALID_ARGUMENT for a bad address or
  // limits; UNAVAILABLE if the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<HttpGateway>> Start(
      std::shared_ptr<grpc::Channel> channel, Metrics* metrics,
      std::function<std::map<std::string, double>()> gauges, const HttpOptions& options);
  ~HttpGateway();
  HttpGateway(const HttpGateway&) = delete;
  HttpGateway& operator=(const HttpGateway&) = delete;

  int port() const { return server_->port(); }
  // Cancels the gRPC calls requests are waiting for (their clients get
  // 499 CANCELLED), stops listening, and waits for the transport's threads.
  void Stop();

 private:
  HttpGateway() = default;
  HttpOptions options_;
  HttpCounters counters_;
  std::shared_ptr<InflightCalls> inflight_;
  std::unique_ptr<HttpRouter> router_;
  std::unique_ptr<HttpServer> server_;  // declared last: destroyed (stopped) first
};

}  // namespace peermatch

#endif  // PEERMATCH_SERVICE_HTTP_GATEWAY_H_
