#include "translate/translator.h"

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"

namespace peermatch {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::UnorderedElementsAre;

void Write(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

std::string Lex(const std::string& lang, const std::string& version, const std::string& entries) {
  return "peermatch-lexicon 1\nlanguage\t" + lang + "\nversion\t" + version +
         "\ndict\t0\tTest dict\ttest 1\n" + entries;
}

std::vector<std::string> English(const TranslationGroup& g) {
  std::vector<std::string> out;
  for (const auto& a : g.alternatives) out.emplace_back(a.english);
  return out;
}

class TranslatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Write(dir_.Sub("ar-en.lex"), Lex("ar", "a1", "كتاب\tكتاب\t0\tbook\tbook\n"));
    Write(dir_.Sub("ko-en.lex"), Lex("ko", "k1", "학교\t학교\t0\tschool\tschool\n"));
    Write(dir_.Sub("zh-en.lex"),
          Lex("zh", "z1", "去\t去\t0\tgo\tgo\n学校\t学校\t0\tschool\tschool\n该\t该\t0\tshould\tshould\n"));
    Write(dir_.Sub("es-en.lex"), Lex("es", "e1", "escuela\tescuel\t0\tschool\tschool\n"));
  }
  testing::TempDir dir_;
};

TEST_F(TranslatorTest, SurfaceThenStem) {
  Translator t(dir_.path());
  EXPECT_THAT(English(t.Lookup("es", "escuela", "escuel")), ElementsAre("school"));
  // Plural: no such surface, the stem matches.
  const TranslationGroup& g = t.Lookup("es", "escuelas", "escuel");
  EXPECT_THAT(English(g), ElementsAre("school"));
  EXPECT_THAT(g.terms, ElementsAre("school"));
  EXPECT_EQ(g.alternatives[0].dictionary, "Test dict");
  EXPECT_TRUE(t.Lookup("es", "zorro", "zorr").empty());
}

TEST_F(TranslatorTest, EnglishAndLanguagesWithoutLexiconAreNotTranslated) {
  Translator t(dir_.path());
  EXPECT_TRUE(t.Translates("es"));
  EXPECT_FALSE(t.Translates("en"));
  EXPECT_FALSE(t.Translates(""));
  EXPECT_FALSE(t.Translates("sw"));
  EXPECT_TRUE(t.Lookup("sw", "shule", "shule").empty());
  EXPECT_TRUE(Translator("").Lookup("es", "escuela", "escuel").empty());
}

TEST_F(TranslatorTest, ArabicLight10AndClitics) {
  Translator t(dir_.path());
  // Article + plural-ish suffix stripped on both sides.
  EXPECT_THAT(English(t.Lookup("ar", "والكتاب", "والكتاب")), ElementsAre("book"));
  // A preposition written onto the word.
  EXPECT_THAT(English(t.Lookup("ar", "بكتاب", "بكتاب")), ElementsAre("book"));
}

TEST_F(TranslatorTest, ArabicVerbAndPronounAffixesReachTheDictionaryKey) {
  Write(dir_.Sub("ar-en.lex"),
        Lex("ar", "a3", "كتب\tكتب\t0\twrite\twrite\nمدرسة\tمدرس\t0\tschool\tschool\n"));
  Translator t(dir_.path());
  // س (future) + ي (they) + كتب + ون (masculine plural): "they will write".
  EXPECT_THAT(English(t.Lookup("ar", "سيكتبون", "سيكتبون")), ElementsAre("write"));
  // و (and) + كتب + تم (you, plural): "and you wrote".
  EXPECT_THAT(English(t.Lookup("ar", "وكتبتم", "وكتبتم")), ElementsAre("write"));
  // مدرسة + ي (my): the feminine ة is written ت before the suffix.
  EXPECT_THAT(English(t.Lookup("ar", "مدرستي", "مدرستي")), ElementsAre("school"));
  // A root keeps three letters: nothing shorter is looked up.
  EXPECT_TRUE(t.Lookup("ar", "يكتا", "يكتا").empty());
}

TEST_F(TranslatorTest, ArabicHunspellLemmasOnlyWhenNothingCloserMatched) {
  // The built lexicon directory's Arabic Hunspell dictionary (hunspell-ar).
  const std::string hunspell = LexiconDirectory() + "/hunspell/ar";
  ASSERT_TRUE(std::ifstream(hunspell + ".dic").good()) << "no hunspell-ar next to the binaries";
  Write(dir_.Sub("ar-en.lex"),
        Lex("ar", "a2", "ربح\tربح\t0\tprofit\tprofit\nيربح\tيربح\t0\tearns\tearn\n"));
  std::filesystem::create_directories(dir_.Sub("hunspell"));
  for (const char* ext : {".aff", ".dic"}) {
    std::filesystem::copy_file(hunspell + ext, dir_.Sub(std::string("hunspell/ar") + ext));
  }
  Translator t(dir_.path());
  // "تربح" (she earns): no key, no stem, no light10 form; Hunspell's lemma ربح is.
  EXPECT_THAT(English(t.Lookup("ar", "تربح", "تربح")), ElementsAre("profit"));
  // A word the lexicon has keeps its own translation only.
  EXPECT_THAT(English(t.Lookup("ar", "يربح", "يربح")), ElementsAre("earns"));
}

TEST_F(TranslatorTest, GlossaryReplacesChainedEntriesWhereNoDirectDictionaryExists) {
  const std::string two_dicts =
      "dict\t0\tpeermatch glossary\tproject 1\ndict\t1\thanja.txt+CC-CEDICT\ttest 1\n";
  Write(dir_.Sub("ko-en.lex"), "peermatch-lexicon 1\nlanguage\tko\nversion\tk2\n" + two_dicts +
                                   "이거\t이거\t0\tthis\tthis\n이거\t이거\t1\tto move away\tmove away\n"
                                   "학교\t학교\t1\tschool\tschool\n");
  Write(dir_.Sub("es-en.lex"), "peermatch-lexicon 1\nlanguage\tes\nversion\te2\n" + two_dicts +
                                   "escuela\tescuel\t0\tschool\tschool\n"
                                   "escuela\tescuel\t1\tacademy\tacademi\n");
  Translator t(dir_.path());
  // Korean: the hanja chain's homograph is dropped for the glossary's entry...
  EXPECT_THAT(English(t.Lookup("ko", "이거", "이거")), ElementsAre("this"));
  // ...and kept where the glossary has none.
  EXPECT_THAT(English(t.Lookup("ko", "학교", "학교")), ElementsAre("school"));
  // A language with direct dictionaries keeps every entry.
  EXPECT_THAT(English(t.Lookup("es", "escuela", "escuel")), ElementsAre("school", "academy"));
}

TEST_F(TranslatorTest, KoreanParticlesPrefixesAndRomanisation) {
  Translator t(dir_.path());
  EXPECT_THAT(English(t.Lookup("ko", "학교에서", "학교에서")), ElementsAre("school"));
  // No particle of the list, but a known prefix.
  EXPECT_THAT(English(t.Lookup("ko", "학교생활", "학교생활")), ElementsAre("school"));
  // Unknown: the romanisation, marked as such.
  const TranslationGroup& tom = t.Lookup("ko", "톰은", "톰은");
  ASSERT_EQ(tom.alternatives.size(), 1u);
  EXPECT_EQ(tom.alternatives[0].dictionary, kRomanisation);
  EXPECT_THAT(tom.terms, ElementsAre("tom"));
}

TEST_F(TranslatorTest, ChineseLongestMatchesInsideAWord) {
  Translator t(dir_.path());
  EXPECT_THAT(English(t.Lookup("zh", "该去", "该去")), ElementsAre("should", "go"));
  EXPECT_THAT(English(t.Lookup("zh", "去学校", "去学校")), ElementsAre("go", "school"));
}

TEST_F(TranslatorTest, VersionNamesEveryLexiconAndChangesWithOne) {
  const std::string before = Translator(dir_.path()).Version();
  EXPECT_EQ(before, "ar:a1,es:e1,ko:k1,zh:z1");
  Write(dir_.Sub("es-en.lex"), Lex("es", "e2", "escuela\tescuel\t0\tschool\tschool\n"));
  EXPECT_EQ(Translator(dir_.path()).Version(), "ar:a1,es:e2,ko:k1,zh:z1");
  EXPECT_EQ(Translator("").Version(), "");
}

TEST(TranslatorFunctions, RomanisationLight10Josa) {
  EXPECT_EQ(RomanizeHangul("톰"), "tom");
  EXPECT_EQ(RomanizeHangul("보스턴"), "boseuteon");
  EXPECT_EQ(RomanizeHangul("abc"), "abc");
  EXPECT_EQ(Light10("والكتاب"), "كتاب");
  EXPECT_EQ(Light10("المعلمون"), "معلم");
  EXPECT_EQ(Light10("من"), "من");  // too short to strip
  const std::vector<std::string> stems = ArabicStems("سيكتبون");
  EXPECT_THAT(stems, Contains("كتب"));
  EXPECT_THAT(stems, Not(Contains("سيكتبون")));
  for (size_t i = 1; i < stems.size(); ++i) EXPECT_GE(stems[i - 1].size(), stems[i].size());
  EXPECT_THAT(ArabicStems("كتب"), IsEmpty());  // already a root
  EXPECT_EQ(StripJosa("학교에서"), "학교");
  EXPECT_EQ(StripJosa("나는"), "나");
  EXPECT_EQ(StripJosa("는"), "는");  // nothing would remain
}

// The lexicons the build made (next to the test binary): real packaged
// dictionaries.
TEST(BuiltLexicons, TranslateTheNetworksLanguages) {
  const Translator& t = Translator::Default();
  ASSERT_FALSE(t.Version().empty()) << "no lexicons next to the binaries";
  for (const char* lang : {"ar", "de", "es", "fr", "it", "ko", "pt", "ru", "zh"}) {
    EXPECT_TRUE(t.Translates(lang)) << lang;
    const Lexicon* lex = t.LexiconFor(lang);
    ASSERT_NE(lex, nullptr) << lang;
    EXPECT_GT(lex->num_keys(), 3000u) << lang;
    // Every input package is named with its version.
    for (const std::string& p : lex->packages()) EXPECT_THAT(p, ::testing::ContainsRegex("[0-9]"));
  }
  EXPECT_THAT(English(t.Lookup("es", "alfabetización", "alfabetiz")), Contains("literacy"));
  EXPECT_THAT(t.Lookup("zh", "学校", "学校").terms, Contains("school"));
  EXPECT_THAT(t.Lookup("fr", "école", "écol").terms, Contains("school"));
  EXPECT_THAT(t.Lookup("ko", "학교", "학교").terms, Contains("school"));
  EXPECT_THAT(t.Lookup("ru", "школа", "школ").terms, Contains("school"));
  EXPECT_THAT(t.Lookup("de", "schule", "schul").terms, Contains("school"));
  // Hunspell lemmas: forms Snowball does not join to their headword.
  EXPECT_THAT(English(t.Lookup("es", "quiero", "quier")), Contains("love"));
  EXPECT_THAT(t.Lookup("ru", "знаю", "зна").terms, Contains("know"));
}

// Issue 13, third round: Unicode CLDR's localized names, aligned with its
// English, are a second source for Arabic and Korean: emoji names and
// keywords (펭귄 penguin, فراولة strawberry) and territory and calendar
// names (캐나다 Canada, يناير January), none of them in a glossary.
TEST(BuiltLexicons, UnicodeCldrIsASecondSourceForArabicAndKorean) {
  const Translator& t = Translator::Default();
  auto from_cldr = [&](const char* lang, const char* word) {
    std::vector<std::string> out;
    for (const Alternative& a : t.Lookup(lang, word, word).alternatives) {
      if (a.dictionary == "Unicode CLDR") out.emplace_back(a.english);
    }
    return out;
  };
  EXPECT_THAT(from_cldr("ko", "펭귄"), Contains("penguin"));
  EXPECT_THAT(from_cldr("ko", "캐나다"), Contains("canada"));
  EXPECT_THAT(from_cldr("ar", "فراولة"), Contains("strawberry"));
  EXPECT_THAT(from_cldr("ar", "يناير"), Contains("january"));
  for (const char* lang : {"ar", "ko"}) {
    EXPECT_THAT(t.LexiconFor(lang)->packages(), Contains(::testing::StartsWith("unicode-cldr-core ")))
        << lang;
  }
}

// Issue 13, second round: each rule on the built lexicons.
TEST(BuiltLexicons, KoreanConjugatedFormsReachTheirDictionaryForm) {
  const Translator& t = Translator::Default();
  // hunspell-ko: "어지러워" -> "어지럽다" (dizzy), "읽으면서" -> "읽다" (read);
  // neither form is a glossary key, and no particle or prefix rule reaches them.
  EXPECT_THAT(t.Lookup("ko", "어지러워", "어지러워").terms, Contains("dizzi"));
  EXPECT_THAT(t.Lookup("ko", "읽으면서", "읽으면서").terms, Contains("read"));
  // Particles are still stripped: "어른들이" -> "어른" (adult).
  EXPECT_THAT(t.Lookup("ko", "어른들이", "어른").terms, Contains("adult"));
}

TEST(BuiltLexicons, RussianWordFormAlsoGetsItsLemmasTranslations) {
  const Translator& t = Translator::Default();
  // The reversed dictionaries list the form "пустые" (-> vacuity); its lemma
  // "пустой" gives "empty".
  EXPECT_THAT(t.Lookup("ru", "пустые", "пуст").terms, Contains("empti"));
}

TEST(BuiltLexicons, ArabicCliticFormsAndLateLemmas) {
  const Translator& t = Translator::Default();
  // A preposition + article written onto the word: لل + كبار (adults).
  EXPECT_THAT(t.Lookup("ar", "للكبار", "كبار").terms, Contains("adult"));
  // The future prefix س and the imperfect: "سيذهب" (he will go).
  EXPECT_THAT(t.Lookup("ar", "سيذهب", "يذهب").terms, Contains("go"));
}

TEST(BuiltLexicons, KeysAreSpellingNormalizedLikeTheWordsLookedUp) {
  const Translator& t = Translator::Default();
  // FreeDict writes "استحمّ" (bathed) with a shadda; text mostly does not.
  const Lexicon* ar = t.LexiconFor("ar");
  ASSERT_NE(ar, nullptr);
  EXPECT_FALSE(ar->BySurface("استحم").empty());
  EXPECT_TRUE(ar->BySurface("استحمّ").empty());
  // A vocalized word finds the same entry.
  EXPECT_THAT(t.Lookup("ar", "استحمّ", "استحم").terms, Contains("bath"));
  // Russian ё: the glossary's "пошёл" and a text's "пошел" are one key.
  EXPECT_THAT(t.Lookup("ru", "пошел", "пошел").terms, Contains("go"));
  EXPECT_THAT(t.Lookup("ru", "пошёл", "пошел").terms, Contains("go"));
}

TEST(BuiltLexicons, TranslationsCarryEnglishIrregularForms) {
  const Translator& t = Translator::Default();
  // "마시다" -> drink: an English text says "drank".
  EXPECT_THAT(t.Lookup("ko", "마셨어요", "마셨어요").terms, Contains("drank"));
  EXPECT_THAT(t.Lookup("ru", "знаю", "зна").terms, Contains("knew"));
  // Regular forms need nothing: Snowball joins them.
  EXPECT_THAT(t.Lookup("ru", "знаю", "зна").terms, ::testing::Not(Contains("knowed")));
}

}  // namespace
}  // namespace peermatch
