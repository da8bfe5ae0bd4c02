#include "clients/import_backup.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace peermatch::cli {
namespace {

using testing::StatusIs;

Context WithArgs(std::vector<std::string> words) {
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  Context ctx;
  ctx.args = *Args::Parse(static_cast<int>(argv.size()), argv.data(), 0, {});
  return ctx;
}

TEST(ImportBackup, HumanBytesSwitchesUnitAtEachPowerOf1024) {
  EXPECT_EQ(HumanBytes(0), "0 B");
  EXPECT_EQ(HumanBytes(1023), "1023 B");
  EXPECT_EQ(HumanBytes(1024), "1.0 KiB");
  EXPECT_EQ(HumanBytes(1536), "1.5 KiB");
  EXPECT_EQ(HumanBytes(1 << 20), "1.0 MiB");
  EXPECT_EQ(HumanBytes(5ull << 29), "2.50 GiB");
}

TEST(ImportBackup, UtcPrintsSecondsSinceTheEpochInUtc) {
  EXPECT_EQ(Utc(0), "1970-01-01 00:00:00 UTC");
  EXPECT_EQ(Utc(1767225599), "2025-12-31 23:59:59 UTC");
}

TEST(ImportBackup, KeepLastDefaultsToZeroAndRejectsOutOfRange) {
  EXPECT_EQ(*KeepLast(WithArgs({})), 0);
  EXPECT_EQ(*KeepLast(WithArgs({"--keep-last", "1000000"})), 1000000);
  auto negative = KeepLast(WithArgs({"--keep-last", "-1"}));
  EXPECT_THAT(negative, StatusIs(absl::StatusCode::kInvalidArgument,
                                 "--keep-last: -1 is outside 0-1000000 (0 keeps every backup)"));
}

TEST(ImportBackup, ReportImportFailsNamingHowManyRecordsWereRejected) {
  Context ctx;
  v1::ImportSummary summary;
  summary.set_cities_written(2);
  summary.add_errors()->set_index(3);
  ::testing::internal::CaptureStdout();
  absl::Status s = ReportImport(ctx, summary);
  const std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_EQ(s, absl::InvalidArgumentError("1 records rejected; the rest is written"));
  EXPECT_THAT(out, ::testing::StartsWith(
                       "imported: 2 cities and 0 cases written, 0 unchanged, 1 rejected\n"));
  summary.clear_errors();
  ::testing::internal::CaptureStdout();
  EXPECT_TRUE(ReportImport(ctx, summary).ok());
  ::testing::internal::GetCapturedStdout();
}

}  // namespace
}  // namespace peermatch::cli
