#include "service/http_head_gate.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <map>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "service/http_chunk_relay.h"

namespace peermatch {
namespace {

using Clock = HttpHeadGate::Clock;

// Room for the method, spaces and version around a target of
// max_target_bytes, and for the line ends and a few short headers around
// headers of max_header_bytes: the gateway's own 414 and 431 (which name
// the exact sizes) answer heads just over its limits; the gate, heads well
// over them.
constexpr size_t kLineSlack = 256;
constexpr size_t kHeadSlack = 1024;
// How long a refused connection may go on sending (read and dropped)
// before it is closed, so that the client reads the answer, not a reset.
constexpr auto kDrainTime = std::chrono::seconds(2);
constexpr int kTickMillis = 100;

HeadVerdict Refuse(int status, const std::string& message, const char* reason) {
  HeadVerdict v;
  v.kind = HeadVerdict::Kind::kRefuse;
  v.refusal = ErrorResponse(status, message, reason);
  return v;
}

// The line [pos, end of line) of `bytes` without its "\r\n" or "\n"; npos
// in *next when the line has not ended yet.
absl::string_view Line(absl::string_view bytes, size_t pos, size_t* next) {
  const size_t eol = bytes.find('\n', pos);
  if (eol == absl::string_view::npos) {
    *next = absl::string_view::npos;
    return {};
  }
  *next = eol + 1;
  absl::string_view line = bytes.substr(pos, eol - pos);
  if (absl::EndsWith(line, "\r")) line.remove_suffix(1);
  return line;
}

// libmicrohttpd takes "HTTP/1.<digit>" (1.0 as 1.0, the rest as 1.1),
// answers 505 for another "HTTP/<digit>.<digit>" and 400 for anything else.
int VersionStatus(absl::string_view version) {
  const bool shaped = version.size() == 8 && absl::StartsWith(version, "HTTP/") &&
                      absl::ascii_isdigit(version[5]) && version[6] == '.' &&
                      absl::ascii_isdigit(version[7]);
  if (!shaped) return 400;
  return version[5] == '1' ? 0 : 505;
}

HeadVerdict CheckRequestLine(absl::string_view line) {
  const size_t first = line.find(' ');
  const size_t last = line.rfind(' ');
  if (first == absl::string_view::npos || first == 0 || last == first ||
      absl::StripAsciiWhitespace(line.substr(first + 1, last - first - 1)).empty()) {
    return Refuse(400, "the request line is not \"METHOD TARGET HTTP/1.1\"", "bad_request_line");
  }
  const absl::string_view version = line.substr(last + 1);
  switch (VersionStatus(version)) {
    case 0:
      return {};
    case 505:
      return Refuse(505, "only HTTP/1.0 and HTTP/1.1 are served", "http_version");
    default:
      return Refuse(400, "the request line does not end with an HTTP version (HTTP/1.1)",
                    "bad_request_line");
  }
}

HeadVerdict CheckHeaderLine(absl::string_view line) {
  if (line[0] == ' ' || line[0] == '\t') return {};  // a folded line: libmicrohttpd joins it
  const size_t colon = line.find(':');
  if (colon == absl::string_view::npos) {
    return Refuse(400, "a header line has no ':' (headers are \"Name: value\")", "bad_header");
  }
  if (!absl::EqualsIgnoreCase(line.substr(0, colon), "content-length")) return {};
  absl::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value[0] == ' ' || value[0] == '\t')) value.remove_prefix(1);
  if (value.empty() || !std::all_of(value.begin(), value.end(), absl::ascii_isdigit)) {
    return Refuse(400, "Content-Length: not a number of bytes", "bad_content_length");
  }
  uint64_t n = 0;
  if (!absl::SimpleAtoi(value, &n)) {
    return Refuse(413, "Content-Length: beyond 64 bits; the body limit is far below",
                  "body_too_large");
  }
  return {};
}

HttpResponse NoAnswer() {
  HttpResponse res;
  res.status = 0;
  return res;
}

std::string PeerString(const sockaddr_storage& addr) {
  int port = 0;
  const std::string ip = AddressString(reinterpret_cast<const sockaddr*>(&addr), &port);
  return absl::StrCat(ip, ":", port);
}

absl::Status ParseListen(const std::string& listen, sockaddr_storage* addr, socklen_t* len) {
  const size_t colon = listen.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(listen.substr(colon + 1), &port) ||
      port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("--http-listen: \"", listen, "\" is not HOST:PORT"));
  }
  std::string host = listen.substr(0, colon);
  if (absl::StartsWith(host, "[") && absl::EndsWith(host, "]")) host = host.substr(1, host.size() - 2);
  if (host.empty() || host == "*") host = "0.0.0.0";
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0 || found == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("--http-listen: cannot resolve the host of \"", listen, "\""));
  }
  std::memset(addr, 0, sizeof(*addr));
  std::memcpy(addr, found->ai_addr, found->ai_addrlen);
  *len = found->ai_addrlen;
  freeaddrinfo(found);
  if (addr->ss_family == AF_INET6) {
    reinterpret_cast<sockaddr_in6*>(addr)->sin6_port = htons(port);
  } else {
    reinterpret_cast<sockaddr_in*>(addr)->sin_port = htons(port);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ListenSocket> OpenListenSocket(const std::string& listen) {
  sockaddr_storage addr;
  socklen_t len = 0;
  if (absl::Status s = ParseListen(listen, &addr, &len); !s.ok()) return s;
  const int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int one = 1;
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
      bind(fd, reinterpret_cast<const sockaddr*>(&addr), len) != 0 || ::listen(fd, 511) != 0) {
    if (fd >= 0) close(fd);
    return absl::UnavailableError(absl::StrCat(
        "cannot listen for HTTP on ", listen,
        " (is the port in use? choose another with --http-listen)"));
  }
  sockaddr_storage bound{};
  socklen_t bound_len = sizeof(bound);
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_len);
  ListenSocket out;
  out.fd = fd;
  out.port = ntohs(bound.ss_family == AF_INET6
                       ? reinterpret_cast<const sockaddr_in6*>(&bound)->sin6_port
                       : reinterpret_cast<const sockaddr_in*>(&bound)->sin_port);
  return out;
}

std::string AddressString(const sockaddr* addr, int* port) {
  char buf[INET6_ADDRSTRLEN] = "?";
  *port = 0;
  if (addr == nullptr) return buf;
  if (addr->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(addr);
    inet_ntop(AF_INET, &in->sin_addr, buf, sizeof(buf));
    *port = ntohs(in->sin_port);
  } else if (addr->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(addr);
    inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof(buf));
    *port = ntohs(in6->sin6_port);
  }
  return buf;
}

std::string RawHttpResponse(const HttpResponse& res) {
  const char* phrase = MHD_get_reason_phrase_for(res.status);
  return absl::StrCat("HTTP/1.1 ", res.status, " ", phrase, "\r\nContent-Type: ", res.content_type,
                      "\r\nContent-Length: ", res.body.size(), "\r\nConnection: close\r\n\r\n",
                      res.body);
}

size_t HeadBytesToDecide(const HeadGateLimits& limits) {
  return limits.max_target_bytes + kLineSlack + limits.max_header_bytes + kHeadSlack;
}

HeadVerdict CheckRequestHead(absl::string_view bytes, const HeadGateLimits& limits) {
  // Empty lines before the request line are skipped, as libmicrohttpd does.
  size_t pos = 0;
  while (pos < bytes.size() && (bytes[pos] == '\n' || (bytes[pos] == '\r' &&
                                                       pos + 1 < bytes.size() &&
                                                       bytes[pos + 1] == '\n'))) {
    pos += bytes[pos] == '\n' ? 1 : 2;
  }
  const size_t line_limit = limits.max_target_bytes + kLineSlack;
  const size_t head_limit = HeadBytesToDecide(limits);
  size_t next = 0;
  const absl::string_view request_line = Line(bytes, pos, &next);
  if (next == absl::string_view::npos || next - pos > line_limit) {
    if (bytes.size() - pos <= line_limit && next == absl::string_view::npos) return {};
    return Refuse(414, absl::StrCat("the request line has over ", line_limit,
                                    " bytes; the request target's limit is ",
                                    limits.max_target_bytes),
                  "target_too_long");
  }
  if (HeadVerdict v = CheckRequestLine(request_line); v.kind == HeadVerdict::Kind::kRefuse) {
    return v;
  }
  bool chunked = false;
  for (pos = next;;) {
    const absl::string_view line = Line(bytes, pos, &next);
    if (next == absl::string_view::npos ? bytes.size() > head_limit : next > head_limit) {
      return Refuse(431, absl::StrCat("the request head has over ", head_limit,
                                      " bytes; the headers' limit is ", limits.max_header_bytes),
                    "headers_too_large");
    }
    if (next == absl::string_view::npos) return {};
    if (line.empty()) {
      HeadVerdict pass;
      pass.kind = HeadVerdict::Kind::kPass;
      pass.head_bytes = next;
      pass.chunked = chunked;
      return pass;
    }
    if (HeadVerdict v = CheckHeaderLine(line); v.kind == HeadVerdict::Kind::kRefuse) return v;
    if (const size_t colon = line.find(':');
        colon != absl::string_view::npos &&
        absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(line.substr(0, colon)),
                               "transfer-encoding") &&
        absl::StrContains(absl::AsciiStrToLower(line.substr(colon + 1)), "chunked")) {
      chunked = true;
    }
    pos = next;
  }
}

// One connection in the gate.
struct Pending {
  int fd = -1;
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  Clock::time_point accepted;
  Clock::time_point last_activity;
  size_t seen = 0;  // bytes peeked so far
  // Refused: the answer was sent; the rest is read and dropped until then.
  bool draining = false;
  Clock::time_point drain_until;
  HttpResponse answer;
  // A relayed connection back in the gate to be ended: its place in the
  // limits went with the hand-over, so closing it only reports `answer`.
  bool relayed = false;
};

// A connection whose chunked request is relayed (http_chunk_relay.h).
struct Relayed {
  std::unique_ptr<ChunkedRelay> relay;
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  Clock::time_point last_event;
  uint32_t client_events = 0;  // as registered with epoll
  uint32_t inner_events = 0;
  bool inner_removed = false;  // the inner socket left epoll (it waits for nothing)
};

struct HttpHeadGate::Impl {
  HeadGateLimits limits;
  Hooks hooks;
  int listen_fd = -1;
  int epoll_fd = -1;
  int stop_fd = -1;  // an eventfd: written by Stop()
  std::thread thread;
  std::map<int, Pending> pending;  // by fd; the gate's thread only
  std::map<int, Relayed> relays;   // by client fd
  std::map<int, int> relay_inner;  // inner fd -> client fd
  std::string buffer;              // peeked bytes

  void Loop();
  void Accept();
  void Read(Pending& p);
  // Hands `p` (whose head of `head_bytes` passed and has a chunked body)
  // over through a relay.
  void StartRelay(Pending& p, size_t head_bytes);
  void PumpRelay(int client_fd, bool client_hung_up);
  // Ends a relay: closes its inner socket; the client's is closed too
  // (`linger` false) or ended as a draining connection answering `res`
  // (status 0: already answered).
  void EndRelay(int client_fd, bool linger, HttpResponse res);
  void Arm(int fd, uint32_t events, uint32_t* registered);
  void CheckTimes();
  // Leaves the gate: closes `fd` (reporting `res`, status 0 for none; a
  // copy, as it may be the connection's own answer).
  void Close(int fd, HttpResponse res);
  void Answer(Pending& p, HttpResponse res);
};

void HttpHeadGate::Impl::Loop() {
  epoll_event events[64];
  for (;;) {
    const int n = epoll_wait(epoll_fd, events, 64, kTickMillis);
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == stop_fd) return;
      if (fd == listen_fd) {
        Accept();
        continue;
      }
      if (auto it = pending.find(fd); it != pending.end()) {
        Read(it->second);
      } else if (relays.count(fd) > 0) {
        PumpRelay(fd, (events[i].events & (EPOLLHUP | EPOLLERR)) != 0);
      } else if (auto in = relay_inner.find(fd); in != relay_inner.end()) {
        PumpRelay(in->second, false);
      }
    }
    CheckTimes();
  }
}

void HttpHeadGate::Impl::Accept() {
  for (;;) {
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    const int fd = accept4(listen_fd, reinterpret_cast<sockaddr*>(&addr), &len,
                           SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or the client left before the accept
    if (!hooks.admit(reinterpret_cast<const sockaddr*>(&addr), len)) {
      close(fd);
      continue;
    }
    Pending& p = pending[fd];
    p.fd = fd;
    p.addr = addr;
    p.addr_len = len;
    p.accepted = p.last_activity = Clock::now();
    // Edge-triggered: peeking leaves the bytes in the socket, so a
    // level-triggered wait would wake at once, again and again; an edge
    // comes with each new arrival.
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
    ev.data.fd = fd;
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev);
    Read(p);  // the head may be there already
  }
}

void HttpHeadGate::Impl::Read(Pending& p) {
  const int fd = p.fd;
  if (p.draining) {
    char sink[16 << 10];
    ssize_t got;
    while ((got = recv(fd, sink, sizeof(sink), MSG_DONTWAIT)) > 0) {
    }
    if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) Close(fd, p.answer);
    return;
  }
  buffer.resize(HeadBytesToDecide(limits) + 1);
  const ssize_t got = recv(fd, buffer.data(), buffer.size(), MSG_PEEK | MSG_DONTWAIT);
  if (got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
    Close(fd, NoAnswer());  // the client went away
    return;
  }
  if (got <= 0 || static_cast<size_t>(got) == p.seen) return;
  p.seen = static_cast<size_t>(got);
  p.last_activity = Clock::now();
  HeadVerdict v = CheckRequestHead(absl::string_view(buffer.data(), p.seen), limits);
  switch (v.kind) {
    case HeadVerdict::Kind::kNeedMore:
      return;
    case HeadVerdict::Kind::kRefuse:
      Answer(p, std::move(v.refusal));
      return;
    case HeadVerdict::Kind::kPass:
      break;
  }
  if (v.chunked) {
    StartRelay(p, v.head_bytes);
    return;
  }
  epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, nullptr);
  const Pending handed = std::move(p);
  pending.erase(fd);
  hooks.hand_over(fd, reinterpret_cast<const sockaddr*>(&handed.addr), handed.addr_len,
                  handed.accepted);
}

void HttpHeadGate::Impl::StartRelay(Pending& p, size_t head_bytes) {
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) != 0) {
    Answer(p, ErrorResponse(503, "the server cannot take another connection now; retry later",
                            "relay_unavailable"));
    return;
  }
  const int fd = p.fd;
  // The peeked bytes are consumed: the relay passes them on itself.
  std::string seen(p.seen, '\0');
  const ssize_t got = recv(fd, seen.data(), seen.size(), MSG_DONTWAIT);
  seen.resize(got > 0 ? static_cast<size_t>(got) : 0);
  Relayed r;
  r.relay = std::make_unique<ChunkedRelay>(
      fd, pair[1], absl::string_view(seen).substr(0, head_bytes),
      absl::string_view(seen).substr(std::min(head_bytes, seen.size())));
  r.addr = p.addr;
  r.addr_len = p.addr_len;
  r.last_event = Clock::now();
  const Clock::time_point accepted = p.accepted;
  pending.erase(fd);
  // Level-triggered from here on: the relay reads what it is ready for.
  epoll_event ev{};
  ev.events = 0;
  ev.data.fd = fd;
  epoll_ctl(epoll_fd, EPOLL_CTL_MOD, fd, &ev);
  ev.data.fd = pair[1];
  epoll_ctl(epoll_fd, EPOLL_CTL_ADD, pair[1], &ev);
  relay_inner[pair[1]] = fd;
  Relayed& placed = relays[fd] = std::move(r);
  hooks.hand_over(pair[0], reinterpret_cast<const sockaddr*>(&placed.addr), placed.addr_len,
                  accepted);
  PumpRelay(fd, false);
}

void HttpHeadGate::Impl::Arm(int fd, uint32_t events, uint32_t* registered) {
  if (events == *registered) return;
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  epoll_ctl(epoll_fd, EPOLL_CTL_MOD, fd, &ev);
  *registered = events;
}

void HttpHeadGate::Impl::PumpRelay(int client_fd, bool client_hung_up) {
  auto it = relays.find(client_fd);
  if (it == relays.end()) return;
  Relayed& r = it->second;
  r.last_event = Clock::now();
  const ChunkedRelay::Outcome outcome =
      client_hung_up ? ChunkedRelay::Outcome::kBroken : r.relay->Pump();
  switch (outcome) {
    case ChunkedRelay::Outcome::kOpen:
      Arm(client_fd, r.relay->ClientEvents(), &r.client_events);
      // An inner socket that waits for nothing (libmicrohttpd closed it)
      // would report its hang-up again and again.
      if (r.inner_removed) return;
      if (r.relay->InnerEvents() == 0) {
        epoll_ctl(epoll_fd, EPOLL_CTL_DEL, r.relay->inner(), nullptr);
        r.inner_removed = true;
      } else {
        Arm(r.relay->inner(), r.relay->InnerEvents(), &r.inner_events);
      }
      return;
    case ChunkedRelay::Outcome::kRefused:
      EndRelay(client_fd, true, r.relay->refusal());
      return;
    case ChunkedRelay::Outcome::kDone:
      EndRelay(client_fd, true, NoAnswer());
      return;
    case ChunkedRelay::Outcome::kBroken:
      EndRelay(client_fd, false, NoAnswer());
      return;
  }
}

void HttpHeadGate::Impl::EndRelay(int client_fd, bool linger, HttpResponse res) {
  auto it = relays.find(client_fd);
  if (it == relays.end()) return;
  Relayed r = std::move(it->second);
  relays.erase(it);
  const int inner = r.relay->inner();
  relay_inner.erase(inner);
  epoll_ctl(epoll_fd, EPOLL_CTL_DEL, inner, nullptr);
  close(inner);  // libmicrohttpd's end sees it closed
  if (!linger) {
    epoll_ctl(epoll_fd, EPOLL_CTL_DEL, client_fd, nullptr);
    close(client_fd);
    return;
  }
  // Back to the gate's draining connections (edge-triggered again).
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
  ev.data.fd = client_fd;
  epoll_ctl(epoll_fd, EPOLL_CTL_MOD, client_fd, &ev);
  Pending& p = pending[client_fd];
  p.fd = client_fd;
  p.addr = r.addr;
  p.addr_len = r.addr_len;
  p.accepted = p.last_activity = Clock::now();
  p.relayed = true;
  if (res.status != 0) {
    Answer(p, std::move(res));
    return;
  }
  shutdown(client_fd, SHUT_WR);  // the response was passed on whole
  p.draining = true;
  p.drain_until = Clock::now() + kDrainTime;
  Read(p);
}

void HttpHeadGate::Impl::Answer(Pending& p, HttpResponse res) {
  const std::string raw = RawHttpResponse(res);
  (void)send(p.fd, raw.data(), raw.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  shutdown(p.fd, SHUT_WR);
  p.answer = std::move(res);
  p.draining = true;
  p.drain_until = Clock::now() + kDrainTime;
  Read(p);  // drops what is already there; closes at once if the client is done
}

void HttpHeadGate::Impl::CheckTimes() {
  const auto now = Clock::now();
  const auto idle = std::chrono::seconds(limits.idle_timeout_seconds);
  const auto deadline = std::chrono::seconds(limits.request_deadline_seconds);
  std::vector<int> closing, late;
  for (const auto& [fd, p] : pending) {
    if (p.draining) {
      if (now > p.drain_until) closing.push_back(fd);
    } else if (now - p.accepted > deadline) {
      late.push_back(fd);
    } else if (now - p.last_activity > idle) {
      closing.push_back(fd);  // silent: closed without an answer, as nothing was asked
    }
  }
  std::vector<int> stuck;  // relays whose client does not read the rest of its answer
  for (const auto& [fd, r] : relays) {
    if (r.relay->inner_closed() && now - r.last_event > idle) stuck.push_back(fd);
  }
  for (int fd : stuck) EndRelay(fd, false, NoAnswer());
  // Outside the loop over `pending`: both may erase from it.
  for (int fd : closing) {
    const auto it = pending.find(fd);
    if (it != pending.end()) Close(fd, it->second.draining ? it->second.answer : NoAnswer());
  }
  for (int fd : late) {
    const auto it = pending.find(fd);
    if (it == pending.end()) continue;
    Answer(it->second, ErrorResponse(408,
                                     absl::StrCat("the request was not complete within ",
                                                  limits.request_deadline_seconds, " seconds"),
                                     "request_deadline"));
  }
}

void HttpHeadGate::Impl::Close(int fd, HttpResponse res) {
  auto it = pending.find(fd);
  if (it == pending.end()) return;
  const Pending p = std::move(it->second);
  pending.erase(it);
  epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, nullptr);
  close(fd);
  if (p.relayed) {
    if (res.status != 0 && hooks.relay_refused) hooks.relay_refused(PeerString(p.addr), res);
    return;
  }
  hooks.closed(reinterpret_cast<const sockaddr*>(&p.addr), p.addr_len, PeerString(p.addr), res);
}

HttpHeadGate::HttpHeadGate(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

absl::StatusOr<std::unique_ptr<HttpHeadGate>> HttpHeadGate::Start(int listen_fd,
                                                                   const HeadGateLimits& limits,
                                                                   Hooks hooks) {
  auto impl = std::make_unique<Impl>();
  impl->limits = limits;
  impl->hooks = std::move(hooks);
  impl->listen_fd = listen_fd;
  fcntl(listen_fd, F_SETFL, fcntl(listen_fd, F_GETFL) | O_NONBLOCK);
  impl->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  impl->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (impl->epoll_fd < 0 || impl->stop_fd < 0) {
    if (impl->epoll_fd >= 0) close(impl->epoll_fd);
    if (impl->stop_fd >= 0) close(impl->stop_fd);
    close(listen_fd);
    return absl::InternalError("HTTP gateway: cannot set up epoll");
  }
  for (int fd : {listen_fd, impl->stop_fd}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    epoll_ctl(impl->epoll_fd, EPOLL_CTL_ADD, fd, &ev);
  }
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->Loop(); });
  return std::unique_ptr<HttpHeadGate>(new HttpHeadGate(std::move(impl)));
}

HttpHeadGate::~HttpHeadGate() { Stop(); }

void HttpHeadGate::Stop() {
  if (!impl_->thread.joinable()) return;
  const uint64_t one = 1;
  (void)write(impl_->stop_fd, &one, sizeof(one));
  impl_->thread.join();
  std::vector<int> fds;
  for (const auto& [fd, p] : impl_->pending) fds.push_back(fd);
  for (int fd : fds) impl_->Close(fd, NoAnswer());
  fds.clear();
  for (const auto& [fd, r] : impl_->relays) fds.push_back(fd);
  for (int fd : fds) impl_->EndRelay(fd, false, NoAnswer());
  close(impl_->listen_fd);
  close(impl_->epoll_fd);
  close(impl_->stop_fd);
}

}  // namespace peermatch
