// peermatchd as an operator starts it: tokens too short to be safe, or one
// token for both read and write, stop it at start with a message that says
// how to make one; and the lines protobuf and gRPC print on their own (one
// per malformed request) respect --quiet and are rate-limited otherwise.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "tests/testing/peermatchd_process.h"
#include "tests/testing/raw_call.h"
#include "tests/testing/run_command.h"
#include "tests/testing/temp_dir.h"

namespace peermatch {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::PeermatchdProcess;
using testing::RunCommand;
using testing::TempDir;

// peermatchd with `flags` (and `env` before it), with none of the caller's
// PEERMATCH_ variables.
testing::CommandResult Start(const TempDir& dir, const std::string& env,
                             const std::string& flags) {
  return RunCommand("env -u PEERMATCH_TOKENS_FILE -u PEERMATCH_WRITE_TOKEN -u "
                    "PEERMATCH_READ_TOKEN -u PEERMATCH_BACKUP_ROOT " + env + " " +
                    PEERMATCH_BIN_DIR + "/peermatchd --data-dir " + dir.Sub("db") +
                    " --listen 127.0.0.1:0 --http-listen off " + flags);
}

TEST(Daemon, RefusesShortTokensAndATokenForBothAccessesAtStart) {
  TempDir dir;
  auto r = Start(dir, "", "--write-token abc");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("--write-token: a token of 3 characters is too easy to guess"));
  EXPECT_THAT(r.output, HasSubstr("openssl rand -hex 16"));
  r = Start(dir, "PEERMATCH_READ_TOKEN=fifteen-chars-x", "");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("PEERMATCH_READ_TOKEN: a token of 15 characters"));
  r = Start(dir, "", "--write-token 0123456789abcdef --read-token 0123456789abcdef");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("--read-token: this token is already a write token; one token "
                                  "cannot be both a read and a write token"));
  const std::string tokens = dir.Sub("tokens.txt");
  std::ofstream(tokens) << "write 0123456789abcdef\nread short\n";
  r = Start(dir, "", "--tokens-file " + tokens);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr(tokens + ":2: a token of 5 characters"));
  // Nothing was opened for a refused start.
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("db")));
}

// A Match whose text is not UTF-8, as raw bytes (no client library sends
// it): protobuf logs one "libprotobuf ERROR" line as it refuses to parse.
grpc::Status SendMalformedMatch(const std::shared_ptr<grpc::Channel>& channel) {
  grpc::ClientContext ctx;
  return testing::CallRaw(channel, "/peermatch.v1.Peermatch/Match",
                          std::string("\x0a\x04") + "caf\xff", &ctx);
}

int CountLines(const std::string& text, const std::string& with) {
  int n = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StrContains(line, with)) ++n;
  }
  return n;
}

TEST(Daemon, LibraryLogLinesRespectQuietAndAreRateLimited) {
  TempDir dir;
  {
    PeermatchdProcess server({"--data-dir", dir.Sub("quiet"), "--quiet"}, dir.Sub("quiet.err"));
    ASSERT_FALSE(server.address().empty());
    auto channel = grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials());
    for (int i = 0; i < 5; ++i) {
      EXPECT_EQ(SendMalformedMatch(channel).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    }
    EXPECT_TRUE(server.Stop());
    EXPECT_THAT(server.Stderr(), Not(HasSubstr("libprotobuf")));
    EXPECT_EQ(server.Stderr(), "");
  }
  // Without --quiet: the lines are there, 20 at most in the minute, then
  // one notice.
  PeermatchdProcess server({"--data-dir", dir.Sub("loud")}, dir.Sub("loud.err"));
  ASSERT_FALSE(server.address().empty());
  auto channel = grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials());
  for (int i = 0; i < 30; ++i) {
    EXPECT_EQ(SendMalformedMatch(channel).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  EXPECT_TRUE(server.Stop());
  const std::string err = server.Stderr();
  EXPECT_EQ(CountLines(err, "[libprotobuf ERROR"), 20) << err;
  EXPECT_EQ(CountLines(err, "more library log lines than the limit this minute"), 1) << err;
  EXPECT_THAT(err, HasSubstr("invalid UTF-8"));
}

}  // namespace
}  // namespace peermatch
