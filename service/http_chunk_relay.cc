#include "service/http_chunk_relay.h"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace peermatch {
namespace {

bool Again() { return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR; }

}  // namespace

std::string RelayHead(absl::string_view head) {
  std::string out;
  out.reserve(head.size() + 20);
  bool dropping = false;  // the previous header line was left out
  bool first = true;      // the request line (after any empty lines) is next
  size_t pos = 0;
  while (pos < head.size()) {
    size_t eol = head.find('\n', pos);
    eol = eol == absl::string_view::npos ? head.size() : eol + 1;
    const absl::string_view line = head.substr(pos, eol - pos);
    pos = eol;
    const absl::string_view bare = absl::StripTrailingAsciiWhitespace(line);
    if (first) {
      out.append(line.data(), line.size());
      first = bare.empty();  // leading empty lines come before it
      continue;
    }
    if (bare.empty()) break;  // the end of the head
    if (line[0] == ' ' || line[0] == '\t') {
      if (!dropping) out.append(line.data(), line.size());
      continue;
    }
    const absl::string_view name = line.substr(0, line.find(':'));
    dropping = absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(name), "connection") ||
               absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(name), "content-length");
    if (!dropping) out.append(line.data(), line.size());
  }
  out.append("Connection: close\r\n\r\n");
  return out;
}

ChunkedRelay::ChunkedRelay(int client, int inner, absl::string_view head, absl::string_view body)
    : client_(client), inner_(inner), to_inner_(RelayHead(head)) {
  Take(body);
}

void ChunkedRelay::Take(absl::string_view bytes) {
  size_t consumed = 0;
  if (reframer_.state() == ChunkedReframer::State::kMore) {
    reframer_.Feed(bytes, &to_inner_, &consumed);
  }
}

ChunkedRelay::Outcome ChunkedRelay::Pump() {
  if (outcome_ != Outcome::kOpen) return outcome_;
  char buf[64 << 10];
  // The client's body, through the reframer.
  while (reframer_.state() == ChunkedReframer::State::kMore && !client_eof_ &&
         to_inner_.size() < kMaxBuffered) {
    const ssize_t n = recv(client_, buf, sizeof(buf), MSG_DONTWAIT);
    if (n > 0) {
      Take(absl::string_view(buf, static_cast<size_t>(n)));
    } else if (n == 0) {
      client_eof_ = true;
    } else if (Again()) {
      break;
    } else {
      return outcome_ = Outcome::kBroken;
    }
  }
  if (reframer_.state() == ChunkedReframer::State::kError && answered_ == 0) {
    return outcome_ = Outcome::kRefused;
  }
  if (client_eof_ && reframer_.state() == ChunkedReframer::State::kMore && !inner_shut_) {
    // The body was cut short: libmicrohttpd sees its end too once the
    // bytes before it are written (shut after the loop below).
    inner_shut_ = true;
  }
  while (!to_inner_.empty() && !inner_eof_) {
    const ssize_t n = send(inner_, to_inner_.data(), to_inner_.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      to_inner_.erase(0, static_cast<size_t>(n));
    } else if (n < 0 && Again()) {
      break;
    } else {
      to_inner_.clear();  // libmicrohttpd stopped reading (it answered early)
    }
  }
  if (inner_shut_ && to_inner_.empty() && !inner_write_closed_) {
    shutdown(inner_, SHUT_WR);
    inner_write_closed_ = true;
  }
  // The response, byte for byte.
  while (!inner_eof_ && to_client_.size() < kMaxBuffered) {
    const ssize_t n = recv(inner_, buf, sizeof(buf), MSG_DONTWAIT);
    if (n > 0) {
      to_client_.append(buf, static_cast<size_t>(n));
      answered_ += static_cast<uint64_t>(n);
    } else if (n < 0 && Again()) {
      break;
    } else {
      inner_eof_ = true;
      to_inner_.clear();
    }
  }
  while (!to_client_.empty()) {
    const ssize_t n =
        send(client_, to_client_.data(), to_client_.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      to_client_.erase(0, static_cast<size_t>(n));
    } else if (n < 0 && Again()) {
      break;
    } else {
      return outcome_ = Outcome::kBroken;
    }
  }
  if (inner_eof_ && to_client_.empty()) {
    return outcome_ = answered_ > 0 ? Outcome::kDone : Outcome::kBroken;
  }
  return outcome_;
}

uint32_t ChunkedRelay::ClientEvents() const {
  uint32_t events = 0;
  if (reframer_.state() == ChunkedReframer::State::kMore && !client_eof_ &&
      to_inner_.size() < kMaxBuffered) {
    events |= EPOLLIN;
  }
  if (!to_client_.empty()) events |= EPOLLOUT;
  return events;
}

uint32_t ChunkedRelay::InnerEvents() const {
  if (inner_eof_) return 0;
  uint32_t events = 0;
  if (to_client_.size() < kMaxBuffered) events |= EPOLLIN;
  if (!to_inner_.empty()) events |= EPOLLOUT;
  return events;
}

}  // namespace peermatch
