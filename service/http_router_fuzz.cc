// libFuzzer target: the HTTP/JSON API's request handling (the router and
// every route of http_routes.h), with arbitrary methods, targets, headers
// and bodies, over the real gRPC server of fuzz_server.h.
//
// Input: byte 0 picks the method, byte 1 the Authorization header (none,
// the write token, the read token, junk); then up to the first '\n' the
// target (path and query, percent-decoded as the transport would), then
// header lines "name: value" up to an empty line, then the body.
//
// Checked for every request: the status is 100-599; an error (>= 400) with
// a JSON content type has the body {"error": {"code", "status", "message"}}
// with code equal to the status; every JSON body parses; every body is
// valid UTF-8. The server holds every 24th demo city and its cases.
// Requests that would write are sent like any other (the store
// is the fuzzer's own, in a temporary directory); a route that pairs runs
// a pairing at most once every 64 executions (below).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "records/validate.h"
#include "service/fuzz_server.h"
#include "service/http_router.h"
#include "service/http_routes.h"

namespace peermatch::fuzz {
namespace {

constexpr const char* kMethods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD",
                                    "BREW"};

class RouterFuzzer {
 public:
  // Every 24th demo city (4 cities and their cases): enough for every route
  // to answer with data, cheap enough per execution.
  RouterFuzzer() : server_(24) { Connect(); }

  // A router over the server's current in-process channel.
  void Connect() {
    router_.reset();
    ApiBackend backend;
    backend.channel = server_.server().InProcessChannel();
    backend.metrics_text = [] { return std::string("# metrics\n"); };
    backend.inflight = std::make_shared<InflightCalls>();
    backend.cors_origin = "*";
    router_ = NewApiRouter(std::move(backend));
  }

  void Handle(const uint8_t* data, size_t size) {
    if (size < 2) return;
    HttpRequest req;
    req.method = kMethods[data[0] % (sizeof kMethods / sizeof kMethods[0])];
    switch (data[1] % 4) {
      case 1: req.headers["authorization"] = std::string("Bearer ") + kWriteToken; break;
      case 2: req.headers["authorization"] = std::string("Bearer ") + kReadToken; break;
      case 3: req.headers["authorization"] = "Bearer x"; break;
      default: break;
    }
    req.peer = "127.0.0.1:40000";
    absl::string_view rest(reinterpret_cast<const char*>(data + 2), size - 2);
    const size_t eol = rest.find('\n');
    absl::string_view target = rest.substr(0, eol);
    rest = eol == absl::string_view::npos ? absl::string_view() : rest.substr(eol + 1);
    const size_t q = target.find('?');
    req.path = std::string(target.substr(0, q));
    if (req.path.empty() || req.path[0] != '/') req.path.insert(0, "/");
    if (q != absl::string_view::npos) {
      for (absl::string_view kv : absl::StrSplit(target.substr(q + 1), '&')) {
        const size_t e = kv.find('=');
        req.query.emplace_back(std::string(kv.substr(0, e)),
                               e == absl::string_view::npos ? "" : std::string(kv.substr(e + 1)));
      }
    }
    while (!rest.empty()) {
      const size_t n = rest.find('\n');
      absl::string_view line = rest.substr(0, n);
      rest = n == absl::string_view::npos ? absl::string_view() : rest.substr(n + 1);
      if (line.empty()) break;
      const size_t colon = line.find(':');
      if (colon == absl::string_view::npos) continue;
      req.headers[absl::AsciiStrToLower(line.substr(0, colon))] =
          std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
    }
    req.body = std::string(rest);
    // A pairing costs some 20 times any other request under the sanitizers,
    // and the fuzzer learns to reach one: with a fixed share of inputs let
    // through (1 in 16 before), pairings took 57% of the time once the
    // corpus had grown, and the rate fell from 500 to 110 executions a
    // second. So a POST to a route that pairs (/v1/pairs, /v1/rounds,
    // /v1/rounds/{id}/rematch) with a token that would let it goes through
    // as made at most once every 64 executions; in between it
    // is sent with a wrong token (the router answers 401, checked like any
    // error). The first always goes through, so an input replayed alone
    // reproduces.
    if (req.method == "POST" && Pairs(req.path)) {
      auto auth = req.headers.find("authorization");
      if (auth != req.headers.end() && (auth->second == std::string("Bearer ") + kWriteToken ||
                                        auth->second == std::string("Bearer ") + kReadToken)) {
        if (!pairings_.Allow(executions_)) auth->second = "Bearer x";
      }
    }

    // The fuzzed writes would grow the store (and the cost of each
    // execution with it) without bound: put the data back now and then.
    if (++executions_ % kResetEvery == 0) {
      router_.reset();
      server_.Reset();
      Connect();
    }
    const HttpResponse res = router_->Handle(req);
    if (res.status < 100 || res.status > 599) Fail("status " + std::to_string(res.status));
    if (!IsValidUtf8(res.body)) Fail("body is not valid UTF-8: " + res.body.substr(0, 200));
    if (res.content_type.rfind("application/json", 0) != 0) return;
    google::protobuf::Struct body;
    if (!google::protobuf::util::JsonStringToMessage(res.body, &body).ok()) {
      // A list at the top is JSON too, but no route answers one.
      Fail("JSON body does not parse: " + res.body.substr(0, 200));
    }
    if (res.status < 400) return;
    const auto& fields = body.fields();
    auto error = fields.find("error");
    if (error == fields.end() || !error->second.has_struct_value()) {
      Fail("error without {\"error\": ...}: " + res.body.substr(0, 200));
    }
    const auto& e = error->second.struct_value().fields();
    for (const char* key : {"code", "status", "message"}) {
      if (e.find(key) == e.end()) Fail(std::string("error without ") + key + ": " + res.body);
    }
    if (static_cast<int>(e.at("code").number_value()) != res.status) {
      Fail("error code differs from the status: " + res.body.substr(0, 200));
    }
  }

  // Drops the router, then stops the server (at exit), and says how many
  // pairing requests went through.
  void Stop() {
    std::fprintf(stderr, "http_router_fuzz: %lld requests; %s\n",
                 static_cast<long long>(executions_), pairings_.Summary("requests").c_str());
    router_.reset();
    server_.Stop();
  }

 private:
  // Whether a POST to `path` runs a pairing (trailing slashes ignored).
  static bool Pairs(absl::string_view path) {
    while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
    return path == "/v1/pairs" || path == "/v1/rounds" ||
           (absl::StartsWith(path, "/v1/rounds/") && absl::EndsWith(path, "/rematch"));
  }

  static constexpr int kResetEvery = 2000;
  PairingBudget pairings_{64};
  FuzzServer server_;
  std::unique_ptr<HttpRouter> router_;
  int64_t executions_ = 0;
};

}  // namespace
}  // namespace peermatch::fuzz

namespace {
peermatch::fuzz::RouterFuzzer* fuzzer = nullptr;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (fuzzer == nullptr) {
    fuzzer = new peermatch::fuzz::RouterFuzzer();
    // Stopped at exit, as in rpc_fuzz.cc: the whole-run leak check then
    // sees a server that has shut down, not one whose threads still run.
    std::atexit([] { fuzzer->Stop(); });
  }
  fuzzer->Handle(data, size);
  return 0;
}
