#include "matcher/analyzer.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace peermatch {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Not;

TEST(Analyzer, EnglishStopwordsCaseFoldingAndStemming) {
  Analyzer a;
  EXPECT_THAT(a.Terms("The Cities are LEARNING from their libraries.", "en"),
              ElementsAre("citi", "learn", "librari"));
}

TEST(Analyzer, AbbreviationsAndPossessives) {
  Analyzer a;
  EXPECT_THAT(a.Terms("e.g. don't", "en"), ElementsAre("e.g"));
  EXPECT_THAT(a.Terms("Alzheimer's disease", "en"), ElementsAre("alzheim", "diseas"));
  EXPECT_THAT(a.Terms("1/2000 in UK have abnormal PrP positivity.", "en"),
              ElementsAre("1", "2000", "uk", "abnorm", "prp", "posit"));
}

TEST(Analyzer, ApostrophesAndContractions) {
  Analyzer a;
  // "don't" and "don’t" are stopwords either way; "city's" stems to "citi".
  EXPECT_THAT(a.Terms("We don’t know the city's plan", "en"), ElementsAre("know", "citi", "plan"));
}

TEST(Analyzer, HyphenatedCompoundsYieldPartsAndJoinedForm) {
  Analyzer a;
  EXPECT_THAT(a.Terms("covid-19 e-learning", "en"),
              ElementsAre("covid", "19", "covid19", "e", "learn", "elearn"));
  EXPECT_THAT(a.Terms("IL-6 levels", "en"), ElementsAre("il", "6", "il6", "level"));
  EXPECT_THAT(a.Terms("0-dimensional biomaterials", "en"),
              ElementsAre("0", "dimension", "0dimension", "biomateri"));
  // A chain joins all its parts, stopwords included in the joined form.
  EXPECT_THAT(a.Terms("state-of-the-art", "en"), ElementsAre("state", "art", "stateoftheart"));
  AnalyzerOptions no_join;
  no_join.join_compounds = false;
  EXPECT_THAT(Analyzer(no_join).Terms("covid-19", "en"), ElementsAre("covid", "19"));
  EXPECT_THAT(a.Terms("3.5-fold increase of 1,000 genomes", "en"),
              ElementsAre("3.5", "fold", "3.5fold", "increas", "1000", "genom"));
  // A spaced dash is not a compound.
  EXPECT_THAT(a.Terms("radio - television", "en"), ElementsAre("radio", "televis"));
}

TEST(Analyzer, NumbersKeepDigitsAndDropThousandsSeparators) {
  Analyzer a;
  EXPECT_THAT(a.Terms("1,000 pupils and 2.5 percent in 2020", "en"),
              ElementsAre("1000", "pupil", "2.5", "percent", "2020"));
}

TEST(Analyzer, AccentedTextNormalizesAndStemsInItsLanguage) {
  Analyzer a;
  // NFKC + case folding: the ligature "ﬁ" becomes "fi"; "É" folds to "é".
  EXPECT_THAT(a.Terms("ÉDUCATION ﬁnancière des adultes", "fr"),
              ElementsAre("éduc", "financi", "adult"));
  // Portuguese stopwords ("de", "para", and "são", which is also the verb
  // "are") are dropped.
  EXPECT_THAT(a.Terms("Educação de jovens para São Paulo", "pt"),
              ElementsAre("educ", "jovens", "paul"));
  EXPECT_THAT(a.Terms("Formação técnica", "pt"), ElementsAre("formaçã", "técnic"));
}

TEST(Analyzer, ChineseIsSegmentedIntoWords) {
  Analyzer a;
  const auto tokens = a.Terms("终身学习城市", "zh");
  // ICU's dictionary splits the run into words rather than one token or
  // single characters.
  EXPECT_THAT(tokens, ElementsAre("终身", "学习", "城市"));
}

TEST(Analyzer, MixedScriptsAndUnknownLanguage) {
  Analyzer a;
  // Unknown language: segmented, English stemming as the documented default.
  EXPECT_THAT(a.Terms("Learning 学习", "xx"), ElementsAre("learn", "学习"));
}

TEST(Analyzer, SurfaceFormIsTheWordAsWritten) {
  Analyzer a;
  const auto tokens = a.Analyze("Libraries", "en");
  ASSERT_EQ(tokens.size(), 1u);
  EXPECT_EQ(tokens[0].term, "librari");
  EXPECT_EQ(tokens[0].surface, "libraries");
}

TEST(Analyzer, EmptyAndPunctuationOnly) {
  Analyzer a;
  EXPECT_TRUE(a.Terms("", "en").empty());
  EXPECT_TRUE(a.Terms(" ... !!! -- ", "en").empty());
  EXPECT_THAT(a.Terms("the of and", "en"), Not(Contains("the")));
}

}  // namespace
}  // namespace peermatch
