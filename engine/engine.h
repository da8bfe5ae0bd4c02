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
// quiet_refit_max_cases, once writes pause after any change. A refit runs in the
// background: it embeds every case with the new model, stages the vectors in
// the store under the new version, catches up with writes made meanwhile,
// and commits the new version in one batch (the old version's vectors are
// deleted in that batch). Queries keep being answered from the old model
// until the new index is swapped in whole.
//
// Ownership: borrows the Store, which must outlive the Engine.
// Thread-safety: all methods are safe to call concurrently. Queries read an
// immutable snapshot (shared_ptr<const Snapshot>) and never block on writes
// or refits, except to rebuild the snapshot after a write.
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
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/cancellation.h"
#include "index/index.h"
#include "embed/model.h"
#include "embed/term_dictionary.h"
#include "peermatch/v1/model.pb.h"
#include "peermatch/v1/peermatch.pb.h"
#include "store/store.h"

namespace peermatch {

struct EngineOptions {
  ModelOptions model;
  ScoreWeights weights;
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
  // Check the drift rule when the engine opens, and refit there (inline).
  bool refit_at_open = true;
  // Read replica (over Store::OpenReplica): every this many milliseconds,
  // catch up with the writer and, when its data changed, reload the model
  // and every case's vectors and swap them in. No refits (the writer does
  // them). 0: not a replica.
  int replica_refresh_ms = 0;
};

// Limits on queries, checked by Match and SimilarCases.
inline constexpr int kMaxK = 100;
inline constexpr int kMaxEvidence = 10;
inline constexpr int kMaxOffset = 10000;

// A consistent view for queries: the model and the index built with it.
struct Snapshot {
  std::shared_ptr<const Model> model;
  std::shared_ptr<const Index> index;
  uint64_t generation = 0;  // a new one after every change
};

class Engine {
 public:
  // Opens the engine over `store`: loads the current model and every case's
  // vectors (embedding cases that have none), then applies the drift rule.
  static absl::StatusOr<std::unique_ptr<Engine>> Open(Store* store,
                                                      const EngineOptions& options = {});
  ~Engine();  // waits for a running refit
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  Store& store() const { return *store_; }

  // Writes. Each returns what Store's method of the same name returns.
  absl::StatusOr<PutResult> PutCity(const v1::City& city);
  absl::StatusOr<PutResult> PutCase(const v1::Case& c);
  absl::StatusOr<int> DeleteCity(absl::string_view id, bool cascade);
  absl::Status DeleteCase(absl::string_view id);
  // Applies one import record (a city or a case). INVALID_ARGUMENT
  // ("record: ...") when it holds neither.
  absl::StatusOr<PutResult> Apply(const v1::ImportRecord& record);

  // Peer cities for a challenge, `offset` cities into the ranking.
  // INVALID_ARGUMENT naming the field for a malformed request; NOT_FOUND
  // ("case_id: ...") for an unknown case. `*more` tells whether cities
  // follow this page.
  absl::StatusOr<v1::MatchResponse> Match(const v1::MatchRequest& request, int offset,
                                          bool* more) const;
  // Cases similar to a text or a case, `offset` cases into the ranking.
  absl::StatusOr<v1::SimilarCasesResponse> SimilarCases(const v1::SimilarCasesRequest& request,
                                                        int offset, bool* more) const;

  // Batch pairing of a cohort's cities (see PairCitiesRequest in
  // proto/peermatch/v1/peermatch.proto): scores every asking city's
  // challenges against the other cities' solutions, keeps each asker's best
  // `candidates_per_city` peers, and solves the assignment exactly.
  // `progress`, when set, is called on this thread as scoring advances: at
  // its start, at each further percent of the asking cities, and at its end.
  // Scoring uses this thread and one helper thread, joined before return.
  // `cancel`, when set, is polled before every challenge is scored and
  // between stages.
  // INVALID_ARGUMENT naming the field; NOT_FOUND for unknown city ids;
  // FAILED_PRECONDITION when the `keep` pairs alone break k or capacity;
  // CANCELLED soon after `cancel` is set.
  struct Pairing {
    std::vector<v1::Pair> pairs;  // by asking city, best first
    v1::PairingSummary summary;
  };
  absl::StatusOr<Pairing> PairCities(
      const v1::PairCitiesRequest& request,
      const std::function<void(const v1::PairingProgress&)>& progress = nullptr,
      const Cancellation* cancel = nullptr) const;

  // Fits a new model on all cases now and swaps it in; returns when done.
  // FAILED_PRECONDITION when there are no cases.
  absl::Status Refit();
  // Blocks until no refit is running or scheduled (for tests and tools).
  void WaitForRefit();

  // The current snapshot (rebuilt first if a write happened since).
  std::shared_ptr<const Snapshot> snapshot() const;

 private:
  Engine(Store* store, const EngineOptions& options);
  std::shared_ptr<const IndexEntry> MakeEntry(const v1::Case& c, const Embedding& e);
  absl::Status Load();
  bool NeedsRefitLocked() const ABSL_SHARED_LOCKS_REQUIRED(state_mu_);
  void AfterWrite(int64_t changes = 1);
  void RefitLoop();
  void ReplicaLoop();

  Store* const store_;  // borrowed
  const EngineOptions options_;
  TermDictionary terms_;

  // Serializes writes and the commit of a refit.
  absl::Mutex write_mu_ ABSL_ACQUIRED_BEFORE(state_mu_);
  bool refitting_ ABSL_GUARDED_BY(write_mu_) = false;
  std::set<std::string> changed_during_refit_ ABSL_GUARDED_BY(write_mu_);
  // Serializes refits with each other.
  absl::Mutex refit_mu_ ABSL_ACQUIRED_BEFORE(write_mu_);

  mutable absl::Mutex state_mu_;
  std::shared_ptr<const Model> model_ ABSL_GUARDED_BY(state_mu_);
  std::map<std::string, std::shared_ptr<const IndexEntry>> entries_ ABSL_GUARDED_BY(state_mu_);
  // Where each entry's dense vector lives (held once): entries written since
  // the last index build have theirs here, by case id; every other entry's
  // is its row in dense_base_, the last index built (the same entry object).
  mutable std::map<std::string, Eigen::VectorXf> fresh_dense_ ABSL_GUARDED_BY(state_mu_);
  mutable std::shared_ptr<const Index> dense_base_ ABSL_GUARDED_BY(state_mu_);
  std::map<std::string, CityInfo> cities_ ABSL_GUARDED_BY(state_mu_);
  mutable std::shared_ptr<const Snapshot> snapshot_ ABSL_GUARDED_BY(state_mu_);
  mutable uint64_t generation_ ABSL_GUARDED_BY(state_mu_) = 0;
  mutable bool dirty_ ABSL_GUARDED_BY(state_mu_) = true;
  int64_t changes_since_fit_ ABSL_GUARDED_BY(state_mu_) = 0;
  bool refit_wanted_ ABSL_GUARDED_BY(state_mu_) = false;
  bool refit_running_ ABSL_GUARDED_BY(state_mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(state_mu_) = false;
  absl::Time last_write_ ABSL_GUARDED_BY(state_mu_) = absl::InfinitePast();
  std::thread refit_thread_;
};

}  // namespace peermatch

#endif  // PEERMATCH_ENGINE_ENGINE_H_
