#include "matcher/engine.h"

#include <algorithm>
#include <ctime>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace peermatch {
namespace {

constexpr size_t kStageBatch = 1000;  // vectors per staging write

CityInfo MakeCityInfo(const v1::City& city) {
  return CityInfo{city.id(), city.country(), city.region(), std::make_shared<v1::City>(city)};
}

}  // namespace

Engine::Engine(Store* store, const EngineOptions& options)
    : store_(store), options_(options) {}

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

absl::Status Engine::Load() {
  std::map<std::string, CityInfo> cities;
  std::string after;
  for (bool more = true; more;) {
    auto page = store_->ListCities(after, 1000, nullptr, &more);
    if (!page.ok()) return page.status();
    for (const auto& c : *page) cities.emplace(c.id(), MakeCityInfo(c));
    if (!page->empty()) after = page->back().id();
  }

  auto version = store_->CurrentModelVersion();
  if (!version.ok()) return version.status();
  std::shared_ptr<const Model> model = Model::Empty(options_.model);
  if (*version > 0) {
    auto blob = store_->GetModel(*version);
    if (!blob.ok()) return blob.status();
    auto parsed = Model::Parse(*blob, options_.model);
    if (!parsed.ok()) return parsed.status();
    model = *std::move(parsed);
  }

  std::map<std::string, std::shared_ptr<const IndexEntry>> entries;
  std::vector<v1::Case> unembedded;
  absl::Status s = store_->ForEachCase([&](const v1::Case& c) {
    auto blob = store_->GetVector(*version, c.id());
    absl::StatusOr<Embedding> e = blob.ok() ? Model::DecodeVector(*blob, nullptr)
                                            : absl::StatusOr<Embedding>(blob.status());
    if (e.ok()) {
      entries.emplace(c.id(), MakeEntry(c, *e));
    } else {
      unembedded.push_back(c);
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  // Cases written without vectors (or under another model): embed them now
  // (and store the vectors, unless this is a read replica).
  for (const v1::Case& c : unembedded) {
    Embedding e = model->Embed(c);
    if (!store_->read_only()) {
      CaseVector vec{model->version(), model->EncodeVector(e)};
      auto r = store_->PutCase(c, &vec);
      if (!r.ok()) return r.status();
    }
    entries.emplace(c.id(), MakeEntry(c, e));
  }
  absl::MutexLock lock(&state_mu_);
  model_ = std::move(model);
  entries_ = std::move(entries);
  cities_ = std::move(cities);
  changes_since_fit_ = static_cast<int64_t>(unembedded.size()) +
                       std::abs(static_cast<int64_t>(entries_.size()) - model_->num_docs());
  dirty_ = true;
  return absl::OkStatus();
}

std::shared_ptr<const IndexEntry> Engine::MakeEntry(const v1::Case& c, const Embedding& e) {
  auto entry = std::make_shared<IndexEntry>();
  DocInfo& info = entry->info;
  info.case_id = c.id();
  info.city_id = c.city_id();
  info.title = c.title();
  info.kind = c.kind();
  for (int t : c.themes()) info.themes |= 1u << t;
  for (int g : c.sdgs()) info.sdgs |= 1u << g;
  for (const auto& g : c.target_groups()) info.target_groups.push_back(absl::AsciiStrToLower(g));
  info.language = c.language().empty() ? "en" : c.language();
  info.year = c.year();
  auto to_ids = [this](const TermWeights& weights) {
    SparseIds ids;
    ids.reserve(weights.size());
    for (const auto& [term, w] : weights) ids.emplace_back(terms_.Intern(term), w);
    std::sort(ids.begin(), ids.end());
    return ids;
  };
  entry->words = to_ids(e.words);
  entry->grams = to_ids(e.grams);
  entry->dense = e.dense;
  return entry;
}

std::shared_ptr<const Snapshot> Engine::snapshot() const {
  absl::MutexLock lock(&state_mu_);
  if (dirty_ || snapshot_ == nullptr) {
    std::vector<std::shared_ptr<const IndexEntry>> entries;
    entries.reserve(entries_.size());
    for (const auto& [id, e] : entries_) entries.push_back(e);
    std::vector<CityInfo> cities;
    cities.reserve(cities_.size());
    for (const auto& [id, c] : cities_) cities.push_back(c);
    auto snap = std::make_shared<Snapshot>();
    snap->model = model_;
    snap->index = Index::Build(std::move(entries), std::move(cities), terms_.size(),
                               model_->dense_dim());
    snap->generation = ++generation_;
    snapshot_ = std::move(snap);
    dirty_ = false;
  }
  return snapshot_;
}

bool Engine::NeedsRefitLocked() const {
  if (entries_.empty()) return false;
  if (model_->version() == 0) return true;
  const double threshold =
      std::max<double>(options_.refit_min_changes, options_.refit_fraction * model_->num_docs());
  return static_cast<double>(changes_since_fit_) >= threshold;
}

void Engine::AfterWrite(int64_t changes) {
  bool inline_refit = false;
  {
    absl::MutexLock lock(&state_mu_);
    changes_since_fit_ += changes;
    last_write_ = absl::Now();
    dirty_ = true;
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
}

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
      const bool settled = options_.quiet_refit_seconds > 0 && changes_since_fit_ > 0 &&
                           !entries_.empty() &&
                           entries_.size() <= options_.quiet_refit_max_cases &&
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
    absl::MutexLock state(&state_mu_);
    version = std::max(*stored, model_->version()) + 1;
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
  std::vector<std::pair<std::string, std::string>> staged;
  for (size_t i = 0; i < cases.size(); ++i) {
    entries.emplace(cases[i].id(), MakeEntry(cases[i], fitted.embeddings[i]));
    staged.emplace_back(cases[i].id(), model.EncodeVector(fitted.embeddings[i]));
    if (staged.size() == kStageBatch || i + 1 == cases.size()) {
      if (s = store_->PutStagedVectors(version, staged); !s.ok()) return finish(s);
      staged.clear();
    }
  }

  // Catch up with the writes made meanwhile, then commit, all under the
  // write lock so that no write slips between the catch-up and the swap.
  absl::MutexLock lock(&write_mu_);
  std::vector<std::string> dropped;
  for (const std::string& id : changed_during_refit_) {
    auto c = store_->GetCase(id);
    if (c.ok()) {
      Embedding e = model.Embed(*c);
      staged.emplace_back(id, model.EncodeVector(e));
      entries[id] = MakeEntry(*c, e);
    } else if (absl::IsNotFound(c.status())) {
      dropped.push_back(id);
      entries.erase(id);
    } else {
      refitting_ = false;
      return c.status();
    }
  }
  if (!staged.empty()) s = store_->PutStagedVectors(version, staged);
  if (s.ok()) s = store_->CommitModel(version, model.Serialize(), dropped);
  refitting_ = false;
  // Cases caught up here are embedded with the new model but were not part
  // of its fit: they still count as changes since the fit.
  const int64_t caught_up = static_cast<int64_t>(changed_during_refit_.size());
  changed_during_refit_.clear();
  if (!s.ok()) return s;
  absl::MutexLock state(&state_mu_);
  model_ = fitted.model;
  entries_ = std::move(entries);
  changes_since_fit_ = caught_up;
  dirty_ = true;
  return absl::OkStatus();
}

absl::StatusOr<PutResult> Engine::PutCity(const v1::City& city) {
  absl::MutexLock lock(&write_mu_);
  auto r = store_->PutCity(city);
  if (!r.ok() || *r == PutResult::kUnchanged) return r;
  absl::MutexLock state(&state_mu_);
  cities_[city.id()] = MakeCityInfo(city);
  dirty_ = true;
  return r;
}

absl::StatusOr<PutResult> Engine::PutCase(const v1::Case& c) {
  absl::StatusOr<PutResult> r;
  {
    absl::MutexLock lock(&write_mu_);
    std::shared_ptr<const Model> model;
    {
      absl::MutexLock state(&state_mu_);
      model = model_;
    }
    Embedding e = model->Embed(c);
    CaseVector vec{model->version(), model->EncodeVector(e)};
    r = store_->PutCase(c, &vec);
    if (!r.ok() || *r == PutResult::kUnchanged) return r;
    if (refitting_) changed_during_refit_.insert(c.id());
    absl::MutexLock state(&state_mu_);
    entries_[c.id()] = MakeEntry(c, e);
  }
  AfterWrite();
  return r;
}

absl::StatusOr<int> Engine::DeleteCity(absl::string_view id, bool cascade) {
  absl::StatusOr<int> n;
  {
    absl::MutexLock lock(&write_mu_);
    n = store_->DeleteCity(id, cascade);
    if (!n.ok()) return n;
    absl::MutexLock state(&state_mu_);
    cities_.erase(std::string(id));
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (it->second->info.city_id == id) {
        if (refitting_) changed_during_refit_.insert(it->first);
        it = entries_.erase(it);
      } else {
        ++it;
      }
    }
    dirty_ = true;
  }
  if (*n > 0) AfterWrite(*n);
  return n;
}

absl::Status Engine::DeleteCase(absl::string_view id) {
  {
    absl::MutexLock lock(&write_mu_);
    if (absl::Status s = store_->DeleteCase(id); !s.ok()) return s;
    if (refitting_) changed_during_refit_.insert(std::string(id));
    absl::MutexLock state(&state_mu_);
    entries_.erase(std::string(id));
  }
  AfterWrite();
  return absl::OkStatus();
}

absl::StatusOr<PutResult> Engine::Apply(const v1::ImportRecord& record) {
  switch (record.record_case()) {
    case v1::ImportRecord::kCity:
      return PutCity(record.city());
    case v1::ImportRecord::kCase:
      return PutCase(record.case_());
    default:
      return absl::InvalidArgumentError("record: holds neither a city nor a case");
  }
}

}  // namespace peermatch
