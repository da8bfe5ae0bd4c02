// HttpHeadGate: the front door of the HTTP transport (service/http_server.cc).
// It owns the listening socket, accepts every connection, and reads the head
// of the connection's first request before libmicrohttpd sees the
// connection, so that the heads libmicrohttpd would refuse itself, with a
// fixed HTML body, are refused here with the gateway's JSON error body
// (ErrorResponse) instead:
//   - a request line longer than max_target_bytes (plus its method and
//     version): 414; a head (request line and headers) longer than that
//     plus max_header_bytes: 431 (libmicrohttpd would answer both with
//     HTML once the head passed its per-connection memory);
//   - a malformed request line or header line, or a malformed
//     Content-Length: 400; a Content-Length beyond 64 bits: 413; an HTTP
//     version other than 1.x: 505.
// The bytes are only peeked (recv with MSG_PEEK), so a head that passes is
// handed over whole, with the socket, to libmicrohttpd (MHD_add_connection),
// which reads it again as if it had accepted the connection itself.
//
// A request with a chunked body is not handed over as it is: the gate keeps
// the client's socket and relays the request to libmicrohttpd over a
// socketpair, re-framing the body as it comes (http_chunk_relay.h), so a
// malformed chunked body (400) or a chunk size beyond 64 bits (413) gets
// the JSON error too; such a connection ends after its response.
//
// Not covered, and answered by libmicrohttpd with its own HTML body:
//   - the second and later requests of a kept-alive connection: only the
//     first request's head passes through the gate. Their heads still meet
//     the gateway's own limits (414/431 in JSON, in http_server.cc) up to
//     libmicrohttpd's per-connection memory (HttpLimits::
//     connection_memory_bytes, 64 KiB by default).
//
// Connections in the gate count against the connection limits: `admit` is
// asked at accept, and every admitted connection ends in `hand_over` or
// `closed`. A connection that sends nothing for idle_timeout is closed
// without an answer (nothing was asked); one whose head is not complete
// within request_deadline gets 408.
//
// Ownership: owns the listening socket and the sockets it holds; a socket
// handed over belongs to the hand_over hook.
// Thread-safety: one thread of its own runs every hook; Stop() from the
// thread that started it.
#ifndef PEERMATCH_SERVICE_HTTP_HEAD_GATE_H_
#define PEERMATCH_SERVICE_HTTP_HEAD_GATE_H_

#include <sys/socket.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "service/http_router.h"

namespace peermatch {

struct HeadGateLimits {
  size_t max_target_bytes = 8 << 10;
  size_t max_header_bytes = 16 << 10;
  int idle_timeout_seconds = 5;
  int request_deadline_seconds = 10;
};

// The verdict on the bytes of a connection read so far.
struct HeadVerdict {
  enum class Kind {
    kNeedMore,  // no complete head yet, and none of its lines is too long
    kPass,      // a complete, well-formed head: hand the connection over
    kRefuse,    // answer `refusal` and close
  };
  Kind kind = Kind::kNeedMore;
  HttpResponse refusal;  // kRefuse: a JSON error, its reason set
  // kPass: the head's length (its final empty line included), and whether
  // a Transfer-Encoding header names chunked (the body is then relayed,
  // http_chunk_relay.h).
  size_t head_bytes = 0;
  bool chunked = false;
};

// A bound, listening TCP socket (non-blocking, close-on-exec).
struct ListenSocket {
  int fd = -1;
  int port = 0;  // the bound port (the one picked, for port 0)
};
// Binds and listens on `listen` (host:port, IPv4 or [IPv6]; "*" or an empty
// host is every IPv4 address; port 0 picks a free one). INVALID_ARGUMENT
// ("--http-listen: ...") for a malformed address; UNAVAILABLE when it cannot
// be bound.
absl::StatusOr<ListenSocket> OpenListenSocket(const std::string& listen);

// The IP address of `addr` as text ("?" when it is null or neither IPv4
// nor IPv6), and its port in *port.
std::string AddressString(const sockaddr* addr, int* port);

// The whole HTTP/1.1 response for an answer written straight on a socket
// (Content-Length, Connection: close).
std::string RawHttpResponse(const HttpResponse& res);

// The most bytes CheckRequestHead() needs to see to decide: a head that has
// not ended within them is refused.
size_t HeadBytesToDecide(const HeadGateLimits& limits);

// Judges `bytes`, the start of a connection (a head, maybe followed by a
// body). Mirrors what libmicrohttpd 0.9.75 refuses in a head, no more: a
// head it accepts passes (leading empty lines, bare LF line ends, folded
// header lines, any method). Pure.
HeadVerdict CheckRequestHead(absl::string_view bytes, const HeadGateLimits& limits);

class HttpHeadGate {
 public:
  using Clock = std::chrono::steady_clock;
  struct Hooks {
    // At accept, before any byte is read: false closes the connection at
    // once (the hook logs and counts the refusal).
    std::function<bool(const sockaddr* addr, socklen_t len)> admit;
    // A complete, well-formed head (for a chunked body: the relay's
    // socketpair end, `addr` the client's): the hook owns `fd` from now on (and the
    // admitted connection's place in the limits). `accepted` is when the
    // connection was accepted (the request deadline counts from then).
    std::function<void(int fd, const sockaddr* addr, socklen_t len, Clock::time_point accepted)>
        hand_over;
    // The admitted connection was closed in the gate, after the answer
    // `res` (a refusal, its reason set), or without one (status 0: idle,
    // or closed by the client) to `peer` ("ip:port").
    std::function<void(const sockaddr* addr, socklen_t len, const std::string& peer,
                       const HttpResponse& res)>
        closed;
    // A relayed request (see above) was refused by the gate after its
    // connection's place in the limits went with the hand-over: report
    // only.
    std::function<void(const std::string& peer, const HttpResponse& res)> relay_refused;
  };

  // Takes `listen_fd` (bound and listening) and starts accepting.
  // INTERNAL when the thread's epoll cannot be set up.
  static absl::StatusOr<std::unique_ptr<HttpHeadGate>> Start(int listen_fd,
                                                             const HeadGateLimits& limits,
                                                             Hooks hooks);
  ~HttpHeadGate();  // Stop()
  HttpHeadGate(const HttpHeadGate&) = delete;
  HttpHeadGate& operator=(const HttpHeadGate&) = delete;

  // Stops accepting, closes the listening socket and every connection still
  // in the gate (without an answer), and joins the thread. Later calls do
  // nothing.
  void Stop();

  struct Impl;

 private:
  explicit HttpHeadGate(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace peermatch

#endif  // PEERMATCH_SERVICE_HTTP_HEAD_GATE_H_
