#include "clients/import_backup.h"

#include <cstdio>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "absl/strings/str_cat.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

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

std::string WriteFile(const testing::TempDir& dir, const std::string& name,
                      const std::string& text) {
  const std::string path = dir.Sub(name);
  FILE* f = std::fopen(path.c_str(), "w");
  std::fputs(text.c_str(), f);
  std::fclose(f);
  return path;
}

constexpr char kCity[] =
    R"({"city": {"id": "example-town", "name": "Example Town", "country": "IT", )"
    R"("region": "REGION_EUROPE_NORTH_AMERICA"}})";

TEST(ImportInput, WhereCountsBlankLinesAndGoesOnAcrossFiles) {
  testing::TempDir dir;
  const std::string a = WriteFile(dir, "a.jsonl", absl::StrCat("\n", kCity, "\n  \n", kCity, "\n"));
  const std::string b = WriteFile(dir, "b.jsonl", absl::StrCat(kCity, "\n\n\n", kCity, "\n"));
  auto input = ImportInput::Check({a, b});
  ASSERT_TRUE(input.ok()) << input.status();
  EXPECT_EQ(input->size(), 4);
  EXPECT_EQ(input->Where(0), a + ":2");
  EXPECT_EQ(input->Where(1), a + ":4");
  EXPECT_EQ(input->Where(2), b + ":1");
  EXPECT_EQ(input->Where(3), b + ":4");
  std::vector<int> seen;
  EXPECT_TRUE(input->ForEach([&](int i, v1::ImportRecord r) {
    EXPECT_EQ(r.city().id(), "example-town");
    seen.push_back(i);
    return absl::OkStatus();
  }).ok());
  EXPECT_THAT(seen, ::testing::ElementsAre(0, 1, 2, 3));
}

TEST(ImportInput, RefusesAFileWithALineThatIsNotAJsonObject) {
  testing::TempDir dir;
  const std::string readme = WriteFile(
      dir, "README.md", absl::StrCat("# Title\n\n", kCity, "\nSome prose.\n[1, 2]\n"));
  EXPECT_THAT(ImportInput::Check({readme}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::StartsWith(readme + " is not JSON Lines: 3 of its 4 non-blank "
                                                      "lines are not JSON objects (the first is "
                                                      "line 1: # Title). Nothing was imported.")));
  EXPECT_THAT(ImportInput::Check({dir.Sub("missing.jsonl")}),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST(ImportInput, AJsonObjectThatIsNotARecordIsABadRecordNamingTheField) {
  testing::TempDir dir;
  const std::string f =
      WriteFile(dir, "f.jsonl", absl::StrCat(kCity, "\n", R"({"case": {"cityid": "x"}})", "\n"));
  auto input = ImportInput::Check({f});
  ASSERT_TRUE(input.ok()) << input.status();
  EXPECT_EQ(input->ParseError(0), nullptr);
  ASSERT_NE(input->ParseError(1), nullptr);
  EXPECT_THAT(*input->ParseError(1), ::testing::HasSubstr("cityid"));
}

TEST(ImportBackup, ReportImportNamesFileAndLineAndWhatWasWritten) {
  testing::TempDir dir;
  const std::string f = WriteFile(dir, "f.jsonl", absl::StrCat(kCity, "\n\n", kCity, "\n"));
  auto input = ImportInput::Check({f});
  ASSERT_TRUE(input.ok());
  Context ctx;
  v1::ImportSummary summary;
  summary.set_cities_written(1);
  v1::ImportError* e = summary.add_errors();
  e->set_index(1);
  e->set_id("example-town");
  e->set_code("INVALID_ARGUMENT");
  e->set_message("city.name: empty");
  v1::ImportOptions plain, all_or_nothing, dry_run;
  all_or_nothing.set_all_or_nothing(true);
  dry_run.set_dry_run(true);

  ::testing::internal::CaptureStdout();
  absl::Status s = ReportImport(ctx, *input, plain, summary, /*seconds=*/2.0);
  std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_EQ(s, absl::InvalidArgumentError("1 record rejected; the rest is written"));
  EXPECT_EQ(out,
            "imported: 1 cities and 0 cases written, 0 unchanged, 1 rejected in 2.0 s: 0 cases/s\n  " +
                f +
                ":3: city.name: empty (example-town, INVALID_ARGUMENT)\n");

  summary.set_cities_written(0);
  ::testing::internal::CaptureStdout();
  s = ReportImport(ctx, *input, all_or_nothing, summary, 2.0);
  out = ::testing::internal::GetCapturedStdout();
  EXPECT_EQ(s, absl::InvalidArgumentError("1 record rejected; nothing was written (--all-or-nothing)"));
  EXPECT_THAT(out, ::testing::StartsWith(
                       "imported: nothing written (--all-or-nothing): 1 of 2 records rejected\n"));

  summary.set_cities_written(1);
  ::testing::internal::CaptureStdout();
  s = ReportImport(ctx, *input, dry_run, summary, 2.0);
  out = ::testing::internal::GetCapturedStdout();
  EXPECT_EQ(s, absl::InvalidArgumentError("1 record would be rejected; nothing was written (--dry-run)"));
  EXPECT_THAT(out, ::testing::StartsWith("dry run: would write 1 cities and 0 cases, 0 unchanged, "
                                         "1 rejected; nothing was written\n"));

  summary.clear_errors();
  summary.set_cases_written(1000);
  ::testing::internal::CaptureStdout();
  EXPECT_TRUE(ReportImport(ctx, *input, plain, summary, 2.0).ok());
  EXPECT_THAT(::testing::internal::GetCapturedStdout(),
              ::testing::HasSubstr("1000 cases written, 0 unchanged, 0 rejected in 2.0 s: 500 cases/s"));
}

}  // namespace
}  // namespace peermatch::cli
