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

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "peermatch/v1/model.pb.h"
#include "records/limits.h"

namespace peermatch {

// "sao-paulo": 1-64 characters of [a-z0-9-], not starting with '-'.
absl::Status ValidateId(absl::string_view field, absl::string_view id);

// Structurally valid UTF-8 (no overlong forms, surrogates or stray bytes).
bool IsValidUtf8(absl::string_view text);

// An assigned ISO 3166-1 alpha-2 code, upper case ("BR"). From ICU's list.
bool IsIsoCountry(absl::string_view code);

// An ISO 639-1 two-letter language code, lower case ("pt"). From ICU's list.
bool IsIsoLanguage(absl::string_view code);

// The enum and range rules every record and query shares. Is* are the
// predicates; Validate* return OK or INVALID_ARGUMENT "<field>: <what>":
//   ValidateTheme("themes[0]", 0)   -> "themes[0]: unknown theme"
//   ValidateRegion("regions[1]", 9) -> "regions[1]: unknown region"
//   ValidateSdg("sdgs[2]", 18)      -> "sdgs[2]: 18 is outside 1-17"
// A theme or a region is known when it is a value of its enum other than
// the UNSPECIFIED one; so is a case kind.
bool IsKnownTheme(int value);
bool IsKnownRegion(int value);
bool IsKnownCaseKind(int value);
bool IsSdg(int value);
absl::Status ValidateTheme(absl::string_view field, int value);
absl::Status ValidateRegion(absl::string_view field, int value);
absl::Status ValidateSdg(absl::string_view field, int value);

// Applies `validate(field, value)` to each value of a list, naming the i-th
// one "<field>[i]"; the first error, or OK.
//   ValidateEach("filters.sdgs", request.filters().sdgs(), ValidateSdg)
template <typename List, typename Validate>
absl::Status ValidateEach(absl::string_view field, const List& values, Validate validate) {
  int i = 0;
  for (const auto& value : values) {
    if (absl::Status s = validate(absl::StrCat(field, "[", i, "]"), value); !s.ok()) return s;
    ++i;
  }
  return absl::OkStatus();
}

absl::Status ValidateCity(const v1::City& city);
absl::Status ValidateCase(const v1::Case& c);

}  // namespace peermatch

#endif  // PEERMATCH_RECORDS_VALIDATE_H_
