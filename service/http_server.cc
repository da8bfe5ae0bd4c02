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
#include "service/http_stream_body.h"
#include "service/http_head_gate.h"

namespace peermatch {
namespace {

using Clock = std::chrono::steady_clock;

// How long a connection that was answered before its body ended may keep
// sending (read and dropped) before it is closed: long enough for the
// client to read the answer instead of meeting a reset.
constexpr auto kDrainTime = std::chrono::seconds(2);
constexpr auto kWatchdogPeriod = absl::Milliseconds(100);

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
thread_local int library_status = 0;

}  // namespace

struct HttpServer::Impl {
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
  void Ungate(const std::string& ip) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  MHD_Result First(MHD_Connection* c, Exchange* ex, const char* method);
  MHD_Result Body(Exchange* ex, const char* data, size_t size);
  MHD_Result Dispatch(MHD_Connection* c, Exchange* ex);
  void WatchdogLoop();
  // Answers 408 past the request deadline, ends drops past their time.
  std::vector<HttpExchange> CheckDeadlines();
};

namespace {

using Impl = HttpServer::Impl;

MHD_Result AddHeader(void* cls, MHD_ValueKind, const char* key, const char* value) {
  auto* ex = static_cast<Exchange*>(cls);
  std::string name = absl::AsciiStrToLower(key == nullptr ? "" : key);
  std::string& slot = ex->request.headers[name];
  if (!slot.empty()) slot += ", ";
  slot += value == nullptr ? "" : value;
  return MHD_YES;
}

size_t HeaderBytes(const HttpRequest& request) {
  size_t n = 0;
  for (const auto& [name, value] : request.headers) n += name.size() + value.size() + 4;
  return n;
}

}  // namespace

void Impl::QueueStream(MHD_Connection* c, Exchange* ex, HttpResponse res) {
  ex->status = res.status;
  ex->route = res.route;
  ex->reason = res.reason;
  auto body = std::make_shared<internal::StreamBody>(c);
  if (!res.body.empty()) body->Write(res.body);
  MHD_Response* r = internal::NewStreamResponse(body);
  if (!res.content_type.empty()) MHD_add_response_header(r, "Content-Type", res.content_type.c_str());
  for (const auto& [name, value] : res.headers) {
    MHD_add_response_header(r, name.c_str(), value.c_str());
  }
  MHD_queue_response(c, res.status, r);
  MHD_destroy_response(r);
  MHD_resume_connection(c);
  // `ex` may be gone from here on (the client can close at any time).
  res.stream(*body);
  body->End();
}

MHD_Result Impl::First(MHD_Connection* c, Exchange* ex, const char* method) {
  const HttpLimits& limits = options.limits;
  ex->request.method = method;
  ex->request.peer = ex->conn != nullptr ? ex->conn->peer : "";
  MHD_get_connection_values(c, MHD_HEADER_KIND, &AddHeader, ex);
  // A refusal is queued when no body follows (or the client waits for
  // "100 Continue" before sending it); otherwise it is written at once and
  // the body is dropped as it comes, since libmicrohttpd would close the
  // connection under a client still sending, which then sees a reset, not
  // the answer.
  const std::string& declared = ex->request.Header("content-length");
  const bool body_follows =
      (!declared.empty() && declared != "0") ||
      !ex->request.Header("transfer-encoding").empty();
  const bool waits_for_continue =
      absl::EqualsIgnoreCase(ex->request.Header("expect"), "100-continue");
  const auto refuse = [&](int status, const std::string& message, const char* reason) {
    HttpResponse res = ErrorResponse(status, message, reason);
    if (!body_follows || waits_for_continue) return Queue(c, ex, res, /*resume=*/false);
    absl::MutexLock lock(&mu);
    AnswerEarly(ex->conn, res);
    return MHD_YES;
  };
  if (ex->target.size() > limits.max_target_bytes) {
    return refuse(414, absl::StrCat("the request target has ", ex->target.size(),
                                    " bytes; the limit is ", limits.max_target_bytes),
                  "target_too_long");
  }
  if (const size_t n = HeaderBytes(ex->request); n > limits.max_header_bytes) {
    return refuse(431, absl::StrCat("the headers have ", n, " bytes; the limit is ",
                                    limits.max_header_bytes),
                  "headers_too_large");
  }
  if (absl::Status s = ParseTarget(ex->target, &ex->request); !s.ok()) {
    return refuse(400, std::string(s.message()), "bad_target");
  }
  const std::string& encoding = ex->request.Header("content-encoding");
  if (!encoding.empty() && !absl::EqualsIgnoreCase(encoding, "identity")) {
    return refuse(415, absl::StrCat("Content-Encoding \"", encoding,
                                    "\" is not supported; send the body uncompressed"),
                  "unsupported_encoding");
  }
  if (absl::StartsWithIgnoreCase(ex->request.Header("content-type"), "multipart/")) {
    return refuse(415, "multipart bodies are not read; send the JSON (or JSON Lines) as the body "
                       "itself (curl --data-binary @file)",
                  "unsupported_media_type");
  }
  ex->chunked = absl::StrContains(absl::AsciiStrToLower(ex->request.Header("transfer-encoding")), "chunked");
  const std::string& length_header = ex->request.Header("content-length");
  uint64_t length = 0;
  const bool has_length = !length_header.empty() && absl::SimpleAtoi(length_header, &length);
  const std::string& m = ex->request.method;
  if ((m == "POST" || m == "PUT" || m == "PATCH") && !has_length && !ex->chunked) {
    return refuse(411, absl::StrCat(m, " needs a body with Content-Length or "
                                       "Transfer-Encoding: chunked (send {} for an empty request)"),
                  "length_required");
  }
  if (length > limits.max_body_bytes) {
    return refuse(413, absl::StrCat("body: ", length, " bytes is over the limit of ",
                                    limits.max_body_bytes, " bytes; send it in smaller parts"),
                  "body_too_large");
  }
  if (length > 0 && !Reserve(ex, length)) {
    return refuse(503, "the server holds too many request bodies at once; retry later",
                  "buffers_full");
  }
  ex->request.body.reserve(length);
  return MHD_YES;
}

MHD_Result Impl::Body(Exchange* ex, const char* data, size_t size) {
  Conn* conn = ex->conn;
  {
    absl::MutexLock lock(&mu);
    if (conn->early_status != 0) return MHD_YES;  // answered: drop the rest
  }
  const size_t limit = options.limits.max_body_bytes;
  std::string error;
  HttpResponse refusal;
  if (ex->request.body.size() + size > limit) {
    refusal = ErrorResponse(413, absl::StrCat("body: over the limit of ", limit,
                                              " bytes; send it in smaller parts"),
                            "body_too_large");
  } else if (ex->chunked && !Reserve(ex, size)) {
    refusal = ErrorResponse(503, "the server holds too many request bodies at once; retry later",
                            "buffers_full");
  } else {
    ex->request.body.append(data, size);
    return MHD_YES;
  }
  std::string().swap(ex->request.body);
  Release(ex);
  absl::MutexLock lock(&mu);
  AnswerEarly(conn, refusal);
  return MHD_YES;
}

MHD_Result Impl::Dispatch(MHD_Connection* c, Exchange* ex) {
  {
    absl::MutexLock lock(&mu);
    if (ex->conn->early_status != 0) return MHD_NO;  // answered already: close
    ex->conn->receiving = false;
  }
  MHD_suspend_connection(c);
  auto job = workers->Submit([this, c, ex](const Cancellation&) {
    HttpResponse res = handler(ex->request);
    if (res.stream) {
      QueueStream(c, ex, std::move(res));
    } else {
      Queue(c, ex, res, /*resume=*/true);
    }
    return absl::OkStatus();
  });
  if (!job.ok()) {
    Queue(c, ex,
          ErrorResponse(503, absl::StrCat("the HTTP gateway is busy (", options.limits.worker_threads,
                                          " requests running, ", options.limits.worker_queue,
                                          " waiting); retry later"),
                        "queue_full"),
          /*resume=*/true);
  }
  return MHD_YES;
}

void Impl::WatchdogLoop() {
  while (!stopping.WaitForNotificationWithTimeout(kWatchdogPeriod)) {
    for (const HttpExchange& e : CheckDeadlines()) {
      if (observer) observer(e);
    }
  }
}

std::vector<HttpExchange> Impl::CheckDeadlines() {
  const auto deadline = std::chrono::seconds(options.limits.request_deadline_seconds);
  std::vector<HttpExchange> unreported;  // 408s with no request to report them
  absl::MutexLock lock(&mu);
  const auto now = Clock::now();
  for (Conn* conn : conns) {
    if (conn->receiving && conn->early_status == 0 && now - conn->request_start > deadline) {
      AnswerEarly(conn, ErrorResponse(408,
                                      absl::StrCat("the request was not complete within ",
                                                   options.limits.request_deadline_seconds,
                                                   " seconds"),
                                      "request_deadline"));
      if (conn->current == nullptr) {
        HttpExchange e;
        e.peer = conn->peer;
        e.status = 408;
        e.route = "-";
        e.reason = "request_deadline";
        unreported.push_back(e);
      }
    } else if (conn->early_status != 0 && !conn->read_shut && now > conn->drain_until) {
      // Ends the drop: the polling thread reads end-of-file and closes.
      shutdown(conn->fd, SHUT_RD);
      conn->read_shut = true;
    }
  }
  return unreported;
}

namespace {

}  // namespace

void Impl::Ungate(const std::string& ip) {
  --gated;
  if (--gated_per_client[ip] <= 0) gated_per_client.erase(ip);
}

// The gate (http_head_gate.h) accepts, checks both connection limits (so
// that every refusal is logged and counted) and reads the first request's
// head; libmicrohttpd gets the connection after. A connection counts from
// its accept until it closes: in the gate (`gated`), then in `conns` from
// its STARTED notification, which moves it from one to the other.
HttpHeadGate::Hooks Impl::GateHooks() {
  HttpHeadGate::Hooks hooks;
  hooks.admit = [this](const sockaddr* addr, socklen_t) {
    int port = 0;
    const std::string ip = AddressString(addr, &port);
    const char* reason = nullptr;
    {
      absl::MutexLock lock(&mu);
      const auto count = [](const std::map<std::string, int>& m, const std::string& k) {
        auto it = m.find(k);
        return it == m.end() ? 0 : it->second;
      };
      if (static_cast<int>(conns.size()) + gated >= options.limits.max_connections) {
        reason = "connection_limit";
      } else if (count(per_client, ip) + count(gated_per_client, ip) >=
                 options.limits.max_connections_per_client) {
        reason = "per_client_limit";
      } else {
        ++gated;
        ++gated_per_client[ip];
        return true;
      }
    }
    if (observer) {
      HttpExchange e;
      e.peer = absl::StrCat(ip, ":", port);
      e.route = "-";
      e.reason = reason;
      observer(e);
    }
    return false;
  };
  hooks.hand_over = [this](int fd, const sockaddr* addr, socklen_t len,
                           HttpHeadGate::Clock::time_point accepted) {
    int port = 0;
    const std::string ip = AddressString(addr, &port);
    {
      absl::MutexLock lock(&mu);
      handed[fd] = {ip, accepted};
    }
    if (MHD_add_connection(daemon, fd, addr, len) == MHD_YES) return;
    absl::MutexLock lock(&mu);  // the socket is closed; it never STARTED
    if (handed.erase(fd) > 0) Ungate(ip);
  };
  hooks.closed = [this](const sockaddr* addr, socklen_t, const std::string& peer,
                        const HttpResponse& res) {
    int port = 0;
    const std::string ip = AddressString(addr, &port);
    {
      absl::MutexLock lock(&mu);
      Ungate(ip);
    }
    if (res.status == 0 || !observer) return;
    HttpExchange e;
    e.peer = peer;
    e.status = res.status;
    e.route = "-";
    e.reason = res.reason;
    observer(e);
  };
  return hooks;
}

namespace {

void NotifyConnection(void* cls, MHD_Connection* c, void** socket_context,
                      MHD_ConnectionNotificationCode code) {
  auto* impl = static_cast<Impl*>(cls);
  if (code == MHD_CONNECTION_NOTIFY_STARTED) {
    auto* conn = new Conn();
    conn->connection = c;
    const MHD_ConnectionInfo* fd = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    conn->fd = fd != nullptr ? fd->connect_fd : -1;
    const MHD_ConnectionInfo* addr =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    int port = 0;
    conn->ip = AddressString(addr != nullptr ? addr->client_addr : nullptr, &port);
    conn->peer = absl::StrCat(conn->ip, ":", port);
    conn->request_start = Clock::now();
    *socket_context = conn;
    absl::MutexLock lock(&impl->mu);
    if (auto it = impl->handed.find(conn->fd); it != impl->handed.end()) {
      conn->request_start = it->second.second;  // the deadline counts from the accept
      impl->Ungate(it->second.first);
      impl->handed.erase(it);
    }
    impl->conns.insert(conn);
    ++impl->per_client[conn->ip];
  } else if (code == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context != nullptr) {
    auto* conn = static_cast<Conn*>(*socket_context);
    {
      absl::MutexLock lock(&impl->mu);
      impl->conns.erase(conn);
      if (--impl->per_client[conn->ip] <= 0) impl->per_client.erase(conn->ip);
    }
    delete conn;
    *socket_context = nullptr;
  }
}

void* UriLog(void* cls, const char* uri, MHD_Connection* c) {
  auto* impl = static_cast<Impl*>(cls);
  auto* ex = new Exchange();
  ex->target = uri == nullptr ? "" : uri;
  const MHD_ConnectionInfo* info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  ex->conn = info != nullptr ? static_cast<Conn*>(info->socket_context) : nullptr;
  if (ex->conn != nullptr) {
    absl::MutexLock lock(&impl->mu);
    ex->conn->current = ex;
  }
  return ex;
}

MHD_Result Access(void* cls, MHD_Connection* c, const char*, const char* method, const char*,
                  const char* upload_data, size_t* upload_data_size, void** con_cls) {
  auto* impl = static_cast<Impl*>(cls);
  auto* ex = static_cast<Exchange*>(*con_cls);
  if (ex == nullptr || ex->conn == nullptr) return MHD_NO;  // not from UriLog: cannot happen
  if (!ex->started) {
    ex->started = true;
    return impl->First(c, ex, method);
  }
  if (*upload_data_size > 0) {
    const size_t size = *upload_data_size;
    *upload_data_size = 0;
    return impl->Body(ex, upload_data, size);
  }
  return impl->Dispatch(c, ex);
}

void Completed(void* cls, MHD_Connection*, void** con_cls, MHD_RequestTerminationCode toe) {
  auto* impl = static_cast<Impl*>(cls);
  auto* ex = static_cast<Exchange*>(*con_cls);
  if (ex == nullptr) return;
  *con_cls = nullptr;
  impl->Release(ex);
  int status = ex->status;
  std::string reason = ex->reason;
  if (ex->conn != nullptr) {
    absl::MutexLock lock(&impl->mu);
    Conn* conn = ex->conn;
    if (conn->early_status != 0) {
      status = conn->early_status;
      reason = conn->early_reason;
    }
    conn->current = nullptr;
    conn->receiving = true;
    conn->request_start = Clock::now();
  }
  if (library_status != 0) {
    status = library_status;  // libmicrohttpd answered this request itself
    reason = "library";
    library_status = 0;
  } else if (status == 0) {
    reason = toe == MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN ? "shutdown" : "closed";
  }
  impl->Report(*ex, status, reason);
  delete ex;
}

// libmicrohttpd's error messages are not printed (a hostile client could
// fill the log); the status of a request it answers itself is noted.
void Logger(void*, const char* format, va_list ap) {
  char line[512];
  vsnprintf(line, sizeof(line), format, ap);
  const char* code = std::strstr(line, "HTTP response code is ");
  if (code != nullptr) library_status = std::atoi(code + std::strlen("HTTP response code is "));
}

}  // namespace

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options,
                                                              Handler handler, Observer observer) {
  const HttpLimits& l = options.limits;
  if (l.worker_threads < 1 || l.worker_queue < 0 || l.max_connections < 1 ||
      l.max_connections_per_client < 1 || l.request_deadline_seconds < 1 ||
      l.idle_timeout_seconds < 1 || l.max_body_bytes > l.max_buffered_bytes) {
    return absl::InvalidArgumentError(
        "HTTP limits: threads, connections, deadline and idle timeout must be positive, and "
        "the body limit at most the buffered-bytes limit");
  }
  absl::StatusOr<ListenSocket> listening = OpenListenSocket(options.listen);
  if (!listening.ok()) return listening.status();

  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->handler = std::move(handler);
  impl->observer = std::move(observer);
  ExecutorOptions pool;
  pool.threads = l.worker_threads;
  pool.queue_capacity = l.worker_queue;
  impl->workers = std::make_unique<Executor>(pool);
  Impl* raw = impl.get();
  // No listening socket of its own: the head gate accepts, and hands
  // connections over (MHD_add_connection).
  const unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                             MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG |
                             MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC;
  impl->daemon = MHD_start_daemon(
      flags, 0, nullptr, nullptr, &Access, raw,
      MHD_OPTION_EXTERNAL_LOGGER, &Logger, raw,
      // A backstop only: the gate refuses (and counts) at max_connections.
      MHD_OPTION_CONNECTION_LIMIT, static_cast<unsigned int>(l.max_connections) + 1,
      MHD_OPTION_CONNECTION_TIMEOUT, static_cast<unsigned int>(l.idle_timeout_seconds),
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, l.connection_memory_bytes,
      MHD_OPTION_NOTIFY_CONNECTION, &NotifyConnection, raw,
      MHD_OPTION_URI_LOG_CALLBACK, &UriLog, raw,
      MHD_OPTION_NOTIFY_COMPLETED, &Completed, raw,
      MHD_OPTION_END);
  if (impl->daemon == nullptr) {
    close(listening->fd);
    return absl::UnavailableError(
        absl::StrCat("cannot start the HTTP server for ", options.listen));
  }
  impl->port = listening->port;
  HeadGateLimits gate_limits;
  gate_limits.max_target_bytes = l.max_target_bytes;
  gate_limits.max_header_bytes = l.max_header_bytes;
  gate_limits.idle_timeout_seconds = l.idle_timeout_seconds;
  gate_limits.request_deadline_seconds = l.request_deadline_seconds;
  auto gate = HttpHeadGate::Start(listening->fd, gate_limits, raw->GateHooks());
  if (!gate.ok()) {
    MHD_stop_daemon(impl->daemon);
    return gate.status();
  }
  impl->gate = *std::move(gate);
  impl->watchdog = std::thread([raw] { raw->WatchdogLoop(); });
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::~HttpServer() { Stop(); }

int HttpServer::port() const { return impl_->port; }

void HttpServer::Stop() {
  if (impl_->daemon == nullptr) return;
  impl_->gate->Stop();  // no more connections are accepted or handed over
  // Every accepted job runs and resumes its connection; none is left
  // suspended when the daemon stops (which the library requires).
  impl_->workers->Shutdown(absl::InfiniteDuration());
  impl_->stopping.Notify();
  impl_->watchdog.join();
  MHD_stop_daemon(impl_->daemon);
  impl_->daemon = nullptr;
}

}  // namespace peermatch
