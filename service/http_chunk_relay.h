// ChunkedRelay: how the head gate (http_head_gate.h) serves a request with
// a chunked body, so that a malformed one gets the JSON error and not
// libmicrohttpd's HTML page. The gate keeps the client's socket; the
// request goes to libmicrohttpd over one end of a socketpair, the other end
// of which the relay holds:
//
//   client --(head, then the body through a ChunkedReframer)--> inner
//   client <--(the response, byte for byte)-------------------- inner
//
// The head is passed on with "Connection: close" (and without
// Content-Length, which must not come with chunked coding), so the
// connection ends with this request's response; bytes the client sends
// after its body are dropped. When the body turns out malformed before any
// response byte came back, the relay stops and the gate answers the
// client itself (refusal()); libmicrohttpd sees its connection close
// mid-body. Buffers are bounded (kMaxBuffered each way): a side that is
// not read from is not read into.
//
// Thread-safety: none; the gate's thread owns every relay.
#ifndef PEERMATCH_SERVICE_HTTP_CHUNK_RELAY_H_
#define PEERMATCH_SERVICE_HTTP_CHUNK_RELAY_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "service/http_chunked.h"
#include "service/http_router.h"

namespace peermatch {

// `head` (a complete request head, its final empty line included) as the
// relay passes it on: every Connection and Content-Length header line
// (with its folded continuation lines) left out, "Connection: close" added
// last. Pure.
std::string RelayHead(absl::string_view head);

class ChunkedRelay {
 public:
  static constexpr size_t kMaxBuffered = 256 << 10;

  enum class Outcome {
    kOpen,     // still relaying
    kRefused,  // the body was malformed and nothing was answered yet: the
               // gate answers refusal() on the client socket
    kDone,     // the response was passed on whole and libmicrohttpd closed
               // its end: the gate ends the client connection
    kBroken,   // the client went away (or a socket failed): close both
  };

  // Takes neither socket (the gate closes them). `head`: the request head
  // as received; `body`: body bytes already read after it.
  ChunkedRelay(int client, int inner, absl::string_view head, absl::string_view body);

  int client() const { return client_; }
  int inner() const { return inner_; }
  // Does what can be done now without blocking on both sockets; call it
  // whenever either is ready.
  Outcome Pump();
  // The epoll events (level-triggered) each socket should wait for now.
  uint32_t ClientEvents() const;
  uint32_t InnerEvents() const;
  const HttpResponse& refusal() const { return reframer_.error(); }
  // libmicrohttpd has closed its end (its response is all read).
  bool inner_closed() const { return inner_eof_; }

 private:
  // Takes `bytes` of the client's body (or what follows it).
  void Take(absl::string_view bytes);

  const int client_;
  const int inner_;
  ChunkedReframer reframer_;
  std::string to_inner_;
  std::string to_client_;
  bool client_eof_ = false;   // the client stopped sending
  bool inner_eof_ = false;    // libmicrohttpd closed its end
  bool inner_shut_ = false;   // its write side is to be shut (the body was cut)
  bool inner_write_closed_ = false;  // and was
  uint64_t answered_ = 0;     // response bytes received from libmicrohttpd
  Outcome outcome_ = Outcome::kOpen;
};

}  // namespace peermatch

#endif  // PEERMATCH_SERVICE_HTTP_CHUNK_RELAY_H_
