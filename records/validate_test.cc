#include "records/validate.h"

#include <cmath>
#include <limits>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace peermatch {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using ::testing::AllOf;
using testing::StatusIs;

v1::City GoodCity() {
  v1::City c;
  c.set_id("sao-paulo");
  c.set_name("São Paulo");
  c.set_country("BR");
  c.set_region(v1::REGION_LATIN_AMERICA_CARIBBEAN);
  c.set_population(12300000);
  c.add_languages("pt");
  c.set_joined_year(2016);
  return c;
}

v1::Case GoodCase() {
  v1::Case c;
  c.set_id("sao-paulo-radio-lessons");
  c.set_city_id("sao-paulo");
  c.set_kind(v1::CASE_KIND_SOLUTION);
  c.set_title("Lessons on the radio");
  c.set_description("During school closures the city broadcast daily lessons.");
  c.add_themes(v1::THEME_LEARNING_TECHNOLOGIES);
  c.add_tags("covid-19");
  c.add_sdgs(4);
  c.add_target_groups("pupils");
  c.set_year(2020);
  c.set_language("pt");
  c.set_outcome("80% of pupils followed at least one lesson a week.");
  return c;
}

// Asserts INVALID_ARGUMENT whose message begins with the field path.
void ExpectInvalid(const absl::Status& s, const std::string& field) {
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument, StartsWith(field + ": ")));
}

TEST(Validate, GoodRecordsPass) {
  EXPECT_TRUE(ValidateCity(GoodCity()).ok()) << ValidateCity(GoodCity());
  EXPECT_TRUE(ValidateCase(GoodCase()).ok()) << ValidateCase(GoodCase());
}

TEST(Validate, CityIdMissingOrMalformed) {
  v1::City c = GoodCity();
  c.clear_id();
  ExpectInvalid(ValidateCity(c), "city.id");
  for (const char* bad : {"São-Paulo", "sao paulo", "-sao", "SAO", "a/b", "x\n"}) {
    c.set_id(bad);
    ExpectInvalid(ValidateCity(c), "city.id");
  }
  c.set_id(std::string(65, 'a'));
  ExpectInvalid(ValidateCity(c), "city.id");
  c.set_id(std::string(64, 'a'));
  EXPECT_TRUE(ValidateCity(c).ok());
}

TEST(Validate, CityCountryMustBeIsoAlpha2) {
  v1::City c = GoodCity();
  for (const char* bad : {"", "br", "BRA", "XX", "ZZ", "B"}) {
    c.set_country(bad);
    ExpectInvalid(ValidateCity(c), "city.country");
  }
  for (const char* good : {"CN", "IT", "IR", "CO", "KR", "BR", "ZA"}) {
    c.set_country(good);
    EXPECT_TRUE(ValidateCity(c).ok()) << good;
  }
}

TEST(Validate, CityUnknownEnumRegion) {
  v1::City c = GoodCity();
  c.set_region(v1::REGION_UNSPECIFIED);
  ExpectInvalid(ValidateCity(c), "city.region");
  c.set_region(static_cast<v1::Region>(42));  // as an unknown wire value arrives
  ExpectInvalid(ValidateCity(c), "city.region");
}

TEST(Validate, CityNameTextRules) {
  v1::City c = GoodCity();
  c.set_name("");
  ExpectInvalid(ValidateCity(c), "city.name");
  c.set_name("   ");
  ExpectInvalid(ValidateCity(c), "city.name");
  c.set_name(std::string(kMaxNameBytes + 1, 'x'));
  ExpectInvalid(ValidateCity(c), "city.name");
  c.set_name("S\xc3\x28o");  // invalid continuation byte
  ExpectInvalid(ValidateCity(c), "city.name");
  // Unicode white space and invisible marks say nothing either: U+00A0,
  // U+3000 (ideographic space), U+200B (zero width space), U+FEFF.
  for (const char* blank : {"\xc2\xa0", "\xe3\x80\x80 ", "\xe2\x80\x8b", "\xef\xbb\xbf\t"}) {
    c.set_name(blank);
    ExpectInvalid(ValidateCity(c), "city.name");
  }
  c.set_name("\xe3\x80\x80Wuhan");  // text after a blank is text
  EXPECT_TRUE(ValidateCity(c).ok());
}

TEST(Validate, CityOtherFields) {
  v1::City c = GoodCity();
  c.set_population(-1);
  ExpectInvalid(ValidateCity(c), "city.population");
  c = GoodCity();
  c.add_languages("eng");
  ExpectInvalid(ValidateCity(c), "city.languages[1]");
  c = GoodCity();
  c.add_languages("tl");  // Tagalog: ISO 639-1, though ICU calls it "fil"
  EXPECT_TRUE(ValidateCity(c).ok());
  c = GoodCity();
  c.set_joined_year(1999);
  ExpectInvalid(ValidateCity(c), "city.joined_year");
}

TEST(Validate, CityLocationRangesNameTheField) {
  v1::City c = GoodCity();
  c.mutable_location()->set_latitude(30.593);  // Wuhan
  c.mutable_location()->set_longitude(114.305);
  EXPECT_TRUE(ValidateCity(c).ok());
  for (double lat : {-90.0, 90.0}) {
    c.mutable_location()->set_latitude(lat);
    EXPECT_TRUE(ValidateCity(c).ok()) << lat;
  }
  for (double lat : {90.001, -91.0, std::nan("")}) {
    c.mutable_location()->set_latitude(lat);
    ExpectInvalid(ValidateCity(c), "city.location.latitude");
  }
  c.mutable_location()->set_latitude(0);
  for (double lon : {180.5, -181.0, std::numeric_limits<double>::infinity()}) {
    c.mutable_location()->set_longitude(lon);
    ExpectInvalid(ValidateCity(c), "city.location.longitude");
  }
  c.mutable_location()->set_longitude(-180);
  EXPECT_TRUE(ValidateCity(c).ok());
}

TEST(Validate, CaseIdsAndKind) {
  v1::Case c = GoodCase();
  c.set_id("Bad Id");
  ExpectInvalid(ValidateCase(c), "case.id");
  c = GoodCase();
  c.clear_city_id();
  ExpectInvalid(ValidateCase(c), "case.city_id");
  c = GoodCase();
  c.set_kind(v1::CASE_KIND_UNSPECIFIED);
  ExpectInvalid(ValidateCase(c), "case.kind");
  c.set_kind(static_cast<v1::CaseKind>(7));
  ExpectInvalid(ValidateCase(c), "case.kind");
}

TEST(Validate, CaseTextLimits) {
  v1::Case c = GoodCase();
  c.clear_title();
  ExpectInvalid(ValidateCase(c), "case.title");
  c = GoodCase();
  c.set_description(std::string(kMaxDescriptionBytes + 1, 'a'));
  ExpectInvalid(ValidateCase(c), "case.description");
  c.set_description(std::string(kMaxDescriptionBytes, 'a'));
  EXPECT_TRUE(ValidateCase(c).ok());
  c = GoodCase();
  c.set_description("\xff\xfe");
  ExpectInvalid(ValidateCase(c), "case.description");
  c = GoodCase();
  c.set_description("ok \xed\xa0\x80");  // an encoded UTF-16 surrogate
  ExpectInvalid(ValidateCase(c), "case.description");
  c = GoodCase();
  c.set_outcome(std::string(kMaxOutcomeBytes + 1, 'o'));
  ExpectInvalid(ValidateCase(c), "case.outcome");
}

TEST(Validate, OutcomeOnlyForSolutions) {
  v1::Case c = GoodCase();
  c.set_kind(v1::CASE_KIND_CHALLENGE);
  ExpectInvalid(ValidateCase(c), "case.outcome");
  c.clear_outcome();
  EXPECT_TRUE(ValidateCase(c).ok());
}

TEST(Validate, CaseThemes) {
  v1::Case c = GoodCase();
  c.clear_themes();
  ExpectInvalid(ValidateCase(c), "case.themes");
  c.add_themes(v1::THEME_WORKPLACE);
  c.add_themes(static_cast<v1::Theme>(99));
  ExpectInvalid(ValidateCase(c), "case.themes[1]");
  c.set_themes(1, v1::THEME_WORKPLACE);
  ExpectInvalid(ValidateCase(c), "case.themes[1]");
}

TEST(Validate, SdgsMustBeOneToSeventeen) {
  v1::Case c = GoodCase();
  c.add_sdgs(17);
  EXPECT_TRUE(ValidateCase(c).ok());
  c.add_sdgs(18);
  EXPECT_THAT(ValidateCase(c), StatusIs(absl::StatusCode::kInvalidArgument,
                                        AllOf(StartsWith("case.sdgs[2]: "), HasSubstr("18"))));
  c.set_sdgs(2, 0);
  ExpectInvalid(ValidateCase(c), "case.sdgs[2]");
}

TEST(Validate, SetsRefuseRepeatsNamingTheValue) {
  v1::Case c = GoodCase();
  c.add_sdgs(11);
  c.add_sdgs(4);  // GoodCase has 4 already, at [0]
  EXPECT_EQ(ValidateCase(c),
            absl::InvalidArgumentError("case.sdgs[2]: 4 is given twice (also case.sdgs[0])"));
  c = GoodCase();
  c.add_themes(v1::THEME_LEARNING_TECHNOLOGIES);
  EXPECT_EQ(ValidateCase(c), absl::InvalidArgumentError(
                                 "case.themes[1]: 4 is given twice (also case.themes[0])"));
  v1::City city = GoodCity();
  city.add_languages("en");
  city.add_languages("pt");
  EXPECT_EQ(ValidateCity(city), absl::InvalidArgumentError(
                                    "city.languages[2]: pt is given twice (also city.languages[0])"));
}

// A list over its limit is refused by its count, before any value is read.
TEST(Validate, EveryListHasACountLimit) {
  v1::Case c = GoodCase();
  for (int i = 0; i < 1000000; ++i) c.add_sdgs(4);
  EXPECT_EQ(ValidateCase(c), absl::InvalidArgumentError("case.sdgs: 1000001 values, at most 17"));
  c = GoodCase();
  for (int i = 0; i < 7; ++i) c.add_themes(v1::THEME_WORKPLACE);
  EXPECT_EQ(ValidateCase(c), absl::InvalidArgumentError("case.themes: 8 values, at most 6"));
  c = GoodCase();
  for (size_t i = 0; i < kMaxTags; ++i) c.add_tags("t");
  EXPECT_EQ(ValidateCase(c), absl::InvalidArgumentError("case.tags: 33 values, at most 32"));
  c = GoodCase();
  for (size_t i = 0; i < kMaxTargetGroups; ++i) c.add_target_groups("g");
  EXPECT_EQ(ValidateCase(c),
            absl::InvalidArgumentError("case.target_groups: 17 values, at most 16"));
  v1::City city = GoodCity();
  for (size_t i = 0; i < kMaxLanguages; ++i) city.add_languages("en");
  EXPECT_EQ(ValidateCity(city),
            absl::InvalidArgumentError("city.languages: 17 values, at most 16"));
  EXPECT_TRUE(ValidateCount("x", 3, 3).ok());
}

TEST(Validate, TagsGroupsYearLanguage) {
  v1::Case c = GoodCase();
  c.add_tags("");
  ExpectInvalid(ValidateCase(c), "case.tags[1]");
  c = GoodCase();
  for (int i = 0; i < 40; ++i) c.add_tags("t");
  ExpectInvalid(ValidateCase(c), "case.tags");
  c = GoodCase();
  c.add_target_groups(std::string(kMaxTargetGroupBytes + 1, 'g'));
  ExpectInvalid(ValidateCase(c), "case.target_groups[1]");
  c = GoodCase();
  c.set_year(1800);
  ExpectInvalid(ValidateCase(c), "case.year");
  c = GoodCase();
  c.set_language("english");
  ExpectInvalid(ValidateCase(c), "case.language");
}

TEST(Validate, SharedEnumAndRangeRulesNameTheField) {
  EXPECT_TRUE(ValidateTheme("themes[0]", v1::THEME_INCLUSIVE_EDUCATION).ok());
  EXPECT_EQ(ValidateTheme("themes[0]", v1::THEME_UNSPECIFIED),
            absl::InvalidArgumentError("themes[0]: unknown theme"));
  EXPECT_EQ(ValidateTheme("filters.themes[2]", 42),
            absl::InvalidArgumentError("filters.themes[2]: unknown theme"));
  EXPECT_TRUE(ValidateRegion("regions[0]", v1::REGION_AFRICA).ok());
  EXPECT_EQ(ValidateRegion("regions[1]", v1::REGION_UNSPECIFIED),
            absl::InvalidArgumentError("regions[1]: unknown region"));
  EXPECT_EQ(ValidateRegion("regions[1]", 99),
            absl::InvalidArgumentError("regions[1]: unknown region"));
  EXPECT_TRUE(ValidateSdg("sdgs[0]", kMinSdg).ok());
  EXPECT_TRUE(ValidateSdg("sdgs[0]", kMaxSdg).ok());
  EXPECT_EQ(ValidateSdg("sdgs[2]", 18), absl::InvalidArgumentError("sdgs[2]: 18 is outside 1-17"));
  EXPECT_EQ(ValidateSdg("sdgs[0]", 0), absl::InvalidArgumentError("sdgs[0]: 0 is outside 1-17"));
  EXPECT_TRUE(IsKnownCaseKind(v1::CASE_KIND_CHALLENGE));
  EXPECT_FALSE(IsKnownCaseKind(v1::CASE_KIND_UNSPECIFIED));
  EXPECT_FALSE(IsKnownCaseKind(9));
}

}  // namespace
}  // namespace peermatch
