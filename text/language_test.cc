#include "text/language.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "text/analyzer.h"

namespace peermatch {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::Contains;

struct Sample {
  const char* language;
  const char* short_text;  // a query-sized sentence
  const char* long_text;   // a case-sized paragraph
};

// Written for this test, on learning-city themes.
const Sample kSamples[] = {
    {"en", "Evening literacy classes for adult migrants",
     "The city library opened evening literacy classes for adult migrants. Volunteers "
     "teach reading and writing twice a week, and the classes end with a certificate "
     "that employers recognise."},
    {"fr", "Des cours d'alphabétisation pour les parents",
     "La ville a ouvert des cours d'alphabétisation dans les bibliothèques de quartier. "
     "Les parents apprennent à lire avec leurs enfants le samedi matin, et les "
     "bénévoles les accompagnent tout au long de l'année."},
    {"es", "Talleres de informática para las personas mayores del barrio",
     "El ayuntamiento organiza talleres de habilidades digitales para personas mayores "
     "en los centros cívicos. Los jóvenes voluntarios enseñan a usar el teléfono, la "
     "banca en línea y las citas médicas por internet."},
    {"pt", "Educação infantil nas comunidades rurais",
     "A prefeitura levou a educação infantil às comunidades rurais com professoras "
     "itinerantes. As crianças de três a cinco anos brincam e aprendem em espaços "
     "comunitários, e as famílias participam das atividades."},
    {"de", "Sprachkurse für Geflüchtete in der Stadtbibliothek",
     "Die Stadtbibliothek bietet Sprachkurse für Geflüchtete an. Ehrenamtliche "
     "Lernbegleiter helfen beim Lesen und Schreiben, und die Volkshochschule stellt "
     "die Räume und das Lernmaterial zur Verfügung."},
    {"it", "Corsi di alfabetizzazione digitale per anziani",
     "Il comune ha aperto corsi di alfabetizzazione digitale per gli anziani nei "
     "centri sociali. I ragazzi delle scuole superiori insegnano a usare lo "
     "smartphone e i servizi pubblici in rete."},
    {"ru", "Курсы цифровой грамотности для пожилых людей",
     "Городская библиотека открыла курсы цифровой грамотности для пожилых людей. "
     "Волонтёры из университета учат пользоваться смартфоном, онлайн-банком и "
     "записью к врачу через интернет."},
    {"ar", "برنامج محو الأمية للنساء في الأحياء",
     "أطلقت المدينة برنامجا لمحو الأمية للنساء في الأحياء الشعبية. تتعلم المشاركات "
     "القراءة والكتابة والحساب في المراكز المجتمعية، وتحصل كل واحدة على شهادة في "
     "نهاية البرنامج."},
    {"zh", "为老年人开设的数字技能课程",
     "市图书馆为老年人开设了数字技能课程。大学生志愿者每周两次教老人使用智能手机、"
     "网上银行和网上预约挂号，课程结束后颁发结业证书。"},
    {"ko", "노인을 위한 디지털 교육 프로그램",
     "시립 도서관은 노인을 위한 디지털 교육 프로그램을 운영합니다. 대학생 자원봉사자들이 "
     "스마트폰 사용법과 인터넷 뱅킹, 온라인 병원 예약 방법을 가르칩니다."},
};

TEST(DetectLanguage, ShortTextsOfEachLanguage) {
  for (const Sample& s : kSamples) {
    const LanguageGuess g = DetectLanguage(s.short_text);
    EXPECT_EQ(g.code, s.language) << s.short_text;
    EXPECT_GE(g.confidence, kMinDetectionConfidence) << s.short_text;
    EXPECT_LE(g.confidence, 1.0) << s.short_text;
  }
}

TEST(DetectLanguage, LongTextsOfEachLanguageAreConfident) {
  for (const Sample& s : kSamples) {
    const LanguageGuess g = DetectLanguage(s.long_text);
    EXPECT_EQ(g.code, s.language) << s.long_text;
    // CLD2 calls them reliable, and nearly all of the text is the language.
    EXPECT_GE(g.confidence, 0.9) << s.long_text;
  }
}

TEST(DetectLanguage, TraditionalChineseIsChinese) {
  const LanguageGuess g = DetectLanguage(
      "市圖書館為老年人開設了數位技能課程。大學生志工每週兩次教長者使用智慧型手機與網路銀行。");
  EXPECT_EQ(g.code, "zh");
  EXPECT_GE(g.confidence, 0.9);
}

TEST(DetectLanguage, MixedTextListsEachLanguage) {
  const std::string english = kSamples[0].long_text, french = kSamples[1].long_text;
  const LanguageGuess g = DetectLanguage(english + " " + french);
  ASSERT_GE(g.parts.size(), 2u);
  EXPECT_THAT(g.parts, Contains(Field(&LanguageShare::code, "en")));
  EXPECT_THAT(g.parts, Contains(Field(&LanguageShare::code, "fr")));
  // Neither language is the whole text, so the main one is not fully trusted.
  EXPECT_LT(g.parts[0].share, 0.8);
  EXPECT_LT(g.confidence, 0.8);
  EXPECT_TRUE(g.code == "en" || g.code == "fr") << g.code;
}

TEST(DetectLanguage, ASingleWordHasLowConfidence) {
  for (const char* word : {"literacy", "Hola", "Привет", "مرحبا", "学习"}) {
    const LanguageGuess g = DetectLanguage(word);
    EXPECT_LT(g.confidence, kMinDetectionConfidence) << word << " -> " << g.code;
  }
}

TEST(DetectLanguage, NoLettersNoLanguage) {
  for (const char* text : {"", "12345", "?!", "   "}) {
    const LanguageGuess g = DetectLanguage(text);
    EXPECT_EQ(g.code, "") << text;
    EXPECT_EQ(g.confidence, 0) << text;
    EXPECT_TRUE(g.parts.empty()) << text;
  }
}

TEST(DetectLanguage, InvalidUtf8DoesNotCrash) {
  const LanguageGuess g = DetectLanguage(std::string("Les \xff\xfe parents apprennent \xc3", 30));
  EXPECT_LE(g.confidence, 1.0);
}

constexpr char kSwahili[] =
    "Maktaba ya jiji inatoa madarasa ya kusoma na kuandika kwa watu wazima kila jioni. "
    "Wajitolea wanafundisha mara mbili kwa wiki katika vituo vya jamii.";

TEST(DetectLanguage, AnUnsupportedLanguageGetsItsCodeAndNeutralAnalysis) {
  const LanguageGuess g = DetectLanguage(kSwahili);
  EXPECT_EQ(g.code, "sw");
  const ResolvedLanguage r = ResolveLanguage("", kSwahili, "en");
  EXPECT_EQ(r.analysis, "sw");
  EXPECT_EQ(r.source, LanguageSource::kDetected);
  // Neither English stopwords ("a" stays) nor English stemming
  // ("madarasa", not "madarasa" -> "madarasa"; "watu" stays "watu",
  // "wanafundisha" keeps its ending).
  EXPECT_THAT(Analyzer().Terms("kwa watu wazima wanafundisha", r.analysis),
              ElementsAre("kwa", "watu", "wazima", "wanafundisha"));
  EXPECT_THAT(Analyzer().Terms("classes teaching", r.analysis),
              ElementsAre("classes", "teaching"));
}

TEST(ResolveLanguage, AStatedLanguageAlwaysWins) {
  const ResolvedLanguage r = ResolveLanguage("pt", kSamples[1].long_text, "en");
  EXPECT_EQ(r.analysis, "pt");
  EXPECT_EQ(r.source, LanguageSource::kStated);
  EXPECT_EQ(r.detected, "");  // detection does not run
  EXPECT_EQ(r.confidence, 0);
}

TEST(ResolveLanguage, DetectsWhenNotStated) {
  const ResolvedLanguage r = ResolveLanguage("", kSamples[6].long_text, "en");
  EXPECT_EQ(r.analysis, "ru");
  EXPECT_EQ(r.source, LanguageSource::kDetected);
  EXPECT_EQ(r.detected, "ru");
  EXPECT_GE(r.confidence, 0.9);
}

TEST(ResolveLanguage, FallsBackBelowTheConfidenceThreshold) {
  ResolvedLanguage r = ResolveLanguage("", "Hola", "en");
  EXPECT_EQ(r.analysis, "en");
  EXPECT_EQ(r.source, LanguageSource::kDefault);
  EXPECT_LT(r.confidence, kMinDetectionConfidence);
  r = ResolveLanguage("", "2024", "");
  EXPECT_EQ(r.analysis, "");
  EXPECT_EQ(r.source, LanguageSource::kDefault);
  EXPECT_EQ(r.detected, "");
}

}  // namespace
}  // namespace peermatch

namespace peermatch {
namespace {

TEST(DetectLanguage, OnlyTheStartOfALongTextIsLookedAt) {
  // A French start then a long English rest: the start decides.
  std::string text = "Les parents apprennent à lire avec leurs enfants à la bibliothèque. ";
  while (text.size() < kMaxDetectionBytes) text += "Les ateliers ont lieu le samedi matin. ";
  const std::string french_only = DetectLanguage(text).code;
  for (int i = 0; i < 200; ++i) text += "The library runs reading workshops for families. ";
  EXPECT_EQ(french_only, "fr");
  EXPECT_EQ(DetectLanguage(text).code, "fr");
  // A multi-byte character across the cut does not matter.
  std::string cut(kMaxDetectionBytes - 1, 'a');
  cut += "é and then English words about the library and its reading workshops";
  EXPECT_LE(DetectLanguage(cut).confidence, 1.0);
}

}  // namespace
}  // namespace peermatch
