// Reading import files: JSON Lines, one peermatch.v1.ImportRecord per line in
// protobuf's canonical JSON mapping ({"city": {...}} or {"case": {...}}).
#ifndef PEERMATCH_RECORDS_RECORDS_H_
#define PEERMATCH_RECORDS_RECORDS_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "peermatch/v1/model.pb.h"

namespace peermatch::cli {

// Calls fn(line_number, record-or-error) for each non-blank line of `path`
// (line numbers from 1). A line that does not parse is passed as
// INVALID_ARGUMENT saying why; reading goes on. Stops early with fn's error.
// NOT_FOUND when the file cannot be opened.
absl::Status ForEachRecord(
    const std::string& path,
    const std::function<absl::Status(int, absl::StatusOr<v1::ImportRecord>)>& fn);

// Counts the non-blank lines of `path` (for progress lines).
int CountLines(const std::string& path);

// Canonical JSON of a message on one line.
std::string ToJson(const google::protobuf::Message& m);

}  // namespace peermatch::cli

#endif  // PEERMATCH_RECORDS_RECORDS_H_
