#include "engine/engine.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <random>
#include <set>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "records/validate.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace peermatch {
namespace {

using ::testing::Contains;
using testing::City;
using testing::StatusIs;
using testing::TempDir;

// testing::Solution with the SDG, year and language the engine's answers show.
v1::Case Solution(const std::string& id, const std::string& city, const std::string& title,
                  const std::string& text, v1::Theme theme = v1::THEME_LEARNING_TECHNOLOGIES,
                  int year = 2020, const std::string& language = "en") {
  v1::Case c = testing::Solution(id, city, title, text, theme);
  c.add_sdgs(4);
  c.set_year(year);
  c.set_language(language);
  return c;
}

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open() {
    StoreOptions so;
    so.sync = false;
    store_ = *Store::Open(dir_.Sub("db"), so);
    EngineOptions eo;
    eo.background_refit = false;
    engine_ = *Engine::Open(store_.get(), eo);
  }
  void Close() {
    engine_.reset();
    store_.reset();
  }

  void Load() {
    ASSERT_TRUE(engine_->PutCity(City("fermo", "IT", v1::REGION_EUROPE_NORTH_AMERICA)).ok());
    ASSERT_TRUE(engine_->PutCity(City("turin", "IT", v1::REGION_EUROPE_NORTH_AMERICA)).ok());
    ASSERT_TRUE(engine_->PutCity(City("wuhan", "CN", v1::REGION_ASIA_PACIFIC)).ok());
    ASSERT_TRUE(engine_->PutCity(City("manizales", "CO", v1::REGION_LATIN_AMERICA_CARIBBEAN)).ok());
    ASSERT_TRUE(engine_->PutCity(City("osan", "KR", v1::REGION_ASIA_PACIFIC)).ok());
    // Wuhan has many radio and online lesson solutions: it must appear once.
    for (int i = 0; i < 5; ++i) {
      Put(Solution("wuhan-radio-" + std::to_string(i), "wuhan", "Radio lessons during closures",
                   "Daily radio lessons reached pupils without internet while schools were closed, "
                   "programme " + std::to_string(i)));
    }
    Put(Solution("fermo-tablets", "fermo", "Tablets for pupils without internet",
                 "The city lent tablets and mobile data to pupils who had no internet at home "
                 "when schools closed",
                 v1::THEME_INCLUSIVE_EDUCATION, 2021));
    Put(Solution("turin-seniors", "turin", "Smartphone classes for older adults",
                 "Volunteers teach older adults to use smartphones and video calls",
                 v1::THEME_CULTURE_OF_LEARNING, 2019));
    Put(Solution("manizales-radio", "manizales", "Radio escolar en las veredas",
                 "Clases por radio para estudiantes rurales sin internet durante el cierre de "
                 "escuelas",
                 v1::THEME_LEARNING_TECHNOLOGIES, 2020, "es"));
    Put(Solution("osan-library", "osan", "Neighbourhood libraries",
                 "Small libraries in every neighbourhood with reading clubs for families",
                 v1::THEME_FAMILIES_COMMUNITIES, 2018));
    Put(testing::Challenge("osan-closures", "osan",
                           "Pupils without internet during school closures",
                           "Many pupils have no internet at home and miss lessons"));
    ASSERT_TRUE(engine_->Refit().ok());
  }

  void Put(const v1::Case& c) {
    auto r = engine_->PutCase(c);
    ASSERT_TRUE(r.ok()) << r.status();
  }

  MatchResult Match(const MatchQuery& query) {
    auto r = engine_->Match(query);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : MatchResult();
  }

  static MatchQuery Text(const std::string& text) {
    MatchQuery query;
    query.about.text = text;
    return query;
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Engine> engine_;
};

std::vector<std::string> CityIds(const MatchResult& r) {
  std::vector<std::string> ids;
  for (const auto& p : r.peers.items) ids.push_back(p.city.id());
  return ids;
}

std::string Render(const ScoreParts& p) {
  return absl::StrFormat("(%.17g %.17g %.17g %.17g)", p.lexical, p.subword, p.semantic,
                         p.structure);
}

// The whole answer as text, every score in full precision.
std::string Render(const MatchResult& r) {
  std::string out = absl::StrCat("model ", r.model_version, " more ", r.peers.more, "\n");
  for (const PeerCity& p : r.peers.items) {
    absl::StrAppend(&out, p.rank, " ", p.city.ShortDebugString(),
                    absl::StrFormat(" %.17g ", p.score), Render(p.parts), "\n");
    for (const Evidence& e : p.evidence) {
      absl::StrAppend(&out, "  ", e.case_id, " ", e.title, absl::StrFormat(" %.17g ", e.score),
                      Render(e.parts));
      for (const SharedTerm& t : e.shared_terms) {
        absl::StrAppend(&out, absl::StrFormat(" %s:%.17g", t.term, t.weight));
      }
      absl::StrAppend(&out, "\n");
    }
  }
  return out;
}

TEST_F(EngineTest, OneEntryPerCityWithItsBestSolutionsAsEvidence) {
  Load();
  const auto r = Match(Text("radio lessons for pupils without internet when schools closed"));
  const auto ids = CityIds(r);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size()) << "a city twice";
  const std::vector<PeerCity>& peers = r.peers.items;
  ASSERT_FALSE(peers.empty());
  EXPECT_EQ(peers[0].city.id(), "wuhan");
  EXPECT_EQ(peers[0].rank, 1);
  EXPECT_EQ(peers[0].city.country(), "CN");
  EXPECT_EQ(peers[0].evidence.size(), 3u);  // the default, though it has five
  for (size_t i = 1; i < peers[0].evidence.size(); ++i) {
    EXPECT_LE(peers[0].evidence[i].score, peers[0].evidence[i - 1].score);
  }
  EXPECT_EQ(peers[0].score, peers[0].evidence[0].score);
  EXPECT_THAT(ids, Contains("fermo"));
  for (size_t i = 1; i < peers.size(); ++i) EXPECT_LE(peers[i].score, peers[i - 1].score);
}

TEST_F(EngineTest, ExplanationNamesTheSharedWordsAndTheScoreParts) {
  Load();
  const auto r = Match(Text("tablets for pupils"));
  ASSERT_FALSE(r.peers.items.empty());
  const PeerCity& top = r.peers.items[0];
  EXPECT_EQ(top.city.id(), "fermo");
  const Evidence& e = top.evidence[0];
  EXPECT_EQ(e.case_id, "fermo-tablets");
  EXPECT_EQ(e.title, "Tablets for pupils without internet");
  std::vector<std::string> terms;
  double total = 0;
  for (const auto& t : e.shared_terms) terms.push_back(t.term), total += t.weight;
  // Surface forms as the query wrote them, the rarer word first.
  EXPECT_THAT(terms, ::testing::ElementsAre("tablets", "pupils"));
  EXPECT_NEAR(total, 1.0, 1e-5);
  EXPECT_FLOAT_EQ(top.parts.lexical, 1.0f);  // the best word match
  EXPECT_GT(top.parts.subword, 0.0);
  EXPECT_EQ(top.parts.structure, 0.0);  // the query has no themes
}

TEST_F(EngineTest, MatchByCaseIdExcludesTheAskingCityAndUsesItsThemes) {
  Load();
  MatchQuery req;
  req.about.case_id = "osan-closures";
  const auto r = Match(req);
  EXPECT_THAT(CityIds(r), ::testing::Not(Contains("osan")));
  ASSERT_FALSE(r.peers.items.empty());
  // Structure counts: the challenge's only theme is learning technologies,
  // as is Wuhan's (overlap 1), not Fermo's (0).
  for (const auto& p : r.peers.items) {
    if (p.city.id() == "wuhan") EXPECT_FLOAT_EQ(p.parts.structure, 1.0f);
    if (p.city.id() == "fermo") EXPECT_FLOAT_EQ(p.parts.structure, 0.0f);
  }

  req.about.case_id = "no-such-case";
  EXPECT_THAT(engine_->Match(req), StatusIs(absl::StatusCode::kNotFound,
                                            "case_id: no case with id \"no-such-case\""));
}

TEST_F(EngineTest, FiltersRestrictEveryResult) {
  Load();
  const std::string text = "radio lessons tablets internet libraries older adults pupils";
  auto check = [&](const MatchQuery& req, const std::set<std::string>& allowed) {
    const auto r = Match(req);
    EXPECT_FALSE(r.peers.items.empty());
    for (const auto& id : CityIds(r)) EXPECT_TRUE(allowed.count(id)) << id;
  };
  MatchQuery req = Text(text);
  req.filters.regions = {v1::REGION_ASIA_PACIFIC};
  check(req, {"wuhan", "osan"});
  req = Text(text);
  req.filters.countries = {"IT"};
  check(req, {"fermo", "turin"});
  req = Text(text);
  req.filters.exclude_countries = {"IT", "CN"};
  check(req, {"manizales", "osan"});
  req = Text(text);
  req.filters.themes = {v1::THEME_FAMILIES_COMMUNITIES};
  check(req, {"osan"});
  req = Text(text);
  req.filters.languages = {"es"};
  check(req, {"manizales"});
  req = Text(text);
  req.filters.year_min = 2019;
  req.filters.year_max = 2019;
  check(req, {"turin"});
  req = Text(text);
  req.filters.exclude_city_ids = {"wuhan"};
  req.asking_city_id = "fermo";
  check(req, {"turin", "manizales", "osan"});
  req = Text(text);
  req.filters.sdgs = {9};
  EXPECT_TRUE(Match(req).peers.items.empty()) << "no case contributes to SDG 9";
}

TEST_F(EngineTest, DiversityCapsCitiesPerCountry) {
  Load();
  MatchQuery req = Text("tablets older adults smartphones pupils internet");
  const auto all = Match(req);
  EXPECT_THAT(CityIds(all), Contains("fermo"));
  EXPECT_THAT(CityIds(all), Contains("turin"));
  req.max_per_country = 1;
  const auto diverse = Match(req);
  int italian = 0;
  for (const auto& p : diverse.peers.items) italian += p.city.country() == "IT";
  EXPECT_EQ(italian, 1);
}

TEST_F(EngineTest, PagesContinueTheRanking) {
  Load();
  MatchQuery req = Text("radio tablets libraries smartphones internet pupils");
  req.k = 2;
  const MatchResult first = Match(req);
  EXPECT_TRUE(first.peers.more);
  req.offset = 2;
  const MatchResult second = Match(req);
  req.k = 4;
  req.offset = 0;
  const MatchResult both = Match(req);
  ASSERT_EQ(both.peers.items.size(), 4u);
  ASSERT_FALSE(second.peers.items.empty());
  EXPECT_EQ(second.peers.items[0].city.id(), both.peers.items[2].city.id());
  EXPECT_EQ(second.peers.items[0].rank, 3);
}

TEST_F(EngineTest, AQueryThatMatchesNothingReturnsNothing) {
  Load();
  auto r = engine_->Match(Text("qqqqzzzz"));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->peers.items.empty());
  EXPECT_FALSE(r->peers.more);
  r = engine_->Match(Text("the of and"));  // stopwords only
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->peers.items.empty());
}

// Requests are checked (naming their wire fields) by service/request_mapping;
// the engine still refuses a query that breaks its contract.
TEST_F(EngineTest, QueriesOutsideTheContractAreRefused) {
  Load();
  const auto invalid = [](const std::string& message) {
    return StatusIs(absl::StatusCode::kInvalidArgument, message);
  };
  EXPECT_THAT(engine_->Match(MatchQuery()), invalid("query: set exactly one of text and case_id"));
  MatchQuery both = Text("x");
  both.about.case_id = "osan-closures";
  EXPECT_THAT(engine_->Match(both), invalid("query: set exactly one of text and case_id"));
  MatchQuery q = Text("x");
  q.k = 0;
  EXPECT_THAT(engine_->Match(q), invalid("query.k: 0 is outside 1-100"));
  q = Text("x");
  q.k = kMaxK + 1;
  EXPECT_THAT(engine_->Match(q), invalid("query.k: 101 is outside 1-100"));
  q = Text("x");
  q.offset = kMaxOffset + 1;
  EXPECT_THAT(engine_->Match(q), invalid("query.offset: 10001 is outside 0-10000"));
  q = Text("x");
  q.evidence_per_city = 0;
  EXPECT_THAT(engine_->Match(q), invalid("query.evidence_per_city: 0 is outside 1-10"));
  q = Text("x");
  q.max_per_country = -1;
  EXPECT_THAT(engine_->Match(q), invalid("query.max_per_country: must not be negative"));
  q = Text("x");
  q.filters.sdgs = {4, 18};
  EXPECT_THAT(engine_->Match(q), invalid("query.filters.sdgs[1]: 18 is outside 1-17"));
  q = Text("x");
  q.about.themes = {static_cast<v1::Theme>(40)};
  EXPECT_THAT(engine_->Match(q), invalid("query.themes[0]: unknown theme"));
  SimilarQuery similar;
  similar.about.text = "x";
  similar.k = 0;
  EXPECT_THAT(engine_->SimilarCases(similar), invalid("query.k: 0 is outside 1-100"));
  similar.k = 10;
  similar.about.case_id = "no-such-case";
  similar.about.text.clear();
  EXPECT_THAT(engine_->SimilarCases(similar),
              StatusIs(absl::StatusCode::kNotFound, "case_id: no case with id \"no-such-case\""));
}

TEST_F(EngineTest, NewCaseIsMatchableAsSoonAsItIsWritten) {
  Load();
  Put(Solution("turin-beekeeping", "turin", "Urban beekeeping school",
               "Citizens learn beekeeping on rooftops"));
  const auto r = Match(Text("beekeeping"));
  ASSERT_FALSE(r.peers.items.empty());
  EXPECT_EQ(r.peers.items[0].evidence[0].case_id, "turin-beekeeping");
  ASSERT_TRUE(engine_->DeleteCase("turin-beekeeping").ok());
  const auto after = Match(Text("beekeeping"));
  for (const auto& p : after.peers.items) {
    for (const auto& e : p.evidence) EXPECT_NE(e.case_id, "turin-beekeeping");
  }
}

TEST_F(EngineTest, RepeatedQuestionsGiveTheSameAnswerUntilTheNextWrite) {
  Load();
  const auto first = Match(Text("urban beekeeping"));
  EXPECT_EQ(Render(Match(Text("urban beekeeping"))), Render(first));
  Put(Solution("turin-bees", "turin", "Urban beekeeping school", "Citizens learn beekeeping"));
  const auto after = Match(Text("urban beekeeping"));
  ASSERT_FALSE(after.peers.items.empty());
  EXPECT_EQ(after.peers.items[0].evidence[0].case_id, "turin-bees");
}

TEST_F(EngineTest, CascadeDeleteRemovesTheCityFromResults) {
  Load();
  ASSERT_EQ(*engine_->DeleteCity("wuhan", true), 5);
  EXPECT_THAT(CityIds(Match(Text("radio lessons"))), ::testing::Not(Contains("wuhan")));
}

TEST_F(EngineTest, ModelAndVectorsSurviveAReopen) {
  Load();
  const std::string before = Render(Match(Text("radio lessons for pupils")));
  const uint64_t version = engine_->snapshot()->model->version();
  Close();
  Open();
  EXPECT_EQ(engine_->snapshot()->model->version(), version);
  EXPECT_EQ(Render(Match(Text("radio lessons for pupils"))), before);
}

TEST_F(EngineTest, DriftTriggersARefitWithANewVersion) {
  Load();
  const uint64_t v = engine_->snapshot()->model->version();
  for (int i = 0; i < 25; ++i) {  // more than refit_min_changes (20)
    Put(Solution("fermo-extra-" + std::to_string(i), "fermo", "Evening classes " + std::to_string(i),
                 "Evening classes for adults in the old town"));
  }
  EXPECT_GT(engine_->snapshot()->model->version(), v);
  EXPECT_EQ(*store_->CurrentModelVersion(), engine_->snapshot()->model->version());
}

// Queries run while a refit swaps in a new model: every answer must be
// wholly the old model's or wholly the new one's.
TEST_F(EngineTest, RefitUnderConcurrentQueriesHasNoTornReads) {
  Load();
  // New cases, embedded with the current model, make the next fit differ.
  for (int i = 0; i < 10; ++i) {
    Put(Solution("osan-radio-" + std::to_string(i), "osan", "Radio and internet for pupils",
                 "Community radio and internet points " + std::to_string(i)));
  }
  const MatchQuery req = Text("radio lessons for pupils without internet");
  const std::string old_answer = Render(Match(req));
  std::atomic<bool> stop{false};
  std::atomic<int> answered{0};
  std::vector<std::string> seen[2];
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&, t] {
      while (!stop.load()) {
        seen[t].push_back(Render(Match(req)));
        ++answered;
      }
    });
  }
  // Readers are running before, during and after the refit.
  while (answered.load() < 4) std::this_thread::yield();
  ASSERT_TRUE(engine_->Refit().ok());
  const int after_refit = answered.load();
  while (answered.load() < after_refit + 4) std::this_thread::yield();
  stop = true;
  for (auto& r : readers) r.join();
  const std::string new_answer = Render(Match(req));
  ASSERT_NE(old_answer, new_answer) << "the refit should change the answer";
  size_t total = 0;
  for (const auto& answers : seen) {
    for (const auto& a : answers) {
      EXPECT_TRUE(a == old_answer || a == new_answer) << "a torn read";
      ++total;
    }
  }
  EXPECT_GT(total, 0u);
}

// Writes during a refit are caught up: after it, every case has a vector
// under the new version and is in the index.
TEST_F(EngineTest, WritesDuringARefitAreCaughtUp) {
  Load();
  std::thread writer([&] {
    for (int i = 0; i < 40; ++i) {
      Put(Solution("wuhan-late-" + std::to_string(i), "wuhan", "Late case " + std::to_string(i),
                   "Written while the model was being refitted"));
      if (i % 10 == 9) ASSERT_TRUE(engine_->DeleteCase("wuhan-late-" + std::to_string(i - 1)).ok());
    }
  });
  ASSERT_TRUE(engine_->Refit().ok());
  writer.join();
  const uint64_t version = *store_->CurrentModelVersion();
  EXPECT_EQ(engine_->snapshot()->model->version(), version);
  size_t cases = 0;
  ASSERT_TRUE(store_->ForEachCase([&](const v1::Case& c) {
    ++cases;
    EXPECT_TRUE(store_->GetVector(version, c.id()).ok()) << c.id();
    return absl::OkStatus();
  }).ok());
  EXPECT_EQ(engine_->snapshot()->index->num_cases(), cases);
  size_t vectors = 0;
  ASSERT_TRUE(store_->ForEachVector(version, [&](absl::string_view, absl::string_view) {
    ++vectors;
    return absl::OkStatus();
  }).ok());
  EXPECT_EQ(vectors, cases) << "no orphan vectors of deleted cases";
}

// The same cases written in another order, with refits at other moments,
// end in the same model and the same answers once writes pause.
TEST(EngineQuietRefit, SameDataSameAnswersWhateverTheWriteOrder) {
  std::vector<v1::Case> cases;
  for (int i = 0; i < 60; ++i) {
    cases.push_back(Solution("case-" + std::to_string(100 + i), i % 2 ? "fermo" : "osan",
                             "Programme " + std::to_string(i),
                             i % 3 ? "Radio lessons for pupils in rural villages"
                                   : "Reading clubs in libraries for families " + std::to_string(i)));
  }
  std::string answers[2];
  for (int run = 0; run < 2; ++run) {
    TempDir dir;
    StoreOptions so;
    so.sync = false;
    auto store = *Store::Open(dir.Sub("db"), so);
    EngineOptions eo;
    eo.quiet_refit_seconds = 0.2;
    auto engine = *Engine::Open(store.get(), eo);
    ASSERT_TRUE(engine->PutCity(City("fermo", "IT", v1::REGION_EUROPE_NORTH_AMERICA)).ok());
    ASSERT_TRUE(engine->PutCity(City("osan", "KR", v1::REGION_ASIA_PACIFIC)).ok());
    std::vector<v1::Case> order = cases;
    if (run == 1) std::reverse(order.begin(), order.end());
    for (const auto& c : order) ASSERT_TRUE(engine->PutCase(c).ok());
    // Wait (up to 30 s) for a model fitted on all 60 cases.
    for (int i = 0; i < 300 && engine->snapshot()->model->num_docs() != 60; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    engine->WaitForRefit();
    ASSERT_EQ(engine->snapshot()->model->num_docs(), 60u);
    MatchQuery query;
    query.about.text = "reading clubs for families";
    auto r = engine->Match(query);
    ASSERT_TRUE(r.ok());
    r->model_version = 0;  // the number of refits may differ
    answers[run] = Render(*r);
  }
  EXPECT_EQ(answers[0], answers[1]);
}

TEST_F(EngineTest, SimilarCasesRanksCasesAndHonoursKind) {
  Load();
  SimilarQuery req;
  req.about.case_id = "fermo-tablets";
  req.kind = v1::CASE_KIND_CHALLENGE;
  auto r = engine_->SimilarCases(req);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->cases.items.size(), 1u);
  EXPECT_EQ(r->cases.items[0].record.id(), "osan-closures");
  EXPECT_EQ(r->cases.items[0].rank, 1);
  EXPECT_FALSE(r->cases.more);
  req.kind = v1::CASE_KIND_UNSPECIFIED;
  r = engine_->SimilarCases(req);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->cases.items.empty());
  for (const auto& m : r->cases.items) EXPECT_NE(m.record.id(), "fermo-tablets");
}

// The index a reopened engine loads (decoded in batches on two threads,
// term ids from batch-local ones committed in order) is exactly what reading
// each case's vector and interning its words, then its grams, one case after
// the other in id order gives; and after writes, the rebuilt index still
// has every case's dense vector.
TEST(EngineLoad, LoadedIndexIsTheSequentialOne) {
  TempDir dir;
  StoreOptions so;
  so.sync = false;
  auto store = *Store::Open(dir.Sub("db"), so);
  EngineOptions eo;
  eo.background_refit = false;
  eo.refit_min_changes = 1 << 30;  // one refit, below
  eo.model.dense_dim = 16;
  std::mt19937 rng(5);
  {
    auto engine = *Engine::Open(store.get(), eo);
    ASSERT_TRUE(engine->PutCity(City("fermo", "IT", v1::REGION_EUROPE_NORTH_AMERICA)).ok());
    // Enough cases for many batches; rare words keep the vocabulary growing.
    for (int i = 0; i < 5000; ++i) {
      std::string text;
      for (int w = 0; w < 12; ++w) text += "word" + std::to_string(rng() % 400) + " ";
      text += "rare" + std::to_string(i) + " unique" + std::to_string(rng() % 100000);
      char id[32];
      std::snprintf(id, sizeof(id), "case-%05d", static_cast<int>(rng() % 100000));
      // Deferred: this test is about what a load gives, not about writes.
      ASSERT_TRUE(engine->PutCase(Solution(id, "fermo", "Title " + std::to_string(i % 50), text),
                                  Visibility::kDeferred)
                      .ok());
    }
    ASSERT_TRUE(engine->Refit().ok());
  }

  auto engine = *Engine::Open(store.get(), eo);
  // same_ids: term ids as sequential interning gives them (a fresh load);
  // after writes the new terms have later ids, so only sizes compare.
  auto check = [&](const SegmentedIndex& index, bool same_ids) {
    // The live positions in case-id order: the store's order.
    std::vector<uint32_t> order;
    index.ForEachLiveInIdOrder([&](uint32_t d) { order.push_back(d); });
    const uint64_t version = *store->CurrentModelVersion();
    TermDictionary reference;
    uint32_t i = 0;
    ASSERT_TRUE(store->ForEachCase([&](const v1::Case& c) {
      auto blob = store->GetVector(version, c.id());
      if (!blob.ok()) return blob.status();
      auto e = Model::DecodeVector(*blob, nullptr);
      if (!e.ok()) return e.status();
      if (i >= order.size()) return absl::InternalError("more cases than the index holds");
      const uint32_t d = order[i];
      EXPECT_EQ(index.doc(d).case_id, c.id());
      auto ids = [&](const TermWeights& weights) {
        SparseIds out;
        for (const auto& [term, w] : weights) out.emplace_back(reference.Intern(term), w);
        std::sort(out.begin(), out.end());
        return out;
      };
      const SparseIds words = ids(e->words);
      const SparseIds grams = ids(e->grams);
      if (same_ids) {
        EXPECT_EQ(index.entry(d).words, words) << c.id();
        SparseIds loaded_grams = index.entry(d).grams;  // in any order
        std::sort(loaded_grams.begin(), loaded_grams.end());
        EXPECT_EQ(loaded_grams, grams) << c.id();
      } else {
        EXPECT_EQ(index.entry(d).words.size(), words.size()) << c.id();
        EXPECT_EQ(index.entry(d).grams.size(), grams.size()) << c.id();
      }
      EXPECT_EQ(e->dense.size(), index.dense_dim());
      EXPECT_TRUE(std::equal(e->dense.data(), e->dense.data() + e->dense.size(),
                             index.dense_row(d)))
          << c.id();
      ++i;
      return absl::OkStatus();
    }).ok());
    EXPECT_EQ(i, order.size());
  };
  check(*engine->snapshot()->index, true);

  // Writes: the next index takes unchanged cases' rows from this one.
  ASSERT_TRUE(engine->PutCase(Solution("case-00000a", "fermo", "New", "word1 word2 fresh")).ok());
  ASSERT_TRUE(engine->DeleteCase(engine->snapshot()->index->doc(3).case_id).ok());
  check(*engine->snapshot()->index, false);
  // A refit: every vector is new.
  ASSERT_TRUE(engine->Refit().ok());
  check(*engine->snapshot()->index, false);
}

}  // namespace
}  // namespace peermatch
