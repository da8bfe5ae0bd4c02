#include "service/library_logs.h"

#include <cstdio>
#include <string>

#include "gmock/gmock.h"
#include "google/protobuf/stubs/logging.h"
#include "gtest/gtest.h"

namespace peermatch {
namespace {

using ::testing::HasSubstr;

TEST(LogRateLimiter, AtMostTheLimitPerWindowThenOneNoticeThenACount) {
  LogRateLimiter limiter(3, absl::Minutes(1));
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  for (int i = 0; i < 3; ++i) {
    const auto v = limiter.Admit(t0 + absl::Seconds(i));
    EXPECT_TRUE(v.print) << i;
    EXPECT_FALSE(v.announce_drop);
  }
  auto v = limiter.Admit(t0 + absl::Seconds(10));
  EXPECT_FALSE(v.print);
  EXPECT_TRUE(v.announce_drop) << "the first dropped line is announced";
  EXPECT_EQ(v.window_end, t0 + absl::Minutes(1));
  for (int i = 0; i < 5; ++i) {
    v = limiter.Admit(t0 + absl::Seconds(20 + i));
    EXPECT_FALSE(v.print);
    EXPECT_FALSE(v.announce_drop) << "announced once";
  }
  // The next window opens at the first line after the minute, and reports
  // the six dropped.
  v = limiter.Admit(t0 + absl::Seconds(61));
  EXPECT_TRUE(v.print);
  EXPECT_EQ(v.dropped_before, 6);
  EXPECT_EQ(v.window_end, t0 + absl::Seconds(121));
  v = limiter.Admit(t0 + absl::Seconds(62));
  EXPECT_EQ(v.dropped_before, 0);
}

std::string ReadAll(FILE* f) {
  std::rewind(f);
  std::string out;
  char buf[512];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  return out;
}

TEST(LibraryLogs, QuietDropsProtobufLinesAndOtherwiseTheyAreLimited) {
  FILE* out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  LibraryLogOptions options;
  options.quiet = true;
  options.lines_per_minute = 2;
  options.out = out;
  RouteLibraryLogs(options);
  GOOGLE_LOG(ERROR) << "malformed request";
  EXPECT_EQ(ReadAll(out), "");

  options.quiet = false;
  RouteLibraryLogs(options);
  for (int i = 0; i < 5; ++i) GOOGLE_LOG(ERROR) << "malformed request " << i;
  const std::string text = ReadAll(out);
  EXPECT_THAT(text, HasSubstr("[libprotobuf ERROR "));
  EXPECT_THAT(text, HasSubstr("] malformed request 0\n"));
  EXPECT_THAT(text, HasSubstr("] malformed request 1\n"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("malformed request 2")));
  EXPECT_THAT(text, HasSubstr("peermatchd: more library log lines than the limit this minute"));
  RouteLibraryLogs(LibraryLogOptions());
  std::fclose(out);
}

}  // namespace
}  // namespace peermatch
