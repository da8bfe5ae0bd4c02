#include "records/case_language.h"

#include "gtest/gtest.h"

namespace peermatch {
namespace {

v1::Case Case(const char* title, const char* description, const char* language = "") {
  v1::Case c;
  c.set_id("c");
  c.set_title(title);
  c.set_description(description);
  c.set_language(language);
  return c;
}

TEST(SetCaseLanguage, DetectsWhenNotStated) {
  v1::Case c = Case("Ateliers numériques pour les seniors",
                    "La médiathèque propose chaque semaine des ateliers pour apprendre à utiliser "
                    "une tablette, envoyer des courriels et prendre rendez-vous chez le médecin.");
  SetCaseLanguage(&c);
  EXPECT_EQ(c.detected_language(), "fr");
  EXPECT_GE(c.language_confidence(), 0.9f);
  EXPECT_EQ(c.language_source(), v1::LANGUAGE_SOURCE_DETECTED);
  EXPECT_EQ(c.analysis_language(), "fr");
  EXPECT_EQ(c.language(), "");  // the stated field is the writer's: untouched
  EXPECT_EQ(CaseAnalysisLanguage(c), "fr");
}

TEST(SetCaseLanguage, AStatedLanguageWinsAndDetectionDoesNotRun) {
  v1::Case c = Case("Ateliers numériques pour les seniors",
                    "La médiathèque propose chaque semaine des ateliers.", "es");
  // Values a client sent are replaced.
  c.set_detected_language("de");
  c.set_language_confidence(0.7f);
  SetCaseLanguage(&c);
  EXPECT_EQ(c.detected_language(), "");
  EXPECT_EQ(c.language_confidence(), 0);
  EXPECT_EQ(c.language_source(), v1::LANGUAGE_SOURCE_STATED);
  EXPECT_EQ(CaseAnalysisLanguage(c), "es");
}

TEST(SetCaseLanguage, FallsBackWhenNotConfident) {
  v1::Case c = Case("Hola", "2024");
  SetCaseLanguage(&c, "pt");
  EXPECT_EQ(c.language_source(), v1::LANGUAGE_SOURCE_DEFAULT);
  EXPECT_EQ(c.analysis_language(), "pt");
  EXPECT_LT(c.language_confidence(), 0.2f);
  // An empty fallback: language-neutral analysis.
  SetCaseLanguage(&c, "");
  EXPECT_EQ(c.analysis_language(), "");
  EXPECT_EQ(CaseAnalysisLanguage(c), "");
}

TEST(SetCaseLanguage, IsDeterministic) {
  v1::Case a = Case("Учебные центры для пожилых людей",
                    "Городская библиотека открыла курсы цифровой грамотности.");
  v1::Case b = a;
  SetCaseLanguage(&a);
  SetCaseLanguage(&b);
  SetCaseLanguage(&b);  // again, over its own output
  EXPECT_EQ(a.SerializeAsString(), b.SerializeAsString());
  EXPECT_EQ(a.analysis_language(), "ru");
}

TEST(CaseAnalysisLanguage, ACaseStoredBeforeDetectionKeepsItsRules) {
  // No language_source: written by a build without detection.
  EXPECT_EQ(CaseAnalysisLanguage(Case("t", "d")), "en");
  EXPECT_EQ(CaseAnalysisLanguage(Case("t", "d", "de")), "de");
}

}  // namespace
}  // namespace peermatch
