#include "records/validate.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "unicode/uloc.h"
#include "unicode/uchar.h"
#include "unicode/utf8.h"

namespace peermatch {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", what));
}

// A required or optional UTF-8 text field with a byte limit.
absl::Status CheckText(absl::string_view field, absl::string_view text,
                       size_t max_bytes, bool required) {
  if (text.empty()) {
    return required ? Invalid(field, "is required and must not be empty")
                    : absl::OkStatus();
  }
  if (text.size() > max_bytes) {
    return Invalid(field, absl::StrCat("is ", text.size(), " bytes; the limit is ",
                                       max_bytes));
  }
  if (!IsValidUtf8(text)) return Invalid(field, "is not valid UTF-8");
  if (IsBlank(text)) return Invalid(field, "is only white space");
  return absl::OkStatus();
}

absl::Status CheckTextList(absl::string_view field,
                           const google::protobuf::RepeatedPtrField<std::string>& items,
                           size_t max_items, size_t max_bytes) {
  if (absl::Status s = ValidateCount(field, static_cast<size_t>(items.size()), max_items);
      !s.ok()) {
    return s;
  }
  for (int i = 0; i < items.size(); ++i) {
    absl::Status s = CheckText(absl::StrCat(field, "[", i, "]"), items[i], max_bytes, true);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

// ICU returns NULL-terminated lists of codes; we keep the two-letter ones.
std::set<std::string, std::less<>> TwoLetterCodes(const char* const* list) {
  std::set<std::string, std::less<>> out;
  for (; *list != nullptr; ++list) {
    if (absl::string_view(*list).size() == 2) out.insert(*list);
  }
  return out;
}

}  // namespace

bool IsBlank(absl::string_view text) {
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const auto n = static_cast<int32_t>(text.size());
  for (int32_t i = 0; i < n;) {
    UChar32 c;
    U8_NEXT(s, i, n, c);
    if (c < 0 || !(u_isUWhiteSpace(c) || u_charType(c) == U_FORMAT_CHAR)) return false;
  }
  return true;
}

bool IsValidUtf8(absl::string_view text) {
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  int32_t i = 0;
  const auto n = static_cast<int32_t>(text.size());
  while (i < n) {
    UChar32 c;
    U8_NEXT(s, i, n, c);
    if (c < 0) return false;
  }
  return true;
}

bool IsIsoCountry(absl::string_view code) {
  static const auto* const kCountries =
      new std::set<std::string, std::less<>>(TwoLetterCodes(uloc_getISOCountries()));
  return kCountries->count(code) > 0;
}

bool IsIsoLanguage(absl::string_view code) {
  static const auto* const kLanguages = [] {
    auto* codes = new std::set<std::string, std::less<>>(TwoLetterCodes(uloc_getISOLanguages()));
    // ICU lists Tagalog only as "fil" (Filipino); "tl" is still ISO 639-1.
    codes->insert("tl");
    return codes;
  }();
  return kLanguages->count(code) > 0;
}

absl::Status ValidateId(absl::string_view field, absl::string_view id) {
  if (id.empty()) return Invalid(field, "is required and must not be empty");
  if (id.size() > kMaxIdBytes) {
    return Invalid(field, absl::StrCat("is ", id.size(), " characters; the limit is ",
                                       kMaxIdBytes));
  }
  for (char ch : id) {
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-')) {
      return Invalid(field, "may contain only a-z, 0-9 and '-' (a slug like \"sao-paulo\")");
    }
  }
  if (id.front() == '-') return Invalid(field, "must not start with '-'");
  return absl::OkStatus();
}

bool IsKnownTheme(int value) {
  return value != v1::THEME_UNSPECIFIED && v1::Theme_IsValid(value);
}

bool IsKnownRegion(int value) {
  return value != v1::REGION_UNSPECIFIED && v1::Region_IsValid(value);
}

bool IsKnownCaseKind(int value) {
  return value != v1::CASE_KIND_UNSPECIFIED && v1::CaseKind_IsValid(value);
}

bool IsSdg(int value) { return value >= kMinSdg && value <= kMaxSdg; }

absl::Status ValidateTheme(absl::string_view field, int value) {
  return IsKnownTheme(value) ? absl::OkStatus() : Invalid(field, "unknown theme");
}

absl::Status ValidateRegion(absl::string_view field, int value) {
  return IsKnownRegion(value) ? absl::OkStatus() : Invalid(field, "unknown region");
}

absl::Status ValidateSdg(absl::string_view field, int value) {
  if (IsSdg(value)) return absl::OkStatus();
  return Invalid(field, absl::StrCat(value, " is outside ", kMinSdg, "-", kMaxSdg));
}

absl::Status ValidateCount(absl::string_view field, size_t n, size_t max) {
  if (n <= max) return absl::OkStatus();
  return Invalid(field, absl::StrCat(n, " values, at most ", max));
}

absl::Status ValidateCity(const v1::City& city) {
  absl::Status s = ValidateId("city.id", city.id());
  if (s.ok()) s = CheckText("city.name", city.name(), kMaxNameBytes, true);
  if (!s.ok()) return s;
  if (!IsIsoCountry(city.country())) {
    return Invalid("city.country", absl::StrCat("\"", city.country(),
                                                "\" is not an ISO 3166-1 alpha-2 code such as \"BR\""));
  }
  if (!IsKnownRegion(city.region())) {
    return Invalid("city.region", "must be one of the five UNESCO regions");
  }
  if (city.population() < 0) return Invalid("city.population", "must not be negative");
  s = ValidateSet("city.languages", city.languages(), kMaxLanguages,
                  [](absl::string_view field, const std::string& language) {
                    if (IsIsoLanguage(language)) return absl::OkStatus();
                    return Invalid(field, absl::StrCat("\"", language,
                                                       "\" is not an ISO 639-1 code such as \"en\""));
                  });
  if (!s.ok()) return s;
  if (city.joined_year() != 0 && (city.joined_year() < 2013 || city.joined_year() > 2100)) {
    return Invalid("city.joined_year", "must be 0 (unknown) or a year from 2013 (the GNLC's founding)");
  }
  if (city.has_location()) {
    // !(x >= lo && x <= hi) also refuses NaN.
    const double lat = city.location().latitude(), lon = city.location().longitude();
    if (!(lat >= -90 && lat <= 90)) {
      return Invalid("city.location.latitude",
                     absl::StrCat(lat, " is not a latitude from -90 to 90 degrees"));
    }
    if (!(lon >= -180 && lon <= 180)) {
      return Invalid("city.location.longitude",
                     absl::StrCat(lon, " is not a longitude from -180 to 180 degrees"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateCase(const v1::Case& c) {
  absl::Status s = ValidateId("case.id", c.id());
  if (s.ok()) s = ValidateId("case.city_id", c.city_id());
  if (!s.ok()) return s;
  if (!IsKnownCaseKind(c.kind())) {
    return Invalid("case.kind", "must be CASE_KIND_CHALLENGE or CASE_KIND_SOLUTION");
  }
  s = CheckText("case.title", c.title(), kMaxTitleBytes, true);
  if (s.ok()) s = CheckText("case.description", c.description(), kMaxDescriptionBytes, true);
  if (s.ok()) s = CheckText("case.outcome", c.outcome(), kMaxOutcomeBytes, false);
  if (!s.ok()) return s;
  if (!c.outcome().empty() && c.kind() != v1::CASE_KIND_SOLUTION) {
    return Invalid("case.outcome", "is only for solutions; leave it empty for a challenge");
  }
  if (c.themes_size() == 0) return Invalid("case.themes", "needs at least one theme");
  s = ValidateSet("case.themes", c.themes(), kMaxThemes, [](absl::string_view field, int t) {
    if (IsKnownTheme(t)) return absl::OkStatus();
    return Invalid(field, absl::StrCat(t, " is not one of the six learning-city themes"));
  });
  if (!s.ok()) return s;
  s = CheckTextList("case.tags", c.tags(), kMaxTags, kMaxTagBytes);
  if (s.ok()) s = CheckTextList("case.target_groups", c.target_groups(), kMaxTargetGroups,
                                kMaxTargetGroupBytes);
  if (!s.ok()) return s;
  if (s = ValidateSet("case.sdgs", c.sdgs(), kMaxSdgs, ValidateSdg); !s.ok()) return s;
  if (c.year() != 0 && (c.year() < 1900 || c.year() > 2100)) {
    return Invalid("case.year", "must be 0 (unknown) or 1900-2100");
  }
  if (!c.language().empty() && !IsIsoLanguage(c.language())) {
    return Invalid("case.language", absl::StrCat("\"", c.language(),
                                                "\" is not an ISO 639-1 code such as \"en\""));
  }
  return absl::OkStatus();
}

}  // namespace peermatch
