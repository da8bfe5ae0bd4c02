// Server: a running peermatch gRPC server (the Peermatch service, the
// standard grpc.health.v1 health service and server reflection) on one
// listening address.
//
// Ownership: borrows the Engine, which must outlive the Server.
// Thread-safety: Shutdown() may be called from any thread, once.
#ifndef PEERMATCH_SERVICE_SERVER_H_
#define PEERMATCH_SERVICE_SERVER_H_

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/server.h"
#include "matcher/engine.h"
#include "service/peermatch_service.h"

namespace peermatch {

struct ServerOptions {
  // host:port to listen on; port 0 picks a free port (see Server::port()).
  std::string listen = "127.0.0.1:50051";
  // Largest request message accepted; larger ones get RESOURCE_EXHAUSTED.
  int max_receive_bytes = 4 << 20;
};

class Server {
 public:
  // Starts serving. UNAVAILABLE if the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<Server>> Start(Engine* engine,
                                                       const ServerOptions& options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  int port() const { return port_; }
  // Stops accepting calls, lets in-flight calls finish (cancelling them after
  // `grace`), and returns when all are done. Health turns NOT_SERVING first.
  void Shutdown(std::chrono::milliseconds grace = std::chrono::seconds(10));
  // Blocks until Shutdown() completes.
  void Wait();

 private:
  Server() = default;
  std::unique_ptr<PeermatchService> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  bool shut_down_ = false;
};

}  // namespace peermatch

#endif  // PEERMATCH_SERVICE_SERVER_H_
