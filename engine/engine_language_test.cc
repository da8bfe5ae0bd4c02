// Issue 13: the language of cases and queries as the engine records and
// uses it (detection when not stated, the stated language winning, the
// query's language in answers, a refit when the analysis rules change).
#include <memory>
#include <string>

#include "engine/engine.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "peermatch/internal/matcher_data.pb.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_engine.h"

namespace peermatch {
namespace {

using testing::City;

constexpr char kFrench[] =
    "La médiathèque propose chaque semaine des ateliers pour apprendre à utiliser une "
    "tablette, envoyer des courriels et prendre rendez-vous chez le médecin en ligne.";
constexpr char kEnglish[] =
    "The library runs weekly workshops where older adults learn to use a tablet, send "
    "emails and book a doctor's appointment online.";

class EngineLanguageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(engine().PutCity(City("liege", "BE")).ok());
    ASSERT_TRUE(engine().PutCity(City("leeds", "GB")).ok());
  }
  Engine& engine() { return *test_.engine; }
  v1::Case Stored(const std::string& id) {
    auto c = test_.store->GetCase(id);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *c : v1::Case();
  }

  testing::TempDir dir_;
  testing::TestEngine test_{dir_.Sub("db")};
};

TEST_F(EngineLanguageTest, ACaseWithoutLanguageIsStoredWithTheDetectedOne) {
  ASSERT_TRUE(engine()
                  .PutCase(testing::Solution("liege-ateliers", "liege", "Ateliers numériques",
                                             kFrench))
                  .ok());
  const v1::Case c = Stored("liege-ateliers");
  EXPECT_EQ(c.language(), "");
  EXPECT_EQ(c.detected_language(), "fr");
  EXPECT_GE(c.language_confidence(), 0.9f);
  EXPECT_EQ(c.language_source(), v1::LANGUAGE_SOURCE_DETECTED);
  EXPECT_EQ(c.analysis_language(), "fr");
  // Putting it again changes nothing: detection is deterministic.
  auto again =
      engine().PutCase(testing::Solution("liege-ateliers", "liege", "Ateliers numériques", kFrench));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, PutResult::kUnchanged);
  // The filter on the case's language sees the detected one.
  SimilarQuery q;
  q.about.text = "ateliers tablette médecin";
  q.filters.languages = {"fr"};
  auto found = engine().SimilarCases(q);
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_EQ(found->cases.items.size(), 1u);
  EXPECT_EQ(found->cases.items[0].record.id(), "liege-ateliers");
}

TEST_F(EngineLanguageTest, AStatedLanguageWins) {
  v1::Case c = testing::Solution("liege-ateliers", "liege", "Ateliers numériques", kFrench);
  c.set_language("es");
  c.set_detected_language("de");  // a client's value is replaced
  ASSERT_TRUE(engine().PutCase(c).ok());
  const v1::Case stored = Stored("liege-ateliers");
  EXPECT_EQ(stored.language_source(), v1::LANGUAGE_SOURCE_STATED);
  EXPECT_EQ(stored.analysis_language(), "es");
  EXPECT_EQ(stored.detected_language(), "");
}

TEST_F(EngineLanguageTest, ImportsAndUpdatesSetTheFieldsToo) {
  std::vector<v1::ImportRecord> records(1);
  *records[0].mutable_case_() =
      testing::Solution("leeds-tablets", "leeds", "Tablet workshops", kEnglish);
  auto outcome = engine().ImportBatch(records, /*dry_run=*/false, Visibility::kOnReturn);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(Stored("leeds-tablets").analysis_language(), "en");
  EXPECT_EQ(Stored("leeds-tablets").language_source(), v1::LANGUAGE_SOURCE_DETECTED);
  auto updated = engine().UpdateCase("leeds-tablets", [](v1::Case* c) {
    c->set_description(kFrench);
    return absl::OkStatus();
  });
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->analysis_language(), "fr");  // what it returns is what it stored
  EXPECT_EQ(Stored("leeds-tablets").analysis_language(), "fr");
}

TEST_F(EngineLanguageTest, AnswersSayWhichLanguageTheQueryWasAnalyzedIn) {
  ASSERT_TRUE(engine()
                  .PutCase(testing::Solution("liege-ateliers", "liege", "Ateliers numériques",
                                             kFrench))
                  .ok());
  ASSERT_TRUE(
      engine().PutCase(testing::Solution("leeds-tablets", "leeds", "Tablet workshops", kEnglish))
          .ok());
  MatchQuery m;
  m.about.text = "Des ateliers pour que les personnes âgées apprennent à utiliser une tablette";
  auto matched = engine().Match(m);
  ASSERT_TRUE(matched.ok()) << matched.status();
  EXPECT_EQ(matched->query_language.language, "fr");
  EXPECT_EQ(matched->query_language.detected, "fr");
  EXPECT_EQ(matched->query_language.source, v1::LANGUAGE_SOURCE_DETECTED);
  EXPECT_GT(matched->query_language.confidence, 0.5);
  // Stated: no detection.
  m.about.language = "en";
  matched = engine().Match(m);
  ASSERT_TRUE(matched.ok());
  EXPECT_EQ(matched->query_language.language, "en");
  EXPECT_EQ(matched->query_language.source, v1::LANGUAGE_SOURCE_STATED);
  EXPECT_EQ(matched->query_language.detected, "");
  // A single word: not confident, so the default.
  m.about.language.clear();
  m.about.text = "tablette";
  matched = engine().Match(m);
  ASSERT_TRUE(matched.ok());
  EXPECT_EQ(matched->query_language.language, "en");
  EXPECT_EQ(matched->query_language.source, v1::LANGUAGE_SOURCE_DEFAULT);
  // A stored case: its own.
  SimilarQuery s;
  s.about.case_id = "liege-ateliers";
  auto similar = engine().SimilarCases(s);
  ASSERT_TRUE(similar.ok()) << similar.status();
  EXPECT_EQ(similar->query_language.language, "fr");
  EXPECT_EQ(similar->query_language.source, v1::LANGUAGE_SOURCE_DETECTED);
}

TEST(EngineLanguage, AModelFittedWithOtherAnalysisRulesIsRefittedAtOpen) {
  testing::TempDir dir;
  uint64_t fitted = 0;
  {
    testing::TestEngine test(dir.Sub("db"));
    ASSERT_TRUE(test.engine->PutCity(City("leeds", "GB")).ok());
    ASSERT_TRUE(test.engine
                    ->PutCase(testing::Solution("leeds-tablets", "leeds", "Tablets", kEnglish))
                    .ok());
    ASSERT_TRUE(test.engine->Refit().ok());
    test.engine.reset();
    // As an older build would have stored it: no analyzer version.
    fitted = *test.store->CurrentModelVersion();
    internal::ModelData data;
    ASSERT_TRUE(data.ParseFromString(*test.store->GetModel(fitted)));
    EXPECT_EQ(data.analyzer_version(), kAnalyzerVersion);
    data.clear_analyzer_version();
    ASSERT_TRUE(test.store->CommitModel(fitted, data.SerializeAsString()).ok());
  }
  uint64_t refitted = 0;
  {
    testing::TestEngine reopened(dir.Sub("db"));
    refitted = *reopened.store->CurrentModelVersion();
    EXPECT_GT(refitted, fitted);
    internal::ModelData data;
    ASSERT_TRUE(data.ParseFromString(*reopened.store->GetModel(refitted)));
    EXPECT_EQ(data.analyzer_version(), kAnalyzerVersion);
  }
  // With the current rules, opening again does not refit.
  testing::TestEngine again(dir.Sub("db"));
  EXPECT_EQ(*again.store->CurrentModelVersion(), refitted);
}

}  // namespace
}  // namespace peermatch
