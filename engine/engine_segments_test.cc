// The engine over a segmented index (issue 16): writes land in a delta
// segment beside the base, deletions as tombstones, merges fold them in.
// A write is matchable when it returns; a deleted case never shows again,
// also after a merge; and every reader of the snapshot (Match, SimilarCases,
// PairCities, the counts) answers the same before and after a merge, that
// is, as one index over the same cases.
#include <cstdio>
#include <random>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "engine/engine.h"
#include "gtest/gtest.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/temp_dir.h"

namespace peermatch {
namespace {

using testing::Challenge;
using testing::City;
using testing::Solution;

// Every field of a result that a reader of the snapshot computes, as text.
std::string Render(const ScoreParts& p) {
  return absl::StrCat(p.lexical, "/", p.subword, "/", p.semantic, "/", p.structure);
}
std::string Render(const std::vector<SharedTerm>& terms) {
  std::string out;
  for (const SharedTerm& t : terms) absl::StrAppend(&out, t.term, ":", t.weight, " ");
  return out;
}
std::string Render(const MatchResult& r) {
  std::string out = absl::StrCat("more ", r.peers.more, "\n");
  for (const PeerCity& p : r.peers.items) {
    absl::StrAppend(&out, p.rank, " ", p.city.id(), " ", p.score, " ", Render(p.parts), "\n");
    for (const Evidence& e : p.evidence) {
      absl::StrAppend(&out, "  ", e.case_id, " ", e.title, " ", e.score, " ", Render(e.parts),
                      " ", Render(e.shared_terms), "\n");
    }
  }
  return out;
}
std::string Render(const SimilarResult& r) {
  std::string out = absl::StrCat("more ", r.cases.more, "\n");
  for (const SimilarCase& c : r.cases.items) {
    absl::StrAppend(&out, c.rank, " ", c.record.id(), " ", c.score, " ", Render(c.parts), " ",
                    Render(c.shared_terms), "\n");
  }
  return out;
}
std::string Render(const PairingResult& r) {
  std::string out;
  for (const PairedCities& p : r.pairs) {
    absl::StrAppend(&out, p.asking_city_id, "->", p.peer_city_id, " ", p.score);
    if (p.forward) {
      absl::StrAppend(&out, " ", p.forward->challenge_id, "/", p.forward->solution_id, " ",
                      p.forward->score, " ", Render(p.forward->parts), " ",
                      Render(p.forward->shared_terms));
    }
    absl::StrAppend(&out, "\n");
  }
  for (const UnmatchedCity& u : r.summary.unmatched) {
    absl::StrAppend(&out, "unmatched ", u.city_id, " ", static_cast<int>(u.reason), "\n");
  }
  return out;
}

class EngineSegmentsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions so;
    so.sync = false;
    store_ = *Store::Open(dir_.Sub("db"), so);
    EngineOptions eo;
    eo.background_refit = false;
    eo.refit_min_changes = 1 << 30;  // the one refit below: the model stays
    eo.refit_at_open = false;
    eo.background_merge = false;     // merges only when the test asks
    eo.model.dense_dim = 16;
    engine_ = *Engine::Open(store_.get(), eo);
    for (int c = 0; c < 24; ++c) {
      ASSERT_TRUE(engine_->PutCity(City(CityId(c), c % 3 == 0 ? "IT" : "FR")).ok());
    }
    for (int i = 0; i < 400; ++i) {
      ASSERT_TRUE(engine_->PutCase(RandomCase(CaseId(i * 2)), Visibility::kDeferred).ok());
    }
    ASSERT_TRUE(engine_->Refit().ok());  // a fitted model and one base
    ASSERT_EQ(Delta(), 0u);
  }
  void TearDown() override { engine_.reset(); }

  static std::string CityId(int c) { return "city-" + std::to_string(c); }
  static std::string CaseId(int i) {
    char id[32];
    std::snprintf(id, sizeof id, "case-%05d", i);
    return id;
  }
  static const char* const kWords[];

  v1::Case RandomCase(const std::string& id) {
    std::string title, text;
    for (int w = 0; w < 3; ++w) absl::StrAppend(&title, kWords[rng_() % 40], " ");
    for (int w = 0; w < 14; ++w) absl::StrAppend(&text, kWords[rng_() % 40], " ");
    const std::string city = CityId(static_cast<int>(rng_() % 24));
    v1::Case c = rng_() % 3 == 0 ? Challenge(id, city, title, text) : Solution(id, city, title, text);
    if (rng_() % 2 == 0) c.add_themes(v1::THEME_INCLUSIVE_EDUCATION);
    return c;
  }
  // Cases in the delta segment of the published snapshot.
  size_t Delta() const {
    const auto snap = engine_->snapshot();
    return snap->index->num_positions() - snap->index->base()->size();
  }
  // Every case id Match shows for `text`, on every page.
  std::set<std::string> Shown(const std::string& text) {
    std::set<std::string> ids;
    MatchQuery q;
    q.about.text = text;
    q.k = 50;
    q.evidence_per_city = 10;
    auto r = engine_->Match(q);
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return ids;
    for (const PeerCity& p : r->peers.items) {
      for (const Evidence& e : p.evidence) ids.insert(e.case_id);
    }
    SimilarQuery s;
    s.about.text = text;
    s.k = 100;
    auto similar = engine_->SimilarCases(s);
    EXPECT_TRUE(similar.ok()) << similar.status();
    if (similar.ok()) {
      for (const SimilarCase& c : similar->cases.items) ids.insert(c.record.id());
    }
    return ids;
  }
  std::string TextOf(const std::string& id) {
    const v1::Case c = *store_->GetCase(id);
    return c.title() + " " + c.description();
  }

  // What every reader answers, as text.
  std::string Everything() {
    std::string out;
    const auto snap = engine_->snapshot();
    absl::StrAppend(&out, "counts ", snap->counts.cities, " ", snap->counts.cases, " ",
                    snap->counts.challenges, " ", snap->counts.solutions, "\n");
    for (int i = 0; i < 6; ++i) {
      MatchQuery q;
      q.about.text = absl::StrCat(kWords[i * 3], " ", kWords[i * 5 + 1], " ", kWords[i + 20]);
      q.k = 8;
      q.evidence_per_city = 2;
      if (i % 2 == 1) q.filters.countries = {"FR"};
      if (i % 3 == 2) q.filters.themes = {v1::THEME_INCLUSIVE_EDUCATION};
      auto r = engine_->Match(q);
      EXPECT_TRUE(r.ok()) << r.status();
      if (r.ok()) absl::StrAppend(&out, "match ", i, "\n", Render(*r));
      SimilarQuery s;
      s.about.case_id = CaseId(i * 40);
      if (store_->GetCase(s.about.case_id).ok()) {
        auto similar = engine_->SimilarCases(s);
        EXPECT_TRUE(similar.ok()) << similar.status();
        if (similar.ok()) absl::StrAppend(&out, "similar ", i, "\n", Render(*similar));
      }
    }
    PairingQuery pq;
    pq.k = 2;
    pq.capacity = 3;
    auto pairs = engine_->PairCities(pq);
    EXPECT_TRUE(pairs.ok()) << pairs.status();
    if (pairs.ok()) absl::StrAppend(&out, "pairs\n", Render(*pairs));
    return out;
  }

  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Engine> engine_;
  std::mt19937 rng_{7};
};

const char* const EngineSegmentsTest::kWords[] = {
    "radio",    "lessons",  "pupils",   "school",   "teachers", "tablets",  "internet",
    "library",  "reading",  "families", "meals",    "transport", "rural",   "villages",
    "mobile",   "classroom", "parents", "volunteers", "youth",  "training", "digital",
    "devices",  "broadcast", "homework", "tutoring", "literacy", "numeracy", "girls",
    "disability", "access", "wifi",     "printing", "worksheets", "television", "podcast",
    "community", "centres", "evening",  "courses",  "elders"};

TEST_F(EngineSegmentsTest, AWriteIsMatchableWhenItReturns) {
  v1::Case c = Solution("case-new", CityId(5), "Floating classrooms on boats",
                        "Boats carry floating classrooms to river villages during floods");
  ASSERT_TRUE(engine_->PutCase(c).ok());
  // Published on return, in the delta: no whole rebuild.
  EXPECT_EQ(Delta(), 1u);
  MatchQuery q;
  q.about.text = "floating classrooms on boats for river villages";
  auto r = engine_->Match(q);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_FALSE(r->peers.items.empty());
  EXPECT_EQ(r->peers.items[0].city.id(), CityId(5));
  EXPECT_EQ(r->peers.items[0].evidence[0].case_id, "case-new");
  // An update of a base case replaces it: its new text finds it, and the
  // old version is a tombstone.
  auto updated = engine_->UpdateCase(CaseId(10), [](v1::Case* u) {
    u->set_kind(v1::CASE_KIND_SOLUTION);
    u->set_description("Solar powered reading lamps for night study");
    return absl::OkStatus();
  });
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(engine_->snapshot()->index->tombstones().size(), 1u);
  EXPECT_EQ(Delta(), 2u);
  EXPECT_EQ(Shown("solar powered reading lamps night study").count(CaseId(10)), 1u);
}

TEST_F(EngineSegmentsTest, ADeletedCaseNeverShowsAgain) {
  // A base case and a delta case, each found by its own text.
  const std::string base_case = CaseId(20);
  ASSERT_TRUE(engine_->PutCase(RandomCase("case-00021")).ok());
  const std::string base_text = TextOf(base_case), delta_text = TextOf("case-00021");
  ASSERT_EQ(Shown(base_text).count(base_case), 1u);
  ASSERT_EQ(Shown(delta_text).count("case-00021"), 1u);
  ASSERT_TRUE(engine_->DeleteCase(base_case).ok());
  ASSERT_TRUE(engine_->DeleteCase("case-00021").ok());
  EXPECT_EQ(Shown(base_text).count(base_case), 0u);
  EXPECT_EQ(Shown(delta_text).count("case-00021"), 0u);
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(engine_->PutCase(RandomCase(CaseId(i * 2 + 901))).ok());
  engine_->MergeNow();
  EXPECT_EQ(Delta(), 0u);
  EXPECT_TRUE(engine_->snapshot()->index->tombstones().empty());
  EXPECT_EQ(Shown(base_text).count(base_case), 0u);
  EXPECT_EQ(Shown(delta_text).count("case-00021"), 0u);
  // Writes after the merge (a new delta) do not bring them back.
  ASSERT_TRUE(engine_->PutCase(RandomCase("case-00023")).ok());
  EXPECT_EQ(Shown(base_text).count(base_case), 0u);
  EXPECT_EQ(Shown(delta_text).count("case-00021"), 0u);
  // A city deleted with its cases: none of them shows, before or after a merge.
  std::set<std::string> of_city;
  ASSERT_TRUE(store_->ForEachCase([&](const v1::Case& c) {
    if (c.city_id() == CityId(3)) of_city.insert(c.id());
    return absl::OkStatus();
  }).ok());
  ASSERT_FALSE(of_city.empty());
  ASSERT_TRUE(engine_->DeleteCity(CityId(3), /*cascade=*/true).ok());
  for (int pass = 0; pass < 2; ++pass) {
    for (int i = 0; i < 40; i += 7) {
      for (const std::string& id : Shown(absl::StrCat(kWords[i], " ", kWords[i / 2]))) {
        EXPECT_EQ(of_city.count(id), 0u) << id << " pass " << pass;
      }
    }
    EXPECT_EQ(engine_->snapshot()->index->CityPosition(CityId(3)), -1);
    engine_->MergeNow();
  }
}

TEST_F(EngineSegmentsTest, EveryReaderAnswersTheSameBeforeAndAfterAMerge) {
  // Writes of every kind: new cases, replaced ones, deleted ones, a city
  // moved to another country.
  for (int i = 0; i < 60; ++i) {
    const int op = static_cast<int>(rng_() % 3);
    if (op == 0) {
      ASSERT_TRUE(engine_->PutCase(RandomCase(CaseId(1000 + i))).ok());
    } else if (op == 1) {
      ASSERT_TRUE(engine_->PutCase(RandomCase(CaseId(static_cast<int>(rng_() % 400) * 2))).ok());
    } else {
      const absl::Status s = engine_->DeleteCase(CaseId(static_cast<int>(rng_() % 400) * 2));
      ASSERT_TRUE(s.ok() || absl::IsNotFound(s)) << s;
    }
  }
  ASSERT_TRUE(engine_->PutCity(City(CityId(4), "DE")).ok());
  ASSERT_GT(Delta(), 0u);
  ASSERT_FALSE(engine_->snapshot()->index->tombstones().empty());
  const std::string segmented = Everything();
  engine_->MergeNow();
  ASSERT_EQ(Delta(), 0u);
  EXPECT_EQ(Everything(), segmented);
  size_t cases = 0;
  ASSERT_TRUE(store_->ForEachCase([&](const v1::Case&) {
    ++cases;
    return absl::OkStatus();
  }).ok());
  EXPECT_EQ(engine_->snapshot()->counts.cases, static_cast<int64_t>(cases));
}

}  // namespace
}  // namespace peermatch
