// The HTTP gateway probed as a hostile client would, over raw loopback
// sockets: huge chunked bodies, idle and slow connections, malformed and
// oversized requests. Bounded: each test takes a few seconds; timeouts here
// only guard "did it answer at all".
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "service/http_gateway.h"
#include "service/server.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_engine.h"
#include "tests/testing/test_server.h"

namespace peermatch {
namespace {

using ::testing::HasSubstr;
using testing::TestServer;
using testing::TestServerOptions;

// A blocking TCP connection from `source_ip` (any 127.x.y.z is loopback).
class Conn {
 public:
  // `guard_seconds`: how long a read or write may block ("did it answer at
  // all"), never a measure of speed.
  Conn(int port, const std::string& source_ip = "127.0.0.1", int guard_seconds = 5) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in src{};
    src.sin_family = AF_INET;
    inet_pton(AF_INET, source_ip.c_str(), &src.sin_addr);
    bind(fd_, reinterpret_cast<sockaddr*>(&src), sizeof(src));
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&dst), sizeof(dst)) == 0;
    timeval guard{guard_seconds, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &guard, sizeof(guard));
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &guard, sizeof(guard));
  }
  ~Conn() { close(fd_); }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  bool connected() const { return connected_; }
  bool Send(const std::string& data) {
    size_t done = 0;
    while (done < data.size()) {
      const ssize_t n = send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return false;
      done += n;
    }
    return true;
  }
  // True when the server has sent something (or closed).
  bool Readable() {
    pollfd p{fd_, POLLIN, 0};
    return poll(&p, 1, 0) > 0;
  }
  // Everything until the server closes (or the guard timeout).
  std::string ReadAll() {
    std::string out;
    char buf[65536];
    for (;;) {
      const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) break;
      out.append(buf, n);
    }
    return out;
  }
  // One response with a Content-Length body (the connection stays open).
  std::string ReadResponse() {
    std::string out;
    char buf[65536];
    for (;;) {
      const size_t end = out.find("\r\n\r\n");
      if (end != std::string::npos) {
        size_t length = 0;
        const size_t at = out.find("Content-Length: ");
        if (at != std::string::npos && at < end) {
          (void)absl::SimpleAtoi(out.substr(at + 16, out.find("\r\n", at) - at - 16), &length);
        }
        if (out.size() >= end + 4 + length) return out.substr(0, end + 4 + length);
      }
      const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) return out;
      out.append(buf, n);
    }
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

int StatusOf(const std::string& response) {
  int status = 0;
  if (absl::StartsWith(response, "HTTP/1.1 ")) (void)absl::SimpleAtoi(response.substr(9, 3), &status);
  return status;
}
std::string BodyOf(const std::string& response) {
  const size_t end = response.find("\r\n\r\n");
  return end == std::string::npos ? "" : response.substr(end + 4);
}

// The response is `code` with a JSON error body of the API's shape.
void ExpectJsonError(const std::string& response, int code) {
  EXPECT_EQ(StatusOf(response), code) << response.substr(0, 300);
  EXPECT_THAT(response, HasSubstr("Content-Type: application/json"));
  google::protobuf::Struct body;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(BodyOf(response), &body).ok())
      << BodyOf(response);
  const auto& error = body.fields().at("error").struct_value().fields();
  EXPECT_EQ(error.at("code").number_value(), code);
  EXPECT_FALSE(error.at("status").string_value().empty());
  EXPECT_FALSE(error.at("message").string_value().empty());
}

std::string Bearer(const char* token) {
  return absl::StrCat("Authorization: Bearer ", token, "\r\n");
}

std::string Post(const std::string& path, const std::string& body, const std::string& extra = "") {
  return absl::StrCat("POST ", path, " HTTP/1.1\r\nHost: x\r\n", Bearer(testing::kReadToken),
                      extra, "Content-Length: ", body.size(), "\r\n\r\n", body);
}

std::string Get(const std::string& path, const std::string& extra = "") {
  return absl::StrCat("GET ", path, " HTTP/1.1\r\nHost: x\r\n", Bearer(testing::kReadToken), extra,
                      "\r\n");
}

// One request on a fresh connection; the whole response.
std::string Exchange(int port, const std::string& request, const std::string& from = "127.0.0.1",
                     int guard_seconds = 5) {
  Conn c(port, from, guard_seconds);
  if (!c.connected() || !c.Send(request)) return "";
  return c.ReadResponse();
}

int64_t RssBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (absl::StartsWith(line, "VmRSS:")) {
      int64_t kb = 0;
      (void)absl::SimpleAtoi(absl::StripAsciiWhitespace(line.substr(6, line.size() - 9)), &kb);
      return kb << 10;
    }
  }
  return -1;
}

// A gateway of its own (custom limits) on the suite's server.
class HttpProbeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    TestServerOptions options;
    options.tokens = true;
    options.http = true;
    options.demo_data = true;
    options.pairing_after_progress = [](const Cancellation& cancel) {
      absl::Notification* hold = hold_pairing_.load();
      if (hold != nullptr) hold->WaitForNotificationWithTimeout(absl::Seconds(10));
    };
    server_ = new TestServer(options);
  }
  static void TearDownTestSuite() { delete server_; }

  std::unique_ptr<HttpGateway> Gateway(HttpLimits limits, FILE* log = nullptr) {
    HttpOptions options;
    options.listen = "127.0.0.1:0";
    options.limits = limits;
    options.access_log = log;
    auto gateway = HttpGateway::Start(server_->server().InProcessChannel(),
                                      &server_->server().metrics(), nullptr, options);
    EXPECT_TRUE(gateway.ok()) << gateway.status();
    return *std::move(gateway);
  }
  static std::string Metrics(int port) { return BodyOf(Exchange(port, Get("/metrics"))); }

  static TestServer* server_;
  // While set, pairings wait for it after their first progress report.
  static std::atomic<absl::Notification*> hold_pairing_;
};
TestServer* HttpProbeTest::server_ = nullptr;
std::atomic<absl::Notification*> HttpProbeTest::hold_pairing_{nullptr};

TEST_F(HttpProbeTest, A300MiBChunkedBodyIsRefusedWith413AndNotBuffered) {
  const int port = server_->server().http_port();
  const int64_t rss_before = RssBytes();
  int64_t sent = 0;
  {
    Conn c(port);
    ASSERT_TRUE(c.Send(absl::StrCat("POST /v1/match HTTP/1.1\r\nHost: x\r\n",
                                    Bearer(testing::kReadToken), "Transfer-Encoding: chunked\r\n\r\n")));
    const std::string chunk = absl::StrCat("10000\r\n", std::string(0x10000, 'x'), "\r\n");
    // Stops when the server answers (or stops reading).
    while (sent < (int64_t{300} << 20) && !c.Readable() && c.Send(chunk)) sent += 0x10000;
    const std::string response = c.ReadAll();
    ExpectJsonError(response, 413);
    EXPECT_THAT(response, HasSubstr("Connection: close"));
  }
  EXPECT_LT(sent, int64_t{300} << 20) << "the server read the whole body";
  EXPECT_LT(RssBytes() - rss_before, int64_t{50} << 20);
  // Counted when the connection has ended (the client has just closed it).
  std::string metrics;
  for (int i = 0; i < 50 && !absl::StrContains(metrics, "reason=\"body_too_large\"} 1"); ++i) {
    absl::SleepFor(absl::Milliseconds(100));
    metrics = Metrics(port);
  }
  EXPECT_THAT(metrics, HasSubstr("peermatch_http_rejections_total{reason=\"body_too_large\"} 1"));
  EXPECT_THAT(metrics, HasSubstr("peermatch_http_responses_total{route=\"-\",code=\"413\"} 1"));
}

TEST_F(HttpProbeTest, IdleAndSlowClientsDoNotStarveHealthOrMatch) {
  const int port = server_->server().http_port();
  // 500 idle connections from 20 addresses (the per-client limit is 64) ...
  std::vector<std::unique_ptr<Conn>> idle;
  for (int i = 0; i < 500; ++i) {
    idle.push_back(std::make_unique<Conn>(port, absl::StrCat("127.0.1.", 2 + i % 20)));
    ASSERT_TRUE(idle.back()->connected());
  }
  // ... and 16 bodies sent at 1 byte a second.
  std::vector<std::unique_ptr<Conn>> slow;
  for (int i = 0; i < 16; ++i) {
    slow.push_back(std::make_unique<Conn>(port, "127.0.2.2"));
    ASSERT_TRUE(slow.back()->Send(absl::StrCat("POST /v1/match HTTP/1.1\r\nHost: x\r\n",
                                               Bearer(testing::kReadToken),
                                               "Content-Length: 1000\r\n\r\n{")));
  }
  std::atomic<bool> done{false};
  std::thread dribble([&] {
    while (!done) {
      for (auto& c : slow) c->Send(" ");
      for (int i = 0; i < 10 && !done; ++i) absl::SleepFor(absl::Milliseconds(100));
    }
  });
  for (int round = 0; round < 3; ++round) {
    const std::string health = Exchange(port, Get("/healthz"));
    EXPECT_EQ(StatusOf(health), 200) << health;
    const std::string match = Exchange(port, Post("/v1/match", R"({"text": "radio lessons", "k": 3})"));
    EXPECT_EQ(StatusOf(match), 200) << match.substr(0, 300);
    EXPECT_THAT(BodyOf(match), HasSubstr("\"peers\""));
    absl::SleepFor(absl::Seconds(1));
  }
  done = true;
  dribble.join();
}

TEST_F(HttpProbeTest, EveryRefusalIsAJsonErrorAndCounted) {
  HttpLimits limits;
  limits.request_deadline_seconds = 1;
  auto gateway = Gateway(limits);
  const int port = gateway->port();
  const std::string cities = "POST /v1/cities HTTP/1.1\r\nHost: x\r\n";

  ExpectJsonError(Exchange(port, Post("/v1/match", "{\"text\": \"\xff\xfe\x80 radio\", \"kk\": 1}")), 400);
  ExpectJsonError(Exchange(port, Post("/v1/match", "{\"te\xffxt\": 1}")), 400);
  ExpectJsonError(Exchange(port, Get("/v1/cities/%zz")), 400);
  ExpectJsonError(Exchange(port, "POST /v1/match HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"), 401);
  ExpectJsonError(Exchange(port, absl::StrCat(cities, Bearer(testing::kReadToken),
                                              "Content-Length: 2\r\n\r\n{}")), 403);
  ExpectJsonError(Exchange(port, Get("/v1/nothing-here")), 404);
  ExpectJsonError(Exchange(port, Get("/v1/\xff\xfe/\xc3")), 404);  // raw invalid UTF-8 path
  const std::string wrong = Exchange(port, Get("/v1/match"));
  ExpectJsonError(wrong, 405);
  EXPECT_THAT(wrong, HasSubstr("Allow: POST\r\n"));
  {
    Conn late(port);  // headers never finished: 408 at the deadline
    ASSERT_TRUE(late.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n"));
    ExpectJsonError(late.ReadAll(), 408);
  }
  ExpectJsonError(Exchange(port, absl::StrCat("POST /v1/match HTTP/1.1\r\nHost: x\r\n",
                                              Bearer(testing::kReadToken), "\r\n")), 411);
  ExpectJsonError(Exchange(port, absl::StrCat("POST /v1/match HTTP/1.1\r\nHost: x\r\n",
                                              "Content-Length: 4194305\r\n\r\n")), 413);
  ExpectJsonError(Exchange(port, Get("/v1/cities?pageToken=" + std::string(9000, 'a'))), 414);
  ExpectJsonError(Exchange(port, Post("/v1/match", "{}", "Content-Encoding: gzip\r\n")), 415);
  ExpectJsonError(Exchange(port, Get("/healthz", "X-Big: " + std::string(20000, 'h') + "\r\n")), 431);
  // Beyond libmicrohttpd's connection memory: the head gate answers (issue
  // 12; it was libmicrohttpd's HTML before).
  ExpectJsonError(Exchange(port, Get("/healthz", "X-Big: " + std::string(70000, 'h') + "\r\n")), 431);
  // A malformed chunked body: the gate's relay answers (it was
  // libmicrohttpd's HTML before).
  ExpectJsonError(
      Exchange(port, "POST /v1/match HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
      400);

  const std::string metrics = Metrics(port);
  for (const char* counted :
       {"route=\"POST /v1/match\",code=\"400\"", "route=\"-\",code=\"400\"",
        "route=\"POST /v1/match\",code=\"401\"", "route=\"POST /v1/cities\",code=\"403\"",
        "route=\"-\",code=\"404\"} 2", "route=\"-\",code=\"405\"", "route=\"-\",code=\"408\"",
        "route=\"-\",code=\"411\"", "route=\"-\",code=\"413\"", "route=\"-\",code=\"414\"",
        "route=\"-\",code=\"415\"", "route=\"-\",code=\"431\"} 2",
        "reason=\"headers_too_large\"} 2", "reason=\"request_deadline\"} 1",
        "reason=\"bad_chunk\"} 1",
        "reason=\"wrong_method\"} 1", "reason=\"no_route\"} 2"}) {
    EXPECT_THAT(metrics, HasSubstr(counted)) << metrics;
  }
}

// Issue 12: the heads libmicrohttpd would refuse with its own HTML body are
// refused by the head gate in front of it with the JSON error, and counted
// with a reason; what is left to libmicrohttpd is pinned here.
TEST_F(HttpProbeTest, HeadsTheLibraryWouldRefuseGetTheJsonErrorFromTheGate) {
  HttpLimits limits;
  auto gateway = Gateway(limits);
  const int port = gateway->port();
  const std::string line = "GET /healthz?" + std::string(70000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n";
  ExpectJsonError(Exchange(port, line), 414);
  ExpectJsonError(Exchange(port, Get("/healthz", "X-Big: " + std::string(70000, 'h') + "\r\n")), 431);
  std::string many;
  for (int i = 0; i < 700; ++i) absl::StrAppend(&many, "X-", i, ": ", std::string(100, 'b'), "\r\n");
  ExpectJsonError(Exchange(port, Get("/healthz", many)), 431);
  ExpectJsonError(Exchange(port, "GET /healthz\r\n\r\n"), 400);
  ExpectJsonError(Exchange(port, "GET /healthz HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n"), 400);
  ExpectJsonError(Exchange(port, "GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n"), 505);
  ExpectJsonError(Exchange(port, Post("/v1/match", "{}", "Content-Length: abc\r\n")), 400);
  ExpectJsonError(
      Exchange(port, "POST /v1/match HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n"),
      413);
  // What passes the gate is served as before, on the same connection too.
  {
    Conn c(port);
    ASSERT_TRUE(c.Send(Get("/healthz")));
    EXPECT_EQ(StatusOf(c.ReadResponse()), 200);
    ASSERT_TRUE(c.Send(Post("/v1/match", R"({"text": "radio lessons for pupils", "k": 2})")));
    EXPECT_EQ(StatusOf(c.ReadResponse()), 200);
  }

  // Left to libmicrohttpd, with its HTML body: a later request of a
  // kept-alive connection whose head passes its 64 KiB of connection memory
  // (only a connection's first head passes through the gate).
  {
    Conn c(port);
    ASSERT_TRUE(c.Send(Get("/healthz")));
    EXPECT_EQ(StatusOf(c.ReadResponse()), 200);
    ASSERT_TRUE(c.Send(Get("/healthz", "X-Big: " + std::string(70000, 'h') + "\r\n")));
    const std::string second = c.ReadAll();
    EXPECT_EQ(StatusOf(second), 431);
    EXPECT_THAT(BodyOf(second), HasSubstr("<html>"));
  }

  const std::string metrics = Metrics(port);
  for (const char* counted :
       {"reason=\"target_too_long\"} 1", "reason=\"headers_too_large\"} 2",
        "reason=\"bad_request_line\"} 1", "reason=\"bad_header\"} 1",
        "reason=\"http_version\"} 1", "reason=\"bad_content_length\"} 1",
        "reason=\"body_too_large\"} 1", "reason=\"library\"} 1", "route=\"-\",code=\"505\"} 1"}) {
    EXPECT_THAT(metrics, HasSubstr(counted)) << metrics;
  }
}

TEST_F(HttpProbeTest, AFullWorkerQueueIs503) {
  HttpLimits limits;
  limits.worker_threads = 1;
  limits.worker_queue = 0;
  auto gateway = Gateway(limits);
  const int port = gateway->port();
  absl::Notification hold;  // the one worker is busy with a pairing ...
  hold_pairing_ = &hold;
  Conn pairing(port);
  ASSERT_TRUE(pairing.Send(Post("/v1/pairs", R"({"k": 2})")));
  std::string busy;
  for (int i = 0; i < 100 && StatusOf(busy) != 503; ++i) {  // ... once it has started
    busy = Exchange(port, Get("/healthz"));
    absl::SleepFor(absl::Milliseconds(50));
  }
  ExpectJsonError(busy, 503);
  hold_pairing_ = nullptr;
  hold.Notify();
  EXPECT_EQ(StatusOf(pairing.ReadResponse()), 200);
  std::string response;  // the worker may take a moment to be free again
  for (int i = 0; i < 100 && StatusOf(response) != 200; ++i) {
    absl::SleepFor(absl::Milliseconds(50));
    response = Exchange(port, Get("/metrics"));
  }
  const std::string metrics = BodyOf(response);
  EXPECT_THAT(metrics, HasSubstr("route=\"-\",code=\"503\""));
  EXPECT_THAT(metrics, HasSubstr("reason=\"queue_full\""));
}

TEST_F(HttpProbeTest, FormEncodedJsonLinesUpToTheLimitAreImportedOneByteMoreIs413) {
  const int port = server_->server().http_port();
  std::string lines =
      R"({"city": {"id": "probe-town", "name": "Probe Town", "country": "IT", "region": "REGION_EUROPE_NORTH_AMERICA"}})"
      "\n";
  int cases = 0;
  std::string description;
  for (int i = 0; i < 1500; ++i) description += "radio lessons for pupils at home ";
  description.resize(15000);
  while (lines.size() < kMaxRequestBytes - 20000) {
    absl::StrAppend(&lines, R"({"case": {"id": "probe-town-)", cases++,
                    R"(", "cityId": "probe-town", "kind": "CASE_KIND_SOLUTION", "title": "Radio", "description": ")",
                    description, R"(", "themes": ["THEME_LEARNING_TECHNOLOGIES"]}})", "\n");
  }
  lines.resize(kMaxRequestBytes, '\n');  // blank lines are skipped
  const std::string form = "Content-Type: application/x-www-form-urlencoded\r\n";
  const std::string write = Bearer(testing::kWriteToken);
  const std::string head = absl::StrCat("POST /v1/import HTTP/1.1\r\nHost: x\r\n", write, form);
  // Refused from its headers, before a byte of the body is read.
  ExpectJsonError(Exchange(port, absl::StrCat(head, "Content-Length: ", lines.size() + 1, "\r\n\r\n")),
                  413);
  // Importing ~270 cases of 15 KB may take a while on a loaded machine.
  const std::string imported = Exchange(
      port, absl::StrCat(head, "Content-Length: ", lines.size(), "\r\n\r\n", lines), "127.0.0.1",
      /*guard_seconds=*/120);
  ASSERT_EQ(StatusOf(imported), 200) << imported.substr(0, 500);
  v1::ImportSummary summary;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(BodyOf(imported), &summary).ok());
  EXPECT_EQ(summary.cities_written(), 1);
  EXPECT_EQ(summary.cases_written(), cases);
  EXPECT_EQ(summary.errors_size(), 0) << summary.errors(0).message();
  // Chunked, one byte over: 413 as well.
  Conn c(port);
  ASSERT_TRUE(c.Send(absl::StrCat(head, "Transfer-Encoding: chunked\r\n\r\n")));
  const std::string body = lines + "\n";
  for (size_t at = 0; at < body.size() && !c.Readable(); at += 0x10000) {
    const std::string part = body.substr(at, 0x10000);
    if (!c.Send(absl::StrCat(absl::Hex(part.size()), "\r\n", part, "\r\n"))) break;
  }
  c.Send("0\r\n\r\n");
  ExpectJsonError(c.ReadAll(), 413);
}

// Issue 12: a chunked body is relayed by the head gate, which re-frames it:
// a well-formed one is answered exactly as the same body with
// Content-Length; a malformed one gets the JSON error (never the library's
// HTML page), counted, and changes nothing.
TEST_F(HttpProbeTest, ChunkedBodiesAreServedAsTheSameBodyAndMalformedOnesGetJson) {
  HttpLimits limits;
  auto gateway = Gateway(limits);
  const int port = gateway->port();
  const std::string body = R"({"text": "radio lessons for pupils at home", "k": 3})";
  const std::string plain = Exchange(port, Post("/v1/match", body));
  ASSERT_EQ(StatusOf(plain), 200) << plain.substr(0, 300);
  const std::string head = absl::StrCat("POST /v1/match HTTP/1.1\r\nHost: x\r\n",
                                        Bearer(testing::kReadToken),
                                        "Connection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n");
  // In odd pieces, with an extension, a leading zero, bare LF and a trailer.
  std::string coded;
  for (size_t at = 0; at < body.size(); at += 7) {
    const std::string part = body.substr(at, 7);
    absl::StrAppend(&coded, "0", absl::Hex(part.size()), ";piece=", at, "\r\n", part, "\n");
  }
  absl::StrAppend(&coded, "0\r\nX-Checksum: none\r\n\r\n");
  std::string chunked;
  {
    Conn c(port);
    ASSERT_TRUE(c.Send(head));
    for (char ch : coded) ASSERT_TRUE(c.Send(std::string(1, ch)));  // a byte at a time
    chunked = c.ReadAll();  // the relay ends the connection after the answer
  }
  ASSERT_EQ(StatusOf(chunked), 200) << chunked.substr(0, 300);
  EXPECT_EQ(BodyOf(chunked), BodyOf(plain));
  EXPECT_THAT(chunked, HasSubstr("Connection: close"));

  const std::string write = absl::StrCat("POST /v1/cities HTTP/1.1\r\nHost: x\r\n",
                                         Bearer(testing::kWriteToken),
                                         "Transfer-Encoding: chunked\r\n\r\n");
  const std::string city =
      R"({"id": "chunk-town", "name": "Chunk Town", "country": "IT", "region": "REGION_EUROPE_NORTH_AMERICA"})";
  const std::string huge = absl::StrCat("1", std::string(20, '0'));
  for (const std::string& bad :
       {absl::StrCat("zz\r\n", city, "\r\n0\r\n\r\n"),                            // not hex
        absl::StrCat(absl::Hex(city.size() - 5), "\r\n", city, "\r\n0\r\n\r\n"),  // data too long
        absl::StrCat(huge, "\r\n", city)}) {                                      // beyond 64 bits
    const std::string answer = Exchange(port, write + bad);
    ExpectJsonError(answer, absl::StartsWith(bad, huge) ? 413 : 400);
    EXPECT_THAT(answer, HasSubstr("chunked body"));
    EXPECT_THAT(answer, ::testing::Not(HasSubstr("<html>")));
  }
  ExpectJsonError(Exchange(port, Get("/v1/cities/chunk-town")), 404);  // nothing was written
  // A well-formed chunked write goes through.
  const std::string good = Exchange(
      port, absl::StrCat(write, absl::Hex(city.size()), "\r\n", city, "\r\n0\r\n\r\n"));
  EXPECT_EQ(StatusOf(good), 200) << good.substr(0, 300);
  EXPECT_EQ(StatusOf(Exchange(port, Get("/v1/cities/chunk-town"))), 200);
  const std::string deleted = Exchange(
      port, absl::StrCat("DELETE /v1/cities/chunk-town HTTP/1.1\r\nHost: x\r\n",
                         Bearer(testing::kWriteToken), "\r\n"));
  EXPECT_EQ(StatusOf(deleted), 200) << deleted.substr(0, 300);

  const std::string metrics = Metrics(port);
  EXPECT_THAT(metrics, HasSubstr("reason=\"bad_chunk\"} 2"));
  EXPECT_THAT(metrics, HasSubstr("reason=\"body_too_large\"} 1"));
}

TEST_F(HttpProbeTest, ConnectionsBeyondThePerClientLimitAreClosedAtAccept) {
  HttpLimits limits;
  limits.max_connections_per_client = 4;
  auto gateway = Gateway(limits);
  const int port = gateway->port();
  std::vector<std::unique_ptr<Conn>> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(std::make_unique<Conn>(port, "127.0.3.2"));
    ASSERT_TRUE(held.back()->Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_EQ(StatusOf(held.back()->ReadResponse()), 200);  // kept alive
  }
  Conn extra(port, "127.0.3.2");
  extra.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(extra.ReadAll(), "");  // closed without an answer
  EXPECT_EQ(StatusOf(Exchange(port, Get("/healthz"), "127.0.3.3")), 200);  // another client
  EXPECT_THAT(Metrics(port), HasSubstr("peermatch_http_rejections_total{reason=\"per_client_limit\"} 1"));
}

TEST_F(HttpProbeTest, ConnectionsBeyondTheTotalLimitAreClosedAtAcceptAndCounted) {
  HttpLimits limits;
  limits.max_connections = 3;
  auto gateway = Gateway(limits);
  const int port = gateway->port();
  std::vector<std::unique_ptr<Conn>> held;
  for (int i = 0; i < 3; ++i) {  // three clients, one connection each
    held.push_back(std::make_unique<Conn>(port, absl::StrCat("127.0.5.", i + 1)));
    ASSERT_TRUE(held.back()->Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_EQ(StatusOf(held.back()->ReadResponse()), 200);  // kept alive
  }
  Conn extra(port, "127.0.5.9");
  extra.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(extra.ReadAll(), "");  // closed without an answer
  held.pop_back();                 // one closes: room for one again
  // The server sees the close asynchronously: until it does, a new
  // connection is refused (and counted) too.
  std::string metrics;
  int refused = 1;
  for (int attempt = 0; attempt < 200 && metrics.empty(); ++attempt) {
    metrics = Metrics(port);
    if (metrics.empty()) {
      ++refused;
      absl::SleepFor(absl::Milliseconds(10));
    }
  }
  EXPECT_THAT(metrics, HasSubstr(absl::StrCat(
                           "peermatch_http_rejections_total{reason=\"connection_limit\"} ", refused)));
  EXPECT_THAT(metrics, Not(HasSubstr("reason=\"per_client_limit\"")));
}

TEST_F(HttpProbeTest, AccessLogNamesTheClientAndTheRoute) {
  char* text = nullptr;
  size_t size = 0;
  FILE* log = open_memstream(&text, &size);
  {
    auto gateway = Gateway(HttpLimits(), log);
    EXPECT_EQ(StatusOf(Exchange(gateway->port(), Get("/v1/cities/fermo"), "127.0.4.7")), 200);
    EXPECT_EQ(StatusOf(Exchange(gateway->port(), Get("/v1/x\xff"), "127.0.4.7")), 404);
  }
  std::fclose(log);
  const std::string lines(text, size);
  std::free(text);
  EXPECT_THAT(lines, HasSubstr("\"http\":\"GET /v1/cities/fermo\",\"route\":\"GET /v1/cities/{id}\","
                               "\"code\":200"));
  EXPECT_THAT(lines, HasSubstr("\"peer\":\"127.0.4.7:"));
  EXPECT_THAT(lines, HasSubstr("\"reason\":\"no_route\""));
  for (absl::string_view line : absl::StrSplit(lines, '\n', absl::SkipEmpty())) {
    google::protobuf::Struct parsed;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(std::string(line), &parsed).ok()) << line;
  }
}

// The gRPC call log names the HTTP client of the calls the gateway makes,
// and the metrics token is checked when the server is told to.
TEST(HttpThroughTheServer, CallLogNamesTheHttpClientAndMetricsCanNeedAToken) {
  testing::TempDir dir;
  testing::TestEngine opened(dir.Sub("db"));
  char* text = nullptr;
  size_t size = 0;
  FILE* log = open_memstream(&text, &size);
  ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.http_listen = "127.0.0.1:0";
  options.call_log = log;
  options.auth.AddToken(Access::kRead, testing::kReadToken);
  options.metrics_token_required = true;
  auto server = Server::Start(opened.engine.get(), std::move(options));
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->http_port();
  EXPECT_EQ(StatusOf(Exchange(port, Get("/v1/stats"), "127.0.5.9")), 200);
  ExpectJsonError(Exchange(port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"), 401);
  EXPECT_EQ(StatusOf(Exchange(port, Get("/metrics"))), 200);
  (*server)->Shutdown(std::chrono::milliseconds(100));
  server->reset();
  std::fclose(log);
  const std::string lines(text, size);
  std::free(text);
  EXPECT_THAT(lines, HasSubstr("\"method\":\"/peermatch.v1.Peermatch/GetStats\",\"code\":\"OK\""));
  EXPECT_THAT(lines, HasSubstr("\"peer\":\"http:127.0.5.9:"));
  EXPECT_THAT(lines, ::testing::Not(HasSubstr("\"peer\":\"unknown\"")));
}

}  // namespace
}  // namespace peermatch
