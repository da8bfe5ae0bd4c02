#include "service/call_log.h"

#include <chrono>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/server_context.h"

namespace peermatch {
namespace {

// The client's address; for a call the HTTP gateway makes in process, the
// address of the HTTP client it passes as metadata (trusted only then: a
// network client cannot set it for itself).
std::string Peer(const grpc::ServerContextBase& ctx) {
  std::string peer = ctx.peer();
  if (absl::StartsWith(peer, "ipv4:") || absl::StartsWith(peer, "ipv6:") ||
      absl::StartsWith(peer, "unix:")) {
    return peer;
  }
  const auto& metadata = ctx.client_metadata();
  auto it = metadata.find("x-peermatch-http-peer");
  if (it == metadata.end()) return peer;
  return absl::StrCat("http:", absl::string_view(it->second.data(), it->second.size()));
}

class CallObserver final : public grpc::experimental::Interceptor {
 public:
  CallObserver(grpc::experimental::ServerRpcInfo* info, Metrics* metrics, FILE* log)
      : info_(info), metrics_(metrics), log_(log), start_(std::chrono::steady_clock::now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
      const std::string code =
          absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code()));
      metrics_->Record(info_->method(), code, seconds);
      if (log_ != nullptr) {
        const std::string peer = Peer(*info_->server_context());
        // One write per line keeps concurrent lines whole.
        const std::string line = absl::StrFormat(
            "{\"time\":\"%s\",\"method\":\"%s\",\"code\":\"%s\",\"ms\":%.3f,\"peer\":\"%s\"}\n",
            absl::FormatTime(absl::RFC3339_full, absl::Now(), absl::UTCTimeZone()),
            info_->method(), code, seconds * 1e3, peer);
        std::fwrite(line.data(), 1, line.size(), log_);
        std::fflush(log_);
      }
    }
    methods->Proceed();
  }

 private:
  grpc::experimental::ServerRpcInfo* info_;
  Metrics* metrics_;
  FILE* log_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace

grpc::experimental::Interceptor* CallObserverFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  return new CallObserver(info, metrics_, log_);
}

}  // namespace peermatch
