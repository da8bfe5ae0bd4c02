// Args: the command line of the `peermatch` tool, split into global flags,
// a command and the command's own flags and positional words.
//
// Flags are `--name value`, `--name=value` or a bare `--name` for booleans;
// a flag may repeat (`--file a --file b`). We parse by hand rather than with
// absl flags because those are process-global, while each peermatch command
// has its own flags and its own --help.
#ifndef PEERMATCH_COMMON_ARGS_H_
#define PEERMATCH_COMMON_ARGS_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace peermatch::cli {

class Args {
 public:
  // Parses argv[begin..argc). `booleans` names the flags that take no value.
  // INVALID_ARGUMENT for a value-taking flag at the end of the line.
  static absl::StatusOr<Args> Parse(int argc, char** argv, int begin,
                                    const std::set<std::string>& booleans);

  bool Has(const std::string& name) const { return flags_.count(name) > 0; }
  // The last value of a flag, or `fallback`.
  std::string Get(const std::string& name, const std::string& fallback = "") const;
  std::vector<std::string> GetAll(const std::string& name) const;
  // The flag as an integer; INVALID_ARGUMENT naming it when it is not one.
  absl::StatusOr<long long> GetInt(const std::string& name, long long fallback) const;
  absl::StatusOr<double> GetDouble(const std::string& name, double fallback) const;
  const std::vector<std::string>& positional() const { return positional_; }
  // INVALID_ARGUMENT naming the first flag not in `known`.
  absl::Status CheckKnown(const std::set<std::string>& known) const;

 private:
  std::map<std::string, std::vector<std::string>> flags_;
  std::vector<std::string> positional_;
};

}  // namespace peermatch::cli

#endif  // PEERMATCH_COMMON_ARGS_H_
