// The engine's HNSW graphs (issue 16, EngineOptions::graph): each base
// segment the policy wants a graph for gets exactly one build, and a base
// that is replaced at once gets none. The one 1,000,000-case run that grew
// to 21.5 GB opened a store whose model the open refitted; a graph build for
// the loaded base, then another for the refit's, is what the counts below
// rule out (the memory itself was the refit's: README "HNSW on the Match
// path").
#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "engine/engine.h"
#include "gtest/gtest.h"
#include "index/internal/graph_slot.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/temp_dir.h"

namespace peermatch {
namespace {

using internal::GraphSlot;
using testing::City;
using testing::Solution;

constexpr int kCases = 300;

std::string CaseId(int i) {
  char id[32];
  std::snprintf(id, sizeof id, "case-%05d", i);
  return id;
}

v1::Case MakeCase(int i) {
  static const char* const kWords[] = {"water", "school", "transport", "energy", "housing",
                                       "waste", "health", "youth",     "market", "culture"};
  std::string text;
  for (int w = 0; w < 12; ++w) absl::StrAppend(&text, kWords[(i * 7 + w * 3) % 10], " ");
  return Solution(CaseId(i), "city-0", kWords[i % 10], text);
}

class EngineGraphTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions so;
    so.sync = false;
    store_ = *Store::Open(dir_.Sub("db"), so);
    // A fitted model over kCases cases, no graph.
    std::unique_ptr<Engine> engine = *Engine::Open(store_.get(), Options(/*graph_from=*/0));
    ASSERT_TRUE(engine->PutCity(City("city-0", "IT")).ok());
    for (int i = 0; i < kCases; ++i) {
      ASSERT_TRUE(engine->PutCase(MakeCase(i), Visibility::kDeferred).ok());
    }
    ASSERT_TRUE(engine->Refit().ok());
    fitted_version_ = engine->snapshot()->model->version();
    ASSERT_GT(fitted_version_, 0u);
  }

  // graph_from 0: no graph.
  static EngineOptions Options(size_t graph_from) {
    EngineOptions eo;
    eo.background_refit = false;
    eo.background_merge = false;
    eo.model.dense_dim = 16;
    if (graph_from > 0) {
      eo.graph.min_cases = graph_from;
      eo.graph.options.num_threads = 1;
    }
    return eo;
  }

  // Waits for the published base's graph; true when it has one.
  static bool BaseGraphReady(const Engine& engine) {
    const std::shared_ptr<const Index> base = engine.snapshot()->index->base();
    base->WaitForGraph();
    return base->graph() != nullptr && base->graph()->size() == base->size();
  }

  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
  uint64_t fitted_version_ = 0;
};

TEST_F(EngineGraphTest, OpenBuildsOneGraphForTheLoadedBase) {
  const size_t before = GraphSlot::BuildsStarted();
  std::unique_ptr<Engine> engine = *Engine::Open(store_.get(), Options(100));
  EXPECT_EQ(engine->snapshot()->model->version(), fitted_version_);  // no refit at open
  EXPECT_TRUE(BaseGraphReady(*engine));
  EXPECT_EQ(GraphSlot::BuildsStarted() - before, 1u);
}

TEST_F(EngineGraphTest, BaseBelowTheThresholdOrWithTheGraphOffBuildsNone) {
  const size_t before = GraphSlot::BuildsStarted();
  for (size_t graph_from : {size_t{0}, size_t{kCases + 1}}) {
    std::unique_ptr<Engine> engine = *Engine::Open(store_.get(), Options(graph_from));
    EXPECT_FALSE(engine->snapshot()->index->base()->graph_build_info().started) << graph_from;
  }
  EXPECT_EQ(GraphSlot::BuildsStarted(), before);
}

TEST_F(EngineGraphTest, RefitAtOpenBuildsAGraphForTheRefitsBaseOnly) {
  // As many cases again written without vectors: the open embeds them with
  // the stored model (a loaded base of 2 * kCases cases with dense rows),
  // then its drift rule refits at once and builds the base anew.
  for (int i = kCases; i < 2 * kCases; ++i) ASSERT_TRUE(store_->PutCase(MakeCase(i)).ok());
  const size_t before = GraphSlot::BuildsStarted();
  std::unique_ptr<Engine> engine = *Engine::Open(store_.get(), Options(100));
  EXPECT_GT(engine->snapshot()->model->version(), fitted_version_);  // refitted at open
  EXPECT_EQ(engine->snapshot()->index->base()->size(), size_t{2 * kCases});
  EXPECT_TRUE(BaseGraphReady(*engine));
  // One build: the refit's base. The loaded base, replaced before the open
  // returned, started none.
  EXPECT_EQ(GraphSlot::BuildsStarted() - before, 1u);
}

TEST_F(EngineGraphTest, MergeBuildsOneGraphAndInstallsTheNewBaseWithIt) {
  std::unique_ptr<Engine> engine = *Engine::Open(store_.get(), Options(100));
  ASSERT_TRUE(BaseGraphReady(*engine));
  const std::shared_ptr<const Index> old_base = engine->snapshot()->index->base();
  for (int i = kCases; i < kCases + 40; ++i) {
    ASSERT_TRUE(engine->PutCase(MakeCase(i), Visibility::kOnReturn).ok());
  }
  // Publishes build deltas only: no graph for them.
  EXPECT_FALSE(engine->snapshot()->index->delta()->graph_build_info().started);
  const size_t before = GraphSlot::BuildsStarted();
  engine->MergeNow();
  const std::shared_ptr<const Index> base = engine->snapshot()->index->base();
  ASSERT_NE(base, old_base);
  EXPECT_EQ(base->size(), size_t{kCases + 40});
  // Installed with its graph (the old base had one), not before it.
  EXPECT_NE(base->graph(), nullptr);
  EXPECT_EQ(GraphSlot::BuildsStarted() - before, 1u);
}

}  // namespace
}  // namespace peermatch
