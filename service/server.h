// Server: a running peermatch server: the Peermatch gRPC service, the
// standard grpc.health.v1 health service, server reflection, per-call logs
// and metrics, and (optionally) the HTTP/JSON gateway for the portal.
//
// Ownership: borrows the Engine, which must outlive the Server; owns the
// executor that runs heavy calls.
// Thread-safety: Shutdown() may be called from any thread.
#ifndef PEERMATCH_SERVICE_SERVER_H_
#define PEERMATCH_SERVICE_SERVER_H_

#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/server.h"
#include "common/executor.h"
#include "engine/engine.h"
#include "records/limits.h"
#include "service/auth.h"
#include "service/http_gateway.h"
#include "service/metrics.h"
#include "service/peermatch_service.h"

namespace peermatch {

struct ServerOptions {
  // host:port to listen on; port 0 picks a free port (see Server::port()).
  std::string listen = "127.0.0.1:50051";
  // Largest request message accepted; larger ones get RESOURCE_EXHAUSTED.
  int max_receive_bytes = static_cast<int>(kMaxRequestBytes);
  // Tokens; with none, every call is allowed (loopback only: see
  // RequireLoopbackWhenOpen).
  Auth auth;
  // TLS when both are set: PEM files of the certificate chain and key.
  std::string tls_cert_file;
  std::string tls_key_file;
  // HTTP/JSON gateway; disabled when `http_listen` is empty.
  std::string http_listen;
  std::string cors_origin;
  // The gateway's body, connection and time limits (service/http_server.h).
  HttpLimits http_limits;
  // The staff console's files (service/console.h), served on the HTTP
  // gateway at /; empty: none.
  std::vector<StaticFile> console;
  // GET /metrics needs a read or write token (with tokens configured).
  bool metrics_token_required = false;
  // Where per-call log lines go (null: none).
  FILE* call_log = stderr;
  // Bytes of Match and SimilarCases replies kept for repeated questions
  // (service/reply_cache.h; at most 4,096 replies); 0 turns the cache off.
  size_t reply_cache_bytes = size_t{64} << 20;
  // The pool that runs heavy calls (PairCities, CreateBackup): `threads`
  // run at once (a pairing scores on two threads), `queue_capacity` more
  // wait; beyond that a heavy call gets RESOURCE_EXHAUSTED at once.
  ExecutorOptions heavy;
  // CreateBackup writes only under this directory (HeavyWork::backup_root);
  // empty refuses every CreateBackup.
  std::string backup_root;
  // Testing seam: see HeavyWork::after_progress (service/peermatch_service.h).
  std::function<void(const Cancellation&)> pairing_after_progress;
};

// Process-wide settings of a serving process (peermatchd, and the benchmarks
// that stand in for it): turns off Abseil's mutex deadlock detection, which
// Debian's Abseil enables and which records every lock in a graph (a
// debugging aid: tests keep it). Call first thing in main().
void ConfigureProcessForServing();

// True when `listen` (host:port) names a loopback address.
bool IsLoopback(const std::string& listen);

class Server {
 public:
  // Starts serving. UNAVAILABLE if an address cannot be bound;
  // INVALID_ARGUMENT for bad TLS files; FAILED_PRECONDITION when the server
  // would be open (no tokens) on a non-loopback address.
  static absl::StatusOr<std::unique_ptr<Server>> Start(Engine* engine,
                                                       ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  int port() const { return port_; }
  int http_port() const { return http_ == nullptr ? 0 : http_->port(); }
  Metrics& metrics() { return metrics_; }
  // A channel to this server that bypasses the network.
  std::shared_ptr<grpc::Channel> InProcessChannel();
  // Stops the HTTP gateway, turns health NOT_SERVING, cancels heavy calls at
  // once (a pairing or backup may run for minutes, longer than any grace:
  // they end CANCELLED), stops accepting calls, lets other in-flight calls
  // finish (cancelling them after `grace`), and returns when all are done.
  // False when a heavy job had still not returned `grace` after it was
  // cancelled (a backup's copy runs to its end; the return waits for it).
  // Later calls do nothing and return true.
  bool Shutdown(std::chrono::milliseconds grace = std::chrono::seconds(10));
  // Blocks until Shutdown() completes.
  void Wait();

 private:
  Server() = default;
  ServerOptions options_;
  Metrics metrics_;
  // Before service_ and server_: destroyed after them, when no call is left
  // to submit to it.
  std::unique_ptr<Executor> heavy_;
  std::unique_ptr<PeermatchService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<HttpGateway> http_;
  int port_ = 0;
  absl::Mutex shutdown_mu_;
  bool shut_down_ ABSL_GUARDED_BY(shutdown_mu_) = false;
};

}  // namespace peermatch

#endif  // PEERMATCH_SERVICE_SERVER_H_
