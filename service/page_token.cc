#include "service/page_token.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"

namespace peermatch {

std::string EncodePageToken(absl::string_view listing, absl::string_view last_id) {
  return absl::WebSafeBase64Escape(absl::StrCat("pm1:", listing, ":", last_id));
}

absl::StatusOr<std::string> DecodePageToken(absl::string_view listing, absl::string_view token) {
  if (token.empty()) return std::string();
  std::string raw;
  const std::string prefix = absl::StrCat("pm1:", listing, ":");
  if (token.size() > 512 || !absl::WebSafeBase64Unescape(token, &raw) ||
      !absl::StartsWith(raw, prefix) || raw.size() == prefix.size()) {
    return absl::InvalidArgumentError(
        "page_token: not a token this listing returned; pass next_page_token back unchanged, "
        "or leave it empty for the first page");
  }
  return raw.substr(prefix.size());
}

}  // namespace peermatch
