#include "engine/internal/snapshot_manager.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <utility>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace peermatch::internal {
namespace {

// GetStats' counters, from the segmented index's own counts.
Snapshot::Counts CountsOf(const SegmentedIndex& index) {
  Snapshot::Counts n;
  n.cities = static_cast<int64_t>(index.cities().size());
  n.cases = static_cast<int64_t>(index.num_cases());
  n.challenges = static_cast<int64_t>(index.num_challenges());
  n.solutions = static_cast<int64_t>(index.num_solutions());
  return n;
}

std::shared_ptr<const CityTable> TableOf(const std::map<std::string, CityInfo>& cities) {
  std::vector<CityInfo> list;
  list.reserve(cities.size());
  for (const auto& [id, city] : cities) list.push_back(city);
  return CityTable::Make(std::move(list));
}

}  // namespace

SnapshotManager::SnapshotManager(const TermDictionary* terms,
                                 std::function<void()> before_publish, MergeOptions merge)
    : terms_(terms), before_publish_(std::move(before_publish)), merge_options_(std::move(merge)) {
  if (merge_options_.background) merge_thread_ = std::thread([this] { MergeLoop(); });
}

SnapshotManager::~SnapshotManager() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (merge_thread_.joinable()) merge_thread_.join();
}

std::shared_ptr<const Snapshot> SnapshotManager::Current() const {
  return std::atomic_load(&current_);
}

void SnapshotManager::Install(std::shared_ptr<const Model> model, std::vector<CityInfo> cities,
                              std::shared_ptr<const Index> index) {
  std::map<std::string, CityInfo> by_id;
  for (CityInfo& c : cities) {
    std::string id = c.id;
    by_id.emplace(std::move(id), std::move(c));
  }
  std::shared_ptr<const CityTable> table = TableOf(by_id);
  auto snap = std::make_shared<Snapshot>();
  snap->model = model;
  snap->index = SegmentedIndex::Make({index, {}, nullptr, table});
  snap->counts = CountsOf(*snap->index);
  absl::MutexLock lock(&mu_);
  // A publisher in flight would swap in a view of the corpus replaced here
  // (a merge in flight sees another base and drops its own).
  mu_.Await(absl::Condition(
      +[](bool* publishing) { return !*publishing; }, &publishing_));
  model_ = std::move(model);
  entries_.clear();
  for (uint32_t i = 0; i < index->size(); ++i) {
    entries_.emplace_hint(entries_.end(), index->doc(i).case_id, index->shared_entry(i));
  }
  cities_ = std::move(by_id);
  city_table_ = std::move(table);
  changes_.clear();
  base_ = std::move(index);
  base_model_ = model_;
  published_seq_ = ++change_seq_;
  PublishLocked(std::move(snap));
}

uint64_t SnapshotManager::Replace(std::shared_ptr<const Model> model,
                                  std::map<std::string, std::shared_ptr<const IndexEntry>> entries,
                                  std::map<std::string, Eigen::VectorXf> dense) {
  std::map<std::string, Change> changes;
  auto vector = dense.begin();
  for (const auto& [id, entry] : entries) {
    Change& c = changes.emplace_hint(changes.end(), id, Change())->second;
    c.entry = entry;
    while (vector != dense.end() && vector->first < id) ++vector;
    c.dense = std::make_shared<const Eigen::VectorXf>(
        vector != dense.end() && vector->first == id ? std::move(vector->second)
                                                     : Eigen::VectorXf());
  }
  absl::MutexLock lock(&mu_);
  model_ = std::move(model);
  entries_ = std::move(entries);
  const uint64_t seq = ++change_seq_;
  for (auto& [id, c] : changes) c.seq = seq;
  changes_ = std::move(changes);
  // No base for the new model: the next publish builds one.
  base_ = nullptr;
  base_model_ = nullptr;
  return seq;
}

uint64_t SnapshotManager::ChangedLocked(const std::string& id,
                                        std::shared_ptr<const IndexEntry> entry,
                                        std::shared_ptr<const Eigen::VectorXf> dense) {
  const uint64_t seq = ++change_seq_;
  auto [it, inserted] = changes_.try_emplace(id);
  Change& c = it->second;
  if (inserted && base_ != nullptr) c.base_pos = base_->CasePosition(id);
  c.seq = seq;
  c.entry = std::move(entry);
  c.dense = std::move(dense);
  return seq;
}

uint64_t SnapshotManager::PutEntry(std::shared_ptr<const IndexEntry> entry, Eigen::VectorXf dense) {
  auto vector = std::make_shared<const Eigen::VectorXf>(std::move(dense));
  const std::string id = entry->info.case_id;
  absl::MutexLock lock(&mu_);
  entries_[id] = entry;
  return ChangedLocked(id, std::move(entry), std::move(vector));
}

uint64_t SnapshotManager::EraseEntry(const std::string& case_id) {
  absl::MutexLock lock(&mu_);
  entries_.erase(case_id);
  return ChangedLocked(case_id, nullptr, nullptr);
}

uint64_t SnapshotManager::PutCity(CityInfo city) {
  absl::MutexLock lock(&mu_);
  std::string id = city.id;
  cities_[id] = std::move(city);
  city_table_ = nullptr;
  return ++change_seq_;
}

uint64_t SnapshotManager::EraseCity(absl::string_view city_id, std::vector<std::string>* erased) {
  absl::MutexLock lock(&mu_);
  cities_.erase(std::string(city_id));
  city_table_ = nullptr;
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->second->info.city_id == city_id) {
      erased->push_back(it->first);
      ChangedLocked(it->first, nullptr, nullptr);
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
  return ++change_seq_;
}

uint64_t SnapshotManager::LatestChange() const {
  absl::MutexLock lock(&mu_);
  return change_seq_;
}

std::shared_ptr<const Model> SnapshotManager::model() const {
  absl::MutexLock lock(&mu_);
  return model_;
}

size_t SnapshotManager::num_entries() const {
  absl::MutexLock lock(&mu_);
  return entries_.size();
}

uint64_t SnapshotManager::merges() const {
  absl::MutexLock lock(&mu_);
  return merges_;
}

SnapshotManager::FullCapture SnapshotManager::CaptureAllLocked() const {
  FullCapture c;
  c.seq = change_seq_;
  c.model = model_;
  const int dim = model_->dense_dim();
  c.entries.reserve(entries_.size());
  c.rows.reserve(entries_.size());
  c.base = base_ != nullptr && base_->dense_dim() == dim ? base_ : nullptr;
  // Each entry's dense vector: a changed one's own, or its row in base_
  // (found by walking both in id order; the entry object is the same).
  uint32_t j = 0;
  auto change = changes_.begin();
  for (const auto& [id, e] : entries_) {
    const float* row = nullptr;
    while (change != changes_.end() && change->first < id) ++change;
    if (change != changes_.end() && change->first == id) {
      if (change->second.dense != nullptr && change->second.dense->size() == dim) {
        row = change->second.dense->data();
        c.fresh.push_back(change->second.dense);
      }
    } else if (c.base != nullptr) {
      while (j < c.base->size() && c.base->doc(j).case_id < id) ++j;
      if (j < c.base->size() && &c.base->entry(j) == e.get()) row = c.base->dense_row(j);
    }
    c.entries.push_back(e);
    c.rows.push_back(row);
  }
  c.cities.reserve(cities_.size());
  for (const auto& [id, city] : cities_) c.cities.push_back(city);
  return c;
}

SnapshotManager::DeltaCapture SnapshotManager::CaptureDeltaLocked() {
  DeltaCapture c;
  c.seq = change_seq_;
  c.model = model_;
  c.base = base_;
  if (city_table_ == nullptr) city_table_ = TableOf(cities_);
  c.cities = city_table_;
  c.previous = std::atomic_load(&current_);
  const int dim = model_->dense_dim();
  // In id order: the delta's entries and the tombstones (base positions
  // ascend with the ids).
  for (const auto& [id, change] : changes_) {
    if (change.base_pos >= 0) c.tombstones.push_back(static_cast<uint32_t>(change.base_pos));
    if (change.entry == nullptr) continue;
    const bool has_row = change.dense != nullptr && change.dense->size() == dim;
    c.entries.push_back(change.entry);
    c.rows.push_back(has_row ? change.dense->data() : nullptr);
    if (has_row) c.fresh.push_back(change.dense);
  }
  return c;
}

std::shared_ptr<const Index> SnapshotManager::BuildBase(FullCapture& c) const {
  // Every term id in the captured entries was interned before the capture.
  // The entries and cities are handed over: only the vectors' keep-alives
  // are read after the build.
  std::shared_ptr<const Index> base = Index::Build(std::move(c.entries), c.rows,
                                                   std::move(c.cities), terms_->size(),
                                                   c.model->dense_dim());
  if (merge_options_.graph.Wants(base->size())) base->StartGraphBuild(merge_options_.graph.options);
  return base;
}

bool SnapshotManager::StartBaseGraph() {
  std::shared_ptr<const Index> base;
  {
    absl::MutexLock lock(&mu_);
    base = base_;
  }
  return base != nullptr && merge_options_.graph.Wants(base->size()) &&
         base->StartGraphBuild(merge_options_.graph.options);
}

std::shared_ptr<Snapshot> SnapshotManager::BuildDelta(DeltaCapture& c) const {
  auto snap = std::make_shared<Snapshot>();
  snap->model = c.model;
  std::shared_ptr<const Index> delta;
  if (!c.entries.empty()) {
    // The postings' tables are as long as the largest term id in the delta,
    // not the dictionary.
    uint32_t num_terms = 0;
    for (const auto& e : c.entries) {
      for (const auto& [term, w] : e->words) num_terms = std::max(num_terms, term + 1);
      for (const auto& [term, w] : e->grams) num_terms = std::max(num_terms, term + 1);
    }
    // Its cities are placeholders: the segmented index reads them from the
    // table.
    delta = Index::Build(std::move(c.entries), c.rows, {}, num_terms, c.model->dense_dim());
  }
  const SegmentedIndex* previous = c.previous != nullptr ? c.previous->index.get() : nullptr;
  snap->index = SegmentedIndex::Make({c.base, std::move(c.tombstones), delta, c.cities}, previous);
  snap->counts = CountsOf(*snap->index);
  return snap;
}

void SnapshotManager::InstallBaseLocked(std::shared_ptr<const Index> base, uint64_t seq) {
  base_ = std::move(base);
  base_model_ = model_;
  // Changes up to `seq` are in the new base now; later ones stay, with
  // their position in it.
  for (auto it = changes_.begin(); it != changes_.end();) {
    if (it->second.seq <= seq) {
      it = changes_.erase(it);
      continue;
    }
    it->second.base_pos = base_->CasePosition(it->first);
    ++it;
  }
}

void SnapshotManager::PublishDeltaLocked(bool call_hook) {
  DeltaCapture capture = CaptureDeltaLocked();
  mu_.Unlock();
  // Built without the lock: writes go on, queries read the old snapshot.
  std::shared_ptr<Snapshot> snap = BuildDelta(capture);
  if (call_hook && before_publish_) before_publish_();
  mu_.Lock();
  published_seq_ = std::max(published_seq_, capture.seq);
  PublishLocked(std::move(snap));
}

bool SnapshotManager::MergeDueLocked() const {
  if (base_ == nullptr || base_model_ != model_ || merging_) return false;
  const double threshold =
      std::max(static_cast<double>(merge_options_.min_changes),
               merge_options_.fraction * static_cast<double>(base_->size()));
  return static_cast<double>(changes_.size()) >= threshold;
}

void SnapshotManager::SetFusion(std::shared_ptr<const FusionFit> fusion) {
  absl::MutexLock lock(&mu_);
  fusion_ = std::move(fusion);
  const std::shared_ptr<const Snapshot> current = std::atomic_load(&current_);
  if (current != nullptr) PublishLocked(std::make_shared<Snapshot>(*current));
}

void SnapshotManager::PublishLocked(std::shared_ptr<Snapshot> snap) {
  snap->generation = ++generation_;
  snap->fusion = fusion_;
  std::atomic_store(&current_, std::shared_ptr<const Snapshot>(std::move(snap)));
}

void SnapshotManager::PublishUpTo(uint64_t seq) {
  mu_.Lock();
  while (published_seq_ < seq) {
    if (publishing_) {
      // Another publisher is building; its snapshot may cover `seq`.
      struct Wait {
        const SnapshotManager* m;
        uint64_t seq;
      } wait{this, seq};
      mu_.Await(absl::Condition(
          +[](Wait* w) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return !w->m->publishing_ || w->m->published_seq_ >= w->seq;
          },
          &wait));
      continue;
    }
    publishing_ = true;
    if (base_ == nullptr || base_model_ != model_) {
      // No base for this model (the first publish, or a refit): a whole
      // one, built without the lock.
      FullCapture capture = CaptureAllLocked();
      mu_.Unlock();
      std::shared_ptr<const Index> base = BuildBase(capture);
      mu_.Lock();
      if (model_ != capture.model) {  // replaced again meanwhile: build anew
        publishing_ = false;
        continue;
      }
      InstallBaseLocked(std::move(base), capture.seq);
    }
    PublishDeltaLocked(/*call_hook=*/true);
    publishing_ = false;
    if (merge_options_.background && MergeDueLocked()) merge_wanted_ = true;
  }
  mu_.Unlock();
}

void SnapshotManager::Merge() {
  mu_.Lock();
  mu_.Await(absl::Condition(
      +[](bool* merging) { return !*merging; }, &merging_));
  // Wanted until now, running from now: WaitForMerges never sees neither.
  merge_wanted_ = false;
  if (stopping_ || base_ == nullptr || base_model_ != model_) {
    mu_.Unlock();
    return;
  }
  merging_ = true;
  FullCapture capture = CaptureAllLocked();
  const std::shared_ptr<const Index> old_base = base_;
  mu_.Unlock();
  std::shared_ptr<const Index> base = BuildBase(capture);
  // Issue 16: when the base being replaced has its HNSW graph, the new one
  // is installed only with its own (built in the background, index.h), so
  // Match never falls back to the exact scan of a large base after a
  // merge; the delta keeps taking the writes meanwhile. Given up on stop.
  if (old_base->graph() != nullptr && base->graph_build_info().started) {
    while (!base->graph_build_info().done) {
      {
        absl::MutexLock lock(&mu_);
        if (stopping_) break;
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
  }
  if (merge_options_.after_merge_build_for_test) merge_options_.after_merge_build_for_test();
  mu_.Lock();
  struct Ready {
    const SnapshotManager* m;
  } ready{this};
  mu_.Await(absl::Condition(
      +[](Ready* r) ABSL_NO_THREAD_SAFETY_ANALYSIS {
        return !r->m->publishing_ || r->m->stopping_;
      },
      &ready));
  // A refit or a reload since the capture replaced the corpus: drop it.
  if (!stopping_ && model_ == capture.model && base_ == old_base) {
    publishing_ = true;
    InstallBaseLocked(std::move(base), capture.seq);
    PublishDeltaLocked(/*call_hook=*/false);
    publishing_ = false;
    ++merges_;
  }
  merging_ = false;
  if (merge_options_.background && MergeDueLocked()) merge_wanted_ = true;
  mu_.Unlock();
}

void SnapshotManager::MergeNow() { Merge(); }

void SnapshotManager::WaitForMerges() {
  absl::MutexLock lock(&mu_);
  struct Idle {
    const SnapshotManager* m;
  } idle{this};
  mu_.Await(absl::Condition(
      +[](Idle* i) ABSL_NO_THREAD_SAFETY_ANALYSIS {
        return i->m->stopping_ || (!i->m->merging_ && !i->m->merge_wanted_);
      },
      &idle));
}

void SnapshotManager::MergeLoop() {
  // Low priority: a merge rebuilds the whole corpus on both cores, and
  // queries and writes come first. (Linux: the nice value is per thread,
  // and the build's helper thread inherits it.)
  setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), merge_options_.merge_nice);
  mu_.Lock();
  for (;;) {
    mu_.Await(absl::Condition(
        +[](SnapshotManager* m) ABSL_NO_THREAD_SAFETY_ANALYSIS {
          return m->merge_wanted_ || m->stopping_;
        },
        this));
    if (stopping_) break;
    mu_.Unlock();
    Merge();
    mu_.Lock();
  }
  mu_.Unlock();
}

}  // namespace peermatch::internal
