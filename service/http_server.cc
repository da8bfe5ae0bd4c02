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

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "common/executor.h"
#include "service/http_stream_body.h"
#include "service/http_head_gate.h"
#include "service/internal/http_server_impl.h"

namespace peermatch {
namespace {

using http_server_internal::Clock;
using http_server_internal::Conn;
using http_server_internal::Exchange;
using http_server_internal::kDrainTime;
using http_server_internal::kWatchdogPeriod;
using http_server_internal::library_status;

using Impl = HttpServer::Impl;

}  // namespace

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
void Impl::ReportGateRefusal(const std::string& peer, const HttpResponse& res) {
  if (!observer) return;
  HttpExchange e;
  e.peer = peer;
  e.status = res.status;
  e.route = "-";
  e.reason = res.reason;
  observer(e);
}

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
    if (res.status != 0) ReportGateRefusal(peer, res);
  };
  hooks.relay_refused = [this](const std::string& peer, const HttpResponse& res) {
    ReportGateRefusal(peer, res);
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
