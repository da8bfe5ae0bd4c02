#include "text/internal/language_rules.h"

#include <string>

#include "gtest/gtest.h"

namespace peermatch::text_internal {
namespace {

std::string Normalized(const char* language, const char* word) {
  std::string w = word;
  NormalizeWord(language, &w);
  return w;
}

TEST(NormalizeWord, ArabicHarakatTatweelAlefAndYa) {
  EXPECT_EQ(Normalized("ar", "مُعَلِّم"), "معلم");     // harakat
  EXPECT_EQ(Normalized("ar", "تعـــليم"), "تعليم");    // tatweel
  EXPECT_EQ(Normalized("ar", "أمية"), "امية");         // alef with hamza above
  EXPECT_EQ(Normalized("ar", "إعداد"), "اعداد");       // alef with hamza below
  EXPECT_EQ(Normalized("ar", "آداب"), "اداب");         // alef with madda
  EXPECT_EQ(Normalized("ar", "مستوى"), "مستوي");       // alef maqsura
  EXPECT_EQ(Normalized("ar", "مدرسة"), "مدرسة");       // nothing to do
  // Only Arabic is normalized so.
  EXPECT_EQ(Normalized("fa", "أمية"), "أمية");
}

TEST(NormalizeWord, RussianYo) {
  EXPECT_EQ(Normalized("ru", "учёба"), "учеба");
  EXPECT_EQ(Normalized("ru", "ещё"), "еще");
  EXPECT_EQ(Normalized("uk", "учёба"), "учёба");
}

TEST(StripElision, FrenchAndItalian) {
  EXPECT_EQ(StripElision("fr", "l'école"), "école");
  EXPECT_EQ(StripElision("fr", "d'alphabétisation"), "alphabétisation");
  EXPECT_EQ(StripElision("fr", "qu'il"), "il");
  EXPECT_EQ(StripElision("fr", "jusqu'à"), "à");
  EXPECT_EQ(StripElision("it", "dell'infanzia"), "infanzia");
  EXPECT_EQ(StripElision("it", "l'apprendimento"), "apprendimento");
  // Not an elision, or not these languages: unchanged.
  EXPECT_EQ(StripElision("fr", "aujourd'hui"), "aujourd'hui");
  EXPECT_EQ(StripElision("fr", "l'"), "l'");
  EXPECT_EQ(StripElision("en", "l'école"), "l'école");
}

TEST(StripKoreanSuffixes, ParticlesPluralAndEndings) {
  EXPECT_EQ(StripKoreanSuffixes("학교에서"), "학교");
  EXPECT_EQ(StripKoreanSuffixes("도서관은"), "도서관");
  EXPECT_EQ(StripKoreanSuffixes("학생들은"), "학생");
  EXPECT_EQ(StripKoreanSuffixes("노인을"), "노인");
  EXPECT_EQ(StripKoreanSuffixes("지원합니다"), "지원");
  EXPECT_EQ(StripKoreanSuffixes("교육으로"), "교육");
  // A two-syllable word keeps a last syllable that only looks like a particle.
  EXPECT_EQ(StripKoreanSuffixes("나이"), "나이");
  EXPECT_EQ(StripKoreanSuffixes("제도"), "제도");
  // Not Korean: unchanged.
  EXPECT_EQ(StripKoreanSuffixes("school"), "school");
}

}  // namespace
}  // namespace peermatch::text_internal
