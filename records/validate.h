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

// Text of nothing but Unicode white space (U+0020, U+00A0, U+3000, ...) and
// invisible format marks (U+200B, U+FEFF): it says nothing. `text` must be
// valid UTF-8 (an invalid sequence counts as not blank).
bool IsBlank(absl::string_view text);

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

// OK when a list of `n` values is within its limit, else INVALID_ARGUMENT
// "<field>: <n> values, at most <max>". Check it before looking at the
// values, so that a huge list costs nothing.
absl::Status ValidateCount(absl::string_view field, size_t n, size_t max);

// OK when no value of `values` repeats an earlier one, else INVALID_ARGUMENT
// "<field>[i]: <value> is given twice (also <field>[j])". Quadratic: for
// lists already held to a small limit (ValidateCount).
template <typename List>
absl::Status ValidateDistinct(absl::string_view field, const List& values) {
  int i = 0;
  for (auto it = values.begin(); it != values.end(); ++it, ++i) {
    int j = 0;
    for (auto earlier = values.begin(); earlier != it; ++earlier, ++j) {
      if (*earlier == *it) {
        return absl::InvalidArgumentError(absl::StrCat(field, "[", i, "]: ", *it,
                                                       " is given twice (also ", field, "[",
                                                       j, "])"));
      }
    }
  }
  return absl::OkStatus();
}

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

// A list of at most `max` values, each valid: ValidateCount, then
// ValidateEach. ValidateSet also refuses repeats (ValidateDistinct).
//   ValidateList("filters.languages", f.languages(), kMaxFilterLanguages, CheckLanguage)
//   ValidateSet("case.sdgs", c.sdgs(), kMaxSdgs, ValidateSdg)
template <typename List, typename Validate>
absl::Status ValidateList(absl::string_view field, const List& values, size_t max,
                          Validate validate) {
  absl::Status s = ValidateCount(field, static_cast<size_t>(values.size()), max);
  if (s.ok()) s = ValidateEach(field, values, validate);
  return s;
}
template <typename List, typename Validate>
absl::Status ValidateSet(absl::string_view field, const List& values, size_t max,
                         Validate validate) {
  absl::Status s = ValidateList(field, values, max, validate);
  if (s.ok()) s = ValidateDistinct(field, values);
  return s;
}

absl::Status ValidateCity(const v1::City& city);
absl::Status ValidateCase(const v1::Case& c);

}  // namespace peermatch

#endif  // PEERMATCH_RECORDS_VALIDATE_H_
