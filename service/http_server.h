// HttpServer: the HTTP/1.1 transport of the gateway, on GNU libmicrohttpd.
// It reads requests under hard limits, hands each complete one to a handler
// on a bounded worker pool, and writes the handler's response; what a
// request means is the handler's business (service/http_router.h).
//
// One thread (the head gate's) accepts and reads each connection's first
// request head; one polling thread (epoll) then owns every socket, so idle
// and slow clients cost a little memory each, never a thread. A request whose headers and
// body are complete is suspended, runs on one of `worker_threads` (blocking
// calls are fine there), and is resumed with its response. What is refused,
// and how (every refusal is a JSON error body, see ErrorBody(), except where
// noted):
//   - more than max_connections_per_client connections from one address
//     (loopback included): closed at accept, before any byte is read (no
//     HTTP answer is possible there); max_connections in total: the same;
//     both are logged and counted (reasons per_client_limit and
//     connection_limit);
//   - a request target over max_target_bytes: 414; headers over
//     max_header_bytes: 431; a target with a bad percent escape: 400;
//   - a connection's first request head that libmicrohttpd would refuse
//     itself with an HTML body (far too long, malformed, a bad
//     Content-Length, HTTP/2): refused by the head gate in front of it
//     with the JSON body (http_head_gate.h: 414, 431, 400, 413, 505); a
//     chunked body is relayed through the gate, which answers a malformed
//     one (400, or 413 for a chunk size beyond 64 bits) with the JSON body
//     too (http_chunk_relay.h); left to libmicrohttpd's HTML: a later
//     request of a kept-alive connection whose head passes
//     connection_memory_bytes;
//   - POST/PUT/PATCH without Content-Length or chunked Transfer-Encoding:
//     411; a Content-Encoding other than identity, or a multipart body: 415;
//   - a body over max_body_bytes: 413, before the body is read when the
//     length is declared, at the first byte past the limit when chunked
//     (the body is never buffered past the limit);
//   - headers and body not complete within request_deadline: 408; a
//     connection silent for idle_timeout is closed (no answer: nothing was
//     asked);
//   - more than max_buffered_bytes of bodies held at once across all
//     connections, or a full worker queue: 503.
// A refusal sent before the whole body was read ends the connection
// (`Connection: close`); the rest of the body is read and dropped until the
// client stops or the deadline passes, so that the client sees the answer
// instead of a reset.
//
// Ownership: owns the daemon, its threads and the worker pool.
// Thread-safety: Start() and Stop() from one thread; the handler and the
// observer are called concurrently from the worker and polling threads.
#ifndef PEERMATCH_SERVICE_HTTP_SERVER_H_
#define PEERMATCH_SERVICE_HTTP_SERVER_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "records/limits.h"
#include "service/http_router.h"

namespace peermatch {

// Every limit of the HTTP transport; peermatchd has a flag for each
// (cmd/peermatchd_main.cc). The defaults let 1,000 idle connections and
// dozens of slow ones coexist with normal traffic: an idle connection costs
// one socket and a few KiB, never a thread.
struct HttpLimits {
  // The largest body, JSON or JSON Lines; the same as gRPC's message limit.
  size_t max_body_bytes = kMaxRequestBytes;
  // Bodies buffered at once across all connections; a request that would
  // exceed it gets 503 (retry later).
  size_t max_buffered_bytes = size_t{64} << 20;
  // The request target (path and query) and the headers (names and values).
  size_t max_target_bytes = 8 << 10;
  size_t max_header_bytes = 16 << 10;
  // libmicrohttpd's memory per connection (request line, headers and read
  // buffer); larger than the two limits above so that they, not the
  // library, answer.
  size_t connection_memory_bytes = 64 << 10;
  // Headers and body must have arrived this long after the connection
  // opened or the previous response was sent.
  int request_deadline_seconds = 10;
  // A connection that sends nothing for this long is closed.
  int idle_timeout_seconds = 5;
  // Open connections in total, and from one client address.
  int max_connections = 1024;
  int max_connections_per_client = 64;
  // Requests handled at once, and complete requests that may wait for a
  // worker (503 beyond).
  int worker_threads = 16;
  int worker_queue = 64;
};

// One answered (or refused) request, for logs and metrics.
struct HttpExchange {
  std::string method;  // "" when refused before the request line was read
  std::string path;    // percent-decoded; may hold any bytes
  std::string peer;
  int status = 0;      // 0: the connection ended without an answer
  std::string route;   // see HttpResponse::route
  std::string reason;  // see HttpResponse::reason
  double seconds = 0;  // from the request's start to the response's end
};

struct HttpServerOptions {
  // host:port (IPv4 or [IPv6]); port 0 picks a free one (see port()).
  std::string listen = "127.0.0.1:8080";
  HttpLimits limits;
};

class HttpServer {
 public:
  // Answers one complete request; runs on a worker thread.
  using Handler = std::function<HttpResponse(const HttpRequest&)>;
  // Told about every exchange once it has ended, and about every connection
  // refused at accept (method and path empty, reason set).
  using Observer = std::function<void(const HttpExchange&)>;

  // Serves on options.listen. INVALID_ARGUMENT for a malformed address or
  // limits (zero threads, ...); UNAVAILABLE when it cannot be bound.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options,
                                                           Handler handler, Observer observer);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const;
  // Stops accepting, lets handlers that run finish (the caller should make
  // long ones return: see HttpGateway::Stop), and closes every connection.
  // Later calls do nothing.
  void Stop();

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace peermatch

#endif  // PEERMATCH_SERVICE_HTTP_SERVER_H_
