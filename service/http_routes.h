// The routes of peermatch's HTTP/JSON API (the table is in NewApiRouter, and
// GET /openapi.json describes it; a test keeps the two equal).
//
// Each route decodes protobuf's canonical JSON (or query parameters, or the
// id in the path) into the request message, calls the very same gRPC
// handler through `channel` (so access control, validation, logging and
// metrics are the gRPC ones), and encodes the reply as canonical JSON
// (JsonPrintOptions::always_print_primitive_fields). A gRPC error becomes
// the HTTP status of Google's API mapping and the body of ErrorBody()
// (service/http_router.h) with the canonical code's name.
//
//   POST   /v1/match          MatchRequest        -> MatchResponse
//   POST   /v1/similar        SimilarCasesRequest -> SimilarCasesResponse
//   GET    /v1/cities[?region=&pageSize=&pageToken=]          -> ListCitiesResponse
//   GET    /v1/cities/{id}                                    -> City
//   POST   /v1/cities         City                -> PutCityResponse     (write token)
//   DELETE /v1/cities/{id}[?cascade=true]         -> DeleteCityResponse  (write token)
//   PATCH  /v1/cities/{id}[?updateMask=]  partial City -> City (UpdateCity, write token)
//   GET    /v1/cases[?cityId=&kind=&theme=&pageSize=&pageToken=] -> ListCasesResponse
//   GET    /v1/cases/{id}                                     -> Case
//   POST   /v1/cases          Case                -> PutCaseResponse     (write token)
//   DELETE /v1/cases/{id}                         -> DeleteCaseResponse  (write token)
//   PATCH  /v1/cases/{id}[?updateMask=]   partial Case -> Case (UpdateCase, write token)
//   POST   /v1/import         JSON Lines of ImportRecord -> ImportSummary (write token)
//   POST   /v1/pairs          PairCitiesRequest -> {"pairs": [Pair], "summary": PairingSummary}
//   POST   /v1/pairs?stream=1 PairCitiesRequest -> NDJSON: a PairCitiesResponse a line, as it comes
//   GET    /v1/stats                                          -> Stats
//   POST   /v1/rounds         CreateRoundRequest -> Round             (write token)
//   POST   /v1/rounds?stream=1 CreateRoundRequest -> NDJSON: CreateRoundProgress a line (write)
//   GET    /v1/rounds[?pageSize=&pageToken=]                  -> ListRoundsResponse
//   GET    /v1/rounds/{id}                                    -> Round
//   POST   /v1/rounds/{id}/decisions  DecideRoundPairRequest -> DecideRoundPairResponse (write)
//   POST   /v1/rounds/{id}/rematch    {}  -> RematchRoundResponse        (write token)
//   POST   /v1/rounds/{id}/close      {}  -> Round                       (write token)
//   GET    /healthz           "SERVING" (200) or "NOT_SERVING" (503), text
//   GET    /metrics           Prometheus text (a token when metrics_authorization says so)
//   GET    /openapi.json      the OpenAPI 3.0 description of all of the above
//
// Streams (issue 15): `?stream=1` answers as application/x-ndjson, each
// message of the gRPC stream a line as soon as it arrives (chunked). An
// error before the first message is an ordinary error answer; one after it
// is the stream's last line, an error body as ErrorBody() writes it.
//
// Bodies are read as JSON (JSON Lines for /v1/import) whatever their
// Content-Type says: curl's default application/x-www-form-urlencoded
// included. Enum query parameters take the CLI's short forms
// (`?region=africa`, `?kind=challenge`, `?theme=workplace`) as well as the
// canonical names. `Authorization` is passed on as gRPC metadata, and the
// client's address as `x-peermatch-http-peer`.
//
// Thread-safety: the router and InflightCalls are safe from any thread.
#ifndef PEERMATCH_SERVICE_HTTP_ROUTES_H_
#define PEERMATCH_SERVICE_HTTP_ROUTES_H_

#include <functional>
#include <memory>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "service/http_router.h"

namespace peermatch {

// The gRPC calls the routes have under way, so that a stopping gateway can
// cancel them (a pairing may run for minutes).
class InflightCalls {
 public:
  // Registers `ctx` until Remove(); cancels it at once after CancelAll().
  void Add(grpc::ClientContext* ctx) ABSL_LOCKS_EXCLUDED(mu_);
  void Remove(grpc::ClientContext* ctx) ABSL_LOCKS_EXCLUDED(mu_);
  // Cancels every registered call, and every one added later.
  void CancelAll() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  absl::Mutex mu_;
  std::set<grpc::ClientContext*> calls_ ABSL_GUARDED_BY(mu_);
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
};

struct ApiBackend {
  // Reaches the gRPC server (the server's in-process channel). Required. A
  // channel to an address nobody serves makes every route answer 503.
  std::shared_ptr<grpc::Channel> channel;
  // The body of /metrics. Empty: /metrics answers 404.
  std::function<std::string()> metrics_text;
  // Checks the Authorization header of a /metrics request (OK, or the
  // UNAUTHENTICATED / PERMISSION_DENIED status to answer). Empty: open.
  std::function<absl::Status(absl::string_view authorization)> metrics_authorization;
  // Calls under way (may be null).
  std::shared_ptr<InflightCalls> inflight;
  // See RouterOptions.
  std::string cors_origin;
};

// Every route above, over `backend`.
std::unique_ptr<HttpRouter> NewApiRouter(ApiBackend backend);

// The text of service/openapi.json, embedded at build time.
absl::string_view OpenApiJson();

}  // namespace peermatch

#endif  // PEERMATCH_SERVICE_HTTP_ROUTES_H_
