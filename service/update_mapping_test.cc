#include "service/update_mapping.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/status_matchers.h"

namespace peermatch {
namespace {

using ::testing::ElementsAre;
using testing::StatusIs;

constexpr char kCityFields[] =
    "updatable fields: name, country, region, population, languages, joined_year, location";

v1::UpdateCityRequest CityRequest(std::initializer_list<const char*> paths) {
  v1::UpdateCityRequest req;
  req.mutable_city()->set_id("fermo");
  for (const char* p : paths) req.mutable_update_mask()->add_paths(p);
  return req;
}

TEST(UpdateMapping, UnknownNestedAndImmutablePathsNameThePathAndListTheUpdatable) {
  EXPECT_THAT(ToCityUpdate(CityRequest({"name", "nmae"})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       std::string("update_mask.paths[1]: \"nmae\" is not a field of City; ") +
                           kCityFields));
  EXPECT_THAT(ToCityUpdate(CityRequest({"name.first"})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::HasSubstr("\"name.first\" is not a field of City")));
  EXPECT_THAT(ToCityUpdate(CityRequest({"id"})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       std::string("update_mask.paths[0]: \"id\" cannot change: it names the "
                                   "city; ") + kCityFields));
  v1::UpdateCaseRequest c;
  c.mutable_case_()->set_id("fermo-radio");
  c.mutable_update_mask()->add_paths("kind_of");
  EXPECT_THAT(ToCaseUpdate(c),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "update_mask.paths[0]: \"kind_of\" is not a field of Case; updatable "
                       "fields: city_id, kind, title, description, themes, tags, sdgs, "
                       "target_groups, year, language, outcome"));
}

TEST(UpdateMapping, TheServersLanguageFieldsAreNotUpdatable) {
  // Issue 13: every write sets them; a mask naming one is refused...
  v1::UpdateCaseRequest c;
  c.mutable_case_()->set_id("fermo-radio");
  c.mutable_update_mask()->add_paths("detectedLanguage");
  EXPECT_THAT(ToCaseUpdate(c),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::StartsWith("update_mask.paths[0]: \"detectedLanguage\" is set "
                                             "by the server; updatable fields: city_id")));
  // ..."*" leaves them out, and a body as GET returns it updates the rest.
  c.mutable_update_mask()->set_paths(0, "*");
  auto all = ToCaseUpdate(c);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_THAT(all->fields, ElementsAre("city_id", "kind", "title", "description", "themes", "tags",
                                       "sdgs", "target_groups", "year", "language", "outcome"));
  auto body = UpdateCaseRequestFromJson(
      "fermo-radio", R"({"year": 2020, "detectedLanguage": "it", "languageSource": "LANGUAGE_SOURCE_DETECTED"})",
      "");
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_THAT(ToCaseUpdate(*body)->fields, ElementsAre("year"));
}

TEST(UpdateMapping, TheRecordAndItsIdAreRequired) {
  v1::UpdateCityRequest req;
  EXPECT_THAT(ToCityUpdate(req), StatusIs(absl::StatusCode::kInvalidArgument,
                                          "city: is required (its id names the record)"));
  req = CityRequest({"name"});
  req.mutable_city()->set_id("Not A Slug");
  EXPECT_THAT(ToCityUpdate(req),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::StartsWith("city.id: ")));
  // No mask and nothing set but the id: nothing to do is an error, not a
  // silent success.
  EXPECT_THAT(ToCityUpdate(CityRequest({})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::StartsWith("update_mask: is empty and city sets no field")));
}

TEST(UpdateMapping, PathsInProtoOrJsonNamesOnceInFieldOrder) {
  auto u = ToCityUpdate(CityRequest({"joinedYear", "name", "joined_year"}));
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->id, "fermo");
  EXPECT_THAT(u->fields, ElementsAre("name", "joined_year"));
  u = ToCityUpdate(CityRequest({"*"}));
  EXPECT_THAT(u->fields, ElementsAre("name", "country", "region", "population", "languages",
                                     "joined_year", "location"));
  // Without a mask: the fields the request sets.
  v1::UpdateCityRequest req = CityRequest({});
  req.mutable_city()->set_population(5);
  req.mutable_city()->add_languages("it");
  EXPECT_THAT(ToCityUpdate(req)->fields, ElementsAre("population", "languages"));
}

TEST(UpdateMapping, ApplyChangesOnlyTheNamedFieldsAndClearsEmptyOnes) {
  v1::City stored = testing::City("fermo");
  stored.set_population(37000);
  stored.add_languages("it");
  stored.add_languages("en");
  stored.set_joined_year(2016);
  v1::UpdateCityRequest req = CityRequest({"name", "population", "languages"});
  req.mutable_city()->set_name("Fermo (FM)");
  req.mutable_city()->add_languages("de");  // replaces both
  req.mutable_city()->set_joined_year(1999);  // not in the mask: ignored
  ApplyUpdate(*ToCityUpdate(req), &stored);
  v1::City expected = testing::City("fermo");
  expected.set_name("Fermo (FM)");
  expected.add_languages("de");
  expected.set_joined_year(2016);
  EXPECT_EQ(stored.ShortDebugString(), expected.ShortDebugString());
}

TEST(UpdateMapping, PatchBodyGivesTheMaskFromItsKeysOrTheQuery) {
  auto req = UpdateCityRequestFromJson("fermo", R"({"name": "Fermo", "joinedYear": null})", "");
  ASSERT_TRUE(req.ok()) << req.status();
  EXPECT_EQ(req->city().id(), "fermo");
  EXPECT_EQ(req->city().name(), "Fermo");
  EXPECT_THAT(ToCityUpdate(*req)->fields, ElementsAre("name", "joined_year"));

  req = UpdateCityRequestFromJson("fermo", R"({"name": "Fermo", "population": 5})",
                                  "population, languages");
  ASSERT_TRUE(req.ok()) << req.status();
  EXPECT_THAT(ToCityUpdate(*req)->fields, ElementsAre("population", "languages"));

  auto c = UpdateCaseRequestFromJson("fermo-radio", R"({"id": "fermo-radio", "year": 2020})", "");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(ToCaseUpdate(*c)->fields, ElementsAre("year"));
}

TEST(UpdateMapping, PatchBodyErrorsSayWhatIsWrong) {
  EXPECT_THAT(UpdateCityRequestFromJson("fermo", R"({"nmae": "x"})", ""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       std::string("body: \"nmae\" is not a field of City; ") + kCityFields));
  EXPECT_THAT(UpdateCityRequestFromJson("fermo", R"({"id": "turin", "name": "x"})", ""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "id: the body's id \"turin\" differs from the path's \"fermo\"; an id "
                       "cannot change"));
  EXPECT_THAT(UpdateCityRequestFromJson("fermo", "[1, 2]", ""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "body: must be a JSON object with the City fields to change"));
  EXPECT_THAT(UpdateCityRequestFromJson("fermo", R"({"population": "many"})", ""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::StartsWith("body: is not a City in JSON: ")));
  EXPECT_THAT(UpdateCityRequestFromJson("fermo", R"({"name": "x"})", "name,,"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "updateMask: has an empty path (a comma too many?)"));
  // An unknown path in the query is ToCityUpdate's to name.
  auto req = UpdateCityRequestFromJson("fermo", R"({"name": "x"})", "nmae");
  ASSERT_TRUE(req.ok());
  EXPECT_THAT(ToCityUpdate(*req), StatusIs(absl::StatusCode::kInvalidArgument,
                                           ::testing::HasSubstr("\"nmae\" is not a field")));
}

}  // namespace
}  // namespace peermatch
