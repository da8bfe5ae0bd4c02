#include "common/args.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace peermatch::cli {

absl::StatusOr<Args> Args::Parse(int argc, char** argv, int begin,
                                 const std::set<std::string>& booleans) {
  Args args;
  for (int i = begin; i < argc; ++i) {
    std::string word = argv[i];
    if (word == "--") {
      for (++i; i < argc; ++i) args.positional_.push_back(argv[i]);
      break;
    }
    if (word.size() < 3 || word.compare(0, 2, "--") != 0) {
      args.positional_.push_back(word);
      continue;
    }
    std::string name = word.substr(2);
    const size_t eq = name.find('=');
    if (eq != std::string::npos) {
      args.flags_[name.substr(0, eq)].push_back(name.substr(eq + 1));
    } else if (booleans.count(name) > 0) {
      args.flags_[name].push_back("true");
    } else if (i + 1 < argc) {
      args.flags_[name].push_back(argv[++i]);
    } else {
      return absl::InvalidArgumentError(absl::StrCat("--", name, " needs a value"));
    }
  }
  return args;
}

std::string Args::Get(const std::string& name, const std::string& fallback) const {
  auto it = flags_.find(name);
  return it == flags_.end() ? fallback : it->second.back();
}

std::vector<std::string> Args::GetAll(const std::string& name) const {
  auto it = flags_.find(name);
  return it == flags_.end() ? std::vector<std::string>{} : it->second;
}

absl::StatusOr<long long> Args::GetInt(const std::string& name, long long fallback) const {
  if (!Has(name)) return fallback;
  long long v = 0;
  if (!absl::SimpleAtoi(Get(name), &v)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, ": \"", Get(name), "\" is not a whole number"));
  }
  return v;
}

absl::StatusOr<double> Args::GetDouble(const std::string& name, double fallback) const {
  if (!Has(name)) return fallback;
  double v = 0;
  if (!absl::SimpleAtod(Get(name), &v)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, ": \"", Get(name), "\" is not a number"));
  }
  return v;
}

absl::Status Args::CheckKnown(const std::set<std::string>& known) const {
  for (const auto& [name, values] : flags_) {
    if (known.count(name) == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag --", name, " (see --help for this command)"));
    }
  }
  return absl::OkStatus();
}

}  // namespace peermatch::cli
