#include "common/args.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace peermatch::cli {
namespace {

using ::testing::ElementsAre;

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
  EXPECT_EQ(ParseWords({"--file"}).status().code(), absl::StatusCode::kInvalidArgument);
  auto args = ParseWords({"--k", "five"});
  EXPECT_EQ(args->GetInt("k", 1).status().message(), "--k: \"five\" is not a whole number");
  EXPECT_EQ(args->CheckKnown({"file"}).message(),
            "unknown flag --k (see --help for this command)");
}

TEST(Args, DoubleDashEndsFlags) {
  auto args = ParseWords({"--", "--not-a-flag"});
  EXPECT_THAT(args->positional(), ElementsAre("--not-a-flag"));
}

}  // namespace
}  // namespace peermatch::cli
