#include "translate/lexicon.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace peermatch {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::IsOk;
using testing::StatusIs;

constexpr char kLexicon[] =
    "peermatch-lexicon 1\n"
    "language\tes\n"
    "version\t0123456789abcdef\n"
    "dict\t0\tpeermatch glossary\tproject 1\n"
    "dict\t1\tFreeDict spa-eng\tdict-freedict-spa-eng 1\n"
    "alfabetización\talfabetiz\t0\tliteracy\tliteraci\n"
    "alfabetizar\talfabetiz\t1\tteach to read\tteach read\n"
    "alfabetizar\talfabetiz\t1\tliteracy\tliteraci\n"
    "escuela\tescuel\t1\tschool\tschool\n";

std::vector<std::string> English(absl::Span<const LexiconEntry> entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) out.emplace_back(e.english);
  return out;
}
std::vector<std::string> English(absl::Span<const LexiconEntry* const> entries) {
  std::vector<std::string> out;
  for (const auto* e : entries) out.emplace_back(e->english);
  return out;
}

TEST(Lexicon, LooksUpBySurfaceAndByStem) {
  auto lex = Lexicon::Parse(kLexicon, "es-en.lex");
  ASSERT_THAT(lex, IsOk());
  const Lexicon& l = **lex;
  EXPECT_EQ(l.language(), "es");
  EXPECT_EQ(l.version(), "0123456789abcdef");
  EXPECT_THAT(l.dictionaries(), ElementsAre("peermatch glossary", "FreeDict spa-eng"));
  EXPECT_EQ(l.num_keys(), 3u);
  EXPECT_THAT(English(l.BySurface("alfabetizar")), ElementsAre("teach to read", "literacy"));
  ASSERT_EQ(l.BySurface("escuela").size(), 1u);
  EXPECT_EQ(l.BySurface("escuela")[0].terms, "school");
  EXPECT_EQ(l.BySurface("escuela")[0].dict, 1);
  EXPECT_TRUE(l.BySurface("escuelas").empty());
  // Every key of the stem, each English phrase once, in key order.
  EXPECT_THAT(English(l.ByStem("alfabetiz")), ElementsAre("literacy", "teach to read"));
  EXPECT_TRUE(l.ByStem("nada").empty());
}

// ForEachKey goes in key order, whatever the hash map's order in this
// process: the Arabic light10 index keeps the first few entries of each
// stem, and those must be the same after every start (a pairing's scores
// varied between server starts when they were not).
TEST(Lexicon, ForEachKeyGoesInKeyOrder) {
  std::string text =
      "peermatch-lexicon 1\nlanguage\tar\nversion\t0\ndict\t0\tpeermatch glossary\tproject 1\n";
  std::vector<std::string> keys;
  for (int i = 0; i < 200; ++i) keys.push_back("k" + std::to_string(1000 + i));
  for (const std::string& k : keys) text += k + "\t" + k + "\t0\tword\tword\n";
  auto lex = Lexicon::Parse(text, "ar-en.lex");
  ASSERT_THAT(lex, IsOk());
  std::vector<std::string> seen;
  (*lex)->ForEachKey([&](absl::string_view key, absl::Span<const LexiconEntry> entries) {
    EXPECT_EQ(entries.size(), 1u);
    seen.emplace_back(key);
  });
  EXPECT_EQ(seen, keys);
}

TEST(Lexicon, BadFilesAreDataLossNamingTheLine) {
  EXPECT_THAT(Lexicon::Parse("hello\n", "x.lex"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("x.lex:1: not a peermatch lexicon")));
  std::string unordered = kLexicon;
  unordered += "abeja\tabej\t1\tbee\tbee\n";
  EXPECT_THAT(Lexicon::Parse(unordered, "x.lex"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("x.lex:10: keys out of order")));
  std::string bad_dict = kLexicon;
  bad_dict += "zorro\tzorr\t7\tfox\tfox\n";
  EXPECT_THAT(Lexicon::Parse(bad_dict, "x.lex"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("x.lex:10: unknown dict id")));
  EXPECT_THAT(Lexicon::Parse("peermatch-lexicon 1\nlanguage\tes\n", "x.lex"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("no language or version")));
  EXPECT_THAT(Lexicon::Load("/nonexistent/es-en.lex"), StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace peermatch
