#include "records/records.h"

#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/ascii.h"
#include "google/protobuf/util/json_util.h"

namespace peermatch::cli {

absl::Status ForEachRecord(
    const std::string& path,
    const std::function<absl::Status(int, absl::StatusOr<v1::ImportRecord>)>& fn) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::string line;
  int number = 0;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  while (std::getline(in, line)) {
    ++number;
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    v1::ImportRecord record;
    auto parsed = google::protobuf::util::JsonStringToMessage(line, &record, options);
    absl::Status s;
    if (parsed.ok()) {
      // JSON has one zero: -0.0 would print as "-0" and read back as 0, so a
      // record's own export would differ from it (found by records_fuzz).
      if (record.has_city() && record.city().has_location()) {
        v1::GeoPoint* at = record.mutable_city()->mutable_location();
        if (at->latitude() == 0) at->set_latitude(0);
        if (at->longitude() == 0) at->set_longitude(0);
      }
      s = fn(number, std::move(record));
    } else {
      s = fn(number, absl::InvalidArgumentError(
                         absl::StrCat("not a valid record: ", parsed.message().as_string())));
    }
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

int CountLines(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    if (!absl::StripAsciiWhitespace(line).empty()) ++n;
  }
  return n;
}

std::string ToJson(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = false;
  options.always_print_primitive_fields = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, options);
  return out;
}

}  // namespace peermatch::cli
