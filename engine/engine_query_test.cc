// Match and SimilarCases: what their answers may show (shared terms, rows
// with evidence, min_score), on small corpora written for each behaviour.
#include <set>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_engine.h"

namespace peermatch {
namespace {

using ::testing::Contains;
using ::testing::IsSupersetOf;
using ::testing::Not;
using testing::City;
using testing::StatusIs;

class EngineQueryTest : public ::testing::Test {
 protected:
  void Put(v1::Case c, const std::string& language = "en") {
    c.set_language(language);
    auto r = engine().PutCase(c);
    ASSERT_TRUE(r.ok()) << r.status();
  }
  void PutCity(const std::string& id, const std::string& country) {
    ASSERT_TRUE(engine().PutCity(City(id, country)).ok());
  }
  Engine& engine() { return *test_.engine; }

  testing::TempDir dir_;
  testing::TestEngine test_{dir_.Sub("db")};
};

std::vector<std::string> Terms(const std::vector<SharedTerm>& terms) {
  std::vector<std::string> out;
  for (const SharedTerm& t : terms) out.push_back(t.term);
  return out;
}

// The demo's bug: tags such as "home-learning" were shown as the glued
// token "homelearning", and French texts showed "pendant" and "plus".
TEST_F(EngineQueryTest, SharedTermsAreWordsTheTextsWroteAndNoFunctionWords) {
  PutCity("cork", "IE");
  PutCity("bristol", "GB");
  PutCity("dakar", "SN");
  PutCity("bouake", "CI");
  v1::Case challenge = testing::Challenge(
      "cork-rpl", "cork", "Early years practitioners without recognised qualifications",
      "Many practitioners learned on the job and need recognition of prior learning; "
      "home-learning packs help parents");
  challenge.add_tags("recognition-of-prior-learning");
  challenge.add_tags("home-learning");
  Put(challenge);
  v1::Case solution = testing::Solution(
      "bristol-rpl", "bristol", "Recognition of prior learning for care workers",
      "Care workers have their prior learning assessed; home-learning packs support them");
  solution.add_tags("recognition-of-prior-learning");
  solution.add_tags("home-learning");
  Put(solution);
  Put(testing::Challenge("bouake-abandons", "bouake", "Abandons dans les centres d'alphabétisation",
                         "Pendant la crise, plus de la moitié des apprenants abandonnent les "
                         "centres d'alphabétisation"),
      "fr");
  Put(testing::Solution("dakar-radio", "dakar", "L'école à la radio",
                        "Pendant la fermeture des écoles, plus de leçons à la radio pour les "
                        "apprenants des centres d'alphabétisation"),
      "fr");
  ASSERT_THAT(engine().Refit(), testing::IsOk());

  MatchQuery by_case;
  by_case.about.case_id = "cork-rpl";
  auto r = engine().Match(by_case);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_FALSE(r->peers.items.empty());
  ASSERT_EQ(r->peers.items[0].evidence[0].case_id, "bristol-rpl");
  const std::vector<std::string> english = Terms(r->peers.items[0].evidence[0].shared_terms);
  EXPECT_THAT(english, IsSupersetOf({"recognition", "prior", "home"}));
  EXPECT_THAT(english, Not(Contains("recognitionofpriorlearning")));
  EXPECT_THAT(english, Not(Contains("homelearning")));

  // The French pair, asked in French and (wrongly) as English text.
  for (const char* language : {"fr", "en"}) {
    SimilarQuery similar;
    similar.about.text =
        "Pendant la crise, plus de la moitié des apprenants abandonnent les centres";
    similar.about.language = language;
    similar.kind = v1::CASE_KIND_SOLUTION;
    auto s = engine().SimilarCases(similar);
    ASSERT_TRUE(s.ok()) << s.status();
    ASSERT_FALSE(s->cases.items.empty()) << language;
    const std::vector<std::string> french = Terms(s->cases.items[0].shared_terms);
    EXPECT_THAT(french, Contains("apprenants")) << language;
    for (const char* function_word : {"pendant", "plus", "la", "les", "des", "de"}) {
      EXPECT_THAT(french, Not(Contains(function_word))) << language;
    }
  }
}

}  // namespace
}  // namespace peermatch
