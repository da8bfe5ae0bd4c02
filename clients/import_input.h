// ImportInput: the files of one `peermatch import`, checked before anything
// is sent or written, and where each record came from.
//
// The rule for files that are not JSON Lines: every non-blank line of every
// file must be a JSON object. When any line is not (a README, a CSV, a file
// cut short), the whole import is refused before the first record is sent,
// naming the file, how many lines are not JSON objects and the first of
// them. A line that is a JSON object but not a valid record (an unknown
// field, a wrong type) is a bad record like any other: reported with its
// file and line, and handled as the import's mode says (skipped, or failing
// the whole batch).
//
// Thread-safety: a value type; const methods may be called concurrently.
#ifndef PEERMATCH_CLIENTS_IMPORT_INPUT_H_
#define PEERMATCH_CLIENTS_IMPORT_INPUT_H_

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "peermatch/v1/model.pb.h"

namespace peermatch::cli {

class ImportInput {
 public:
  // Reads every file once and applies the rule above: INVALID_ARGUMENT
  // ("F is not JSON Lines: ...") for the first file that breaks it;
  // NOT_FOUND for a file that cannot be read.
  static absl::StatusOr<ImportInput> Check(const std::vector<std::string>& files);

  // Calls fn(index, record) for every record in stream order (index from
  // 0, blank lines skipped). A line that does not parse as a record is
  // passed as an empty ImportRecord, so that stream indices stay aligned
  // (the server rejects it as holding neither; ParseError says why). Stops
  // early with fn's error.
  absl::Status ForEach(const std::function<absl::Status(int, v1::ImportRecord)>& fn) const;

  int size() const { return static_cast<int>(where_.size()); }
  // "cases.jsonl:21": the file and 1-based line (blank lines count) of the
  // record with stream index `index`; "record N" for an index out of range.
  std::string Where(int index) const;
  // Why the line of record `index` did not parse as a record; null when it did.
  const std::string* ParseError(int index) const;

 private:
  std::vector<std::string> files_;
  std::vector<std::pair<int, int>> where_;  // by index: file, line
  std::map<int, std::string> parse_errors_;
};

}  // namespace peermatch::cli

#endif  // PEERMATCH_CLIENTS_IMPORT_INPUT_H_
