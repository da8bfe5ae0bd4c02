// Store::AddJudgement and ListJudgements (issue 14) on a real RocksDB.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/backup.h"
#include "store/store.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace peermatch {
namespace {

using ::testing::HasSubstr;
using testing::StatusIs;
using testing::TempDir;

// One line per judgement: challenge, solution, label, source.
std::string Render(const Store& store) {
  auto all = store.ListJudgements();
  EXPECT_TRUE(all.ok()) << all.status();
  std::string out;
  for (const v1::Judgement& j : *all) {
    out += (j.challenge_case_id().empty() ? "text:" + j.challenge_text() : j.challenge_case_id()) +
           " " + j.solution_case_id() + " " + (j.relevant() ? "+" : "-") + " " +
           v1::Judgement::Source_Name(j.source()) + "\n";
  }
  return out;
}

v1::Judgement Judge(const std::string& challenge, const std::string& solution, bool relevant) {
  v1::Judgement j;
  j.set_challenge_case_id(challenge);
  j.set_solution_case_id(solution);
  j.set_relevant(relevant);
  j.set_source(v1::Judgement::SOURCE_ROUND_DECISION);
  return j;
}

class JudgementsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = Open();
    ASSERT_TRUE(store_->PutCity(testing::City("fermo")).ok());
    ASSERT_TRUE(store_->PutCity(testing::City("wuhan", "CN", v1::REGION_ASIA_PACIFIC)).ok());
    ASSERT_TRUE(store_->PutCase(testing::Challenge("fermo-offline", "fermo", "Pupils offline",
                                                   "No internet at home")).ok());
    ASSERT_TRUE(store_->PutCase(testing::Solution("wuhan-air", "wuhan", "Air classroom",
                                                  "Lessons on television")).ok());
    ASSERT_TRUE(store_->PutCase(testing::Solution("wuhan-radio", "wuhan", "Radio",
                                                  "Lessons on the radio")).ok());
  }
  std::unique_ptr<Store> Open() {
    auto s = Store::Open(dir_.Sub("db"));
    EXPECT_TRUE(s.ok()) << s.status();
    return *std::move(s);
  }
  TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(JudgementsTest, AreKeptAcrossRestartsAndTheLatestOfAPairWins) {
  ASSERT_TRUE(store_->AddJudgement(Judge("fermo-offline", "wuhan-air", true)).ok());
  ASSERT_TRUE(store_->AddJudgement(Judge("fermo-offline", "wuhan-radio", true)).ok());
  v1::Judgement text;
  text.set_challenge_text("radio lessons");
  text.set_solution_case_id("wuhan-radio");
  text.set_source(v1::Judgement::SOURCE_MATCH_FEEDBACK);
  auto stored = store_->AddJudgement(text);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_GT(stored->time_micros(), 0) << "the time is set";
  // Decided again: declined after all.
  ASSERT_TRUE(store_->AddJudgement(Judge("fermo-offline", "wuhan-radio", false)).ok());
  const std::string expected =
      "fermo-offline wuhan-air + SOURCE_ROUND_DECISION\n"
      "fermo-offline wuhan-radio - SOURCE_ROUND_DECISION\n"
      "text:radio lessons wuhan-radio - SOURCE_MATCH_FEEDBACK\n";
  EXPECT_EQ(Render(*store_), expected);
  store_.reset();
  store_ = Open();
  EXPECT_EQ(Render(*store_), expected);
}

TEST_F(JudgementsTest, BadJudgementsNameTheFieldAndWriteNothing) {
  EXPECT_THAT(store_->AddJudgement(Judge("atlantis", "wuhan-air", true)),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("challenge_case_id: no case")));
  EXPECT_THAT(store_->AddJudgement(Judge("fermo-offline", "atlantis", true)),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("solution_case_id: no case")));
  EXPECT_THAT(store_->AddJudgement(Judge("wuhan-air", "fermo-offline", true)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("solution_case_id: case \"fermo-offline\" is not a solution")));
  v1::Judgement both = Judge("fermo-offline", "wuhan-air", true);
  both.set_challenge_text("and a text");
  EXPECT_THAT(store_->AddJudgement(both),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("challenge_case_id: set exactly one")));
  v1::Judgement blank = Judge("", "wuhan-air", true);
  blank.set_challenge_text(" \n ");
  EXPECT_THAT(store_->AddJudgement(blank),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("challenge_text: is only white space")));
  v1::Judgement source = Judge("fermo-offline", "wuhan-air", true);
  source.set_source(static_cast<v1::Judgement::Source>(99));
  EXPECT_THAT(store_->AddJudgement(source),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("source: 99")));
  EXPECT_EQ(Render(*store_), "");
}

TEST_F(JudgementsTest, BackupAndRestoreCarryThem) {
  ASSERT_TRUE(store_->AddJudgement(Judge("fermo-offline", "wuhan-air", true)).ok());
  ASSERT_TRUE(store_->Backup(dir_.Sub("backups"), 0).ok());
  store_.reset();
  ASSERT_TRUE(RestoreBackup(dir_.Sub("backups"), dir_.Sub("restored"), 0).ok());
  auto restored = Store::Open(dir_.Sub("restored"));
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(Render(**restored), "fermo-offline wuhan-air + SOURCE_ROUND_DECISION\n");
}

}  // namespace
}  // namespace peermatch
