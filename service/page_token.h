// Opaque page tokens for List calls: base64url of a version tag, the kind of
// listing and the last id returned. Clients must treat them as opaque.
#ifndef PEERMATCH_SERVICE_PAGE_TOKEN_H_
#define PEERMATCH_SERVICE_PAGE_TOKEN_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace peermatch {

std::string EncodePageToken(absl::string_view listing, absl::string_view last_id);

// The last id encoded in `token` ("" for an empty token). INVALID_ARGUMENT
// ("page_token: ...") when the token is malformed or from another listing.
absl::StatusOr<std::string> DecodePageToken(absl::string_view listing, absl::string_view token);

}  // namespace peermatch

#endif  // PEERMATCH_SERVICE_PAGE_TOKEN_H_
