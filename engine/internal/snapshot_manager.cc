#include "engine/internal/snapshot_manager.h"

#include <atomic>
#include <utility>

namespace peermatch::internal {
namespace {

// GetStats' counters, counted once per snapshot (before the lock is taken).
Snapshot::Counts CountsOf(const Index& index) {
  Snapshot::Counts n;
  n.cities = static_cast<int64_t>(index.cities().size());
  n.cases = static_cast<int64_t>(index.size());
  for (uint32_t i = 0; i < index.size(); ++i) {
    const v1::CaseKind kind = index.attributes(i).kind;
    n.challenges += kind == v1::CASE_KIND_CHALLENGE;
    n.solutions += kind == v1::CASE_KIND_SOLUTION;
  }
  return n;
}

}  // namespace

SnapshotManager::SnapshotManager(const TermDictionary* terms,
                                 std::function<void()> before_publish)
    : terms_(terms), before_publish_(std::move(before_publish)) {}

std::shared_ptr<const Snapshot> SnapshotManager::Current() const {
  return std::atomic_load(&current_);
}

void SnapshotManager::Install(std::shared_ptr<const Model> model, std::vector<CityInfo> cities,
                              std::shared_ptr<const Index> index) {
  auto snap = std::make_shared<Snapshot>();
  snap->model = model;
  snap->index = index;
  snap->counts = CountsOf(*index);
  absl::MutexLock lock(&mu_);
  // A publisher in flight would swap in a view of the corpus replaced here.
  mu_.Await(absl::Condition(
      +[](bool* publishing) { return !*publishing; }, &publishing_));
  model_ = std::move(model);
  entries_.clear();
  for (uint32_t i = 0; i < index->size(); ++i) {
    entries_.emplace_hint(entries_.end(), index->doc(i).case_id, index->shared_entry(i));
  }
  cities_.clear();
  for (CityInfo& c : cities) cities_.emplace(c.id, std::move(c));
  fresh_.clear();
  base_ = std::move(index);
  published_seq_ = ++change_seq_;
  PublishLocked(std::move(snap));
}

uint64_t SnapshotManager::Replace(std::shared_ptr<const Model> model,
                                  std::map<std::string, std::shared_ptr<const IndexEntry>> entries,
                                  std::map<std::string, Eigen::VectorXf> dense) {
  std::map<std::string, std::shared_ptr<const Eigen::VectorXf>> fresh;
  for (auto& [id, v] : dense) {
    fresh.emplace_hint(fresh.end(), id, std::make_shared<const Eigen::VectorXf>(std::move(v)));
  }
  absl::MutexLock lock(&mu_);
  model_ = std::move(model);
  entries_ = std::move(entries);
  fresh_ = std::move(fresh);
  base_ = nullptr;
  return ++change_seq_;
}

uint64_t SnapshotManager::PutEntry(std::shared_ptr<const IndexEntry> entry, Eigen::VectorXf dense) {
  auto vector = std::make_shared<const Eigen::VectorXf>(std::move(dense));
  const std::string& id = entry->info.case_id;
  absl::MutexLock lock(&mu_);
  fresh_[id] = std::move(vector);
  entries_[id] = std::move(entry);
  return ++change_seq_;
}

uint64_t SnapshotManager::EraseEntry(const std::string& case_id) {
  absl::MutexLock lock(&mu_);
  entries_.erase(case_id);
  fresh_.erase(case_id);
  return ++change_seq_;
}

uint64_t SnapshotManager::PutCity(CityInfo city) {
  absl::MutexLock lock(&mu_);
  std::string id = city.id;
  cities_[id] = std::move(city);
  return ++change_seq_;
}

uint64_t SnapshotManager::EraseCity(absl::string_view city_id, std::vector<std::string>* erased) {
  absl::MutexLock lock(&mu_);
  cities_.erase(std::string(city_id));
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->second->info.city_id == city_id) {
      erased->push_back(it->first);
      fresh_.erase(it->first);
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

SnapshotManager::Capture SnapshotManager::CaptureLocked() const {
  Capture c;
  c.seq = change_seq_;
  c.model = model_;
  const int dim = model_->dense_dim();
  c.entries.reserve(entries_.size());
  c.rows.reserve(entries_.size());
  c.base = base_ != nullptr && base_->dense_dim() == dim ? base_ : nullptr;
  // Each entry's dense vector: a fresh one, or its row in base_ (found by
  // walking both in id order; the entry object is the same).
  uint32_t j = 0;
  auto fresh = fresh_.begin();
  for (const auto& [id, e] : entries_) {
    const float* row = nullptr;
    while (fresh != fresh_.end() && fresh->first < id) ++fresh;
    if (fresh != fresh_.end() && fresh->first == id) {
      if (fresh->second->size() == dim) {
        row = fresh->second->data();
        c.fresh.push_back(fresh->second);
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

std::shared_ptr<Snapshot> SnapshotManager::Build(Capture& c) const {
  auto snap = std::make_shared<Snapshot>();
  snap->model = c.model;
  // Every term id in the captured entries was interned before the capture.
  // The entries and cities are handed over: only the vectors' keep-alives
  // are read after the build.
  snap->index = Index::Build(std::move(c.entries), c.rows, std::move(c.cities), terms_->size(),
                             c.model->dense_dim());
  snap->counts = CountsOf(*snap->index);
  return snap;
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
    Capture capture = CaptureLocked();
    mu_.Unlock();
    // Built without the lock: writes go on, queries read the old snapshot.
    std::shared_ptr<Snapshot> snap = Build(capture);
    if (before_publish_) before_publish_();
    mu_.Lock();
    // The new index holds every captured vector: fresh vectors that were
    // not replaced since the capture now live in it.
    if (model_ == capture.model) {
      // Walks fresh_ and the new index in id order; an entry still the one
      // indexed has its vector there now.
      const Index& index = *snap->index;
      uint32_t j = 0;
      for (auto it = fresh_.begin(); it != fresh_.end();) {
        while (j < index.size() && index.doc(j).case_id < it->first) ++j;
        auto e = entries_.find(it->first);
        const bool indexed = j < index.size() && e != entries_.end() &&
                             &index.entry(j) == e->second.get();
        it = indexed ? fresh_.erase(it) : std::next(it);
      }
      base_ = snap->index;
    }
    published_seq_ = capture.seq;
    publishing_ = false;
    PublishLocked(std::move(snap));
  }
  mu_.Unlock();
}

}  // namespace peermatch::internal
