#include "service/http_chunked.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace peermatch {

ChunkedReframer::State ChunkedReframer::Fail(int status, const std::string& message,
                                             const char* reason) {
  state_ = State::kError;
  error_ = ErrorResponse(status, absl::StrCat("chunked body: ", message), reason);
  return state_;
}

ChunkedReframer::State ChunkedReframer::SizeLine() {
  absl::string_view line = line_;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  const size_t ext = line.find(';');
  absl::string_view size = absl::StripAsciiWhitespace(line.substr(0, ext));
  if (size.empty() || !std::all_of(size.begin(), size.end(), absl::ascii_isxdigit)) {
    return Fail(400, "a chunk size is not hexadecimal digits (each chunk is \"SIZE\\r\\nDATA\\r\\n\")",
                "bad_chunk");
  }
  while (size.size() > 1 && size[0] == '0') size.remove_prefix(1);
  if (size.size() > 16) {
    return Fail(413, "a chunk size is beyond 64 bits; the body limit is far below",
                "body_too_large");
  }
  uint64_t n = 0;
  for (char c : size) n = n * 16 + (absl::ascii_isdigit(c) ? c - '0' : (c | 0x20) - 'a' + 10);
  remaining_ = n;
  line_.clear();
  phase_ = n == 0 ? Phase::kTrailer : Phase::kData;
  return state_;
}

ChunkedReframer::State ChunkedReframer::Feed(absl::string_view in, std::string* out,
                                             size_t* consumed) {
  size_t pos = 0;
  while (state_ == State::kMore && pos < in.size()) {
    switch (phase_) {
      case Phase::kSize:
      case Phase::kTrailer: {
        const size_t eol = in.find('\n', pos);
        const size_t end = eol == absl::string_view::npos ? in.size() : eol;
        line_.append(in.data() + pos, end - pos);
        pos = eol == absl::string_view::npos ? in.size() : eol + 1;
        if (phase_ == Phase::kSize) {
          if (line_.size() > kMaxChunkLineBytes) {
            Fail(400, absl::StrCat("a chunk size line has over ", kMaxChunkLineBytes, " bytes"),
                 "bad_chunk");
          } else if (eol != absl::string_view::npos) {
            SizeLine();
          }
          break;
        }
        if (line_.size() + trailer_bytes_ > kMaxTrailerBytes) {
          Fail(400, absl::StrCat("the trailers after the last chunk have over ", kMaxTrailerBytes,
                                 " bytes"),
               "bad_chunk");
          break;
        }
        if (eol == absl::string_view::npos) break;
        if (line_.empty() || line_ == "\r") {
          out->append("0\r\n\r\n");
          state_ = State::kDone;
        } else {
          trailer_bytes_ += line_.size();
          line_.clear();
        }
        break;
      }
      case Phase::kData: {
        const size_t n = static_cast<size_t>(
            std::min<uint64_t>(remaining_, static_cast<uint64_t>(in.size() - pos)));
        absl::StrAppend(out, absl::Hex(n), "\r\n");
        out->append(in.data() + pos, n);
        out->append("\r\n");
        pos += n;
        remaining_ -= n;
        if (remaining_ == 0) phase_ = Phase::kDataEnd;
        break;
      }
      case Phase::kDataEnd: {
        const char c = in[pos++];
        if (c == '\r' && !saw_cr_) {
          saw_cr_ = true;
        } else if (c == '\n') {
          saw_cr_ = false;
          phase_ = Phase::kSize;
        } else {
          Fail(400, "chunk data is longer than its size says (no line end after it)", "bad_chunk");
        }
        break;
      }
    }
  }
  *consumed = pos;
  return state_;
}

}  // namespace peermatch
