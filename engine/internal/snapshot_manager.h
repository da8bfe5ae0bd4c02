// SnapshotManager: the engine's in-memory corpus (the model, every case's
// index entry and dense vector, every city) and the immutable snapshots that
// queries read. Writers change the corpus and publish; readers read.
//
// - A change (PutEntry, EraseEntry, PutCity, ...) takes effect in the corpus
//   at once and returns its sequence number; it is not yet visible to
//   queries.
// - PublishUpTo(seq) makes every change up to `seq` visible. The snapshot's
//   index is segmented (index/segmented_index.h): a base Index, a delta
//   Index over the cases changed since the base was built, and tombstones
//   for the base's cases deleted or replaced since. A publish rebuilds only
//   the delta (work proportional to the changes since the base, not to the
//   corpus), without holding the lock that changes take, and swaps the
//   snapshot in atomically. Concurrent publishers coalesce: one builds, the
//   others wait for a snapshot that covers their change. A publish with no
//   base for the current model (the first one, or after Replace: a refit)
//   builds a whole base instead.
// - Merges: once the changes since the base reach
//   max(merge_min_changes, merge_fraction * base size), a background thread
//   (at low priority) builds a new base from the whole corpus, off the write
//   path, then publishes it with a delta of the changes made meanwhile.
//   Queries in flight keep the snapshot they took: a merge never changes
//   what a query sees mid-way, and both snapshots rank the same live cases
//   the same.
// - Current() is one atomic load; it never builds and never waits for a
//   build, so a query is never held up by a write's index work.
//
// Where each entry's dense vector lives (held once besides the delta's
// copy): entries changed since the base was built have theirs in their
// change record; every other entry's is its row in the base (the same entry
// object).
//
// Thread-safety: every method is safe to call concurrently.
#ifndef PEERMATCH_ENGINE_INTERNAL_SNAPSHOT_MANAGER_H_
#define PEERMATCH_ENGINE_INTERNAL_SNAPSHOT_MANAGER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "Eigen/Core"
#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "embed/model.h"
#include "embed/term_dictionary.h"
#include "engine/snapshot.h"
#include "index/index.h"
#include "index/segmented_index.h"

namespace peermatch::internal {

struct MergeOptions {
  // A merge starts once the cases changed (written or deleted) since the
  // base was built reach max(min_changes, fraction * base size): the delta
  // is then searched beside a base 50x its size at most, and a publish
  // rebuilds at most that many cases (README "Writes that never stall
  // reads" has the measurements behind the defaults).
  size_t min_changes = 1000;
  double fraction = 0.02;
  // Merges run on the manager's own thread, at nice `merge_nice` (false:
  // only MergeNow merges; for tests that want no thread).
  bool background = true;
  int merge_nice = 10;
  // Issue 16: which bases get an HNSW graph (index.h GraphPolicy; off by
  // default here, EngineOptions::graph sets it). A base built by a publish
  // (a refit's) or a merge starts its graph's build at once; a merge whose
  // old base had a graph installs its new base only once the new graph is
  // ready. An Installed base starts its graph only at StartBaseGraph(), so
  // that a base replaced at once (the engine's refit at open) never builds
  // one: at most one graph build per base, and no build for a base that is
  // about to be superseded.
  GraphPolicy graph;
  // Called by a merge after it has built its base and before it installs
  // it, without the lock (a test hook: it may write and publish, to land
  // changes between a merge's capture and its install).
  std::function<void()> after_merge_build_for_test;
};

class SnapshotManager {
 public:
  // `terms` (borrowed, must outlive this) numbers every entry's terms.
  // `before_publish`, when set, is called by a publisher after it has built
  // a snapshot and before it swaps it in (a test hook: it may block; merges
  // do not call it).
  SnapshotManager(const TermDictionary* terms, std::function<void()> before_publish,
                  MergeOptions merge = {});
  ~SnapshotManager();  // stops the merge thread (a merge in flight is dropped)
  SnapshotManager(const SnapshotManager&) = delete;
  SnapshotManager& operator=(const SnapshotManager&) = delete;

  // The published snapshot; null before the first Install.
  std::shared_ptr<const Snapshot> Current() const;

  // Replaces the whole corpus with one already indexed (`index` holds every
  // entry, in id order, with its dense row) and publishes it at once.
  void Install(std::shared_ptr<const Model> model, std::vector<CityInfo> cities,
               std::shared_ptr<const Index> index);
  // Starts the HNSW graph of the current base when the graph policy wants
  // one for its size and it has none started (MergeOptions::graph); true
  // when a build started. For the base given to Install; bases built here
  // start theirs themselves.
  bool StartBaseGraph();
  // Replaces the whole corpus (a refit): every entry with its dense vector.
  // Returns the change's sequence number (publish it with PublishUpTo,
  // which builds a whole base for the new model).
  uint64_t Replace(std::shared_ptr<const Model> model,
                   std::map<std::string, std::shared_ptr<const IndexEntry>> entries,
                   std::map<std::string, Eigen::VectorXf> dense);

  // Changes; each returns its sequence number.
  uint64_t PutEntry(std::shared_ptr<const IndexEntry> entry, Eigen::VectorXf dense);
  uint64_t EraseEntry(const std::string& case_id);
  uint64_t PutCity(CityInfo city);
  // Erases a city and its entries; their case ids go to `*erased`.
  uint64_t EraseCity(absl::string_view city_id, std::vector<std::string>* erased);

  // Returns once a snapshot covering change `seq` is published (building it
  // when no other publisher is).
  void PublishUpTo(uint64_t seq);
  // The sequence number of the latest change.
  uint64_t LatestChange() const;
  // Makes `fusion` the fusion of every snapshot published from now on, and
  // publishes the current snapshot again with it (a new generation, so that
  // replies cached under the old weights are not served), without
  // rebuilding the index.
  void SetFusion(std::shared_ptr<const FusionFit> fusion);

  // Folds every published change into a new base on this thread and
  // publishes it (with a delta of the changes made meanwhile); returns once
  // published. Does nothing without a base for the current model.
  void MergeNow();
  // Returns once no merge is running or wanted.
  void WaitForMerges();
  // Merges completed since the manager was made.
  uint64_t merges() const;

  std::shared_ptr<const Model> model() const;
  size_t num_entries() const;

 private:
  // A case changed since the base was built.
  struct Change {
    uint64_t seq = 0;        // its latest change
    int64_t base_pos = -1;   // its position in base_, or -1
    // Its entry and dense vector now; both null when it was erased.
    std::shared_ptr<const IndexEntry> entry;
    std::shared_ptr<const Eigen::VectorXf> dense;
  };
  // What a whole build reads, captured under the lock; the shared pointers
  // keep the vectors alive while the build runs without it.
  struct FullCapture {
    uint64_t seq = 0;
    std::shared_ptr<const Model> model;
    std::vector<std::shared_ptr<const IndexEntry>> entries;
    std::vector<const float*> rows;
    std::vector<std::shared_ptr<const Eigen::VectorXf>> fresh;  // keeps rows alive
    std::shared_ptr<const Index> base;                          // keeps rows alive
    std::vector<CityInfo> cities;
  };
  // What a delta build reads.
  struct DeltaCapture {
    uint64_t seq = 0;
    std::shared_ptr<const Model> model;
    std::shared_ptr<const Index> base;
    std::vector<std::shared_ptr<const IndexEntry>> entries;
    std::vector<const float*> rows;
    std::vector<std::shared_ptr<const Eigen::VectorXf>> fresh;  // keeps rows alive
    std::vector<uint32_t> tombstones;
    std::shared_ptr<const CityTable> cities;
    std::shared_ptr<const Snapshot> previous;  // whose tables may be reused
  };
  FullCapture CaptureAllLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  DeltaCapture CaptureDeltaLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A whole index of `c`, taking its entries and cities; its graph's build
  // started when the policy wants one.
  std::shared_ptr<const Index> BuildBase(FullCapture& c) const;
  // The snapshot of `c` (the delta built here).
  std::shared_ptr<Snapshot> BuildDelta(DeltaCapture& c) const;
  // Makes `base`, built from the corpus as of change `seq`, the base:
  // changes up to `seq` are in it now.
  void InstallBaseLocked(std::shared_ptr<const Index> base, uint64_t seq)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Records a change of case `id` (its entry and vector, or nulls when it
  // was erased); returns the change's sequence number.
  uint64_t ChangedLocked(const std::string& id, std::shared_ptr<const IndexEntry> entry,
                         std::shared_ptr<const Eigen::VectorXf> dense)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Builds and publishes a snapshot of base_ with a delta of changes_
  // (calling before_publish_ when `call_hook`); called and returns with mu_
  // held and publishing_ set by the caller (mu_ is released meanwhile).
  void PublishDeltaLocked(bool call_hook) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PublishLocked(std::shared_ptr<Snapshot> snap) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool MergeDueLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // One merge (MergeNow and the merge thread).
  void Merge();
  void MergeLoop();

  const TermDictionary* const terms_;  // borrowed
  const std::function<void()> before_publish_;
  const MergeOptions merge_options_;

  mutable absl::Mutex mu_;
  std::shared_ptr<const Model> model_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::shared_ptr<const IndexEntry>> entries_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, CityInfo> cities_ ABSL_GUARDED_BY(mu_);
  // The cities as a table; null when they changed since it was made.
  std::shared_ptr<const CityTable> city_table_ ABSL_GUARDED_BY(mu_);
  // The base: built from the corpus with base_model_ (null: none for the
  // current model; the next publish builds one).
  std::shared_ptr<const Index> base_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const Model> base_model_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Change> changes_ ABSL_GUARDED_BY(mu_);  // since base_ was built
  uint64_t change_seq_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t published_seq_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  bool publishing_ ABSL_GUARDED_BY(mu_) = false;
  std::shared_ptr<const FusionFit> fusion_ ABSL_GUARDED_BY(mu_);
  // Merges: wanted (the thread should start one), running, done, stopping.
  bool merge_wanted_ ABSL_GUARDED_BY(mu_) = false;
  bool merging_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t merges_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  // Read with std::atomic_load and written with std::atomic_store only
  // (C++17's atomic access to a shared_ptr), under mu_ for writes.
  std::shared_ptr<const Snapshot> current_;
  std::thread merge_thread_;  // runs MergeLoop when merge_options_.background
};

}  // namespace peermatch::internal

#endif  // PEERMATCH_ENGINE_INTERNAL_SNAPSHOT_MANAGER_H_
