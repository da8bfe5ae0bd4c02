// Builders for the small records tests write: the fields every valid city and
// case needs, nothing more. A test that needs another field sets it on what a
// builder returns.
//
//   ASSERT_TRUE(store->PutCity(testing::City("fermo")).ok());
//   ASSERT_TRUE(store->PutCity(testing::City("wuhan", "CN", v1::REGION_ASIA_PACIFIC)).ok());
//   ASSERT_TRUE(store->PutCase(testing::Solution("fermo-radio", "fermo", "Radio lessons",
//                                                "Daily radio lessons for pupils")).ok());
//
// Header-only; links against nothing but the generated model.
#ifndef PEERMATCH_TESTS_TESTING_FIXTURES_H_
#define PEERMATCH_TESTS_TESTING_FIXTURES_H_

#include <string>

#include "peermatch/v1/model.pb.h"

namespace peermatch::testing {

// A valid city named after its id.
inline v1::City City(const std::string& id, const std::string& country = "IT",
                     v1::Region region = v1::REGION_EUROPE_NORTH_AMERICA) {
  v1::City c;
  c.set_id(id);
  c.set_name(id);
  c.set_country(country);
  c.set_region(region);
  return c;
}

// A valid case of `kind` in `city`, with one theme and no SDGs, tags, year or
// language.
inline v1::Case Case(const std::string& id, const std::string& city, v1::CaseKind kind,
                     const std::string& title, const std::string& text, v1::Theme theme) {
  v1::Case c;
  c.set_id(id);
  c.set_city_id(city);
  c.set_kind(kind);
  c.set_title(title);
  c.set_description(text);
  c.add_themes(theme);
  return c;
}

// Case() of kind SOLUTION.
inline v1::Case Solution(const std::string& id, const std::string& city, const std::string& title,
                         const std::string& text,
                         v1::Theme theme = v1::THEME_LEARNING_TECHNOLOGIES) {
  return Case(id, city, v1::CASE_KIND_SOLUTION, title, text, theme);
}

// Case() of kind CHALLENGE.
inline v1::Case Challenge(const std::string& id, const std::string& city,
                          const std::string& title, const std::string& text,
                          v1::Theme theme = v1::THEME_LEARNING_TECHNOLOGIES) {
  return Case(id, city, v1::CASE_KIND_CHALLENGE, title, text, theme);
}

}  // namespace peermatch::testing

#endif  // PEERMATCH_TESTS_TESTING_FIXTURES_H_
