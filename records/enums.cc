#include "records/enums.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "google/protobuf/descriptor.h"
#include "records/validate.h"

namespace peermatch {
namespace {

// The prefix every value's name starts with: that of the UNSPECIFIED value
// ("REGION_" of REGION_UNSPECIFIED), or "" for an enum without one.
std::string Prefix(const google::protobuf::EnumDescriptor& type) {
  const google::protobuf::EnumValueDescriptor* zero = type.FindValueByNumber(0);
  if (zero == nullptr) return "";
  const std::string& name = zero->name();
  const size_t end = name.rfind("UNSPECIFIED");
  return end == std::string::npos ? "" : name.substr(0, end);
}

// "CaseKind" -> "case kind".
std::string Noun(const google::protobuf::EnumDescriptor& type) {
  std::string out;
  for (char ch : type.name()) {
    if (absl::ascii_isupper(static_cast<unsigned char>(ch)) && !out.empty()) out.push_back(' ');
    out.push_back(absl::ascii_tolower(static_cast<unsigned char>(ch)));
  }
  return out;
}

std::string Article(absl::string_view noun) {
  return absl::StrContains("aeiou", noun.substr(0, 1)) ? "an" : "a";
}

// The value as the error quotes it: escaped unless it is valid UTF-8 (an
// error message must stay valid JSON over HTTP), and cut after 64 bytes.
std::string Quoted(absl::string_view value) {
  constexpr size_t kMaxQuoted = 64;
  const bool cut = value.size() > kMaxQuoted;
  if (cut) {
    size_t end = kMaxQuoted;  // not inside a UTF-8 sequence
    while (end > 0 && (static_cast<unsigned char>(value[end]) & 0xC0) == 0x80) --end;
    value = value.substr(0, end);
  }
  std::string out = IsValidUtf8(value) ? absl::Utf8SafeCEscape(value) : absl::CHexEscape(value);
  if (cut) out += "...";
  return out;
}

}  // namespace

std::string EnumShortName(const google::protobuf::EnumDescriptor& type, int number) {
  const google::protobuf::EnumValueDescriptor* v = type.FindValueByNumber(number);
  if (v == nullptr) return "";
  absl::string_view name = v->name();
  const std::string prefix = Prefix(type);
  if (absl::StartsWith(name, prefix)) name.remove_prefix(prefix.size());
  return absl::StrReplaceAll(absl::AsciiStrToLower(name), {{"_", "-"}});
}

std::string EnumShortNames(const google::protobuf::EnumDescriptor& type) {
  std::vector<std::string> names;
  for (int i = 0; i < type.value_count(); ++i) {
    if (type.value(i)->number() != 0) names.push_back(EnumShortName(type, type.value(i)->number()));
  }
  return absl::StrJoin(names, ", ");
}

absl::StatusOr<int> ParseEnumNumber(const google::protobuf::EnumDescriptor& type,
                                    absl::string_view field, absl::string_view value) {
  const absl::string_view trimmed = absl::StripAsciiWhitespace(value);
  const google::protobuf::EnumValueDescriptor* found = nullptr;
  int number = 0;
  if (absl::SimpleAtoi(trimmed, &number)) {
    found = type.FindValueByNumber(number);
  } else {
    std::string name = absl::AsciiStrToUpper(trimmed);
    for (char& ch : name) {
      if (ch == '-' || ch == ' ') ch = '_';
    }
    found = type.FindValueByName(name);
    if (found == nullptr) found = type.FindValueByName(Prefix(type) + name);
  }
  if (found != nullptr && found->number() != 0) return found->number();
  const std::string noun = Noun(type);
  return absl::InvalidArgumentError(absl::StrCat(field, ": \"", Quoted(value), "\" is not ",
                                                 Article(noun), " ", noun, "; use one of ",
                                                 EnumShortNames(type)));
}

}  // namespace peermatch
