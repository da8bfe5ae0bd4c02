// ChunkedReframer: reads a request body in HTTP/1.1 chunked transfer coding
// (RFC 9112 section 7.1) as it arrives, in pieces of any size, and writes
// it again in canonical chunked coding, so that what it passes on is
// always well formed. The head gate (http_head_gate.h) puts one between a
// client that sends a chunked body and libmicrohttpd, which would refuse a
// malformed one with its own HTML page: the gate answers the JSON error
// instead (400, or 413 for a chunk size beyond 64 bits).
//
// What it takes, as libmicrohttpd 0.9.75 does: chunk sizes of hex digits
// (leading zeros allowed), an optional extension after ';' (dropped),
// whitespace before the line end, CRLF or bare LF line ends, and trailer
// lines after the last chunk (dropped). What it refuses: a size line that
// is not hex digits, a size beyond 64 bits, chunk data not followed by a
// line end, a size line over kMaxChunkLineBytes, trailers over
// kMaxTrailerBytes.
//
// Thread-safety: none (one per connection, used by one thread).
#ifndef PEERMATCH_SERVICE_HTTP_CHUNKED_H_
#define PEERMATCH_SERVICE_HTTP_CHUNKED_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "service/http_router.h"

namespace peermatch {

class ChunkedReframer {
 public:
  static constexpr size_t kMaxChunkLineBytes = 4096;
  static constexpr size_t kMaxTrailerBytes = 16 << 10;

  enum class State {
    kMore,   // everything given was taken; more body is due
    kDone,   // the body ended (its last chunk and trailers are in); bytes
             // after it were not taken (see Feed)
    kError,  // malformed: error() is the answer; nothing more is taken
  };

  // Takes `in`, the next bytes of the body, and appends the canonical
  // coding of what they hold to `*out` (chunk data is passed on as soon as
  // it arrives; the final "0\r\n\r\n" when the body ends). Returns the
  // state after them; *consumed is how many bytes of `in` belong to the
  // body (all of them unless the body ended within `in`).
  State Feed(absl::string_view in, std::string* out, size_t* consumed);
  State state() const { return state_; }
  // kError's answer: a JSON error response, its reason set.
  const HttpResponse& error() const { return error_; }

 private:
  enum class Phase { kSize, kData, kDataEnd, kTrailer };
  State Fail(int status, const std::string& message, const char* reason);
  // Parses the completed size line `line_`; sets remaining_ or fails.
  State SizeLine();

  State state_ = State::kMore;
  Phase phase_ = Phase::kSize;
  std::string line_;         // the line being read (size or trailer)
  uint64_t remaining_ = 0;   // data bytes left in the current chunk
  size_t trailer_bytes_ = 0;
  bool saw_cr_ = false;      // kDataEnd: a CR was read, LF is due
  HttpResponse error_;
};

}  // namespace peermatch

#endif  // PEERMATCH_SERVICE_HTTP_CHUNKED_H_
