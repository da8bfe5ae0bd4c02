// SnapshotManager: the engine's in-memory corpus (the model, every case's
// index entry and dense vector, every city) and the immutable snapshots that
// queries read. Writers change the corpus and publish; readers read.
//
// - A change (PutEntry, EraseEntry, PutCity, ...) takes effect in the corpus
//   at once and returns its sequence number; it is not yet visible to
//   queries.
// - PublishUpTo(seq) makes every change up to `seq` visible: it builds the
//   next index from the corpus as it is (without holding the lock that
//   changes take, so writes go on meanwhile) and swaps it in atomically.
//   Concurrent publishers coalesce: one builds, the others wait for a
//   snapshot that covers their change, so a burst of N writers costs about
//   one build, not N.
// - Current() is one atomic load; it never builds and never waits for a
//   build, so a query is never held up by a write's index work.
//
// Where each entry's dense vector lives (held once): entries changed since
// the last build have theirs in `fresh_`, shared with any build in flight;
// every other entry's is its row in `base_`, the last index built (the same
// entry object).
//
// Thread-safety: every method is safe to call concurrently.
#ifndef PEERMATCH_ENGINE_INTERNAL_SNAPSHOT_MANAGER_H_
#define PEERMATCH_ENGINE_INTERNAL_SNAPSHOT_MANAGER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "Eigen/Core"
#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "embed/model.h"
#include "embed/term_dictionary.h"
#include "engine/snapshot.h"
#include "index/index.h"

namespace peermatch::internal {

class SnapshotManager {
 public:
  // `terms` (borrowed, must outlive this) numbers every entry's terms.
  // `before_publish`, when set, is called by a publisher after it has built
  // a snapshot and before it swaps it in (a test hook: it may block).
  SnapshotManager(const TermDictionary* terms, std::function<void()> before_publish);
  SnapshotManager(const SnapshotManager&) = delete;
  SnapshotManager& operator=(const SnapshotManager&) = delete;

  // The published snapshot; null before the first Install.
  std::shared_ptr<const Snapshot> Current() const;

  // Replaces the whole corpus with one already indexed (`index` holds every
  // entry, in id order, with its dense row) and publishes it at once.
  void Install(std::shared_ptr<const Model> model, std::vector<CityInfo> cities,
               std::shared_ptr<const Index> index);
  // Replaces the whole corpus (a refit): every entry with its dense vector.
  // Returns the change's sequence number (publish it with PublishUpTo).
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

  std::shared_ptr<const Model> model() const;
  size_t num_entries() const;

 private:
  // What a build reads, captured under the lock; the shared pointers keep
  // the vectors alive while the build runs without it.
  struct Capture {
    uint64_t seq = 0;
    std::shared_ptr<const Model> model;
    std::vector<std::shared_ptr<const IndexEntry>> entries;
    std::vector<const float*> rows;
    std::vector<std::shared_ptr<const Eigen::VectorXf>> fresh;  // keeps rows alive
    std::shared_ptr<const Index> base;                          // keeps rows alive
    std::vector<CityInfo> cities;
  };
  Capture CaptureLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Builds the snapshot of `c`, taking its entries and cities.
  std::shared_ptr<Snapshot> Build(Capture& c) const;
  void PublishLocked(std::shared_ptr<Snapshot> snap) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const TermDictionary* const terms_;  // borrowed
  const std::function<void()> before_publish_;

  mutable absl::Mutex mu_;
  std::shared_ptr<const Model> model_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::shared_ptr<const IndexEntry>> entries_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::shared_ptr<const Eigen::VectorXf>> fresh_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const Index> base_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, CityInfo> cities_ ABSL_GUARDED_BY(mu_);
  uint64_t change_seq_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t published_seq_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  bool publishing_ ABSL_GUARDED_BY(mu_) = false;
  std::shared_ptr<const FusionFit> fusion_ ABSL_GUARDED_BY(mu_);

  // Read with std::atomic_load and written with std::atomic_store only
  // (C++17's atomic access to a shared_ptr), under mu_ for writes.
  std::shared_ptr<const Snapshot> current_;
};

}  // namespace peermatch::internal

#endif  // PEERMATCH_ENGINE_INTERNAL_SNAPSHOT_MANAGER_H_
