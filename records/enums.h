// Enum values in their short forms: the one parser of Region, Theme and
// CaseKind names shared by the command-line tool, the service and HTTP
// query strings, so that every client accepts the same spellings and every
// error lists the same choices.
//
// A value's short form is its name without the enum's prefix, lower case,
// words joined by '-': REGION_ASIA_PACIFIC is "asia-pacific",
// THEME_CULTURE_OF_LEARNING is "culture-of-learning", CASE_KIND_SOLUTION is
// "solution". Parsing also accepts '_' or ' ' between words, any letter
// case, the full name ("REGION_ASIA_PACIFIC") and the number of a value
// ("3"). The UNSPECIFIED value (0) is never accepted.
//
//   absl::StatusOr<v1::Region> r = ParseEnumValue<v1::Region>("--region", "Asia_Pacific");
//   // *r == v1::REGION_ASIA_PACIFIC
//   ParseEnumValue<v1::Region>("region", "atlantis").status().message()
//   // region: "atlantis" is not a region; use one of africa, arab-states,
//   //   asia-pacific, europe-north-america, latin-america-caribbean
//
// Thread-safety: pure functions.
#ifndef PEERMATCH_RECORDS_ENUMS_H_
#define PEERMATCH_RECORDS_ENUMS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/generated_enum_reflection.h"
#include "peermatch/v1/model.pb.h"

namespace peermatch {

// The value of `type` that `value` names, as its number; INVALID_ARGUMENT
// "<field>: \"<value>\" is not a <noun>; use one of <short forms>"
// otherwise (the noun is the enum's name in words: "region", "case kind").
absl::StatusOr<int> ParseEnumNumber(const google::protobuf::EnumDescriptor& type,
                                    absl::string_view field, absl::string_view value);

// The short forms of every value of `type` but UNSPECIFIED, in number
// order, joined by ", ".
std::string EnumShortNames(const google::protobuf::EnumDescriptor& type);

// The short form of value `number` of `type`; "" for a number it does not
// have.
std::string EnumShortName(const google::protobuf::EnumDescriptor& type, int number);

// The typed forms of the above, for v1::Region, v1::Theme and v1::CaseKind.
template <typename Enum>
absl::StatusOr<Enum> ParseEnumValue(absl::string_view field, absl::string_view value) {
  absl::StatusOr<int> number =
      ParseEnumNumber(*google::protobuf::GetEnumDescriptor<Enum>(), field, value);
  if (!number.ok()) return number.status();
  return static_cast<Enum>(*number);
}

template <typename Enum>
std::string EnumShortNames() {
  return EnumShortNames(*google::protobuf::GetEnumDescriptor<Enum>());
}

template <typename Enum>
std::string EnumShortName(Enum value) {
  return EnumShortName(*google::protobuf::GetEnumDescriptor<Enum>(), static_cast<int>(value));
}

}  // namespace peermatch

#endif  // PEERMATCH_RECORDS_ENUMS_H_
