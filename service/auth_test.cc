#include "service/auth.h"

#include <cstdio>
#include <fstream>

#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"

namespace peermatch {
namespace {

TEST(Auth, OpenWithoutTokens) {
  Auth auth;
  EXPECT_TRUE(auth.open());
  EXPECT_TRUE(auth.Check("", Access::kWrite).ok());
}

TEST(Auth, ReadAndWriteTokens) {
  Auth auth;
  auth.AddToken(Access::kRead, "reader-token-0123456789");
  auth.AddToken(Access::kWrite, "writer-token-0123456789");
  EXPECT_EQ(auth.Check("", Access::kRead).code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(auth.Check("Bearer wrong", Access::kRead).code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(auth.Check("Basic reader-token-0123456789", Access::kRead).code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(auth.Check("Bearer reader-token-0123456789", Access::kRead).ok());
  EXPECT_EQ(auth.Check("Bearer reader-token-0123456789", Access::kWrite).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(auth.Check("bearer writer-token-0123456789", Access::kWrite).ok());
  EXPECT_TRUE(auth.Check("Bearer writer-token-0123456789", Access::kRead).ok());
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
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(bad.status().message()).find(":1:"), std::string::npos);
  std::ofstream(path) << "read short\n";
  EXPECT_EQ(Auth::FromFile(path).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Auth::FromFile(dir.Sub("missing")).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace peermatch
