// Validation of cities and cases before anything is written.
//
// Each function checks one record against the rules documented on its
// message in proto/peermatch/v1/model.proto and returns OK or
// INVALID_ARGUMENT with a message that starts with the field path, e.g.
//   "case.sdgs[1]: 18 is outside 1-17".
// They do not look at the store (whether a case's city exists is checked by
// Store::PutCase, which returns NOT_FOUND).
//
// Thread-safe: pure functions.
#ifndef PEERMATCH_RECORDS_VALIDATE_H_
#define PEERMATCH_RECORDS_VALIDATE_H_

#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "peermatch/v1/model.pb.h"

namespace peermatch {

// Limits on text fields, in bytes of UTF-8. Longer text is rejected, never
// truncated.
inline constexpr size_t kMaxIdBytes = 64;
inline constexpr size_t kMaxNameBytes = 200;
inline constexpr size_t kMaxTitleBytes = 300;
inline constexpr size_t kMaxDescriptionBytes = 16 << 10;
inline constexpr size_t kMaxOutcomeBytes = 8 << 10;
inline constexpr size_t kMaxTagBytes = 64;
inline constexpr size_t kMaxTags = 32;
inline constexpr size_t kMaxTargetGroupBytes = 100;
inline constexpr size_t kMaxTargetGroups = 16;
inline constexpr size_t kMaxLanguages = 16;

// "sao-paulo": 1-64 characters of [a-z0-9-], not starting with '-'.
absl::Status ValidateId(absl::string_view field, absl::string_view id);

// Structurally valid UTF-8 (no overlong forms, surrogates or stray bytes).
bool IsValidUtf8(absl::string_view text);

// An assigned ISO 3166-1 alpha-2 code, upper case ("BR"). From ICU's list.
bool IsIsoCountry(absl::string_view code);

// An ISO 639-1 two-letter language code, lower case ("pt"). From ICU's list.
bool IsIsoLanguage(absl::string_view code);

absl::Status ValidateCity(const v1::City& city);
absl::Status ValidateCase(const v1::Case& c);

}  // namespace peermatch

#endif  // PEERMATCH_RECORDS_VALIDATE_H_
