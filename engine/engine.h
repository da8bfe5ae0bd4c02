// Engine: the matching engine's door. It keeps every case's vectors in an
// in-memory index that follows the store, answers Match and SimilarCases,
// and refits the model when the corpus drifts.
//
// Writes: every write of a case goes through the engine, so that the case's
// vectors are computed with the current model and written in the same
// RocksDB batch as the case. A case is matchable as soon as its write
// returns.
//
// Refits: the model (vocabulary, IDF, LSA projection) is refitted on all
// cases when the corpus has drifted: when the cases written or deleted since
// the last fit reach max(refit_min_changes, refit_fraction x cases at the
// last fit), or when there is no fitted model yet; and, on corpora of up to
// quiet_refit_max_cases, once writes pause after any change (for a pause of
// at least quiet_refit_cost_factor times the last refit's duration). A refit
// runs in the background, at low priority (refit_nice): it embeds every case with the new model, stages the vectors in
// the store under the new version, catches up with writes made meanwhile,
// and commits the new version in one batch (the old version's vectors are
// deleted in that batch). Queries keep being answered from the old model
// until the new index is swapped in whole.
//
// Ownership: borrows the Store, which must outlive the Engine.
// Snapshots: writers publish, readers read. A write (or a refit, or a
// replica's catch-up) changes the in-memory corpus, builds the next index
// from it and publishes it atomically as the next Snapshot; a query takes
// the published snapshot with one atomic load and never builds anything,
// so it never waits for a write's index work. Concurrent writers share one
// build (engine/internal/snapshot_manager.h).
//
// Thread-safety: all methods are safe to call concurrently.
#ifndef PEERMATCH_ENGINE_ENGINE_H_
#define PEERMATCH_ENGINE_ENGINE_H_

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/cancellation.h"
#include "index/index.h"
#include "embed/model.h"
#include "embed/term_dictionary.h"
#include "engine/import_writer.h"
#include "engine/internal/refit_scheduler.h"
#include "engine/internal/replica_follower.h"
#include "engine/internal/snapshot_manager.h"
#include "records/case_language.h"
#include "engine/learned_fusion.h"
#include "engine/pairing_query.h"
#include "engine/query.h"
#include "records/case_language.h"
#include "engine/snapshot.h"
#include "peermatch/v1/model.pb.h"
#include "records/limits.h"
#include "store/store.h"

namespace peermatch {

struct EngineOptions {
  ModelOptions model;
  // The default fusion weights; learned ones replace them when `fusion`
  // says so (engine/learned_fusion.h).
  ScoreWeights weights;
  FusionOptions fusion;
  // The drift rule (see the top of this file).
  int refit_min_changes = 20;
  double refit_fraction = 0.2;
  // Refit on a background thread (false: inline, in the write that
  // triggers it; for tools and tests that want no thread).
  bool background_refit = true;
  // With a background thread: also refit once writes have paused this long
  // after any change, on corpora of up to quiet_refit_max_cases cases, so
  // that the model always ends up fitted on the current corpus (the same
  // data then gives the same answers, whatever the order of the writes).
  // 0 turns it off.
  double quiet_refit_seconds = 1.0;
  size_t quiet_refit_max_cases = 100000;
  // Issue 16: ... and the pause is at least this many times as long as the
  // last background refit took, so quiet refits take at most 1/(1 + this)
  // of the time (internal::QuietPeriod; 0: quiet_refit_seconds alone).
  double quiet_refit_cost_factor = 10;
  // The nice value background refits run at (0-19; 0: the process's), so
  // that queries keep their latency during one.
  int refit_nice = 19;
  // After every refit, hand the memory it freed back to the system
  // (malloc_trim), so resident memory returns to where it was.
  bool trim_memory_after_refit = true;
  // Check the drift rule when the engine opens, and refit there (inline).
  bool refit_at_open = true;
  // Read replica (over Store::OpenReplica): every this many milliseconds,
  // catch up with the writer and, when its data changed, reload the model
  // and every case's vectors and swap them in. No refits (the writer does
  // them). 0: not a replica.
  int replica_refresh_ms = 0;
  // Issue 13: the language a case or query text is analyzed in when it
  // neither states one nor is detected confidently (records/case_language.h).
  // Every case write sets the case's detected-language fields.
  std::string default_language = kDefaultLanguage;
  // Issue 16: how streaming imports group their commits (ImportWriter).
  ImportGroupOptions import_group;
  // Issue 16: a write rebuilds only a delta segment beside the base index;
  // a background merge (at low priority) folds it into a new base once it
  // holds max(merge_min_changes, merge_fraction * base size) changed cases
  // (engine/internal/snapshot_manager.h). background_merge false: no merge
  // thread (WaitForMerges then returns at once; the delta keeps growing
  // until a refit).
  size_t merge_min_changes = 1000;
  double merge_fraction = 0.02;
  bool background_merge = true;
  // Issue 16: a base segment of graph.min_cases cases or more gets an HNSW
  // graph of its dense rows (built in the background at nice 10 after the
  // base; Match takes the dense top from it once ready, index.h
  // "Approximate dense top"). Off by default (SIZE_MAX); peermatchd
  // --graph-from-cases sets it. Costs and why: README "HNSW on the Match path".
  GraphPolicy graph;
  // Called by a writer after it has built the next snapshot and before it
  // publishes it (a test hook: it may block, to hold a write mid-publish).
  std::function<void()> before_publish_for_test;
  // Called by Match and SimilarCases at each point where they check their
  // QueryStop, just before the check, with that QueryStop (a test hook: it
  // may sleep past the deadline, to expire a query mid-scan).
  std::function<void(const QueryStop&)> at_query_check_for_test;
};

// The most record bytes (protobuf wire size) one ImportBatch takes: an
// all-or-nothing import or a dry run is held in memory whole.
inline constexpr size_t kMaxImportBatchBytes = size_t{64} << 20;

// When a write becomes visible to queries.
enum class Visibility {
  kOnReturn,  // published before the write returns (read-your-writes)
  kDeferred,  // durable on return; visible at the next Publish() or write
};


class Engine {
 public:
  // Opens the engine over `store`: loads the current model and every case's
  // vectors (embedding cases that have none), then applies the drift rule.
  static absl::StatusOr<std::unique_ptr<Engine>> Open(Store* store,
                                                      const EngineOptions& options = {});
  ~Engine();  // stops a running refit at its next check, and waits for it
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  Store& store() const { return *store_; }
  // How streaming imports over this engine group their commits.
  const ImportGroupOptions& import_group() const { return options_.import_group; }

  // Writes. Each returns what Store's method of the same name returns; the
  // write is durable when it returns and, with Visibility::kOnReturn,
  // visible to queries. A failed write changes nothing.
  absl::StatusOr<PutResult> PutCity(const v1::City& city,
                                    Visibility visibility = Visibility::kOnReturn);
  absl::StatusOr<PutResult> PutCase(const v1::Case& c,
                                    Visibility visibility = Visibility::kOnReturn);
  absl::StatusOr<int> DeleteCity(absl::string_view id, bool cascade);
  // Partial updates: reads the stored city (or case) `id`, lets `change`
  // edit it in place, and writes the result as PutCity (PutCase) would,
  // visible on return; the read, the change and the write hold the write
  // lock, so no other write comes between them. Returns the record as
  // stored. NOT_FOUND ("no city with id ...") when there is none; `change`'s
  // own error; INVALID_ARGUMENT when `change` altered the id or the result
  // breaks a rule of records/validate.h (naming the field, as a Put does);
  // for a case, NOT_FOUND when its city_id names no city. On any error
  // nothing is written. `change` must not call into the engine.
  absl::StatusOr<v1::City> UpdateCity(absl::string_view id,
                                      absl::FunctionRef<absl::Status(v1::City*)> change);
  absl::StatusOr<v1::Case> UpdateCase(absl::string_view id,
                                      absl::FunctionRef<absl::Status(v1::Case*)> change);
  absl::Status DeleteCase(absl::string_view id);
  // Applies one import record (a city or a case). INVALID_ARGUMENT
  // ("record: ...") when it holds neither.
  absl::StatusOr<PutResult> Apply(const v1::ImportRecord& record,
                                  Visibility visibility = Visibility::kOnReturn);
  // Applies `records` as one import (ImportOptions in model.proto): each is
  // checked as Apply would, in order (a case's city may be an earlier
  // record); then, unless `dry_run` or a record was rejected, all of them
  // are written in one atomic batch. results[i] is record i's outcome, as
  // Apply would return it; `written` says whether anything was written.
  // RESOURCE_EXHAUSTED when the records hold more than kMaxImportBatchBytes;
  // the store's errors (I/O) as they come. Nothing is written on any error.
  absl::StatusOr<Store::BatchOutcome> ImportBatch(const std::vector<v1::ImportRecord>& records,
                                                  bool dry_run,
                                                  Visibility visibility = Visibility::kOnReturn);
  // Issue 16 (group commit): applies `records` each on its own, as Apply
  // would (a rejected record gets Apply's error in results[i] and changes
  // nothing; the others are unaffected by it), with every accepted record
  // written in one synced batch (Store::PutEach): one sync for the group.
  // A case's city may be an earlier record. `written` is true when the
  // accepted records are durable. The store's errors (I/O) as they come,
  // with nothing written. No size limit: callers keep groups small
  // (engine/import_writer.h).
  absl::StatusOr<Store::BatchOutcome> ImportEach(const std::vector<v1::ImportRecord>& records,
                                                 Visibility visibility = Visibility::kOnReturn);
  // Makes every write so far visible to queries (one index build for all the
  // deferred writes before it); returns when they are.
  void Publish();

  // Peer cities for a challenge (engine/query.h): one page of cities ranked
  // by their best solution that passes the filters, `query.offset` cities
  // into the ranking. NOT_FOUND ("case_id: no case with id ...") for an
  // unknown case; INVALID_ARGUMENT for a query outside the limits of
  // records/limits.h (service/request_mapping.h checks requests first);
  // DEADLINE_EXCEEDED or CANCELLED as soon as `stop` says so (query.h):
  // the scan stops there and nothing else is computed.
  absl::StatusOr<MatchResult> Match(const MatchQuery& query, const QueryStop& stop = {}) const;
  // Cases similar to a text or a case, `query.offset` cases into the
  // ranking; errors as Match's.
  absl::StatusOr<SimilarResult> SimilarCases(const SimilarQuery& query,
                                             const QueryStop& stop = {}) const;

  // Batch pairing of a cohort's cities (engine/pairing_query.h): scores
  // every asking city's challenges against the other cities' solutions,
  // keeps each asker's best `candidates_per_city` peers, and solves the
  // assignment exactly.
  // `progress`, when set, is called on this thread as scoring advances: at
  // its start, at each further percent of the asking cities, and at its end.
  // Scoring uses this thread and one helper thread, joined before return.
  // `cancel`, when set, is polled before every challenge is scored and
  // between stages.
  // INVALID_ARGUMENT ("query.k: ...") for a query outside the limits the
  // engine checks (service/request_mapping.h checks requests first);
  // NOT_FOUND for unknown city ids ("keep[0].peer_city_id: no city with id
  // ..."); FAILED_PRECONDITION when the `keep` pairs alone break k or
  // capacity; CANCELLED soon after `cancel` is set.
  absl::StatusOr<PairingResult> PairCities(
      const PairingQuery& query,
      const std::function<void(const PairingProgress&)>& progress = nullptr,
      const Cancellation* cancel = nullptr) const;

  // Fits a new model on all cases now and swaps it in; returns when done.
  // FAILED_PRECONDITION when there are no cases.
  absl::Status Refit();
  // Blocks until no refit is running or scheduled (for tests and tools).
  void WaitForRefit();
  // Blocks until no merge of the delta segment is running or wanted (for
  // tests and tools).
  void WaitForMerges();
  // Folds the delta segment into a new base index now, on this thread, and
  // publishes it (queries rank the same before and after); for tests and
  // tools.
  void MergeNow();

  // --- Judgements and the learned fusion (issue 14; engine_fusion.cc) ---
  // Stores `j` (Store::AddJudgement: its contract and errors, nothing
  // written on error) and then refits the fusion weights to every stored
  // judgement (RefitFusion). Pairing rounds' decisions are not stored as
  // judgements: RefitFusion reads them from the rounds (an accepted pair is
  // relevant, one declined as not relevant is not), so call RefitFusion
  // after a decision.
  absl::StatusOr<v1::Judgement> AddJudgement(const v1::Judgement& j);
  // Fits the fusion weights to every stored judgement and every pairing
  // round decision that labels relevance, on the current model
  // (engine/learned_fusion.h: the line, the held-out check) and publishes
  // them; the defaults when the fit says so. Called when the engine opens,
  // after every model refit and by AddJudgement; call it after writing
  // judgements straight into the store. Reading the judgements may fail
  // (I/O): the previous fusion then stays and the error is returned. The
  // fit itself reads the published snapshot and never blocks queries.
  absl::Status RefitFusion();
  // The fusion in use (never null once the engine is open).
  std::shared_ptr<const FusionFit> fusion() const;

  // The published snapshot: one atomic load; never builds, never waits.
  std::shared_ptr<const Snapshot> snapshot() const { return snapshots_.Current(); }
  // A query vector with the engine's term ids, as Match gives it to the
  // index (for benchmarks comparing retrieval paths on the same query).
  IndexQuery ToIndexQueryForBench(const QueryVector& q) const;

 private:
  Engine(Store* store, const EngineOptions& options);
  std::shared_ptr<const IndexEntry> MakeEntry(const v1::Case& c, const Embedding& e);
  absl::Status Load();
  // Refit() without the memory release.
  absl::Status RefitAndPublish();
  // Catches up with the writes made during a refit, commits the new model
  // and its vectors, and swaps them into the corpus; returns the change to
  // publish.
  absl::StatusOr<uint64_t> CommitRefit(
      uint64_t version, std::shared_ptr<const Model> fitted,
      std::map<std::string, std::shared_ptr<const IndexEntry>> entries,
      std::map<std::string, Eigen::VectorXf> dense);
  void AfterWrite(int64_t changes, uint64_t seq, Visibility visibility);
  // ImportBatch and ImportEach: embeds the cases, has `put` stage and write
  // the records, and applies what was written to the corpus.
  absl::StatusOr<Store::BatchOutcome> ImportWith(
      const std::vector<v1::ImportRecord>& records, Visibility visibility,
      absl::FunctionRef<absl::StatusOr<Store::BatchOutcome>(
          const std::vector<Store::BatchRecord>&)> put);
  // The store write and the corpus change of a put; *seq is the change to
  // publish (set only when the put changed something).
  absl::StatusOr<PutResult> PutCityLocked(const v1::City& city, uint64_t* seq)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::StatusOr<PutResult> PutCaseLocked(const v1::Case& c, uint64_t* seq)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);

  Store* const store_;  // borrowed
  const EngineOptions options_;
  TermDictionary terms_;
  // Cancelled when the engine closes: a refit in flight stops at its next
  // check instead of holding the close up.
  Cancellation closing_;

  // The weights a query on `snap` uses.
  const ScoreWeights& WeightsOf(const Snapshot& snap) const {
    return snap.fusion != nullptr ? snap.fusion->weights : options_.weights;
  }
  // Serializes fits of the fusion weights.
  absl::Mutex fusion_mu_;

  // Serializes writes and the commit of a refit.
  absl::Mutex write_mu_;
  bool refitting_ ABSL_GUARDED_BY(write_mu_) = false;
  std::set<std::string> changed_during_refit_ ABSL_GUARDED_BY(write_mu_);
  // Serializes refits with each other.
  absl::Mutex refit_mu_ ABSL_ACQUIRED_BEFORE(write_mu_);

  // The corpus in memory and the published snapshots.
  internal::SnapshotManager snapshots_;

  // When to refit, and the thread that does.
  internal::RefitScheduler refits_;
  // On a read replica: the thread that follows the writer.
  std::unique_ptr<internal::ReplicaFollower> replica_;
};

}  // namespace peermatch

#endif  // PEERMATCH_ENGINE_ENGINE_H_
