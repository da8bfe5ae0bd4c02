// The HTTP head gate's verdicts on request heads, without a socket: what
// passes (as libmicrohttpd 0.9.75 takes it), what waits for more bytes, and
// what is refused with which JSON error. The gate on a real socket is
// tested in tests/http_probe_test.cc.
#include "service/http_head_gate.h"

#include <string>

#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace peermatch {
namespace {

using Kind = HeadVerdict::Kind;

HeadGateLimits Small() {
  HeadGateLimits limits;
  limits.max_target_bytes = 100;
  limits.max_header_bytes = 200;
  return limits;
}

Kind KindOf(const std::string& bytes) { return CheckRequestHead(bytes, Small()).kind; }

// Refused with `status`, and the body is the gateway's JSON error.
void ExpectRefused(const std::string& bytes, int status, const std::string& reason) {
  const HeadVerdict v = CheckRequestHead(bytes, Small());
  ASSERT_EQ(v.kind, Kind::kRefuse) << bytes.substr(0, 80);
  EXPECT_EQ(v.refusal.status, status) << bytes.substr(0, 80);
  EXPECT_EQ(v.refusal.reason, reason);
  EXPECT_EQ(v.refusal.content_type, "application/json");
  google::protobuf::Struct body;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(v.refusal.body, &body).ok())
      << v.refusal.body;
  const auto& error = body.fields().at("error").struct_value().fields();
  EXPECT_EQ(error.at("code").number_value(), status);
  EXPECT_FALSE(error.at("status").string_value().empty());
  EXPECT_FALSE(error.at("message").string_value().empty());
}

TEST(HeadGate, WellFormedHeadsPassAsLibmicrohttpdTakesThem) {
  EXPECT_EQ(KindOf("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"), Kind::kPass);
  EXPECT_EQ(KindOf("POST /v1/match HTTP/1.0\r\nContent-Length: 2\r\n\r\n{}"), Kind::kPass);
  EXPECT_EQ(KindOf("GET /healthz HTTP/1.2\r\n\r\n"), Kind::kPass);          // read as 1.1
  EXPECT_EQ(KindOf("\r\n\nGET /healthz HTTP/1.1\r\n\r\n"), Kind::kPass);   // empty lines first
  EXPECT_EQ(KindOf("GET /healthz HTTP/1.1\nHost: x\n\n"), Kind::kPass);    // bare LF
  EXPECT_EQ(KindOf("GET  /healthz HTTP/1.1\r\n\r\n"), Kind::kPass);        // two spaces
  EXPECT_EQ(KindOf("GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n"), Kind::kPass);
  EXPECT_EQ(KindOf("GET / HTTP/1.1\r\nContent-Length:\t 12\r\n\r\n"), Kind::kPass);
}

TEST(HeadGate, WaitsForTheEndOfTheHead) {
  EXPECT_EQ(KindOf(""), Kind::kNeedMore);
  EXPECT_EQ(KindOf("GET /heal"), Kind::kNeedMore);
  EXPECT_EQ(KindOf("GET /healthz HTTP/1.1\r\nHost: x\r\n"), Kind::kNeedMore);
  EXPECT_EQ(KindOf("GET /healthz HTTP/1.1\r\nHost: x\r\n\r"), Kind::kNeedMore);
  // Just within the limits: still waiting.
  EXPECT_EQ(KindOf("GET /" + std::string(300, 'a')), Kind::kNeedMore);
}

TEST(HeadGate, RefusesTooLongARequestLineWith414AndTooLongAHeadWith431) {
  const size_t line_limit = 100 + 256;
  ExpectRefused("GET /" + std::string(line_limit, 'a'), 414, "target_too_long");
  ExpectRefused("GET /" + std::string(line_limit, 'a') + " HTTP/1.1\r\n\r\n", 414,
                "target_too_long");
  const size_t head_limit = HeadBytesToDecide(Small());
  EXPECT_EQ(head_limit, 100u + 256 + 200 + 1024);
  ExpectRefused("GET / HTTP/1.1\r\nX-A: " + std::string(head_limit, 'b'), 431,
                "headers_too_large");
  std::string many = "GET / HTTP/1.1\r\n";
  while (many.size() <= head_limit) many += "X-B: c\r\n";
  ExpectRefused(many, 431, "headers_too_large");
  ExpectRefused(many + "\r\n", 431, "headers_too_large");
}

TEST(HeadGate, RefusesMalformedLinesAndLengthsWithTheirStatus) {
  ExpectRefused("GET /healthz\r\n\r\n", 400, "bad_request_line");
  ExpectRefused("GET\r\n\r\n", 400, "bad_request_line");
  ExpectRefused(" /healthz HTTP/1.1\r\n\r\n", 400, "bad_request_line");
  ExpectRefused("\x01\x02 garbage\r\n\r\n", 400, "bad_request_line");
  ExpectRefused("GET /healthz HTTP/1.1 \r\n\r\n", 400, "bad_request_line");
  ExpectRefused("GET /healthz http/1.1\r\n\r\n", 400, "bad_request_line");
  ExpectRefused("GET /healthz HTTP/1.10\r\n\r\n", 400, "bad_request_line");
  ExpectRefused("GET /healthz HTTP/2.0\r\n\r\n", 505, "http_version");
  ExpectRefused("GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400, "bad_header");
  ExpectRefused("POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400, "bad_content_length");
  ExpectRefused("POST / HTTP/1.1\r\ncontent-length: -1\r\n\r\n", 400, "bad_content_length");
  ExpectRefused("POST / HTTP/1.1\r\nContent-Length: 5 \r\n\r\n", 400, "bad_content_length");
  ExpectRefused("POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", 400, "bad_content_length");
  ExpectRefused("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 413,
                "body_too_large");
  // A refusal is found before the head ends.
  ExpectRefused("GET / HTTP/1.1\r\nNoColon\r\n", 400, "bad_header");
}

}  // namespace
}  // namespace peermatch
