#include "text/analyzer.h"

#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
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
  // A language without rules, or none: segmented and case-folded only,
  // never English rules (no stemming, and "the" is no stopword).
  EXPECT_THAT(a.Terms("Learning 学习", "xx"), ElementsAre("learning", "学习"));
  EXPECT_THAT(a.Terms("The Cities learning", ""), ElementsAre("the", "cities", "learning"));
}

TEST(Analyzer, OnlyTheJoinedFormOfACompoundIsMarkedCompound) {
  Analyzer a;
  std::vector<std::string> seen;
  for (const Token& t : a.Analyze("home-learning recognition-of-prior-learning radio", "en")) {
    seen.push_back(absl::StrCat(t.surface, t.compound ? "+" : ""));
  }
  EXPECT_THAT(seen, ElementsAre("home", "learning", "homelearning+", "recognition", "prior",
                                "learning", "recognitionofpriorlearning+", "radio"));
}

TEST(Analyzer, FunctionWordsOfAnyLanguage) {
  // The lists' stopwords, whatever the language: English, French, Spanish,
  // German; and French function words the French list leaves out.
  for (const char* w : {"the", "les", "pour", "los", "und", "pendant", "plus", "très"}) {
    EXPECT_TRUE(IsFunctionWordOfAnyLanguage(w)) << w;
  }
  for (const char* w : {"radio", "pupils", "écoles", "bibliothèque", "internet", ""}) {
    EXPECT_FALSE(IsFunctionWordOfAnyLanguage(w)) << w;
  }
  // Analysis is unchanged: "pendant" stays a French term.
  EXPECT_THAT(Analyzer().Terms("pendant la fermeture", "fr"), ElementsAre("pend", "fermetur"));
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

// Tokens as "term/surface" strings, to compare two analyses.
std::vector<std::string> Flat(const std::vector<Token>& tokens) {
  std::vector<std::string> out;
  for (const Token& t : tokens) out.push_back(t.term + "/" + t.surface);
  return out;
}

// The fast path (ASCII without ICU, other text piece by piece) must give
// exactly what ICU gives for the whole text.
TEST(Analyzer, FastPathEqualsIcuOnRandomText) {
  Analyzer fast;
  AnalyzerOptions icu_only;
  icu_only.ascii_fast_path = false;
  Analyzer icu(icu_only);
  std::vector<std::string> alphabet;
  for (int c = 1; c < 128; ++c) alphabet.push_back(std::string(1, static_cast<char>(c)));
  // Weighted towards the characters the word rules treat specially, and
  // some non-ASCII: accents (composed and combining), Greek, an en dash,
  // U+2010 hyphen, NBSP, U+2019, CJK, the "ﬁ" ligature, a fullwidth digit.
  for (const char* s : {"a", "e", "i", "o", "0", "1", "_", ".", "'", ",", ";", "@", "-", " ",
                        " ", "A", "Z", "é", "\u0301", "β", "–", "\u2010", "\u00a0", "\u2019",
                        "学", "习", "ﬁ", "\uff11"}) {
    alphabet.push_back(s);
  }
  std::mt19937 rng(7);
  for (int round = 0; round < 100000; ++round) {
    std::string text;
    const int len = 1 + static_cast<int>(rng() % 24);
    // Half the texts pure ASCII (the whole-text fast path), half mixed.
    const size_t range = round % 2 == 0 ? 127 : alphabet.size();
    for (int i = 0; i < len; ++i) text += alphabet[rng() % range];
    for (const char* lang : {"en", "fr"}) {
      ASSERT_EQ(Flat(fast.Analyze(text, lang)), Flat(icu.Analyze(text, lang)))
          << "text: \"" << text << "\" language " << lang;
    }
  }
}

TEST(Analyzer, FastPathEqualsIcuOnProse) {
  Analyzer fast;
  AnalyzerOptions icu_only;
  icu_only.ascii_fast_path = false;
  Analyzer icu(icu_only);
  const char* const texts[] = {
      "IL-6 and TNF-alpha levels (p < 0.05) rose 3.5-fold in 1,000 patients; e.g. i.e. "
      "don't can't O'Brien's x@y.org snake_case __init__ 12_000 v2.0.1 covid-19-related",
      "Lifelong learning for ALL: the city's 2nd plan -- 'learning festivals', e-learning.",
      "β-amyloid (Aβ) levels fell by 10–20 µg in São Paulo's ﬁrst café-based programme",
  };
  for (const char* text : texts) {
    EXPECT_EQ(Flat(fast.Analyze(text, "en")), Flat(icu.Analyze(text, "en")));
    EXPECT_EQ(Flat(fast.Analyze(text, "fr")), Flat(icu.Analyze(text, "fr")));
  }
}

// More distinct words than a thread's cache holds (2^17): the cache starts
// over in a new word space, and frequent words are still right afterwards.
TEST(Analyzer, BoundedWordCacheStartsOverCorrectly) {
  Analyzer a;
  const std::string probe = "libraries cities learning the adults";
  const auto before = Flat(a.Analyze(probe, "en"));
  WordRef first;
  a.Scan("libraries", "en", [&](absl::string_view, absl::string_view, WordRef w) { first = w; });
  std::string text;
  for (int i = 0; i < 140000; ++i) {
    std::string word = "zq";
    for (int n = i; n > 0; n /= 26) word += static_cast<char>('a' + n % 26);
    text += word + " ";
    if (text.size() > 60000) {
      a.Analyze(text, "en");
      text.clear();
      // Frequent words between the new ones, as in real text.
      ASSERT_EQ(Flat(a.Analyze(probe, "en")), before);
    }
  }
  a.Analyze(text, "en");
  EXPECT_EQ(Flat(a.Analyze(probe, "en")), before);
  WordRef after;
  a.Scan("libraries", "en", [&](absl::string_view, absl::string_view, WordRef w) { after = w; });
  EXPECT_NE(after.space, first.space) << "the cache was cleared once";
}

// A thread keeps a few languages' caches; cycling through more gives the
// same terms as a first use of each.
TEST(Analyzer, ManyLanguagesOnOneThread) {
  Analyzer a;
  const char* const languages[] = {"en", "fr", "de", "es", "pt", "it", "nl", "sv", "xx"};
  std::vector<std::vector<std::string>> first;
  for (const char* lang : languages) first.push_back(Flat(a.Analyze("Libraries and cities", lang)));
  for (int round = 0; round < 3; ++round) {
    for (size_t i = 0; i < std::size(languages); ++i) {
      EXPECT_EQ(Flat(a.Analyze("Libraries and cities", languages[i])), first[i]) << languages[i];
    }
  }
  EXPECT_EQ(first[0], (std::vector<std::string>{"librari/libraries", "citi/cities"}));
}

TEST(Analyzer, ScanGivesTheSameTermsAsAnalyze) {
  Analyzer a;
  const std::string text = "Learning cities: covid-19 recovery plans for 1,000 adults";
  std::vector<std::string> scanned;
  std::vector<WordRef> refs;
  a.Scan(text, "en", [&](absl::string_view term, absl::string_view surface, WordRef word) {
    scanned.push_back(std::string(term) + "/" + std::string(surface));
    refs.push_back(word);
  });
  EXPECT_EQ(scanned, Flat(a.Analyze(text, "en")));
  EXPECT_THAT(scanned, Contains("covid19/covid19"));
  // Words carry a reference, equal for equal words; numbers none.
  std::vector<WordRef> again;
  a.Scan("plans covid 1,000", "en",
         [&](absl::string_view, absl::string_view, WordRef word) { again.push_back(word); });
  ASSERT_EQ(again.size(), 3u);
  // learn citi covid 19 covid19 recoveri plan 1000 adult
  ASSERT_EQ(refs.size(), 9u);
  EXPECT_EQ(again[0].space, refs[6].space);  // "plans"
  EXPECT_EQ(again[0].index, refs[6].index);
  EXPECT_EQ(again[1].index, refs[2].index);  // "covid"
  EXPECT_EQ(refs[3].index, WordRef::kNone);  // "19"
  EXPECT_NE(again[0].index, again[1].index);
  EXPECT_EQ(again[2].index, WordRef::kNone);
  // Another language numbers its words in another space.
  WordRef french;
  a.Scan("plans", "fr", [&](absl::string_view, absl::string_view, WordRef word) { french = word; });
  EXPECT_NE(french.space, again[0].space);
}

// The translator analyses words in other languages from a Scan's callback
// while a case is embedded: the outer Scan must give the terms it gives
// alone (ASCII and ICU paths, hyphen chains, every language), and each
// nested Scan what it gives alone. Before the scratch was per nesting
// depth, the nested Scans reset the outer one's word list and break
// iterator.
TEST(Analyzer, NestedScansChangeNeitherTheOuterNorTheInnerTerms) {
  Analyzer a;
  const std::vector<std::pair<std::string, std::string>> texts = {
      {"en", "Learning cities build state-of-the-art community libraries for adults"},
      {"fr", "L'alphabétisation des adultes dans les centres communautaires d'apprentissage"},
      {"es", "Alfabetización digital para personas mayores en bibliotecas públicas"},
      {"de", "Lebenslanges Lernen für Erwachsene in öffentlichen Bibliotheken"},
      {"ru", "Обучение взрослых цифровым навыкам в городских библиотеках"},
      {"ar", "محو الأمية للكبار في المكتبات العامة والمراكز المجتمعية"},
      {"zh", "社区学习中心为老年人提供数字技能培训"},
      {"ko", "평생학습 도시는 성인을 위한 디지털 교육을 제공합니다"},
  };
  const char* const others[] = {"en", "fr", "es", "de", "ru", "ar", "zh", "ko", "pt"};
  for (size_t i = 0; i < texts.size(); ++i) {
    const auto& [language, text] = texts[i];
    const std::vector<std::string> alone = a.Terms(text, language);
    ASSERT_GE(alone.size(), 3u) << language;
    // Nested: every other text of the list (longer and shorter than what
    // is left of the outer one, ASCII and not), then the term itself, each
    // in every language.
    std::vector<std::string> outer;
    a.Scan(text, language, [&](absl::string_view term, absl::string_view, WordRef) {
      std::vector<std::string> nested_texts;
      for (size_t j = 1; j < texts.size(); ++j) {
        nested_texts.push_back(texts[(i + j) % texts.size()].second);
      }
      nested_texts.emplace_back(term);
      for (const char* other : others) {
        for (const std::string& nested_text : nested_texts) {
          std::vector<std::string> inner;
          a.Scan(nested_text, other, [&](absl::string_view t, absl::string_view, WordRef) {
            inner.emplace_back(t);
          });
          EXPECT_EQ(inner, a.Terms(nested_text, other)) << language << " in " << other;
        }
      }
      outer.emplace_back(term);  // after the nested Scans: the view is still valid
    });
    EXPECT_EQ(outer, alone) << language;
  }
}

}  // namespace
}  // namespace peermatch

namespace peermatch {
namespace {

TEST(AnalyzerLanguages, FrenchAndItalianElisionsAreSplitOff) {
  Analyzer a;
  // The article goes (it is a stopword), the noun is stemmed as itself.
  EXPECT_THAT(a.Terms("l'école d'alphabétisation", "fr"), ElementsAre("écol", "alphabétis"));
  EXPECT_EQ(a.Terms("l'école", "fr"), a.Terms("école", "fr"));
  EXPECT_EQ(a.Terms("L’Éducation", "fr"), a.Terms("éducation", "fr"));  // typographic apostrophe
  EXPECT_EQ(a.Terms("dell'infanzia", "it"), a.Terms("infanzia", "it"));
  // Only in those languages.
  EXPECT_THAT(a.Terms("l'école", "en"), ElementsAre("l'école"));
}

TEST(AnalyzerLanguages, ArabicIsNormalizedBeforeStopwordsAndStemming) {
  Analyzer a;
  // Hamza forms, harakat and tatweel do not make different terms.
  EXPECT_EQ(a.Terms("أمية", "ar"), a.Terms("امية", "ar"));
  EXPECT_EQ(a.Terms("تَعْلِيم", "ar"), a.Terms("تعليم", "ar"));
  EXPECT_EQ(a.Terms("تعـــليم", "ar"), a.Terms("تعليم", "ar"));
  // في and على are stopwords (Savoy's list); the content words stay.
  EXPECT_EQ(a.Terms("في المدرسة على", "ar").size(), 1u);
}

TEST(AnalyzerLanguages, RussianYoAndFullStopwordList) {
  Analyzer a;
  EXPECT_EQ(a.Terms("учёба", "ru"), a.Terms("учеба", "ru"));
  // "для", "и", "в" are Snowball stopwords; nouns are stemmed.
  EXPECT_THAT(a.Terms("курсы для пожилых людей и в библиотеке", "ru"),
              ElementsAre("курс", "пожил", "люд", "библиотек"));
}

TEST(AnalyzerLanguages, KoreanParticlesAreStrippedFromTheTerm) {
  Analyzer a;
  const auto tokens = a.Analyze("학교에서 학생들은 도서관을", "ko");
  std::vector<std::string> terms, surfaces;
  for (const Token& t : tokens) {
    terms.push_back(t.term);
    surfaces.push_back(t.surface);
  }
  EXPECT_THAT(terms, ElementsAre("학교", "학생", "도서관"));
  // The surface is the word as written (its character 4-grams stay).
  EXPECT_THAT(surfaces, ElementsAre("학교에서", "학생들은", "도서관을"));
}

TEST(AnalyzerLanguages, ChineseStopwordsAreDropped) {
  Analyzer a;
  EXPECT_THAT(a.Terms("我们的学习城市", "zh"), ElementsAre("学习", "城市"));
  // Without the language, nothing is dropped.
  EXPECT_THAT(a.Terms("我们的学习城市", ""), ElementsAre("我们", "的", "学习", "城市"));
}

TEST(AnalyzerLanguages, FullSnowballListsForTheOtherLanguages) {
  Analyzer a;
  // Function words the abridged lists lacked: Spanish "estaba", German
  // "dieser", Portuguese "estava", Italian "nostri".
  EXPECT_THAT(a.Terms("estaba la biblioteca", "es"), ElementsAre("bibliotec"));
  EXPECT_THAT(a.Terms("dieser Bibliothek", "de"), ElementsAre("bibliothek"));
  EXPECT_THAT(a.Terms("estava a biblioteca", "pt"), ElementsAre("bibliotec"));
  EXPECT_THAT(a.Terms("nostri bambini", "it"), ElementsAre("bambin"));
}

}  // namespace
}  // namespace peermatch

namespace peermatch {
namespace {

// Issue 13: the spelling normalization alone, for translate/'s lexicon keys.
TEST(NormalizedWord, OnlyTheLanguagesSpellingRules) {
  EXPECT_EQ(NormalizedWord("ar", "أَحْمَد"), "احمد");
  EXPECT_EQ(NormalizedWord("ar", "مستشفى"), "مستشفي");
  EXPECT_EQ(NormalizedWord("ru", "пошёл"), "пошел");
  // Not stemmed, and other languages' words untouched.
  EXPECT_EQ(NormalizedWord("ru", "школами"), "школами");
  EXPECT_EQ(NormalizedWord("en", "пошёл"), "пошёл");
  EXPECT_EQ(NormalizedWord("fr", "élève"), "élève");
}

}  // namespace
}  // namespace peermatch
