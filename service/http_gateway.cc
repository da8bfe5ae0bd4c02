#include "service/http_gateway.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace peermatch {
namespace {

// Paths are logged up to this many bytes (a hostile one may have 8 KiB).
constexpr size_t kLoggedPathBytes = 200;

void WriteAccessLine(FILE* log, const HttpExchange& e) {
  const std::string path = e.path.size() > kLoggedPathBytes
                               ? absl::StrCat(e.path.substr(0, kLoggedPathBytes), "...")
                               : e.path;
  // One write per line keeps concurrent lines whole.
  const std::string line = absl::StrFormat(
      "{\"time\":\"%s\",\"http\":\"%s %s\",\"route\":\"%s\",\"code\":%d,\"ms\":%.3f,"
      "\"peer\":\"%s\"%s}\n",
      absl::FormatTime(absl::RFC3339_full, absl::Now(), absl::UTCTimeZone()),
      JsonEscape(e.method), JsonEscape(path), JsonEscape(e.route), e.status, e.seconds * 1e3,
      JsonEscape(e.peer),
      e.reason.empty() ? "" : absl::StrCat(",\"reason\":\"", JsonEscape(e.reason), "\""));
  std::fwrite(line.data(), 1, line.size(), log);
  std::fflush(log);
}

}  // namespace

void HttpCounters::Record(const HttpExchange& e) {
  absl::MutexLock lock(&mu_);
  if (e.status != 0) ++responses_[{e.route, e.status}];
  if (!e.reason.empty() && e.reason != "preflight") ++rejections_[e.reason];
}

std::string HttpCounters::Render() const {
  std::string out =
      "# HELP peermatch_http_responses_total HTTP responses, by route (\"-\": none) and status.\n"
      "# TYPE peermatch_http_responses_total counter\n";
  absl::MutexLock lock(&mu_);
  for (const auto& [key, n] : responses_) {
    absl::StrAppend(&out, "peermatch_http_responses_total{route=\"", key.first, "\",code=\"",
                    key.second, "\"} ", n, "\n");
  }
  absl::StrAppend(&out,
                  "# HELP peermatch_http_rejections_total HTTP requests the gateway refused "
                  "itself, by reason.\n"
                  "# TYPE peermatch_http_rejections_total counter\n");
  for (const auto& [reason, n] : rejections_) {
    absl::StrAppend(&out, "peermatch_http_rejections_total{reason=\"", reason, "\"} ", n, "\n");
  }
  return out;
}

absl::StatusOr<std::unique_ptr<HttpGateway>> HttpGateway::Start(
    std::shared_ptr<grpc::Channel> channel, Metrics* metrics,
    std::function<std::map<std::string, double>()> gauges, const HttpOptions& options) {
  auto gateway = std::unique_ptr<HttpGateway>(new HttpGateway());
  HttpGateway* g = gateway.get();
  g->options_ = options;
  g->inflight_ = std::make_shared<InflightCalls>();
  ApiBackend backend;
  backend.channel = std::move(channel);
  backend.cors_origin = options.cors_origin;
  backend.inflight = g->inflight_;
  backend.metrics_authorization = options.metrics_authorization;
  backend.metrics_text = [g, metrics, gauges = std::move(gauges)]() {
    std::string text = metrics != nullptr
                           ? metrics->Render(gauges ? gauges() : std::map<std::string, double>())
                           : std::string();
    return text + g->counters_.Render();
  };
  g->router_ = NewApiRouter(std::move(backend));
  AddConsoleRoutes(*g->router_, g->options_.console);
  HttpServerOptions server_options;
  server_options.listen = options.listen;
  server_options.limits = options.limits;
  auto server = HttpServer::Start(
      server_options, [g](const HttpRequest& req) { return g->router_->Handle(req); },
      [g](const HttpExchange& e) {
        g->counters_.Record(e);
        if (g->options_.access_log != nullptr) WriteAccessLine(g->options_.access_log, e);
      });
  if (!server.ok()) return server.status();
  g->server_ = *std::move(server);
  return gateway;
}

HttpGateway::~HttpGateway() { Stop(); }

void HttpGateway::Stop() {
  if (server_ == nullptr) return;
  inflight_->CancelAll();
  server_->Stop();
}

}  // namespace peermatch
