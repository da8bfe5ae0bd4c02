// Access control: bearer tokens in `authorization: Bearer <token>` metadata.
//
// A token is either read-only (may match, list and read) or read-write. With
// no tokens configured every call is allowed; the server then refuses to
// listen anywhere but on loopback (see peermatchd).
//
// Tokens file format: one token a line, `read <token>` or `write <token>`;
// blank lines and lines starting with '#' are ignored.
//
// Every token has at least kMinTokenChars characters (make one with
// `openssl rand -hex 16`), and a token is either read or write, never both:
// wherever tokens come from (a file, flags, the environment), a shorter
// token or one given for both is refused when it is added, so the server
// does not start with it.
//
// Thread-safety: immutable after construction; Check() is thread-safe.
#ifndef PEERMATCH_SERVICE_AUTH_H_
#define PEERMATCH_SERVICE_AUTH_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace peermatch {

enum class Access { kRead, kWrite };

inline constexpr size_t kMinTokenChars = 16;

class Auth {
 public:
  Auth() = default;  // no tokens: open
  // INVALID_ARGUMENT naming the line for a malformed file or a token
  // AddToken refuses; NOT_FOUND if the file cannot be read.
  static absl::StatusOr<Auth> FromFile(const std::string& path);
  // Adds a token. INVALID_ARGUMENT, adding nothing, when it has fewer than
  // kMinTokenChars characters or is already a token of the other access
  // ("... cannot be both a read and a write token"); adding a token again
  // with the same access changes nothing. `source` names where it came
  // from in the message ("--read-token").
  absl::Status AddToken(Access access, std::string token, absl::string_view source = "token");

  bool open() const { return tokens_.empty(); }
  size_t size() const { return tokens_.size(); }
  // `authorization` is the metadata value ("" when absent). UNAUTHENTICATED
  // when the token is missing or unknown; PERMISSION_DENIED when a read-only
  // token asks to write.
  absl::Status Check(absl::string_view authorization, Access needed) const;

 private:
  struct Token {
    Access access;
    std::string value;
  };
  std::vector<Token> tokens_;
};

}  // namespace peermatch

#endif  // PEERMATCH_SERVICE_AUTH_H_
