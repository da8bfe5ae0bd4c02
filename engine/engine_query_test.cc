// Match and SimilarCases: what their answers may show (shared terms, rows
// with evidence, min_score), on small corpora written for each behaviour.
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
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


// A Match whose only filter is the kind takes the view's cached mask of the
// kind's live cases (issue 16); one with any other filter reads every
// case's attributes. With a filter that leaves nothing out, both must give
// the same page: the asking city and the query case left out, the same
// counts (the page's depth and `more` follow from them), after a delete
// and a replacement too.
TEST_F(EngineQueryTest, TheKindMaskLeavesOutWhatTheAttributeReadLeavesOut) {
  const char* cities[] = {"aarhus", "bogota", "cork", "dakar", "espoo", "fermo", "gdansk"};
  const char* countries[] = {"DK", "CO", "IE", "SN", "FI", "IT", "PL"};
  for (int i = 0; i < 7; ++i) PutCity(cities[i], countries[i]);
  for (int i = 0; i < 7; ++i) {
    for (int j = 0; j < 3; ++j) {
      const std::string id = absl::StrCat(cities[i], "-", j);
      Put(j == 0 ? testing::Challenge(id, cities[i], "Adult literacy in the evenings",
                                      "Adults leave literacy classes after work")
                 : testing::Solution(id, cities[i], absl::StrCat("Evening literacy circles ", j),
                                     absl::StrCat("Literacy circles for adults after work, ",
                                                  "volunteers and libraries ", i * 3 + j)));
    }
  }
  ASSERT_THAT(engine().Refit(), testing::IsOk());
  auto same_pages = [&](MatchQuery q) {
    auto fast = engine().Match(q);
    q.filters.exclude_city_ids = {"no-such-city"};  // any other filter: the attribute read
    auto read = engine().Match(q);
    ASSERT_TRUE(fast.ok()) << fast.status();
    ASSERT_TRUE(read.ok()) << read.status();
    ASSERT_EQ(fast->peers.items.size(), read->peers.items.size());
    EXPECT_EQ(fast->peers.more, read->peers.more);
    for (size_t i = 0; i < fast->peers.items.size(); ++i) {
      const PeerCity& a = fast->peers.items[i];
      const PeerCity& b = read->peers.items[i];
      EXPECT_EQ(a.city.id(), b.city.id());
      EXPECT_EQ(a.score, b.score);
      ASSERT_EQ(a.evidence.size(), b.evidence.size());
      for (size_t e = 0; e < a.evidence.size(); ++e) {
        EXPECT_EQ(a.evidence[e].case_id, b.evidence[e].case_id);
        EXPECT_NE(a.evidence[e].case_id, q.about.case_id);
      }
      EXPECT_NE(a.city.id(), q.asking_city_id.empty() ? "cork" : q.asking_city_id);
    }
  };
  for (int k : {1, 3, 6}) {
    MatchQuery by_case;
    by_case.about.case_id = "cork-0";
    by_case.k = k;
    same_pages(by_case);
    MatchQuery asking = by_case;
    asking.asking_city_id = "dakar";
    same_pages(asking);
    MatchQuery text;
    text.about.text = "literacy circles for adults";
    text.asking_city_id = "espoo";
    text.k = k;
    same_pages(text);
  }
  // A deleted case and a replaced one (tombstones in the base).
  ASSERT_TRUE(engine().DeleteCase("bogota-1").ok());
  Put(testing::Solution("gdansk-2", "gdansk", "Evening literacy circles moved",
                        "Literacy circles for adults in libraries"));
  for (int k : {1, 5}) {
    MatchQuery q;
    q.about.text = "literacy circles for adults";
    q.asking_city_id = "aarhus";
    q.k = k;
    same_pages(q);
    auto r = engine().Match(q);
    ASSERT_TRUE(r.ok());
    for (const PeerCity& p : r->peers.items) {
      for (const Evidence& e : p.evidence) EXPECT_NE(e.case_id, "bogota-1");
    }
  }
}

}  // namespace
}  // namespace peermatch
