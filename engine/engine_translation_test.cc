// Matching across languages (issue 13): on a small fixed corpus of English
// solutions, a Spanish, a Chinese and an Arabic challenge each find the
// English solution on their topic, and the evidence names the translation
// that matched. Uses the lexicons the build made from packaged
// dictionaries (bin/lexicon).
#include <set>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_engine.h"

namespace peermatch {
namespace {

using ::testing::Contains;
using ::testing::Field;
using ::testing::AllOf;
using testing::City;

class EngineTranslationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const auto& [city, country] : std::vector<std::pair<std::string, std::string>>{
             {"leeds", "GB"}, {"austin", "US"}, {"perth", "AU"}, {"ottawa", "CA"},
             {"dublin", "IE"}, {"bogota", "CO"}}) {
      ASSERT_TRUE(engine().PutCity(City(city, country)).ok());
    }
    Put(testing::Solution("leeds-literacy", "leeds", "Evening literacy classes for adults",
                          "Adults who cannot read or write learn in evening literacy classes "
                          "at community libraries."));
    Put(testing::Solution("austin-digital", "austin", "Computer lessons for older people",
                          "Volunteers teach older people to use computers and the internet."));
    Put(testing::Solution("perth-youth", "perth", "Apprenticeships for unemployed youth",
                          "Young people without jobs get vocational training and apprenticeships "
                          "with local employers; unemployment fell."));
    Put(testing::Solution("ottawa-climate", "ottawa", "Pupils plant trees",
                          "Schoolchildren plant trees and measure air quality near their school."));
    Put(testing::Solution("dublin-health", "dublin", "Health walks in parks",
                          "Nurses lead weekly walks in city parks for patients with diabetes."));
    // A Spanish solution: found by an English challenge through its
    // translated words.
    Put(testing::Solution("bogota-libraries", "bogota", "Bibliotecas móviles en los barrios",
                          "Una biblioteca móvil lleva libros a los barrios sin biblioteca."),
        "es");
    ASSERT_THAT(engine().Refit(), testing::IsOk());
  }
  void Put(v1::Case c, const std::string& language = "en") {
    c.set_language(language);
    auto r = engine().PutCase(c);
    ASSERT_TRUE(r.ok()) << r.status();
  }
  // The best evidence of the first peer for a challenge text.
  Evidence Best(const std::string& text, const std::string& language) {
    MatchQuery q;
    q.about.text = text;
    q.about.language = language;
    auto r = engine().Match(q);
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok() || r->peers.items.empty() || r->peers.items[0].evidence.empty()) return {};
    return r->peers.items[0].evidence[0];
  }
  Engine& engine() { return *test_.engine; }

  testing::TempDir dir_;
  testing::TestEngine test_{dir_.Sub("db")};
};

auto TranslationOf(const std::string& source, const std::string& language,
                   const std::string& target) {
  return Field(&SharedTerm::translation,
               AllOf(Field(&SharedTerm::Translation::source_word, source),
                     Field(&SharedTerm::Translation::source_language, language),
                     Field(&SharedTerm::Translation::target_word, target)));
}

TEST_F(EngineTranslationTest, SpanishChallengeFindsTheEnglishSolution) {
  const Evidence e = Best("Alfabetización de adultos: muchos adultos no saben leer ni escribir", "es");
  EXPECT_EQ(e.case_id, "leeds-literacy");
  EXPECT_THAT(e.shared_terms, Contains(TranslationOf("alfabetización", "es", "literacy")));
}

TEST_F(EngineTranslationTest, ChineseChallengeFindsTheEnglishSolution) {
  const Evidence e = Best("老年人不会使用电脑和互联网", "zh");
  EXPECT_EQ(e.case_id, "austin-digital");
  EXPECT_THAT(e.shared_terms, Contains(TranslationOf("电脑", "zh", "computer")));
}

TEST_F(EngineTranslationTest, ArabicChallengeFindsTheEnglishSolution) {
  const Evidence e = Best("البطالة بين الشباب: الشباب بدون عمل يحتاجون إلى التدريب المهني", "ar");
  EXPECT_EQ(e.case_id, "perth-youth");
  EXPECT_THAT(e.shared_terms, Contains(TranslationOf("البطالة", "ar", "unemployment")));
}

// Issue 13, second round: the rules that reduce a word to a dictionary
// entry, each through the engine.
TEST_F(EngineTranslationTest, ArabicChallengeWithCliticFormsFindsTheEnglishSolution) {
  // لل (for the) + كبار (adults); و (and) + ال + كتابة (writing); مسائية
  // (evening).
  const Evidence e = Best("دروس مسائية في القراءة والكتابة للكبار", "ar");
  EXPECT_EQ(e.case_id, "leeds-literacy");
  EXPECT_THAT(e.shared_terms, Contains(TranslationOf("للكبار", "ar", "adult")));
}

TEST_F(EngineTranslationTest, KoreanChallengeWithParticlesAndEndingsFindsTheEnglishSolution) {
  // 어른들이: 어른 (adult) + plural 들 + subject particle 이; 읽으면서: 읽다
  // (read) conjugated ("while reading"), reduced by hunspell-ko.
  const Evidence e = Best("어른들이 저녁에 읽으면서 배워요", "ko");
  EXPECT_EQ(e.case_id, "leeds-literacy");
  EXPECT_THAT(e.shared_terms, Contains(TranslationOf("읽으면서", "ko", "read")));
}

TEST_F(EngineTranslationTest, RussianChallengeWithInflectedFormsFindsTheEnglishSolution) {
  // Instrumental plurals: компьютерами (computers), интернетом (the internet).
  const Evidence e = Best("Пожилые люди учатся пользоваться компьютерами и интернетом", "ru");
  EXPECT_EQ(e.case_id, "austin-digital");
  EXPECT_THAT(e.shared_terms, Contains(TranslationOf("компьютерами", "ru", "computer")));
}

TEST_F(EngineTranslationTest, EnglishChallengeFindsTheSpanishSolution) {
  const Evidence e = Best("A mobile library for neighbourhoods without books", "en");
  EXPECT_EQ(e.case_id, "bogota-libraries");
}

TEST_F(EngineTranslationTest, EachSharedWordIsListedOnce) {
  // A Spanish challenge and the Spanish solution share "biblioteca" twice
  // over: as the Spanish term itself and through its translation "library",
  // which the solution's own translated words carry too. One shared term,
  // with that translation.
  const Evidence e = Best("Una biblioteca móvil para los barrios", "es");
  EXPECT_EQ(e.case_id, "bogota-libraries");
  std::set<std::string> seen;
  for (const SharedTerm& t : e.shared_terms) EXPECT_TRUE(seen.insert(t.term).second) << t.term;
  EXPECT_THAT(e.shared_terms, Contains(TranslationOf("biblioteca", "es", "library")));
}

TEST_F(EngineTranslationTest, EnglishIsNeverTranslated) {
  const Evidence e = Best("Evening classes for adults who cannot read", "en");
  EXPECT_EQ(e.case_id, "leeds-literacy");
  for (const SharedTerm& t : e.shared_terms) EXPECT_TRUE(t.translation.dictionary.empty()) << t.term;
}

}  // namespace
}  // namespace peermatch
