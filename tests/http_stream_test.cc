// Streamed answers of the HTTP gateway (issue 15): POST /v1/pairs?stream=1
// and POST /v1/rounds?stream=1 send each message of the gRPC stream as an
// NDJSON line as soon as it is there, over a real loopback socket. A
// pairing is held (the server's after_progress seam) after its
// second progress message: the client reads both lines while the pairing
// cannot have ended, which an answer gathered at the end could never give.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/testing/test_server.h"

namespace peermatch {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using testing::TestServer;
using testing::TestServerOptions;
using Json = google::protobuf::Struct;

// A blocking loopback connection; reads block at most 10 s ("did it answer
// at all"), never a measure of speed.
class Conn {
 public:
  explicit Conn(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&dst), sizeof(dst)) == 0;
    timeval guard{10, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &guard, sizeof(guard));
  }
  ~Conn() { close(fd_); }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  bool Send(const std::string& data) {
    return connected_ && send(fd_, data.data(), data.size(), MSG_NOSIGNAL) ==
                             static_cast<ssize_t>(data.size());
  }
  // Reads until `received` holds `text` at or after `from` (true) or the
  // server closes (false).
  bool ReadUntil(const std::string& text, size_t from = 0) {
    while (received.find(text, from) == std::string::npos) {
      if (!ReadSome()) return false;
    }
    return true;
  }
  void ReadAll() {
    while (ReadSome()) {
    }
  }
  std::string received;

 private:
  bool ReadSome() {
    char buf[65536];
    const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) return false;
    received.append(buf, n);
    return true;
  }
  int fd_ = -1;
  bool connected_ = false;
};

std::string Post(const std::string& path, const std::string& body, const char* token) {
  return absl::StrCat("POST ", path, " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ", token,
                      "\r\nConnection: close\r\nContent-Length: ", body.size(), "\r\n\r\n", body);
}

int StatusOf(const std::string& response) {
  int status = 0;
  if (absl::StartsWith(response, "HTTP/1.1 ")) (void)absl::SimpleAtoi(response.substr(9, 3), &status);
  return status;
}
std::string Head(const std::string& response) { return response.substr(0, response.find("\r\n\r\n")); }
std::string Body(const std::string& response) {
  const size_t end = response.find("\r\n\r\n");
  return end == std::string::npos ? "" : response.substr(end + 4);
}

// The body of a chunked response, decoded; "" when it is not well formed
// (or did not end with the last chunk).
std::string Dechunk(const std::string& body) {
  std::string out;
  size_t at = 0;
  for (;;) {
    const size_t eol = body.find("\r\n", at);
    if (eol == std::string::npos) return "";
    size_t size = 0;
    if (!absl::SimpleHexAtoi(body.substr(at, eol - at), &size)) return "";
    if (size == 0) return out;
    if (body.size() < eol + 2 + size + 2) return "";
    out += body.substr(eol + 2, size);
    at = eol + 2 + size + 2;
  }
}

std::vector<Json> Lines(const std::string& ndjson) {
  std::vector<Json> out;
  for (absl::string_view line : absl::StrSplit(ndjson, '\n', absl::SkipEmpty())) {
    Json j;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(std::string(line), &j).ok()) << line;
    out.push_back(j);
  }
  return out;
}

Json Parse(const std::string& json) {
  Json j;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &j).ok()) << json;
  return j;
}

bool Has(const Json& j, const std::string& key) { return j.fields().count(key) > 0; }

class HttpStreamTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    TestServerOptions options;
    options.tokens = true;
    options.http = true;
    options.demo_data = true;
    // Holds a pairing after its second progress message (so that a stream
    // that sent only its first line at once, and the rest at the end, fails).
    options.pairing_after_progress = [](const Cancellation&) {
      absl::Notification* hold = hold_.load();
      if (hold != nullptr && ++progress_seen_ == 2) {
        hold->WaitForNotificationWithTimeout(absl::Seconds(20));
      }
    };
    server_ = new TestServer(options);
  }
  static void TearDownTestSuite() { delete server_; }

  static int port() { return server_->server().http_port(); }

  // The whole response to one request.
  static std::string Call(const std::string& path, const std::string& body,
                          const char* token = testing::kReadToken) {
    Conn c(port());
    EXPECT_TRUE(c.Send(Post(path, body, token)));
    c.ReadAll();
    return c.received;
  }

  static std::string Get(const std::string& path) {
    Conn c(port());
    EXPECT_TRUE(c.Send(absl::StrCat("GET ", path, " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ",
                                    testing::kReadToken, "\r\nConnection: close\r\n\r\n")));
    c.ReadAll();
    return c.received;
  }

  // Streams `path` with pairings held after their first progress message:
  // the head and the first line must arrive while held. Returns the lines.
  static std::vector<Json> StreamHeld(const std::string& path, const std::string& body,
                                      const char* token, std::string* head) {
    absl::Notification hold;
    progress_seen_ = 0;
    hold_.store(&hold);
    Conn c(port());
    EXPECT_TRUE(c.Send(Post(path, body, token)));
    // The head, then the first two lines, both progress (the second
    // written while the first was already out).
    const bool two = c.ReadUntil("\r\n\r\n") && c.ReadUntil("}\n") &&
                     c.ReadUntil("}\n", c.received.find("}\n") + 2);
    EXPECT_TRUE(two) << c.received;
    const std::string so_far = Body(c.received);
    EXPECT_EQ(Lines(Dechunk(so_far + "0\r\n\r\n")).size(), 2u) << so_far;
    EXPECT_THAT(so_far, HasSubstr("\"progress\""));
    EXPECT_THAT(so_far, Not(HasSubstr("\"summary\"")));
    EXPECT_THAT(so_far, Not(HasSubstr("\"round\"")));
    hold.Notify();
    c.ReadAll();
    hold_.store(nullptr);
    *head = Head(c.received);
    const std::string decoded = Dechunk(Body(c.received));
    EXPECT_FALSE(decoded.empty()) << c.received.substr(0, 300);
    return Lines(decoded);
  }

  static TestServer* server_;
  static std::atomic<absl::Notification*> hold_;
  static std::atomic<int> progress_seen_;
};
std::atomic<int> HttpStreamTest::progress_seen_{0};
TestServer* HttpStreamTest::server_ = nullptr;
std::atomic<absl::Notification*> HttpStreamTest::hold_{nullptr};

TEST_F(HttpStreamTest, PairsStreamSendsProgressFirstAndTheSamePairsAsTheGatheredAnswer) {
  std::string head;
  const std::vector<Json> lines =
      StreamHeld("/v1/pairs?stream=1", R"({"k": 2})", testing::kReadToken, &head);
  EXPECT_EQ(StatusOf(head), 200) << head;
  EXPECT_THAT(head, HasSubstr("Content-Type: application/x-ndjson"));
  EXPECT_THAT(head, HasSubstr("Transfer-Encoding: chunked"));
  ASSERT_GE(lines.size(), 3u);
  EXPECT_TRUE(Has(lines.front(), "progress"));
  EXPECT_EQ(lines.front().fields().at("progress").struct_value().fields().at("stage").string_value(),
            "scoring");
  ASSERT_TRUE(Has(lines.back(), "summary"));
  std::vector<std::string> streamed;
  for (const Json& j : lines) {
    if (!Has(j, "pair")) continue;
    const auto& p = j.fields().at("pair").struct_value().fields();
    streamed.push_back(absl::StrCat(p.at("askingCityId").string_value(), ">",
                                    p.at("peerCityId").string_value()));
  }
  EXPECT_EQ(static_cast<double>(streamed.size()),
            lines.back().fields().at("summary").struct_value().fields().at("pairs").number_value());
  // The gathered answer (no ?stream) has the same pairs, in the same order.
  const std::string gathered = Call("/v1/pairs", R"({"k": 2})");
  EXPECT_EQ(StatusOf(gathered), 200);
  EXPECT_THAT(Head(gathered), HasSubstr("Content-Type: application/json"));
  std::vector<std::string> expected;
  const Json answer = Parse(Body(gathered));
  for (const auto& v : answer.fields().at("pairs").list_value().values()) {
    const auto& p = v.struct_value().fields();
    expected.push_back(absl::StrCat(p.at("askingCityId").string_value(), ">",
                                    p.at("peerCityId").string_value()));
  }
  EXPECT_GT(expected.size(), 10u);
  EXPECT_EQ(streamed, expected);
}

TEST_F(HttpStreamTest, RoundStreamSendsProgressThenTheStoredRound) {
  std::string head;
  const std::vector<Json> lines = StreamHeld(
      "/v1/rounds?stream=1", R"({"name": "Streamed round", "options": {"k": 2}})",
      testing::kWriteToken, &head);
  EXPECT_EQ(StatusOf(head), 200) << head;
  EXPECT_THAT(head, HasSubstr("Content-Type: application/x-ndjson"));
  ASSERT_GE(lines.size(), 2u);
  for (size_t i = 0; i + 1 < lines.size(); ++i) EXPECT_TRUE(Has(lines[i], "progress"));
  ASSERT_TRUE(Has(lines.back(), "round"));
  const auto& round = lines.back().fields().at("round").struct_value().fields();
  EXPECT_EQ(round.at("id").string_value(), "streamed-round");
  EXPECT_GT(round.at("pairs").list_value().values_size(), 10);
  // It is stored: GET answers the same round.
  const std::string stored = Get("/v1/rounds/streamed-round");
  ASSERT_EQ(StatusOf(stored), 200) << stored.substr(0, 300);
  EXPECT_EQ(Parse(Body(stored)).fields().at("pairs").list_value().values_size(),
            round.at("pairs").list_value().values_size());
}

TEST_F(HttpStreamTest, ErrorsBeforeTheFirstMessageAreOrdinaryJsonErrors) {
  struct Case {
    std::string path, body;
    const char* token;
    int status;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"/v1/pairs?stream=1", R"({"k": 99})", testing::kReadToken, 400, "k: 99"},
      {"/v1/pairs?stream=maybe", R"({})", testing::kReadToken, 400, "stream: \\\"maybe\\\""},
      {"/v1/rounds?stream=1", R"({"name": "x", "options": {}})", testing::kReadToken, 403, ""},
      {"/v1/rounds?stream=1", R"({"name": ""})", testing::kWriteToken, 400, "name"},
      {"/v1/rounds?stream=1", R"({"name": "x", "avoidRoundIds": ["nope"]})", testing::kWriteToken,
       404, "avoid_round_ids[0]"},
  };
  for (const Case& c : cases) {
    const std::string res = Call(c.path, c.body, c.token);
    EXPECT_EQ(StatusOf(res), c.status) << c.path << " " << c.body << "\n" << res.substr(0, 400);
    EXPECT_THAT(Head(res), HasSubstr("Content-Type: application/json")) << c.path;
    const Json error = Parse(Body(res));
    ASSERT_TRUE(Has(error, "error")) << res;
    EXPECT_EQ(error.fields().at("error").struct_value().fields().at("code").number_value(),
              c.status);
    EXPECT_THAT(Body(res), HasSubstr(c.message));
  }
  // The refused round creations stored nothing.
  EXPECT_EQ(StatusOf(Get("/v1/rounds/x")), 404);
}

}  // namespace
}  // namespace peermatch
