#include "engine/engine.h"

#include <algorithm>
#include <ctime>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/internal/query_util.h"

namespace peermatch {
namespace {

constexpr size_t kStageBatch = 1000;  // vectors per staging write
constexpr char kMisplacedOptions[] =
    "options: import options are allowed only as the first message of a stream";

CityInfo MakeCityInfo(const v1::City& city) {
  return CityInfo{city.id(), city.country(), city.region(), std::make_shared<v1::City>(city)};
}

internal::RefitRule MakeRefitRule(const EngineOptions& o) {
  internal::RefitRule rule;
  rule.min_changes = o.refit_min_changes;
  rule.fraction = o.refit_fraction;
  rule.background = o.background_refit;
  rule.quiet_seconds = o.quiet_refit_seconds;
  rule.quiet_max_cases = o.quiet_refit_max_cases;
  rule.quiet_cost_factor = o.quiet_refit_cost_factor;
  rule.nice = o.refit_nice;
  return rule;
}

internal::MergeOptions MakeMergeOptions(const EngineOptions& o) {
  internal::MergeOptions merge;
  merge.min_changes = o.merge_min_changes;
  merge.fraction = o.merge_fraction;
  merge.background = o.background_merge;
  merge.graph = o.graph;
  return merge;
}

}  // namespace

Engine::Engine(Store* store, const EngineOptions& options)
    : store_(store),
      options_(options),
      snapshots_(&terms_, options.before_publish_for_test, MakeMergeOptions(options)),
      refits_(
          MakeRefitRule(options),
          [this] {
            const std::shared_ptr<const Model> model = snapshots_.model();
            return internal::RefitScheduler::Corpus{snapshots_.num_entries(), model->version(),
                                                    model->num_docs()};
          },
          [this] { return Refit(); }) {}

absl::StatusOr<std::unique_ptr<Engine>> Engine::Open(Store* store, const EngineOptions& options) {
  auto engine = std::unique_ptr<Engine>(new Engine(store, options));
  if (absl::Status s = engine->Load(); !s.ok()) return s;
  Engine* e = engine.get();
  if (options.replica_refresh_ms > 0) {
    if (!store->read_only()) {
      return absl::InvalidArgumentError("replica_refresh_ms: the store is not a replica");
    }
    e->snapshots_.StartBaseGraph();
    e->replica_ = std::make_unique<internal::ReplicaFollower>(
        store, absl::Milliseconds(options.replica_refresh_ms), [e] {
          absl::Status s = e->Load();
          if (s.ok()) e->snapshots_.StartBaseGraph();
          return s;
        });
    e->replica_->Start();
    return engine;
  }
  if (options.refit_at_open && e->refits_.Needed()) {
    if (absl::Status s = e->Refit(); !s.ok()) return s;
  }
  // Only now: a base the refit just replaced never builds a graph (the
  // refit's base started its own).
  e->snapshots_.StartBaseGraph();
  e->refits_.Start();
  return engine;
}

Engine::~Engine() {
  closing_.Cancel();
  // Their threads call into the engine: stop them first.
  replica_.reset();
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

void Engine::AfterWrite(int64_t changes, uint64_t seq, Visibility visibility) {
  refits_.Changed(changes);  // may refit inline (without a background thread)
  if (visibility == Visibility::kOnReturn) snapshots_.PublishUpTo(seq);
}

void Engine::Publish() { snapshots_.PublishUpTo(snapshots_.LatestChange()); }

void Engine::WaitForRefit() { refits_.WaitIdle(); }

void Engine::WaitForMerges() { snapshots_.WaitForMerges(); }

void Engine::MergeNow() { snapshots_.MergeNow(); }

absl::Status Engine::Refit() {
  absl::Status s = RefitAndPublish();
  // The old snapshot and the fit's scratch are freed by now: glibc keeps such
  // memory in its arenas unless asked to return it (issue 16: resident
  // memory climbed 396 MB -> 2.06 GB over 7 refits; see the README).
  if (options_.trim_memory_after_refit) internal::ReleaseFreeMemory();
  return s;
}

absl::Status Engine::RefitAndPublish() {
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
      Model::Fit(pointers, version, options_.model, static_cast<int64_t>(std::time(nullptr)),
                 &closing_);
  if (fitted.model == nullptr) return finish(absl::CancelledError("the engine is closing"));
  const Model& model = *fitted.model;

  std::map<std::string, std::shared_ptr<const IndexEntry>> entries;
  std::map<std::string, Eigen::VectorXf> dense;  // every entry's, until indexed
  std::vector<std::pair<std::string, std::string>> staged;
  for (size_t i = 0; i < cases.size(); ++i) {
    entries.emplace_hint(entries.end(), cases[i].id(), MakeEntry(cases[i], fitted.embeddings[i]));
    staged.emplace_back(cases[i].id(), model.EncodeVector(fitted.embeddings[i]));
    dense.emplace_hint(dense.end(), cases[i].id(), std::move(fitted.embeddings[i].dense));
    if (staged.size() == kStageBatch || i + 1 == cases.size()) {
      if (closing_.cancelled()) return finish(absl::CancelledError("the engine is closing"));
      if (s = store_->PutStagedVectors(version, staged); !s.ok()) return finish(s);
      staged.clear();
    }
  }

  std::vector<v1::Case>().swap(cases);  // not needed for the commit and the build
  auto seq = CommitRefit(version, fitted.model, std::move(entries), std::move(dense));
  if (!seq.ok()) return seq.status();
  snapshots_.PublishUpTo(*seq);
  // The learned weights belong to a model's features: fit them anew.
  return RefitFusion();
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
  refits_.Refitted(caught_up);
  return seq;
}

absl::StatusOr<PutResult> Engine::PutCityLocked(const v1::City& city, uint64_t* seq) {
  absl::StatusOr<PutResult> r = store_->PutCity(city);
  if (r.ok() && *r != PutResult::kUnchanged) *seq = snapshots_.PutCity(MakeCityInfo(city));
  return r;
}

absl::StatusOr<PutResult> Engine::PutCaseLocked(const v1::Case& written, uint64_t* seq) {
  v1::Case c = written;
  SetCaseLanguage(&c, options_.default_language);
  std::shared_ptr<const Model> model = snapshots_.model();
  Embedding e = model->Embed(c);
  CaseVector vec{model->version(), model->EncodeVector(e)};
  absl::StatusOr<PutResult> r = store_->PutCase(c, &vec);
  if (!r.ok() || *r == PutResult::kUnchanged) return r;
  if (refitting_) changed_during_refit_.insert(c.id());
  *seq = snapshots_.PutEntry(MakeEntry(c, e), std::move(e.dense));
  return r;
}

absl::StatusOr<PutResult> Engine::PutCity(const v1::City& city, Visibility visibility) {
  uint64_t seq = 0;
  absl::StatusOr<PutResult> r;
  {
    absl::MutexLock lock(&write_mu_);
    r = PutCityLocked(city, &seq);
  }
  if (r.ok() && *r != PutResult::kUnchanged && visibility == Visibility::kOnReturn) {
    snapshots_.PublishUpTo(seq);
  }
  return r;
}

absl::StatusOr<PutResult> Engine::PutCase(const v1::Case& c, Visibility visibility) {
  uint64_t seq = 0;
  absl::StatusOr<PutResult> r;
  {
    absl::MutexLock lock(&write_mu_);
    r = PutCaseLocked(c, &seq);
  }
  if (r.ok() && *r != PutResult::kUnchanged) AfterWrite(1, seq, visibility);
  return r;
}

absl::StatusOr<v1::City> Engine::UpdateCity(absl::string_view id,
                                            absl::FunctionRef<absl::Status(v1::City*)> change) {
  uint64_t seq = 0;
  absl::StatusOr<PutResult> r;
  v1::City city;
  {
    absl::MutexLock lock(&write_mu_);
    absl::StatusOr<v1::City> stored = store_->GetCity(id);
    if (!stored.ok()) return stored.status();
    city = *std::move(stored);
    if (absl::Status s = change(&city); !s.ok()) return s;
    if (city.id() != id) return absl::InvalidArgumentError("city.id: an update cannot change it");
    r = PutCityLocked(city, &seq);
  }
  if (!r.ok()) return r.status();
  if (*r != PutResult::kUnchanged) snapshots_.PublishUpTo(seq);
  return city;
}

absl::StatusOr<v1::Case> Engine::UpdateCase(absl::string_view id,
                                            absl::FunctionRef<absl::Status(v1::Case*)> change) {
  uint64_t seq = 0;
  absl::StatusOr<PutResult> r;
  v1::Case c;
  {
    absl::MutexLock lock(&write_mu_);
    absl::StatusOr<v1::Case> stored = store_->GetCase(id);
    if (!stored.ok()) return stored.status();
    c = *std::move(stored);
    if (absl::Status s = change(&c); !s.ok()) return s;
    if (c.id() != id) return absl::InvalidArgumentError("case.id: an update cannot change it");
    SetCaseLanguage(&c, options_.default_language);  // what is stored, and returned
    r = PutCaseLocked(c, &seq);
  }
  if (!r.ok()) return r.status();
  if (*r != PutResult::kUnchanged) AfterWrite(1, seq, Visibility::kOnReturn);
  return c;
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
    case v1::ImportRecord::kOptions:
      return absl::InvalidArgumentError(kMisplacedOptions);
    default:
      return absl::InvalidArgumentError("record: holds neither a city nor a case");
  }
}

absl::StatusOr<Store::BatchOutcome> Engine::ImportBatch(
    const std::vector<v1::ImportRecord>& records, bool dry_run, Visibility visibility) {
  size_t bytes = 0;
  for (const auto& r : records) bytes += r.ByteSizeLong();
  if (bytes > kMaxImportBatchBytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "import: ", bytes, " bytes of records, over the ", kMaxImportBatchBytes >> 20,
        " MiB a dry run or an all-or-nothing import holds; split the file"));
  }
  return ImportWith(records, visibility, [&](const std::vector<Store::BatchRecord>& batch) {
    return store_->PutBatch(batch, dry_run);
  });
}

absl::StatusOr<Store::BatchOutcome> Engine::ImportEach(
    const std::vector<v1::ImportRecord>& records, Visibility visibility) {
  return ImportWith(records, visibility, [&](const std::vector<Store::BatchRecord>& batch) {
    return store_->PutEach(batch);
  });
}

absl::StatusOr<Store::BatchOutcome> Engine::ImportWith(
    const std::vector<v1::ImportRecord>& records, Visibility visibility,
    absl::FunctionRef<absl::StatusOr<Store::BatchOutcome>(const std::vector<Store::BatchRecord>&)>
        put) {
  int64_t cases_changed = 0;
  uint64_t seq = 0;
  absl::StatusOr<Store::BatchOutcome> outcome;
  {
    absl::MutexLock lock(&write_mu_);
    std::shared_ptr<const Model> model = snapshots_.model();
    std::vector<Embedding> embeddings(records.size());
    std::vector<CaseVector> vectors(records.size());
    std::vector<Store::BatchRecord> batch(records.size());
    std::vector<v1::Case> cases(records.size());  // with their language fields set
    for (size_t i = 0; i < records.size(); ++i) {
      if (records[i].has_city()) {
        batch[i].city = &records[i].city();
      } else if (records[i].has_case_()) {
        cases[i] = records[i].case_();
        SetCaseLanguage(&cases[i], options_.default_language);
        embeddings[i] = model->Embed(cases[i]);
        vectors[i] = CaseVector{model->version(), model->EncodeVector(embeddings[i])};
        batch[i].c = &cases[i];
        batch[i].vector = &vectors[i];
      }
    }
    outcome = put(batch);
    if (!outcome.ok()) return outcome;
    for (size_t i = 0; i < records.size(); ++i) {
      if (records[i].has_options()) {
        outcome->results[i] = absl::InvalidArgumentError(kMisplacedOptions);
      }
      if (!outcome->written || !outcome->results[i].ok() ||
          *outcome->results[i] == PutResult::kUnchanged) {
        continue;
      }
      if (records[i].has_city()) {
        seq = snapshots_.PutCity(MakeCityInfo(records[i].city()));
      } else {
        const v1::Case& c = cases[i];
        if (refitting_) changed_during_refit_.insert(c.id());
        seq = snapshots_.PutEntry(MakeEntry(c, embeddings[i]), std::move(embeddings[i].dense));
        ++cases_changed;
      }
    }
  }
  if (seq > 0) {
    if (cases_changed > 0) {
      AfterWrite(cases_changed, seq, visibility);
    } else if (visibility == Visibility::kOnReturn) {
      snapshots_.PublishUpTo(seq);
    }
  }
  return outcome;
}

}  // namespace peermatch
