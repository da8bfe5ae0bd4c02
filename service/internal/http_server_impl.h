// HttpServer::Impl: the state of the HTTP transport (http_server.h), shared
// by the files that implement it: http_server.cc (the daemon, connections,
// the watchdog and the head gate's hooks) and http_server_requests.cc
// (reading a request and dispatching it to a worker). Not for other users.
//
// Thread-safety: as HttpServer; fields marked GUARDED_BY(mu) under `mu`.
#ifndef PEERMATCH_SERVICE_INTERNAL_HTTP_SERVER_IMPL_H_
#define PEERMATCH_SERVICE_INTERNAL_HTTP_SERVER_IMPL_H_

#include "service/http_server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "common/executor.h"
#include "service/http_head_gate.h"
#include "service/http_stream_body.h"

namespace peermatch {
namespace http_server_internal {

using Clock = std::chrono::steady_clock;

// How long a connection that was answered before its body ended may keep
// sending (read and dropped) before it is closed: long enough for the
// client to read the answer instead of meeting a reset.
inline constexpr auto kDrainTime = std::chrono::seconds(2);
inline constexpr auto kWatchdogPeriod = absl::Milliseconds(100);

// One TCP connection (libmicrohttpd's socket context).
struct Conn {
  MHD_Connection* connection = nullptr;
  int fd = -1;
  std::string ip;
  std::string peer;  // ip:port
  // The connection is reading a request (or waiting for one) that started
  // at request_start; the watchdog answers 408 past the deadline.
  bool receiving = true;
  Clock::time_point request_start;
  // An answer was written on the socket before the request ended (413 of a
  // chunked body, 408, 503); the rest of the request is dropped until
  // drain_until, then the socket's read side is shut to end it.
  int early_status = 0;
  std::string early_reason;
  Clock::time_point drain_until;
  bool read_shut = false;
  struct Exchange* current = nullptr;  // the request being read, if any
};

// One request (libmicrohttpd's con_cls), from its request line to the end
// of its response.
struct Exchange {
  Conn* conn = nullptr;
  std::string target;  // as sent
  HttpRequest request;
  bool started = false;   // the first access-handler call has been seen
  bool chunked = false;
  size_t reserved = 0;    // bytes counted in Impl::buffered_
  int status = 0;         // what was answered
  std::string route = "-";
  std::string reason;
  Clock::time_point start = Clock::now();
};

// Set by the logger when libmicrohttpd answers a request itself; read by
// the completion callback that follows on the same (polling) thread.
inline thread_local int library_status = 0;


}  // namespace http_server_internal

struct HttpServer::Impl {
  using Clock = http_server_internal::Clock;
  using Conn = http_server_internal::Conn;
  using Exchange = http_server_internal::Exchange;
  static constexpr auto kDrainTime = http_server_internal::kDrainTime;

  HttpServerOptions options;
  Handler handler;
  Observer observer;
  MHD_Daemon* daemon = nullptr;
  int port = 0;
  std::unique_ptr<Executor> workers;
  std::thread watchdog;
  absl::Notification stopping;

  absl::Mutex mu;
  std::set<Conn*> conns ABSL_GUARDED_BY(mu);
  std::map<std::string, int> per_client ABSL_GUARDED_BY(mu);
  size_t buffered ABSL_GUARDED_BY(mu) = 0;
  // Connections in the head gate, or handed over to libmicrohttpd and not
  // yet STARTED there (by fd, with their accept time): counted against the
  // limits with `conns` and `per_client`.
  std::unique_ptr<HttpHeadGate> gate;
  int gated ABSL_GUARDED_BY(mu) = 0;
  std::map<std::string, int> gated_per_client ABSL_GUARDED_BY(mu);
  std::map<int, std::pair<std::string, Clock::time_point>> handed ABSL_GUARDED_BY(mu);

  void Report(const Exchange& ex, int status, const std::string& reason) {
    if (!observer) return;
    HttpExchange e;
    e.method = ex.request.method;
    e.path = ex.request.path.empty() ? ex.target : ex.request.path;
    e.peer = ex.conn != nullptr ? ex.conn->peer : "";
    e.status = status;
    e.route = ex.route;
    e.reason = reason;
    e.seconds = std::chrono::duration<double>(Clock::now() - ex.start).count();
    observer(e);
  }

  // Counts `bytes` more of body held in memory; false when that would pass
  // max_buffered_bytes.
  bool Reserve(Exchange* ex, size_t bytes) {
    absl::MutexLock lock(&mu);
    if (buffered + bytes > options.limits.max_buffered_bytes) return false;
    buffered += bytes;
    ex->reserved += bytes;
    return true;
  }
  void Release(Exchange* ex) {
    absl::MutexLock lock(&mu);
    buffered -= ex->reserved;
    ex->reserved = 0;
  }

  // Writes `res` on the socket while the request is still being read (the
  // library cannot queue a response then), half-closes, and drops the rest.
  void AnswerEarly(Conn* conn, const HttpResponse& res) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (conn->early_status != 0) return;
    conn->early_status = res.status;
    conn->early_reason = res.reason;
    conn->receiving = false;
    conn->drain_until = Clock::now() + kDrainTime;
    const std::string raw = RawHttpResponse(res);
    (void)send(conn->fd, raw.data(), raw.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    shutdown(conn->fd, SHUT_WR);
  }

  // Queues `res` on the connection (suspended when `resume`).
  static MHD_Result Queue(MHD_Connection* c, Exchange* ex, const HttpResponse& res, bool resume) {
    ex->status = res.status;
    ex->route = res.route;
    ex->reason = res.reason;
    MHD_Response* r = MHD_create_response_from_buffer(
        res.body.size(), const_cast<char*>(res.body.data()), MHD_RESPMEM_MUST_COPY);
    if (!res.content_type.empty()) MHD_add_response_header(r, "Content-Type", res.content_type.c_str());
    for (const auto& [name, value] : res.headers) {
      MHD_add_response_header(r, name.c_str(), value.c_str());
    }
    const MHD_Result queued = MHD_queue_response(c, res.status, r);
    MHD_destroy_response(r);
    if (resume) MHD_resume_connection(c);
    return queued;
  }

  // Issue 15: queues a streamed response on the suspended connection,
  // resumes it, and runs res.stream on this (worker) thread to its end.
  static void QueueStream(MHD_Connection* c, Exchange* ex, HttpResponse res);

  HttpHeadGate::Hooks GateHooks();
  // Tells the observer of a request the head gate answered itself.
  void ReportGateRefusal(const std::string& peer, const HttpResponse& res);
  void Ungate(const std::string& ip) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  MHD_Result First(MHD_Connection* c, Exchange* ex, const char* method);
  MHD_Result Body(Exchange* ex, const char* data, size_t size);
  MHD_Result Dispatch(MHD_Connection* c, Exchange* ex);
  void WatchdogLoop();
  // Answers 408 past the request deadline, ends drops past their time.
  std::vector<HttpExchange> CheckDeadlines();
};

}  // namespace peermatch

#endif  // PEERMATCH_SERVICE_INTERNAL_HTTP_SERVER_IMPL_H_
