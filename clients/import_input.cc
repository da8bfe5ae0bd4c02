#include "clients/import_input.h"

#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "records/records.h"

namespace peermatch::cli {
namespace {

bool IsJsonObject(const std::string& line) {
  google::protobuf::Struct object;  // parses any JSON object, and nothing else
  return google::protobuf::util::JsonStringToMessage(line, &object).ok();
}

std::string Preview(absl::string_view line) {
  line = absl::StripAsciiWhitespace(line);
  if (line.size() <= 60) return std::string(line);
  return absl::StrCat(line.substr(0, 57), "...");
}

}  // namespace

absl::StatusOr<ImportInput> ImportInput::Check(const std::vector<std::string>& files) {
  ImportInput input;
  input.files_ = files;
  for (size_t f = 0; f < files.size(); ++f) {
    std::ifstream in(files[f]);
    if (!in) return absl::NotFoundError(absl::StrCat("--file: cannot read ", files[f]));
    std::string line, first_bad;
    int number = 0, lines = 0, bad = 0, first_bad_number = 0;
    while (std::getline(in, line)) {
      ++number;
      if (absl::StripAsciiWhitespace(line).empty()) continue;  // as ForEachRecord
      ++lines;
      const int index = input.size();
      input.where_.emplace_back(static_cast<int>(f), number);
      v1::ImportRecord record;
      google::protobuf::util::JsonParseOptions options;
      options.ignore_unknown_fields = false;  // as ForEachRecord: a misspelt field is an error
      auto parsed = google::protobuf::util::JsonStringToMessage(line, &record, options);
      if (parsed.ok()) continue;
      input.parse_errors_[index] = absl::StrCat("not a valid record: ", parsed.message().as_string());
      if (IsJsonObject(line)) continue;
      if (bad++ == 0) {
        first_bad = Preview(line);
        first_bad_number = number;
      }
    }
    if (bad > 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          files[f], " is not JSON Lines: ", bad, " of its ", lines,
          " non-blank lines are not JSON objects (the first is line ", first_bad_number, ": ",
          first_bad, "). Nothing was imported. Each line must be one record, {\"city\": {...}} "
          "or {\"case\": {...}}"));
    }
  }
  return input;
}

absl::Status ImportInput::ForEach(
    const std::function<absl::Status(int, v1::ImportRecord)>& fn) const {
  int index = 0;
  for (const std::string& file : files_) {
    absl::Status s = ForEachRecord(file, [&](int, absl::StatusOr<v1::ImportRecord> rec) {
      const int i = index++;
      return fn(i, rec.ok() ? *std::move(rec) : v1::ImportRecord());
    });
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

std::string ImportInput::Where(int index) const {
  if (index < 0 || index >= size()) return absl::StrCat("record ", index);
  return absl::StrCat(files_[where_[index].first], ":", where_[index].second);
}

const std::string* ImportInput::ParseError(int index) const {
  auto it = parse_errors_.find(index);
  return it == parse_errors_.end() ? nullptr : &it->second;
}

}  // namespace peermatch::cli
