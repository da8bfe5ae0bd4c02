#include "common/args.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace peermatch::cli {
namespace {

using ::testing::ElementsAre;
using testing::StatusIs;

absl::StatusOr<Args> ParseWords(std::vector<std::string> words) {
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  return Args::Parse(static_cast<int>(argv.size()), argv.data(), 0, {"cascade"});
}

TEST(Args, FlagsValuesAndPositionals) {
  auto args = ParseWords({"--file", "a.jsonl", "--file=b.jsonl", "word", "--cascade", "--k", "5"});
  ASSERT_TRUE(args.ok());
  EXPECT_THAT(args->GetAll("file"), ElementsAre("a.jsonl", "b.jsonl"));
  EXPECT_TRUE(args->Has("cascade"));
  EXPECT_EQ(*args->GetInt("k", 10), 5);
  EXPECT_THAT(args->positional(), ElementsAre("word"));
}

TEST(Args, MissingValueAndBadNumbersAreNamed) {
  EXPECT_THAT(ParseWords({"--file"}), StatusIs(absl::StatusCode::kInvalidArgument));
  auto args = ParseWords({"--k", "five"});
  EXPECT_THAT(args->GetInt("k", 1),
              StatusIs(absl::StatusCode::kInvalidArgument, "--k: \"five\" is not a whole number"));
  EXPECT_THAT(args->CheckKnown({"file"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "unknown flag --k (see --help for this command)"));
}

TEST(Args, DoubleDashEndsFlags) {
  auto args = ParseWords({"--", "--not-a-flag"});
  EXPECT_THAT(args->positional(), ElementsAre("--not-a-flag"));
}

}  // namespace
}  // namespace peermatch::cli
