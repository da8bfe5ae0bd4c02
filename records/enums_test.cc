#include "records/enums.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace peermatch {
namespace {

using ::testing::HasSubstr;
using testing::StatusIs;

TEST(EnumShortNames, ListEveryValueButUnspecifiedInNumberOrder) {
  EXPECT_EQ(EnumShortNames<v1::Region>(),
            "africa, arab-states, asia-pacific, europe-north-america, latin-america-caribbean");
  EXPECT_EQ(EnumShortNames<v1::Theme>(),
            "inclusive-education, families-communities, workplace, learning-technologies, "
            "quality-excellence, culture-of-learning");
  EXPECT_EQ(EnumShortNames<v1::CaseKind>(), "challenge, solution");
  EXPECT_EQ(EnumShortName(v1::REGION_ASIA_PACIFIC), "asia-pacific");
  EXPECT_EQ(EnumShortName(static_cast<v1::Region>(99)), "");
}

TEST(ParseEnumValue, AcceptsEveryClientsSpellings) {
  for (const char* spelling : {"asia-pacific", "asia_pacific", "Asia Pacific", "ASIA_PACIFIC",
                               "REGION_ASIA_PACIFIC", " asia-pacific ", "3"}) {
    absl::StatusOr<v1::Region> r = ParseEnumValue<v1::Region>("region", spelling);
    ASSERT_TRUE(r.ok()) << spelling << ": " << r.status();
    EXPECT_EQ(*r, v1::REGION_ASIA_PACIFIC) << spelling;
  }
  EXPECT_EQ(*ParseEnumValue<v1::Theme>("theme", "culture-of-learning"),
            v1::THEME_CULTURE_OF_LEARNING);
  EXPECT_EQ(*ParseEnumValue<v1::CaseKind>("kind", "solution"), v1::CASE_KIND_SOLUTION);
}

TEST(ParseEnumValue, RefusesUnknownAndUnspecifiedListingTheValidValues) {
  EXPECT_THAT(ParseEnumValue<v1::Region>("region", "atlantis"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "region: \"atlantis\" is not a region; use one of africa, arab-states, "
                       "asia-pacific, europe-north-america, latin-america-caribbean"));
  EXPECT_THAT(ParseEnumValue<v1::CaseKind>("--kind", "unspecified"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "--kind: \"unspecified\" is not a case kind; use one of challenge, solution"));
  EXPECT_THAT(ParseEnumValue<v1::Theme>("theme", "0"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("is not a theme")));
  EXPECT_THAT(ParseEnumValue<v1::Theme>("theme", "99"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("is not a theme")));
  EXPECT_THAT(ParseEnumValue<v1::Theme>("theme", ""),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("use one of inclusive-")));
}

TEST(ParseEnumValue, QuotesHostileValuesSafely) {
  // Invalid UTF-8 is escaped, a long value cut: the message stays valid
  // UTF-8 and short.
  absl::Status s = ParseEnumValue<v1::Region>("region", "\xff\xfe").status();
  EXPECT_THAT(s.message(), HasSubstr("\"\\xff\\xfe\" is not a region"));
  s = ParseEnumValue<v1::Region>("region", std::string(10000, 'x')).status();
  EXPECT_THAT(s.message(), HasSubstr(std::string(64, 'x') + "...\" is not a region"));
  EXPECT_LT(s.message().size(), 250u);
}

}  // namespace
}  // namespace peermatch
