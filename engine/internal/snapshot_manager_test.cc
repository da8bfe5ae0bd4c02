// SnapshotManager with a base, a delta segment and merges: every published
// snapshot ranks exactly as one Index over the corpus it covers; a change
// is visible when PublishUpTo returns; a deleted case never shows again,
// also after merges; and a merge under concurrent queries shows no torn
// read (each query ranks as one of the published states).
#include "engine/internal/snapshot_manager.h"

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "index/testing/random_cases.h"

namespace peermatch::internal {
namespace {

using testing::Case;
using testing::CaseId;
using testing::Corpus;
using testing::Generator;

// A model with dense vectors (its dimension is all the manager reads of it).
std::shared_ptr<const Model> DenseModel() {
  std::vector<v1::Case> cases(40);
  std::vector<const v1::Case*> pointers;
  for (int i = 0; i < 40; ++i) {
    cases[i].set_id("fit-" + std::to_string(i));
    cases[i].set_title("radio lessons " + std::to_string(i % 7));
    cases[i].set_description("schools closed pupils learn at home week " + std::to_string(i));
    pointers.push_back(&cases[i]);
  }
  ModelOptions options;
  options.dense_dim = 8;
  return Model::Fit(pointers, 1, options).model;
}

// The hits as (case id, score) pairs: what a ranking is.
using Ranking = std::vector<std::pair<std::string, float>>;
Ranking RankingOf(const SegmentedIndex& index, const std::vector<Hit>& hits) {
  Ranking out;
  for (const Hit& h : hits) out.emplace_back(index.doc(h.doc).case_id, h.score);
  return out;
}
Ranking RankingOf(const Index& index, const std::vector<Hit>& hits) {
  Ranking out;
  for (const Hit& h : hits) out.emplace_back(index.doc(h.doc).case_id, h.score);
  return out;
}

class SnapshotManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = DenseModel();
    ASSERT_NE(model_, nullptr);
    dim_ = model_->dense_dim();
    ASSERT_GT(dim_, 0);
    gen_ = std::make_unique<Generator>(11, dim_);
    // Every term id the generator draws is below the dictionary's size.
    for (uint32_t t = 0; t < testing::kTerms; ++t) terms_.Intern("t" + std::to_string(t));
    for (int q = 0; q < 12; ++q) queries_.push_back(gen_->Query(1 + q % 8, 3 + q * 5));
  }

  void Open(MergeOptions merge) {
    manager_ = std::make_unique<SnapshotManager>(&terms_, nullptr, std::move(merge));
    for (uint32_t n = 0; n < 1500; ++n) live_[CaseId(n * 4)] = gen_->MakeCase(CaseId(n * 4));
    manager_->Install(model_, testing::Cities(), testing::BuildIndex(live_, testing::Cities(), dim_));
  }

  // Applies random writes to the manager and to live_; returns the last
  // change's sequence number and the ids deleted.
  uint64_t Write(int n, std::set<std::string>* deleted) {
    Corpus before = live_;
    testing::RandomWrites(*gen_, n, &next_id_, &live_);
    uint64_t seq = 0;
    for (const auto& [id, c] : before) {
      if (live_.count(id) == 0) {
        seq = manager_->EraseEntry(id);
        deleted->insert(id);
      }
    }
    for (const auto& [id, c] : live_) {
      auto it = before.find(id);
      if (it != before.end() && it->second.entry == c.entry) continue;
      Eigen::VectorXf dense = Eigen::Map<const Eigen::VectorXf>(c.dense.data(), c.dense.size());
      seq = manager_->PutEntry(c.entry, std::move(dense));
      deleted->erase(id);
    }
    return seq;
  }

  // The rankings of one Index over live_.
  std::vector<Ranking> Expected() const {
    const auto one = testing::BuildIndex(live_, testing::Cities(), dim_);
    std::vector<Ranking> out;
    for (const IndexQuery& q : queries_) {
      out.push_back(RankingOf(*one, one->Search(q, {}, {}, ScoreWeights(), 50)));
    }
    return out;
  }

  std::vector<Ranking> Rankings(const SegmentedIndex& index) const {
    std::vector<Ranking> out;
    for (const IndexQuery& q : queries_) {
      out.push_back(RankingOf(index, index.Search(q, {}, {}, ScoreWeights(), 50)));
    }
    return out;
  }

  // Every deleted id is gone: not found by id, not among any query's hits
  // at any depth.
  void ExpectGone(const SegmentedIndex& index, const std::set<std::string>& deleted,
                  const std::string& where) {
    for (const std::string& id : deleted) EXPECT_EQ(index.CasePosition(id), -1) << where << id;
    for (const IndexQuery& q : queries_) {
      for (const Hit& h : index.Search(q, {}, {}, ScoreWeights(), 5000)) {
        EXPECT_EQ(deleted.count(index.doc(h.doc).case_id), 0u) << where;
      }
    }
  }

  TermDictionary terms_;
  std::shared_ptr<const Model> model_;
  int dim_ = 0;
  std::unique_ptr<Generator> gen_;
  std::vector<IndexQuery> queries_;
  std::unique_ptr<SnapshotManager> manager_;
  Corpus live_;
  uint32_t next_id_ = 6000;
};

TEST_F(SnapshotManagerTest, PublishedWritesRankAsOneIndexThroughMerges) {
  MergeOptions merge;
  merge.background = false;
  Open(merge);
  std::set<std::string> deleted;
  for (int round = 0; round < 6; ++round) {
    const uint64_t seq = Write(80, &deleted);
    manager_->PublishUpTo(seq);
    // Visible on return: the published snapshot is the corpus now.
    std::shared_ptr<const Snapshot> snap = manager_->Current();
    EXPECT_GT(snap->index->num_positions(), snap->index->base()->size()) << round;
    EXPECT_FALSE(snap->index->tombstones().empty()) << round;
    EXPECT_EQ(snap->index->num_cases(), live_.size());
    EXPECT_EQ(snap->counts.cases, static_cast<int64_t>(live_.size()));
    const std::vector<Ranking> expected = Expected();
    EXPECT_EQ(Rankings(*snap->index), expected) << "round " << round;
    ExpectGone(*snap->index, deleted, "round " + std::to_string(round) + " ");
    if (round % 2 == 1) {
      manager_->MergeNow();
      snap = manager_->Current();
      // One base, no delta, no tombstone: the same rankings.
      EXPECT_EQ(snap->index->num_positions(), live_.size());
      EXPECT_TRUE(snap->index->tombstones().empty());
      EXPECT_EQ(Rankings(*snap->index), expected) << "merged, round " << round;
      ExpectGone(*snap->index, deleted, "merged, round " + std::to_string(round) + " ");
    }
  }
  EXPECT_EQ(manager_->merges(), 3u);
}

TEST_F(SnapshotManagerTest, BackgroundMergesStartPastTheThreshold) {
  MergeOptions merge;
  merge.min_changes = 150;
  merge.fraction = 0.0;
  Open(merge);
  std::set<std::string> deleted;
  manager_->PublishUpTo(Write(100, &deleted));  // below: no merge
  manager_->WaitForMerges();
  EXPECT_EQ(manager_->merges(), 0u);
  manager_->PublishUpTo(Write(100, &deleted));  // past it
  manager_->WaitForMerges();
  EXPECT_EQ(manager_->merges(), 1u);
  const std::shared_ptr<const Snapshot> snap = manager_->Current();
  EXPECT_EQ(snap->index->num_positions(), live_.size());
  EXPECT_EQ(Rankings(*snap->index), Expected());
  ExpectGone(*snap->index, deleted, "after the background merge ");
}

TEST_F(SnapshotManagerTest, MergeUnderConcurrentQueriesShowsNoTornRead) {
  // Between a merge's capture and its install the test writes and
  // publishes more changes, so a merge publishes a base of one state with a
  // delta of the next, while queries run in two threads throughout.
  std::vector<std::vector<Ranking>> states;  // the rankings of every published state
  absl::Mutex states_mu;
  std::set<std::string> deleted;
  MergeOptions merge;
  merge.background = false;
  merge.after_merge_build_for_test = [&] {
    const uint64_t seq = Write(60, &deleted);
    {
      absl::MutexLock lock(&states_mu);
      states.push_back(Expected());
    }
    manager_->PublishUpTo(seq);
  };
  Open(merge);
  manager_->PublishUpTo(Write(60, &deleted));
  states.push_back(Expected());

  std::atomic<bool> stop{false};
  std::atomic<int> torn{0};
  std::atomic<int64_t> passes{0};
  auto reader = [&] {
    while (!stop.load()) {
      const std::shared_ptr<const Snapshot> snap = manager_->Current();
      const std::vector<Ranking> got = Rankings(*snap->index);
      absl::MutexLock lock(&states_mu);
      bool one_state = false;
      for (const std::vector<Ranking>& s : states) one_state = one_state || got == s;
      if (!one_state) ++torn;
      ++passes;
    }
  };
  std::thread readers[2] = {std::thread(reader), std::thread(reader)};
  for (int round = 0; round < 4; ++round) {
    // A snapshot taken before the merge (a query in flight) keeps ranking
    // its own state after the merge and the writes it let in.
    const std::shared_ptr<const Snapshot> held = manager_->Current();
    std::vector<Ranking> held_state;
    {
      absl::MutexLock lock(&states_mu);
      held_state = states.back();
    }
    const int64_t before = passes.load();
    manager_->MergeNow();
    const std::shared_ptr<const Snapshot> merged = manager_->Current();
    EXPECT_NE(merged->index->base(), held->index->base());
    EXPECT_GT(merged->index->num_positions(), merged->index->base()->size());  // the hook's writes
    EXPECT_EQ(Rankings(*merged->index), Expected()) << round;
    EXPECT_EQ(Rankings(*held->index), held_state) << round;
    ExpectGone(*merged->index, deleted, "round " + std::to_string(round) + " ");
    // Both readers ran during and after this merge's publication.
    while (passes.load() < before + 4) std::this_thread::yield();
  }
  stop = true;
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(torn.load(), 0);
  EXPECT_EQ(manager_->merges(), 4u);
}

TEST_F(SnapshotManagerTest, AMergeAfterAReplaceIsDropped) {
  // A refit replaces the corpus while a merge builds: the merge's base is
  // of the old model and must not be installed.
  MergeOptions merge;
  merge.background = false;
  std::set<std::string> deleted;
  merge.after_merge_build_for_test = [&] {
    std::map<std::string, std::shared_ptr<const IndexEntry>> entries;
    std::map<std::string, Eigen::VectorXf> dense;
    for (const auto& [id, c] : live_) {
      entries[id] = c.entry;
      dense[id] = Eigen::Map<const Eigen::VectorXf>(c.dense.data(), c.dense.size());
    }
    manager_->PublishUpTo(manager_->Replace(DenseModel(), std::move(entries), std::move(dense)));
  };
  Open(merge);
  manager_->PublishUpTo(Write(50, &deleted));
  manager_->MergeNow();
  EXPECT_EQ(manager_->merges(), 0u);
  const std::shared_ptr<const Snapshot> snap = manager_->Current();
  EXPECT_NE(snap->model, model_);
  EXPECT_EQ(snap->index->num_positions(), live_.size());
  EXPECT_EQ(Rankings(*snap->index), Expected());
}

}  // namespace
}  // namespace peermatch::internal
