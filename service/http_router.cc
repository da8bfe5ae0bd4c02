#include "service/http_router.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace peermatch {
namespace {

// Length of the UTF-8 sequence starting at s[i], 0 when it is not one
// (overlong forms, surrogates and code points past U+10FFFF included).
size_t Utf8SequenceLength(absl::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t b0 = byte(i);
  if (b0 < 0x80) return 1;
  size_t n = 0;
  uint32_t cp = 0;
  if ((b0 & 0xE0) == 0xC0) {
    n = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 4;
    cp = b0 & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes `in` ('+' as a space when `plus_is_space`).
absl::StatusOr<std::string> PercentDecode(absl::string_view in, bool plus_is_space,
                                          absl::string_view part) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+' && plus_is_space) {
      out.push_back(' ');
    } else if (in[i] != '%') {
      out.push_back(in[i]);
    } else {
      const int hi = i + 2 < in.size() ? HexValue(in[i + 1]) : -1;
      const int lo = i + 2 < in.size() ? HexValue(in[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat(part, ": \"", in.substr(i, 3), "\" is not a percent escape (%XX)"));
      }
      const char c = static_cast<char>(hi * 16 + lo);
      if (c == '\0') {
        return absl::InvalidArgumentError(absl::StrCat(part, ": %00 (a NUL byte) is not allowed"));
      }
      out.push_back(c);
      i += 2;
    }
  }
  return out;
}

std::vector<absl::string_view> PathSegments(absl::string_view path) {
  std::vector<absl::string_view> out = absl::StrSplit(path.substr(1), '/');
  return out;
}

}  // namespace

const std::string& HttpRequest::Header(const std::string& name) const {
  static const std::string* const kEmpty = new std::string();
  auto it = headers.find(name);
  return it == headers.end() ? *kEmpty : it->second;
}

absl::string_view StatusNameForHttp(int http_status) {
  switch (http_status) {
    case 400: case 411: return "INVALID_ARGUMENT";
    case 401: return "UNAUTHENTICATED";
    case 403: return "PERMISSION_DENIED";
    case 404: return "NOT_FOUND";
    case 405: case 415: case 501: case 505: return "UNIMPLEMENTED";
    case 408: case 504: return "DEADLINE_EXCEEDED";
    case 409: return "ABORTED";
    case 413: case 414: case 429: case 431: return "RESOURCE_EXHAUSTED";
    case 499: return "CANCELLED";
    case 503: return "UNAVAILABLE";
    default: return http_status < 500 ? "INVALID_ARGUMENT" : "INTERNAL";
  }
}

std::string SanitizeUtf8(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const size_t n = Utf8SequenceLength(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++i;
    } else {
      out.append(s.data() + i, n);
      i += n;
    }
  }
  return out;
}

std::string JsonEscape(absl::string_view s) {
  std::string out;
  for (char ch : SanitizeUtf8(s)) {
    if (ch == '"' || ch == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7F) {
      absl::StrAppend(&out, "\\u00", absl::Hex(static_cast<unsigned char>(ch), absl::kZeroPad2));
    } else {
      out.push_back(ch);
    }
  }
  return out;
}

std::string ErrorBody(int http_status, absl::string_view status_name, absl::string_view message) {
  return absl::StrCat("{\"error\": {\"code\": ", http_status, ", \"status\": \"", status_name,
                      "\", \"message\": \"", JsonEscape(message), "\"}}\n");
}

HttpResponse ErrorResponse(int http_status, absl::string_view message, absl::string_view reason) {
  HttpResponse res;
  res.status = http_status;
  res.body = ErrorBody(http_status, StatusNameForHttp(http_status), message);
  res.reason = std::string(reason);
  return res;
}

absl::Status ParseTarget(absl::string_view target, HttpRequest* request) {
  if (!absl::StartsWith(target, "/")) {
    return absl::InvalidArgumentError("path: the request target must start with '/'");
  }
  const size_t q = target.find('?');
  auto path = PercentDecode(target.substr(0, q), /*plus_is_space=*/false, "path");
  if (!path.ok()) return path.status();
  request->path = *std::move(path);
  request->query.clear();
  if (q == absl::string_view::npos) return absl::OkStatus();
  for (absl::string_view pair : absl::StrSplit(target.substr(q + 1), '&', absl::SkipEmpty())) {
    const size_t eq = pair.find('=');
    auto key = PercentDecode(pair.substr(0, eq), true, "query");
    if (!key.ok()) return key.status();
    std::string value;
    if (eq != absl::string_view::npos) {
      auto v = PercentDecode(pair.substr(eq + 1), true, "query");
      if (!v.ok()) return v.status();
      value = *std::move(v);
    }
    request->query.emplace_back(*std::move(key), std::move(value));
  }
  return absl::OkStatus();
}

void HttpRouter::Add(std::string method, std::string pattern, Handler handler) {
  Entry e;
  for (absl::string_view s : PathSegments(pattern)) {
    e.segments.emplace_back(absl::StartsWith(s, "{") ? "{}" : std::string(s));
  }
  e.route = Route{std::move(method), std::move(pattern)};
  e.handler = std::move(handler);
  entries_.push_back(std::move(e));
}

bool HttpRouter::Matches(const Entry& entry, const std::vector<absl::string_view>& segments,
                         Params* params) {
  if (entry.segments.size() != segments.size()) return false;
  params->clear();
  for (size_t i = 0; i < segments.size(); ++i) {
    if (entry.segments[i] == "{}") {
      if (segments[i].empty()) return false;
      params->emplace_back(segments[i]);
    } else if (entry.segments[i] != segments[i]) {
      return false;
    }
  }
  return true;
}

void HttpRouter::AddCors(const HttpRequest& request, HttpResponse* response) const {
  const std::string& cors = options_.cors_origin;
  if (cors.empty()) return;
  const std::string& origin = request.Header("origin");
  if (cors == "*" || (!origin.empty() && origin == cors)) {
    response->headers.emplace_back("Access-Control-Allow-Origin", cors == "*" ? "*" : origin);
    response->headers.emplace_back("Vary", "Origin");
  }
}

HttpResponse HttpRouter::Handle(const HttpRequest& request) const {
  HttpResponse res;
  if (request.path.empty() || request.path[0] != '/') {
    res = ErrorResponse(400, "path: must start with '/'", "bad_target");
    AddCors(request, &res);
    return res;
  }
  const std::vector<absl::string_view> segments = PathSegments(request.path);
  std::vector<std::string> allowed;
  Params params;
  const Entry* found = nullptr;
  // HEAD is GET without the body (the transport leaves the body out).
  const std::string& method = request.method == "HEAD" ? std::string("GET") : request.method;
  for (const Entry& e : entries_) {
    if (!Matches(e, segments, &params)) continue;
    if (e.route.method == method) {
      found = &e;
      break;
    }
    allowed.push_back(e.route.method);
  }
  if (found != nullptr) {
    res = found->handler(request, params);
    res.route = absl::StrCat(found->route.method, " ", found->route.pattern);
  } else if (allowed.empty()) {
    res = ErrorResponse(404,
                        absl::StrCat("no route ", request.method, " ", request.path,
                                     "; GET /openapi.json lists the routes"),
                        "no_route");
  } else if (request.method == "OPTIONS" && !options_.cors_origin.empty()) {
    res.status = 204;
    res.content_type.clear();
    allowed.push_back("OPTIONS");
    res.headers.emplace_back("Access-Control-Allow-Methods", absl::StrJoin(allowed, ", "));
    res.headers.emplace_back("Access-Control-Allow-Headers", "Authorization, Content-Type");
    res.headers.emplace_back("Access-Control-Max-Age", "600");
    res.reason = "preflight";
  } else {
    if (!options_.cors_origin.empty()) allowed.push_back("OPTIONS");
    res = ErrorResponse(405,
                        absl::StrCat(request.path, " does not serve ", request.method,
                                     "; it serves ", absl::StrJoin(allowed, ", ")),
                        "wrong_method");
    res.headers.emplace_back("Allow", absl::StrJoin(allowed, ", "));
  }
  AddCors(request, &res);
  return res;
}

std::vector<HttpRouter::Route> HttpRouter::routes() const {
  std::vector<Route> out;
  for (const Entry& e : entries_) out.push_back(e.route);
  return out;
}

}  // namespace peermatch
