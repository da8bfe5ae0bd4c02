#include "service/auth.h"

#include <cstdio>
#include <fstream>

#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace peermatch {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using testing::StatusIs;

TEST(Auth, OpenWithoutTokens) {
  Auth auth;
  EXPECT_TRUE(auth.open());
  EXPECT_TRUE(auth.Check("", Access::kWrite).ok());
}

TEST(Auth, ReadAndWriteTokens) {
  Auth auth;
  ASSERT_TRUE(auth.AddToken(Access::kRead, "reader-token-0123456789").ok());
  ASSERT_TRUE(auth.AddToken(Access::kWrite, "writer-token-0123456789").ok());
  EXPECT_THAT(auth.Check("", Access::kRead), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(auth.Check("Bearer wrong", Access::kRead),
              StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(auth.Check("Basic reader-token-0123456789", Access::kRead),
              StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_TRUE(auth.Check("Bearer reader-token-0123456789", Access::kRead).ok());
  EXPECT_THAT(auth.Check("Bearer reader-token-0123456789", Access::kWrite),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_TRUE(auth.Check("bearer writer-token-0123456789", Access::kWrite).ok());
  EXPECT_TRUE(auth.Check("Bearer writer-token-0123456789", Access::kRead).ok());
}

TEST(Auth, ShortTokensAndTokensForBothAccessesAreRefused) {
  Auth auth;
  EXPECT_THAT(auth.AddToken(Access::kWrite, "abc", "--write-token"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "--write-token: a token of 3 characters is too easy to guess; tokens have "
                       "at least 16 characters (make one with `openssl rand -hex 16`)"));
  EXPECT_THAT(auth.AddToken(Access::kRead, std::string(15, 'x')),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_TRUE(auth.open()) << "a refused token is not added";
  ASSERT_TRUE(auth.AddToken(Access::kWrite, std::string(16, 'x')).ok());
  EXPECT_TRUE(auth.AddToken(Access::kWrite, std::string(16, 'x')).ok()) << "the same, again";
  EXPECT_THAT(auth.AddToken(Access::kRead, std::string(16, 'x'), "--read-token"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--read-token: this token is already a write token")));
  EXPECT_EQ(auth.size(), 1u);
  EXPECT_TRUE(auth.Check("Bearer " + std::string(16, 'x'), Access::kWrite).ok());
}

TEST(Auth, TokensFile) {
  testing::TempDir dir;
  const std::string path = dir.Sub("tokens");
  std::ofstream(path) << "# staff\nwrite 0123456789abcdef-write\n\nread 0123456789abcdef-read\n";
  auto auth = Auth::FromFile(path);
  ASSERT_TRUE(auth.ok()) << auth.status();
  EXPECT_EQ(auth->size(), 2u);
  EXPECT_TRUE(auth->Check("Bearer 0123456789abcdef-write", Access::kWrite).ok());

  std::ofstream(path) << "admin x\n";
  auto bad = Auth::FromFile(path);
  EXPECT_THAT(bad, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(":1:")));
  std::ofstream(path) << "read short\n";
  EXPECT_THAT(Auth::FromFile(path),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(":1: a token of 5 characters"),
                             HasSubstr("openssl rand -hex 16"))));
  std::ofstream(path) << "write 0123456789abcdef\nread 0123456789abcdef\n";
  EXPECT_THAT(Auth::FromFile(path),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(":2: this token is already a write token"),
                             HasSubstr("cannot be both"))));
  EXPECT_THAT(Auth::FromFile(dir.Sub("missing")), StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace peermatch
