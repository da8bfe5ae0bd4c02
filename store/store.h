// Store: the durable home of cities, cases, their vectors and the fitted
// matching models, in one RocksDB database. The only code that touches
// RocksDB.
//
// Layout: one column family per kind of record.
//   meta        "schema_version" -> decimal text; "model_version" -> be64;
//               "load_marker/" NAME -> text (a bulk load that completed)
//   cities      city id                    -> peermatch.v1.City (binary proto)
//   cases       case id                    -> peermatch.v1.Case (binary proto)
//   city_cases  city id '\0' case id       -> ""  (index: the cases of a city)
//   vectors     be64(model version) case id -> opaque vector blob (matcher's)
//   models      be64(model version)        -> opaque model blob (matcher's)
//   rounds      round id                   -> peermatch.v1.Round (binary proto):
//               a pairing round with every pair proposed and the decision
//               on each (store_rounds.cc; added by issue 14: a database
//               from an older build gains the family when this build opens
//               it; an older build then refuses to open the database)
//   meta        "judgement/" CHALLENGE '\0' solution case id
//               -> peermatch.v1.Judgement (binary proto; issue 14, in
//               judgements.cc). CHALLENGE is the challenge's case id, or
//               '~' and 16 hex digits of the FNV-1a 64 hash of its text
//               (case ids never start with '~'), so one (challenge,
//               solution) has one judgement: the latest.
// be64 is an 8-byte big-endian integer, so keys sort by version.
//
// Durability: every acknowledged write is one WriteBatch, applied atomically
// with the write-ahead log fsync'ed before the call returns (sync = true).
// A process killed at any point (kill -9, power loss) loses nothing that a
// call reported as written; a batch is either wholly there or not at all.
//
// Thread-safety: all methods are safe to call concurrently. Writes that check
// and then change state (a case's city must exist; cascade deletes) are
// serialized by an internal mutex; reads never block writers (RocksDB gives
// read-your-writes: a read that starts after a write returned sees it).
#ifndef PEERMATCH_STORE_STORE_H_
#define PEERMATCH_STORE_STORE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/functional/function_ref.h"
#include "peermatch/v1/model.pb.h"
#include "peermatch/v1/peermatch.pb.h"
#include "store/backup.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class WriteBatch;
}  // namespace rocksdb

namespace peermatch {

struct StoreOptions {
  // Create an empty database when `path` holds none.
  bool create_if_missing = true;
  // fsync the write-ahead log before a write returns. Turning it off keeps
  // crash safety against a killed process (the OS still has the data) but not
  // against power loss; only tests and bulk benchmarks should.
  bool sync = true;
  // RocksDB block cache for reads, in bytes.
  size_t block_cache_bytes = 64 << 20;
};

// The schema this build reads and writes. Open() refuses any other.
inline constexpr int kSchemaVersion = 1;

// A case's vector as the matcher encoded it, for one model version.
struct CaseVector {
  uint64_t model_version = 0;
  std::string blob;
};

// One decided pair of a stored round, for learning from decisions
// (Store::ListRoundDecisions).
struct RoundDecision {
  std::string round_id;
  std::string asking_city_id;
  std::string peer_city_id;
  // The challenge of the asking city and the solution of the peer behind
  // the pair's score; empty for a kept pair that no challenge matched.
  std::string challenge_id;
  std::string solution_id;
  double score = 0;
  v1::PairState state = v1::PAIR_STATE_UNSPECIFIED;  // ACCEPTED or DECLINED
  v1::DeclineReason reason = v1::DECLINE_REASON_UNSPECIFIED;  // DECLINED only
  std::string comment;
  int64_t decided_at = 0;  // Unix seconds
};

// Result of a put: whether anything was written.
enum class PutResult { kCreated, kUpdated, kUnchanged };

class Store {
 public:
  // Opens (or creates) the database at `path`.
  // Errors: FAILED_PRECONDITION if the database has a schema version this
  // build does not know (the message says which); UNAVAILABLE if another
  // process holds it (RocksDB's LOCK); NOT_FOUND if it does not exist and
  // !create_if_missing; INTERNAL for I/O errors (the message has RocksDB's).
  static absl::StatusOr<std::unique_ptr<Store>> Open(const std::string& path,
                                                     const StoreOptions& options = {});
  // Opens a read replica of the database at `primary_path`, which a writer
  // process may hold open: a RocksDB secondary instance, keeping its own
  // small state in `replica_path`. It sees the writer's data as of the last
  // CatchUp(). Every write fails with FAILED_PRECONDITION.
  static absl::StatusOr<std::unique_ptr<Store>> OpenReplica(const std::string& primary_path,
                                                            const std::string& replica_path,
                                                            const StoreOptions& options = {});
  // Replicas: reads what the writer has written since the last catch-up.
  absl::Status CatchUp();
  bool read_only() const { return read_only_; }
  // The sequence number of the last write seen (changes when data changes).
  uint64_t LatestSequence() const;
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // --- Cities ---
  // Validates and writes `city`. INVALID_ARGUMENT naming the field.
  absl::StatusOr<PutResult> PutCity(const v1::City& city);
  // NOT_FOUND if there is no such city.
  absl::StatusOr<v1::City> GetCity(absl::string_view id) const;
  // Up to `limit` cities with id > `start_after`, in id order, passing
  // `keep` (all when null). `*more` tells whether any matching city follows.
  absl::StatusOr<std::vector<v1::City>> ListCities(
      absl::string_view start_after, size_t limit,
      const std::function<bool(const v1::City&)>& keep, bool* more) const;
  // Deletes a city. NOT_FOUND if unknown; FAILED_PRECONDITION if it still
  // has cases and !cascade. With cascade, its cases and all their vectors go
  // in the same batch. Returns the number of cases deleted.
  absl::StatusOr<int> DeleteCity(absl::string_view id, bool cascade);

  // --- Cases ---
  // Validates and writes `c` together with `vector` (when given) and its
  // index entry, in one batch. NOT_FOUND if c.city_id() is unknown;
  // INVALID_ARGUMENT naming the field. Moving a case to another city is
  // allowed. kUnchanged (nothing written) when the stored case is identical
  // and, if a vector is given, a vector for that model version exists.
  // The vectors of other model versions for this case are removed when the
  // case changes: they describe the old text.
  absl::StatusOr<PutResult> PutCase(const v1::Case& c, const CaseVector* vector = nullptr);
  absl::StatusOr<v1::Case> GetCase(absl::string_view id) const;
  // Like ListCities; when `city_id` is non-empty only that city's cases.
  absl::StatusOr<std::vector<v1::Case>> ListCases(
      absl::string_view city_id, absl::string_view start_after, size_t limit,
      const std::function<bool(const v1::Case&)>& keep, bool* more) const;
  // Deletes a case, its index entry and its vectors. NOT_FOUND if unknown.
  absl::Status DeleteCase(absl::string_view id);
  // Calls `fn` for every case in id order, from one consistent snapshot.
  // Stops early with fn's error if it returns one.
  absl::Status ForEachCase(const std::function<absl::Status(const v1::Case&)>& fn) const;

  // RocksDB's estimate of the number of cases (cheap; for sizing buffers).
  uint64_t EstimateCaseCount() const;

  // Record counts, from one snapshot.
  struct Counts {
    int64_t cities = 0, cases = 0, challenges = 0, solutions = 0;
  };
  absl::StatusOr<Counts> Count() const;

  // --- Imports (store_import.cc) ---
  // One record of PutBatch, borrowed for the call: a city, or a case with
  // its vector (optional, as for PutCase); neither set is a record that
  // holds neither, rejected with INVALID_ARGUMENT ("record: ...").
  struct BatchRecord {
    const v1::City* city = nullptr;
    const v1::Case* c = nullptr;
    const CaseVector* vector = nullptr;
  };
  struct BatchOutcome {
    // By record: what PutCity / PutCase would return for it.
    std::vector<absl::StatusOr<PutResult>> results;
    // Whether the records were written (false for a dry run, or when any
    // record was rejected).
    bool written = false;
  };
  // Checks every record as PutCity / PutCase would, in order, each against
  // the store as the accepted records before it leave it (a case's city may
  // be an earlier record of the batch; a rejected record leaves nothing
  // behind). Then, unless `dry_run` or any record was rejected (INVALID_ARGUMENT
  // naming the field, NOT_FOUND for an unknown city), writes every changed
  // record in one WriteBatch: all of them or none. The call's own errors
  // (I/O, a read replica) are returned, with nothing written.
  absl::StatusOr<BatchOutcome> PutBatch(const std::vector<BatchRecord>& records, bool dry_run);
  // Issue 16 (group commit): checks every record as PutBatch does, in
  // order, but a rejected record only gets its own error (results[i], the
  // one PutCity / PutCase would give it) and leaves nothing behind: the
  // accepted records are all written in one synced WriteBatch, so a group of
  // records costs one sync instead of one each. `written` is true once that
  // write is durable (also when there was nothing to write). The call's own
  // errors (I/O, a read replica) are returned, with nothing written.
  absl::StatusOr<BatchOutcome> PutEach(const std::vector<BatchRecord>& records);

  // Load markers: a bulk load (`peermatch import --load-marker NAME`) writes
  // one when its last record is durable, so that a later start can tell a
  // finished load from an interrupted one. NOT_FOUND when there is none.
  absl::StatusOr<std::string> GetLoadMarker(absl::string_view name) const;
  // Writes (or replaces) marker `name` with `value`, synced like any write.
  absl::Status PutLoadMarker(absl::string_view name, absl::string_view value);

  // --- Pairing rounds (store_rounds.cc) ---
  // A round is one record, written whole in one synced batch, so a round and
  // every decision on it are either there or not (a kill -9 loses nothing
  // acknowledged). The store keeps rounds; what they mean (which decisions
  // are allowed) is service/rounds.h's.
  //
  // Stores `round` as a new round. Its id is round.id() (a valid id,
  // records/validate.h) when no round has it, else the first of
  // "ID-2", "ID-3", ... that is free; the id is cut to leave room for the
  // suffix. Returns the round as stored. INVALID_ARGUMENT ("round.id: ...")
  // for an id that is not valid.
  absl::StatusOr<v1::Round> CreateRound(v1::Round round);
  // NOT_FOUND ("no round with id ...") when there is none; DATA_LOSS when
  // the stored record does not parse.
  absl::StatusOr<v1::Round> GetRound(absl::string_view id) const;
  // Up to `limit` rounds with id > `start_after`, in id order; `*more` tells
  // whether any follows.
  absl::StatusOr<std::vector<v1::Round>> ListRounds(absl::string_view start_after, size_t limit,
                                                    bool* more) const;
  // Reads round `id`, lets `change` edit it in place, and writes it back;
  // the read, the change and the write hold the store's write lock, so no
  // other write comes between them. `change` returns whether it changed
  // anything (false: nothing is written) or an error (nothing is written;
  // the error is returned as is). NOT_FOUND ("no round with id ...") when
  // there is none. Returns the round as stored. `change` must not call
  // into the store.
  absl::StatusOr<v1::Round> UpdateRound(
      absl::string_view id, absl::FunctionRef<absl::StatusOr<bool>(v1::Round*)> change);
  // Every decided pair (accepted or declined) of every round, by round id
  // and then in the round's pair order, from one consistent view. The hook
  // for learning from decisions: an accepted pair labels its
  // (challenge_id, solution_id) relevant, a pair declined with
  // DECLINE_REASON_NOT_RELEVANT labels it not relevant (other reasons say
  // nothing about relevance).
  absl::StatusOr<std::vector<RoundDecision>> ListRoundDecisions() const;
  // --- Judgements (issue 14; judgements.cc) ---
  // Writes `j` (synced, like every write), replacing the judgement of the
  // same challenge and solution if there is one. time_micros 0 is set to
  // now. Errors, with nothing written: INVALID_ARGUMENT naming the field
  // ("challenge_case_id: set exactly one of challenge_case_id and
  // challenge_text", a text that is blank, not UTF-8 or over
  // kMaxQueryBytes, a solution_case_id naming a challenge, an unknown
  // source); NOT_FOUND naming the field for an unknown challenge or
  // solution case; FAILED_PRECONDITION on a read replica. Returns the
  // judgement as stored.
  absl::StatusOr<v1::Judgement> AddJudgement(const v1::Judgement& j);
  // Every stored judgement, in key order (by challenge, then solution),
  // from one consistent snapshot. Judgements whose cases were deleted since
  // are still listed (their users skip them). DATA_LOSS for one that does
  // not parse.
  absl::StatusOr<std::vector<v1::Judgement>> ListJudgements() const;

  // --- Vectors and models (opaque to the store; see matcher/) ---
  // NOT_FOUND if the case has no vector for that version.
  absl::StatusOr<std::string> GetVector(uint64_t model_version, absl::string_view case_id) const;
  // Calls fn(c, vector) for every case in id order, from one consistent
  // snapshot, with `vector` pointing at the case's vector blob of
  // `model_version`, or null when it has none: one sequential pass over
  // cases and vectors (no lookup per case). `c` and `*vector` are valid only
  // during the call; fn may move from or swap `c`. Stops early with fn's
  // error if it returns one; DATA_LOSS for a stored case that does not parse.
  absl::Status ForEachCaseWithVector(
      uint64_t model_version,
      const std::function<absl::Status(v1::Case& c, const absl::string_view* vector)>& fn) const;
  // Calls fn(case_id, blob) for every vector of `model_version`, in id order.
  absl::Status ForEachVector(
      uint64_t model_version,
      const std::function<absl::Status(absl::string_view, absl::string_view)>& fn) const;
  // Writes vectors of a model version that is not current yet (a refit in
  // progress), in one batch; skips ids whose case no longer exists.
  absl::Status PutStagedVectors(uint64_t model_version,
                                const std::vector<std::pair<std::string, std::string>>& blobs);
  // Makes `model_version` current: writes its model blob (if not empty) and
  // the version pointer, and deletes every other version's vectors and
  // models, and this version's vectors of `dropped_case_ids` (cases deleted
  // while it was staged), in one batch; then flushes the memtables (issue
  // 16: a refit stages every case's vector, and without the flush they stayed
  // resident in the vectors memtable until its 64 MB write buffer filled, so
  // resident memory climbed by the corpus's vector bytes refit after refit).
  // A failed flush is returned; the commit itself has happened by then.
  absl::Status CommitModel(uint64_t model_version, absl::string_view model_blob,
                           const std::vector<std::string>& dropped_case_ids = {});
  // The current model version (0 when none was committed) and its blob.
  absl::StatusOr<uint64_t> CurrentModelVersion() const;
  absl::StatusOr<std::string> GetModel(uint64_t model_version) const;

  // Flushes memtables to disk (for backups and tests).
  absl::Status Flush();
  // Approximate bytes on disk (SST files) and in memtables.
  uint64_t ApproximateBytes() const;
  // Bytes the memtables of every column family use now (RocksDB's
  // cur-size-all-mem-tables, summed).
  uint64_t MemtableBytes() const;

  // --- Backups (in backup.cc; restoring and listing are in backup.h) ---
  // Takes an online, incremental backup into `to_dir` (created when
  // missing): memtables are flushed, then the live files not yet in `to_dir`
  // are copied. Reads and writes go on meanwhile; the backup is one
  // consistent point in time. Then, when keep_last > 0, deletes all but the
  // newest `keep_last` backups there. Backups in one process run one at a
  // time. Returns the new backup.
  // Errors: INVALID_ARGUMENT (naming to_dir or keep_last) for an empty
  // to_dir, one inside this database's directory, or keep_last < 0;
  // FAILED_PRECONDITION when to_dir cannot be created; RESOURCE_EXHAUSTED
  // when the disk fills up (the backup is not recorded; earlier ones are
  // intact); INTERNAL for other I/O errors.
  absl::StatusOr<BackupInfo> Backup(const std::string& to_dir, int keep_last);

 private:
  Store() = default;
  absl::Status Write(rocksdb::WriteBatch* batch);
  // Takes ownership of an opened database whose handles_ are set (in
  // kFamilies order) and names the column families.
  void Adopt(rocksdb::DB* db);
  absl::StatusOr<int> DeleteCaseLocked(const v1::Case& c, rocksdb::WriteBatch* batch) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // PutBatch (each = false) and PutEach (each = true).
  absl::StatusOr<BatchOutcome> PutRecords(const std::vector<BatchRecord>& records, bool dry_run,
                                          bool each);
  // What a batch being built has staged so far (id -> serialized record,
  // and the vector keys), read before the database.
  struct Staged {
    std::map<std::string, std::string> cities, cases;
    std::set<std::string> vectors;
  };
  // Validate a record against the database and `staged`, then add its
  // writes to `batch` and `staged`. A rejected record (INVALID_ARGUMENT,
  // NOT_FOUND) adds nothing; after any other error (I/O) the batch must be
  // dropped. kUnchanged adds nothing either. In store_import.cc.
  absl::StatusOr<PutResult> StageCity(const v1::City& city, Staged* staged,
                                      rocksdb::WriteBatch* batch) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::StatusOr<PutResult> StageCase(const v1::Case& c, const CaseVector* vector, Staged* staged,
                                      rocksdb::WriteBatch* batch) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);

  StoreOptions options_;
  bool read_only_ = false;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // owned; closed in ~Store
  rocksdb::ColumnFamilyHandle* meta_ = nullptr;
  rocksdb::ColumnFamilyHandle* cities_ = nullptr;
  rocksdb::ColumnFamilyHandle* cases_ = nullptr;
  rocksdb::ColumnFamilyHandle* city_cases_ = nullptr;
  rocksdb::ColumnFamilyHandle* vectors_ = nullptr;
  rocksdb::ColumnFamilyHandle* models_ = nullptr;
  rocksdb::ColumnFamilyHandle* rounds_ = nullptr;
  // Serializes check-then-write sequences.
  mutable absl::Mutex write_mu_;
};

}  // namespace peermatch

#endif  // PEERMATCH_STORE_STORE_H_
