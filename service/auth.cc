#include "service/auth.h"

#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace peermatch {
namespace {

// Compares in time that depends only on the lengths, not on where the first
// difference is.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

absl::StatusOr<Auth> Auth::FromFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read the tokens file ", path));
  Auth auth;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    absl::string_view l = absl::StripAsciiWhitespace(line);
    if (l.empty() || l[0] == '#') continue;
    std::vector<std::string> words = absl::StrSplit(l, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (words.size() != 2 || (words[0] != "read" && words[0] != "write")) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ":", number, ": expected `read TOKEN` or `write TOKEN` (tokens of ",
          kMinTokenChars, "+ characters)"));
    }
    absl::Status added = auth.AddToken(words[0] == "write" ? Access::kWrite : Access::kRead,
                                       words[1], absl::StrCat(path, ":", number));
    if (!added.ok()) return added;
  }
  return auth;
}

absl::Status Auth::AddToken(Access access, std::string token, absl::string_view source) {
  if (token.size() < kMinTokenChars) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": a token of ", token.size(), " characters is too easy to guess; tokens have at "
        "least ", kMinTokenChars, " characters (make one with `openssl rand -hex 16`)"));
  }
  for (const Token& t : tokens_) {
    if (t.value != token) continue;
    if (t.access == access) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": this token is already a ", t.access == Access::kWrite ? "write" : "read",
        " token; one token cannot be both a read and a write token (give each its own, e.g. "
        "`openssl rand -hex 16`)"));
  }
  tokens_.push_back({access, std::move(token)});
  return absl::OkStatus();
}

absl::Status Auth::Check(absl::string_view authorization, Access needed) const {
  if (open()) return absl::OkStatus();
  if (!absl::StartsWithIgnoreCase(authorization, "bearer ")) {
    return absl::UnauthenticatedError(
        "this server needs a token: send `authorization: Bearer <token>`");
  }
  const absl::string_view presented = absl::StripAsciiWhitespace(authorization.substr(7));
  const Token* match = nullptr;
  for (const Token& t : tokens_) {
    if (ConstantTimeEquals(presented, t.value)) match = &t;
  }
  if (match == nullptr) return absl::UnauthenticatedError("unknown token");
  if (needed == Access::kWrite && match->access != Access::kWrite) {
    return absl::PermissionDeniedError("this token is read-only; writes need a write token");
  }
  return absl::OkStatus();
}

}  // namespace peermatch
