#include "engine/engine.h"

#include <algorithm>
#include <ctime>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/internal/query_util.h"

namespace peermatch {
namespace {

constexpr size_t kStageBatch = 1000;  // vectors per staging write

CityInfo MakeCityInfo(const v1::City& city) {
  return CityInfo{city.id(), city.country(), city.region(), std::make_shared<v1::City>(city)};
}

}  // namespace

Engine::Engine(Store* store, const EngineOptions& options)
    : store_(store),
      options_(options),
      snapshots_(&terms_, options.before_publish_for_test) {}

absl::StatusOr<std::unique_ptr<Engine>> Engine::Open(Store* store, const EngineOptions& options) {
  auto engine = std::unique_ptr<Engine>(new Engine(store, options));
  if (absl::Status s = engine->Load(); !s.ok()) return s;
  if (options.replica_refresh_ms > 0) {
    if (!store->read_only()) {
      return absl::InvalidArgumentError("replica_refresh_ms: the store is not a replica");
    }
    engine->refit_thread_ = std::thread([e = engine.get()] { e->ReplicaLoop(); });
    return engine;
  }
  bool refit = false;
  {
    absl::MutexLock lock(&engine->state_mu_);
    refit = options.refit_at_open && engine->NeedsRefitLocked();
  }
  if (refit) {
    if (absl::Status s = engine->Refit(); !s.ok()) return s;
  }
  if (options.background_refit) {
    engine->refit_thread_ = std::thread([e = engine.get()] { e->RefitLoop(); });
  }
  return engine;
}

Engine::~Engine() {
  {
    absl::MutexLock lock(&state_mu_);
    stopping_ = true;
  }
  if (refit_thread_.joinable()) refit_thread_.join();
}

std::shared_ptr<const IndexEntry> Engine::MakeEntry(const v1::Case& c, const Embedding& e) {
  auto entry = std::make_shared<IndexEntry>();
  entry->info = internal::MakeDocInfo(c);
  // Words, then grams, interned in order under one lock.
  std::vector<absl::string_view> terms;
  terms.reserve(e.words.size() + e.grams.size());
  for (const auto& [term, w] : e.words) terms.push_back(term);
  for (const auto& [term, w] : e.grams) terms.push_back(term);
  std::vector<uint32_t> ids(terms.size());
  terms_.InternAll(terms, ids.data());
  auto to_ids = [&ids](const TermWeights& weights, size_t offset) {
    SparseIds out;
    out.reserve(weights.size());
    for (size_t k = 0; k < weights.size(); ++k) out.emplace_back(ids[offset + k], weights[k].second);
    return out;
  };
  entry->words = to_ids(e.words, 0);
  std::sort(entry->words.begin(), entry->words.end());
  entry->grams = to_ids(e.grams, e.words.size());  // any order will do
  return entry;
}

bool Engine::NeedsRefitLocked() const {
  if (snapshots_.num_entries() == 0) return false;
  const std::shared_ptr<const Model> model = snapshots_.model();
  if (model->version() == 0) return true;
  const double threshold =
      std::max<double>(options_.refit_min_changes, options_.refit_fraction * model->num_docs());
  return static_cast<double>(changes_since_fit_) >= threshold;
}

void Engine::AfterWrite(int64_t changes, uint64_t seq, Visibility visibility) {
  bool inline_refit = false;
  if (changes > 0) {
    absl::MutexLock lock(&state_mu_);
    changes_since_fit_ += changes;
    last_write_ = absl::Now();
    if (!refit_wanted_ && !refit_running_ && NeedsRefitLocked()) {
      refit_wanted_ = true;
      inline_refit = !options_.background_refit;
    }
  }
  if (inline_refit) {
    Refit().IgnoreError();  // a failed refit leaves the old model serving
    absl::MutexLock lock(&state_mu_);
    refit_wanted_ = false;
  }
  if (visibility == Visibility::kOnReturn) snapshots_.PublishUpTo(seq);
}

void Engine::Publish() { snapshots_.PublishUpTo(snapshots_.LatestChange()); }

void Engine::RefitLoop() {
  const absl::Duration quiet = absl::Seconds(options_.quiet_refit_seconds);
  for (;;) {
    {
      absl::MutexLock lock(&state_mu_);
      const absl::Condition wanted(
          +[](Engine* e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(e->state_mu_) {
            return e->refit_wanted_ || e->stopping_;
          },
          this);
      if (options_.quiet_refit_seconds > 0) {
        state_mu_.AwaitWithTimeout(wanted, quiet / 2);
      } else {
        state_mu_.Await(wanted);
      }
      if (stopping_) return;
      const size_t cases = snapshots_.num_entries();
      const bool settled = options_.quiet_refit_seconds > 0 && changes_since_fit_ > 0 &&
                           cases > 0 && cases <= options_.quiet_refit_max_cases &&
                           absl::Now() - last_write_ >= quiet;
      if (!refit_wanted_ && !settled) continue;
      refit_running_ = true;
      refit_wanted_ = false;
    }
    Refit().IgnoreError();  // a failed refit leaves the old model serving
    absl::MutexLock lock(&state_mu_);
    refit_running_ = false;
  }
}

void Engine::ReplicaLoop() {
  uint64_t seen = store_->LatestSequence();
  for (;;) {
    {
      absl::MutexLock lock(&state_mu_);
      state_mu_.AwaitWithTimeout(absl::Condition(&stopping_),
                                 absl::Milliseconds(options_.replica_refresh_ms));
      if (stopping_) return;
    }
    if (!store_->CatchUp().ok()) continue;  // tried again next time
    const uint64_t now = store_->LatestSequence();
    if (now == seen) continue;
    // A failed reload keeps the previous state serving; the next round retries.
    if (Load().ok()) seen = now;
  }
}

void Engine::WaitForRefit() {
  absl::MutexLock lock(&state_mu_);
  state_mu_.Await(absl::Condition(
      +[](Engine* e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(e->state_mu_) {
        return (!e->refit_wanted_ || e->stopping_) && !e->refit_running_;
      },
      this));
}

absl::Status Engine::Refit() {
  absl::MutexLock refit_lock(&refit_mu_);
  uint64_t version = 0;
  {
    absl::MutexLock lock(&write_mu_);
    refitting_ = true;
    changed_during_refit_.clear();
    auto stored = store_->CurrentModelVersion();
    if (!stored.ok()) {
      refitting_ = false;
      return stored.status();
    }
    version = std::max(*stored, snapshots_.model()->version()) + 1;
  }
  auto finish = [this](absl::Status s) {
    absl::MutexLock lock(&write_mu_);
    refitting_ = false;
    changed_during_refit_.clear();
    return s;
  };

  // Everything below runs without locks: writes and queries go on.
  std::vector<v1::Case> cases;
  absl::Status s = store_->ForEachCase([&](const v1::Case& c) {
    cases.push_back(c);
    return absl::OkStatus();
  });
  if (!s.ok()) return finish(s);
  if (cases.empty()) return finish(absl::FailedPreconditionError("there are no cases to fit"));
  std::vector<const v1::Case*> pointers;
  for (const auto& c : cases) pointers.push_back(&c);
  Model::Fitted fitted =
      Model::Fit(pointers, version, options_.model, static_cast<int64_t>(std::time(nullptr)));
  const Model& model = *fitted.model;

  std::map<std::string, std::shared_ptr<const IndexEntry>> entries;
  std::map<std::string, Eigen::VectorXf> dense;  // every entry's, until indexed
  std::vector<std::pair<std::string, std::string>> staged;
  for (size_t i = 0; i < cases.size(); ++i) {
    entries.emplace_hint(entries.end(), cases[i].id(), MakeEntry(cases[i], fitted.embeddings[i]));
    staged.emplace_back(cases[i].id(), model.EncodeVector(fitted.embeddings[i]));
    dense.emplace_hint(dense.end(), cases[i].id(), std::move(fitted.embeddings[i].dense));
    if (staged.size() == kStageBatch || i + 1 == cases.size()) {
      if (s = store_->PutStagedVectors(version, staged); !s.ok()) return finish(s);
      staged.clear();
    }
  }

  std::vector<v1::Case>().swap(cases);  // not needed for the commit and the build
  auto seq = CommitRefit(version, fitted.model, std::move(entries), std::move(dense));
  if (!seq.ok()) return seq.status();
  snapshots_.PublishUpTo(*seq);
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> Engine::CommitRefit(
    uint64_t version, std::shared_ptr<const Model> fitted,
    std::map<std::string, std::shared_ptr<const IndexEntry>> entries,
    std::map<std::string, Eigen::VectorXf> dense) {
  const Model& model = *fitted;
  // Catch up with the writes made meanwhile, then commit, all under the
  // write lock so that no write slips between the catch-up and the swap.
  absl::MutexLock lock(&write_mu_);
  std::vector<std::pair<std::string, std::string>> staged;
  std::vector<std::string> dropped;
  for (const std::string& id : changed_during_refit_) {
    auto c = store_->GetCase(id);
    if (c.ok()) {
      Embedding e = model.Embed(*c);
      staged.emplace_back(id, model.EncodeVector(e));
      entries[id] = MakeEntry(*c, e);
      dense[id] = std::move(e.dense);
    } else if (absl::IsNotFound(c.status())) {
      dropped.push_back(id);
      entries.erase(id);
      dense.erase(id);
    } else {
      refitting_ = false;
      return c.status();
    }
  }
  absl::Status s;
  if (!staged.empty()) s = store_->PutStagedVectors(version, staged);
  if (s.ok()) s = store_->CommitModel(version, model.Serialize(), dropped);
  refitting_ = false;
  // Cases caught up here are embedded with the new model but were not part
  // of its fit: they still count as changes since the fit.
  const int64_t caught_up = static_cast<int64_t>(changed_during_refit_.size());
  changed_during_refit_.clear();
  if (!s.ok()) return s;
  const uint64_t seq = snapshots_.Replace(std::move(fitted), std::move(entries), std::move(dense));
  absl::MutexLock state(&state_mu_);
  changes_since_fit_ = caught_up;
  return seq;
}

absl::StatusOr<PutResult> Engine::PutCity(const v1::City& city, Visibility visibility) {
  uint64_t seq = 0;
  absl::StatusOr<PutResult> r;
  {
    absl::MutexLock lock(&write_mu_);
    r = store_->PutCity(city);
    if (!r.ok() || *r == PutResult::kUnchanged) return r;
    seq = snapshots_.PutCity(MakeCityInfo(city));
  }
  if (visibility == Visibility::kOnReturn) snapshots_.PublishUpTo(seq);
  return r;
}

absl::StatusOr<PutResult> Engine::PutCase(const v1::Case& c, Visibility visibility) {
  absl::StatusOr<PutResult> r;
  uint64_t seq = 0;
  {
    absl::MutexLock lock(&write_mu_);
    std::shared_ptr<const Model> model = snapshots_.model();
    Embedding e = model->Embed(c);
    CaseVector vec{model->version(), model->EncodeVector(e)};
    r = store_->PutCase(c, &vec);
    if (!r.ok() || *r == PutResult::kUnchanged) return r;
    if (refitting_) changed_during_refit_.insert(c.id());
    seq = snapshots_.PutEntry(MakeEntry(c, e), std::move(e.dense));
  }
  AfterWrite(1, seq, visibility);
  return r;
}

absl::StatusOr<int> Engine::DeleteCity(absl::string_view id, bool cascade) {
  absl::StatusOr<int> n;
  uint64_t seq = 0;
  {
    absl::MutexLock lock(&write_mu_);
    n = store_->DeleteCity(id, cascade);
    if (!n.ok()) return n;
    std::vector<std::string> erased;
    seq = snapshots_.EraseCity(id, &erased);
    if (refitting_) changed_during_refit_.insert(erased.begin(), erased.end());
  }
  AfterWrite(*n, seq, Visibility::kOnReturn);
  return n;
}

absl::Status Engine::DeleteCase(absl::string_view id) {
  uint64_t seq = 0;
  {
    absl::MutexLock lock(&write_mu_);
    if (absl::Status s = store_->DeleteCase(id); !s.ok()) return s;
    if (refitting_) changed_during_refit_.insert(std::string(id));
    seq = snapshots_.EraseEntry(std::string(id));
  }
  AfterWrite(1, seq, Visibility::kOnReturn);
  return absl::OkStatus();
}

absl::StatusOr<PutResult> Engine::Apply(const v1::ImportRecord& record, Visibility visibility) {
  switch (record.record_case()) {
    case v1::ImportRecord::kCity:
      return PutCity(record.city(), visibility);
    case v1::ImportRecord::kCase:
      return PutCase(record.case_(), visibility);
    default:
      return absl::InvalidArgumentError("record: holds neither a city nor a case");
  }
}

}  // namespace peermatch
