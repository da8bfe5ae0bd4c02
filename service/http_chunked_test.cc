#include "service/http_chunked.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/http_chunk_relay.h"

namespace peermatch {
namespace {

using ::testing::HasSubstr;
using State = ChunkedReframer::State;

// Decodes canonical chunked coding (what the reframer writes); "" on any
// deviation from it.
std::string DecodeCanonical(const std::string& coded) {
  std::string body;
  size_t pos = 0;
  for (;;) {
    const size_t eol = coded.find("\r\n", pos);
    if (eol == std::string::npos) return "";
    const size_t n = std::stoul(coded.substr(pos, eol - pos), nullptr, 16);
    pos = eol + 2;
    if (n == 0) return coded.substr(pos) == "\r\n" ? body : "";
    if (coded.compare(pos + n, 2, "\r\n") != 0) return "";
    body += coded.substr(pos, n);
    pos += n + 2;
  }
}

struct Fed {
  State state;
  std::string out;
  size_t consumed = 0;  // of the whole input
  HttpResponse error;
};

// Feeds `in` in pieces of `piece` bytes (all at once for 0).
Fed FeedInPieces(const std::string& in, size_t piece) {
  ChunkedReframer r;
  Fed fed;
  fed.state = State::kMore;
  size_t pos = 0;
  while (pos < in.size() && fed.state == State::kMore) {
    const size_t n = piece == 0 ? in.size() : std::min(piece, in.size() - pos);
    size_t used = 0;
    fed.state = r.Feed(absl::string_view(in).substr(pos, n), &fed.out, &used);
    fed.consumed += used;
    pos += n;
  }
  fed.error = r.error();
  return fed;
}

TEST(ChunkedReframer, WellFormedBodiesComeOutCanonicalWhateverThePieces) {
  const std::string trailing = "GET /next HTTP/1.1\r\n\r\n";
  const struct {
    std::string in;
    std::string body;
  } cases[] = {
      {"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world"},
      {"0005;name=value\r\nhello\r\n0\r\n\r\n", "hello"},    // leading zeros, an extension
      {"a\nabcdefghij\n0\nX-Trailer: 1\n\n", "abcdefghij"},  // bare LF, a trailer
      {"1A \r\n" + std::string(26, 'z') + "\r\n0\r\nA: b\r\nC: d\r\n\r\n", std::string(26, 'z')},
      {"0\r\n\r\n", ""},
  };
  for (const auto& c : cases) {
    for (size_t piece : {0, 1, 2, 3, 7}) {
      const Fed fed = FeedInPieces(c.in + trailing, piece);
      ASSERT_EQ(fed.state, State::kDone) << c.in << " in pieces of " << piece;
      EXPECT_EQ(DecodeCanonical(fed.out), c.body) << c.in << " in pieces of " << piece;
      EXPECT_EQ(fed.consumed, c.in.size()) << "bytes after the body are not taken";
    }
  }
}

TEST(ChunkedReframer, AnIncompleteBodyWantsMore) {
  const Fed fed = FeedInPieces("5\r\nhel", 0);
  EXPECT_EQ(fed.state, State::kMore);
  EXPECT_EQ(DecodeCanonical(fed.out + "0\r\n\r\n"), "hel") << "data is passed on as it comes";
}

TEST(ChunkedReframer, MalformedBodiesAreRefusedWithTheJsonError) {
  const struct {
    std::string in;
    int status;
    std::string says;
  } cases[] = {
      {"zz\r\n{}\r\n0\r\n\r\n", 400, "not hexadecimal"},
      {"\r\n", 400, "not hexadecimal"},
      {";ext\r\n", 400, "not hexadecimal"},
      {"5 5\r\nhello\r\n", 400, "not hexadecimal"},
      {"3\r\nhello\r\n0\r\n\r\n", 400, "longer than its size"},
      {"10000000000000000\r\n", 413, "beyond 64 bits"},
      {"000000000000000000000001\r\nx\r\n0\r\n\r\n", 0, ""},  // leading zeros are not digits of size
      {std::string(5000, '1'), 400, "size line has over"},
      {"0\r\n" + std::string(20000, 't') + "\r\n", 400, "trailers"},
  };
  for (const auto& c : cases) {
    for (size_t piece : {0, 1, 5}) {
      const Fed fed = FeedInPieces(c.in, piece);
      if (c.status == 0) {
        EXPECT_EQ(fed.state, State::kDone) << c.in;
        continue;
      }
      ASSERT_EQ(fed.state, State::kError) << c.in.substr(0, 40) << " in pieces of " << piece;
      EXPECT_EQ(fed.error.status, c.status) << c.in.substr(0, 40);
      EXPECT_THAT(fed.error.body, HasSubstr(c.says)) << c.in.substr(0, 40);
      EXPECT_THAT(fed.error.body, HasSubstr("\"error\"")) << "the gateway's JSON error";
    }
  }
}

TEST(RelayHead, AsksForCloseAndDropsConnectionAndContentLength) {
  EXPECT_EQ(RelayHead("POST /v1/match HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n"
                      "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"),
            "POST /v1/match HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            "Connection: close\r\n\r\n");
  // Folded continuation lines go with their header; leading empty lines and
  // bare LF ends are kept as sent.
  EXPECT_EQ(RelayHead("\r\nPOST / HTTP/1.1\nconnection: Upgrade,\n  keep-alive\nX-A: 1\n\tand 2\n\n"),
            "\r\nPOST / HTTP/1.1\nX-A: 1\n\tand 2\nConnection: close\r\n\r\n");
}

}  // namespace
}  // namespace peermatch
