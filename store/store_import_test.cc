// Store::PutBatch and load markers (store_import.cc), over real RocksDB.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/store.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace peermatch {
namespace {

using ::testing::ElementsAre;
using testing::StatusIs;
using testing::TempDir;

v1::Case MakeCase(const std::string& id, const std::string& city, const std::string& title) {
  return testing::Case(id, city, v1::CASE_KIND_SOLUTION, title, "Description of " + id,
                       v1::THEME_WORKPLACE);
}

// Every record the store holds, as "city:ID;" and "case:ID@CITY:TITLE;".
std::string Records(const Store& store) {
  std::string out;
  bool more = false;
  const std::vector<v1::City> cities = *store.ListCities("", 1000, nullptr, &more);
  for (const auto& c : cities) out += "city:" + c.id() + ";";
  const std::vector<v1::Case> cases = *store.ListCases("", "", 1000, nullptr, &more);
  for (const auto& c : cases) out += "case:" + c.id() + "@" + c.city_id() + ":" + c.title() + ";";
  // The city index agrees with the cases.
  for (const auto& city : cities) {
    const std::vector<v1::Case> of_city = *store.ListCases(city.id(), "", 1000, nullptr, &more);
    for (const auto& c : of_city) out += "in:" + city.id() + "/" + c.id() + ";";
  }
  return out;
}

std::vector<std::string> Outcomes(const Store::BatchOutcome& o) {
  std::vector<std::string> out;
  for (const auto& r : o.results) {
    out.push_back(!r.ok() ? std::string(absl::StatusCodeToString(r.status().code()))
                  : *r == PutResult::kCreated ? "created"
                  : *r == PutResult::kUpdated ? "updated"
                                              : "unchanged");
  }
  return out;
}

TEST(StoreBatch, ACaseMayNameACityEarlierInTheBatchAndAllIsWrittenTogether) {
  TempDir dir;
  auto store = *Store::Open(dir.Sub("db"));
  const v1::City town = testing::City("example-town", "IT");
  const v1::Case radio = MakeCase("radio", "example-town", "Radio");
  const v1::Case radio_again = MakeCase("radio", "example-town", "Radio, second version");
  auto outcome = store->PutBatch({{&town}, {nullptr, &radio}, {nullptr, &radio_again}}, false);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_TRUE(outcome->written);
  EXPECT_THAT(Outcomes(*outcome), ElementsAre("created", "created", "updated"));
  EXPECT_EQ(Records(*store),
            "city:example-town;case:radio@example-town:Radio, second version;"
            "in:example-town/radio;");
  // The same batch again changes nothing.
  outcome = store->PutBatch({{&town}, {nullptr, &radio_again}}, false);
  EXPECT_THAT(Outcomes(*outcome), ElementsAre("unchanged", "unchanged"));
}

TEST(StoreBatch, ACaseMovedTwiceInOneBatchIsIndexedUnderItsLastCityOnly) {
  TempDir dir;
  auto store = *Store::Open(dir.Sub("db"));
  const v1::City a = testing::City("town-a", "IT"), b = testing::City("town-b", "IT");
  const v1::Case in_a = MakeCase("radio", "town-a", "Radio");
  const v1::Case in_b = MakeCase("radio", "town-b", "Radio");
  const CaseVector vector{1, "vector"};
  auto outcome = store->PutBatch(
      {{&a}, {&b}, {nullptr, &in_a, &vector}, {nullptr, &in_b, &vector}}, false);
  ASSERT_TRUE(outcome.ok());
  EXPECT_THAT(Outcomes(*outcome), ElementsAre("created", "created", "created", "updated"));
  EXPECT_EQ(Records(*store), "city:town-a;city:town-b;case:radio@town-b:Radio;in:town-b/radio;");
  EXPECT_EQ(*store->GetVector(1, "radio"), "vector");
}

TEST(StoreBatch, ARejectedRecordLeavesNothingWrittenAndItsCasesFindNoCity) {
  TempDir dir;
  auto store = *Store::Open(dir.Sub("db"));
  const v1::City stored = testing::City("stored", "IT");
  ASSERT_TRUE(store->PutCity(stored).ok());
  const std::string before = Records(*store);
  const v1::City bad = testing::City("bad", "ITA");
  const v1::Case of_bad = MakeCase("of-bad", "bad", "Of bad");
  const v1::Case moved = MakeCase("moved", "stored", "Moved");
  auto outcome = store->PutBatch({{&bad}, {nullptr, &of_bad}, {nullptr, &moved}, {}}, false);
  ASSERT_TRUE(outcome.ok());
  EXPECT_FALSE(outcome->written);
  EXPECT_THAT(Outcomes(*outcome),
              ElementsAre("INVALID_ARGUMENT", "NOT_FOUND", "created", "INVALID_ARGUMENT"));
  EXPECT_THAT(outcome->results[3], StatusIs(absl::StatusCode::kInvalidArgument,
                                            "record: holds neither a city nor a case"));
  EXPECT_EQ(Records(*store), before);
}

TEST(StoreBatch, ADryRunWritesNothingEvenWhenEveryRecordIsGood) {
  TempDir dir;
  auto store = *Store::Open(dir.Sub("db"));
  const v1::City town = testing::City("example-town", "IT");
  auto outcome = store->PutBatch({{&town}}, true);
  ASSERT_TRUE(outcome.ok());
  EXPECT_FALSE(outcome->written);
  EXPECT_THAT(Outcomes(*outcome), ElementsAre("created"));
  EXPECT_EQ(Records(*store), "");
}

TEST(StoreBatch, LoadMarkersAreAbsentUntilWrittenAndSurviveAReopen) {
  TempDir dir;
  {
    auto store = *Store::Open(dir.Sub("db"));
    EXPECT_THAT(store->GetLoadMarker("demo"), StatusIs(absl::StatusCode::kNotFound));
    ASSERT_TRUE(store->PutLoadMarker("demo", "loaded").ok());
  }
  auto store = *Store::Open(dir.Sub("db"));
  EXPECT_EQ(*store->GetLoadMarker("demo"), "loaded");
  EXPECT_THAT(store->GetLoadMarker("other"), StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace peermatch
