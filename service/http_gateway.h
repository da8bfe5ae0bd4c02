// HttpGateway: HTTP/JSON for the portal. Each route decodes protobuf's
// canonical JSON into the request message, calls the very same gRPC handler
// through the server's in-process channel (so access control, validation,
// logging and metrics are the gRPC ones), and encodes the reply as JSON.
//
//   POST /v1/match            MatchRequest          -> MatchResponse
//   POST /v1/similar          SimilarCasesRequest   -> SimilarCasesResponse
//   GET  /v1/cities[?region=&pageSize=&pageToken=]  -> ListCitiesResponse
//   GET  /v1/cities/{id}                            -> City
//   GET  /v1/cases[?cityId=&kind=&theme=&pageSize=&pageToken=] -> ListCasesResponse
//   GET  /v1/cases/{id}                             -> Case
//   GET  /v1/stats                                  -> Stats
//   POST /v1/cities           City -> PutCityResponse        (write token)
//   DELETE /v1/cities/{id}[?cascade=true]  -> DeleteCityResponse (write token)
//   POST /v1/cases            Case -> PutCaseResponse        (write token)
//   DELETE /v1/cases/{id}                  -> DeleteCaseResponse (write token)
//   POST /v1/import           JSON Lines of ImportRecord -> ImportSummary (write token)
//   POST /v1/pairs            PairCitiesRequest -> {"pairs": [Pair], "summary": PairingSummary}
//   GET  /healthz   "SERVING" (200) or "NOT_SERVING" (503)
//   GET  /metrics   Prometheus text format
// Errors: the HTTP status that Google's API mapping gives the gRPC code, and
// {"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": "..."}}.
// An `Authorization: Bearer ...` header is passed on as gRPC metadata.
//
// Thread-safety: Start() and Stop() from one thread; requests are served on
// the HTTP library's worker threads.
#ifndef PEERMATCH_SERVICE_HTTP_GATEWAY_H_
#define PEERMATCH_SERVICE_HTTP_GATEWAY_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "grpcpp/channel.h"
#include "service/metrics.h"

namespace httplib {
class Server;
}

namespace peermatch {

struct HttpOptions {
  // host:port; port 0 picks a free one (see port()).
  std::string listen = "127.0.0.1:8080";
  // The portal's origin for CORS ("https://portal.example.org"), "*" for
  // any, empty for no CORS headers.
  std::string cors_origin;
  // Largest request body accepted (413 beyond).
  size_t max_body_bytes = 1 << 20;
};

class HttpGateway {
 public:
  // Serves on options.listen. `channel` reaches the gRPC server; `metrics`
  // and `gauges` feed /metrics. UNAVAILABLE if the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<HttpGateway>> Start(
      std::shared_ptr<grpc::Channel> channel, Metrics* metrics,
      std::function<std::map<std::string, double>()> gauges, const HttpOptions& options);
  ~HttpGateway();
  HttpGateway(const HttpGateway&) = delete;
  HttpGateway& operator=(const HttpGateway&) = delete;

  int port() const { return port_; }
  // Stops listening and waits for the serving thread.
  void Stop();

 private:
  HttpGateway() = default;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace peermatch

#endif  // PEERMATCH_SERVICE_HTTP_GATEWAY_H_
