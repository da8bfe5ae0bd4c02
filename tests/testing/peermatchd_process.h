// PeermatchdProcess: the real build/bin/peermatchd as a child process, on a
// free loopback port, with its stdout read for the address it serves on and
// its stderr kept in a file (for tests of what it logs).
//
//   PeermatchdProcess server({"--data-dir", dir.Sub("db"), "--quiet"});
//   ASSERT_FALSE(server.address().empty());
//   ... call server.address() ...
//   EXPECT_TRUE(server.Stop());
//   EXPECT_EQ(server.Stderr(), "");
//
// Thread-safety: one test thread uses it.
#ifndef PEERMATCH_TESTS_TESTING_PEERMATCHD_PROCESS_H_
#define PEERMATCH_TESTS_TESTING_PEERMATCHD_PROCESS_H_

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#ifndef PEERMATCH_BIN_DIR
#error "PEERMATCH_BIN_DIR must name the build's bin directory"
#endif

namespace peermatch::testing {

class PeermatchdProcess {
 public:
  // Starts peermatchd with `flags` and "--listen 127.0.0.1:0 --http-listen
  // off"; stderr goes to `stderr_file` ("": /dev/null). Returns once it has
  // printed its first line: address() is then set when it serves.
  explicit PeermatchdProcess(std::vector<std::string> flags, std::string stderr_file = "")
      : stderr_file_(std::move(stderr_file)) {
    for (const char* f : {"--listen", "127.0.0.1:0", "--http-listen", "off"}) flags.push_back(f);
    int out[2];
    if (pipe(out) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], STDOUT_FILENO);
      close(out[0]);
      const std::string err = stderr_file_.empty() ? "/dev/null" : stderr_file_;
      const int fd = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) dup2(fd, STDERR_FILENO);
      const std::string bin = std::string(PEERMATCH_BIN_DIR) + "/peermatchd";
      std::vector<char*> argv = {const_cast<char*>(bin.c_str())};
      for (std::string& f : flags) argv.push_back(f.data());
      argv.push_back(nullptr);
      execv(bin.c_str(), argv.data());
      _exit(127);
    }
    close(out[1]);
    out_ = fdopen(out[0], "r");
    char line[512] = {0};
    if (fgets(line, sizeof line, out_) == nullptr) return;
    const std::string first(line);
    const size_t at = first.find("127.0.0.1:");
    if (at == std::string::npos) return;
    address_ = first.substr(at, first.find(' ', at) - at);
  }
  ~PeermatchdProcess() { Stop(); }
  PeermatchdProcess(const PeermatchdProcess&) = delete;
  PeermatchdProcess& operator=(const PeermatchdProcess&) = delete;

  // Empty when the server did not come up.
  const std::string& address() const { return address_; }

  // SIGTERM, then waits. True when it stopped cleanly.
  bool Stop() {
    if (pid_ <= 0) return false;
    kill(pid_, SIGTERM);
    std::string rest;
    char line[512];
    while (fgets(line, sizeof line, out_) != nullptr) rest += line;
    fclose(out_);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
           rest.find("stopped cleanly") != std::string::npos;
  }

  // SIGKILL, then waits: the process gets no chance to flush or close
  // anything (for crash tests).
  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    fclose(out_);
    pid_ = -1;
  }

  // What it has written to stderr so far (with a stderr file).
  std::string Stderr() const {
    std::ifstream in(stderr_file_);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

 private:
  const std::string stderr_file_;
  pid_t pid_ = -1;
  FILE* out_ = nullptr;
  std::string address_;
};

}  // namespace peermatch::testing

#endif  // PEERMATCH_TESTS_TESTING_PEERMATCHD_PROCESS_H_
