// RunCommand: runs a shell command (a real binary of this build) and
// returns its exit code and everything it printed.
#ifndef PEERMATCH_TESTS_TESTING_RUN_COMMAND_H_
#define PEERMATCH_TESTS_TESTING_RUN_COMMAND_H_

#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace peermatch::testing {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr, as they came
};

inline CommandResult RunCommand(const std::string& command) {
  CommandResult r;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace peermatch::testing

#endif  // PEERMATCH_TESTS_TESTING_RUN_COMMAND_H_
