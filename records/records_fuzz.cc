// libFuzzer target: reading a JSON Lines import file (ForEachRecord) and
// validating what it reads (ValidateCity / ValidateCase).
//
// Input: the file's bytes, any number of lines. The file is an in-memory
// file (memfd) opened by path, so ForEachRecord reads it as it reads a real
// one. Checks, beyond "no crash and no sanitizer report":
// - line numbers are 1-based and increase; a line that does not parse is
//   INVALID_ARGUMENT;
// - a validation error is INVALID_ARGUMENT and starts with its field path
//   ("city." / "case.");
// - a record that parsed prints (ToJson) to JSON that parses back to the
//   same record (what `--json` output relies on to be re-imported).
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "google/protobuf/util/json_util.h"
#include "peermatch/v1/model.pb.h"
#include "records/records.h"
#include "records/validate.h"

namespace {

void Check(bool ok, const std::string& what) {
  if (ok) return;
  std::fprintf(stderr, "records_fuzz: %s\n", what.c_str());
  std::abort();
}

void CheckValidation(const absl::Status& s, const char* prefix) {
  if (s.ok()) return;
  Check(s.code() == absl::StatusCode::kInvalidArgument,
        "a validation error is not INVALID_ARGUMENT: " + s.ToString());
  Check(absl::StartsWith(s.message(), prefix),
        "a validation error does not start with its field path: " + s.ToString());
}

void CheckRoundTrip(const peermatch::v1::ImportRecord& record) {
  const std::string json = peermatch::cli::ToJson(record);
  peermatch::v1::ImportRecord again;
  auto parsed = google::protobuf::util::JsonStringToMessage(json, &again);
  Check(parsed.ok(), "ToJson's output does not parse: " + json);
  // No map fields: serialization is deterministic.
  Check(again.SerializeAsString() == record.SerializeAsString(),
        "ToJson's output parses to another record: " + json);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const int fd = memfd_create("records_fuzz", 0);
  static const std::string path = "/proc/self/fd/" + std::to_string(fd);
  Check(fd >= 0, "memfd_create failed");
  Check(ftruncate(fd, 0) == 0 && pwrite(fd, data, size, 0) == static_cast<ssize_t>(size),
        "cannot write the input file");

  int last_line = 0;
  const absl::Status s = peermatch::cli::ForEachRecord(
      path, [&](int line, absl::StatusOr<peermatch::v1::ImportRecord> record) {
        Check(line > last_line, "line numbers do not increase");
        last_line = line;
        if (!record.ok()) {
          Check(record.status().code() == absl::StatusCode::kInvalidArgument,
                "a line that does not parse is not INVALID_ARGUMENT");
          return absl::OkStatus();
        }
        if (record->has_city()) CheckValidation(peermatch::ValidateCity(record->city()), "city");
        if (record->has_case_()) CheckValidation(peermatch::ValidateCase(record->case_()), "case");
        CheckRoundTrip(*record);
        return absl::OkStatus();
      });
  Check(s.ok(), "ForEachRecord failed on a readable file: " + s.ToString());
  return 0;
}
