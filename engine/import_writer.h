// ImportWriter: writes a stream of import records through an Engine in
// groups (issue 16: group commit). Each record is applied on its own, as
// Engine::Apply would (a bad record gets its own error and changes nothing;
// the other records of its group are unaffected), but a group's accepted
// records share one synced RocksDB write (Engine::ImportEach) instead of
// one sync each.
//
// A group is committed when it holds `max_records` records, when a record
// arrives after the group's first one has waited `max_wait`, or at Flush().
// A record is acknowledged (its outcome handed to the Acknowledge callback,
// in stream order) only after the sync that holds it has returned, so every
// acknowledged record survives a crash. The writes are kDeferred: they are
// matchable at the engine's next Publish() (or visible write), which the
// caller makes before it reports what was acknowledged.
//
//   ImportWriter writer(engine, engine->import_group(), [&](int i, const auto& r, auto result) {
//     Count(r, i, result, &summary);
//   });
//   for (...) writer.Add(index, std::move(record));
//   writer.Flush();
//   engine->Publish();  // every acknowledged record is now matchable
//
// Ownership: borrows the engine, which must outlive the writer.
// Thread-safety: one stream, one thread at a time (the calls may come from
// different threads, one after another, as a gRPC reactor's do).
#ifndef PEERMATCH_ENGINE_IMPORT_WRITER_H_
#define PEERMATCH_ENGINE_IMPORT_WRITER_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "peermatch/v1/model.pb.h"
#include "store/store.h"

namespace peermatch {

class Engine;

// When a streaming import commits a group (see the README, "Group-commit
// imports", for the measurement behind the defaults).
struct ImportGroupOptions {
  // Records per group at most; 1 is one sync per record.
  int max_records = 256;
  // A group whose first record has waited this long is committed when the
  // next record arrives (a stalled stream commits at Flush()).
  absl::Duration max_wait = absl::Milliseconds(5);
};

class ImportWriter {
 public:
  // Called once per record, in the order added: `index` and `record` as
  // given to Add, `result` as Engine::Apply would return it (a store error
  // that failed the group's write is every record's of that group).
  using Acknowledge = std::function<void(int index, const v1::ImportRecord& record,
                                         const absl::StatusOr<PutResult>& result)>;

  ImportWriter(Engine* engine, ImportGroupOptions options, Acknowledge acknowledge);
  ~ImportWriter();  // does NOT flush: records not yet committed are dropped
  ImportWriter(const ImportWriter&) = delete;
  ImportWriter& operator=(const ImportWriter&) = delete;

  // Queues `record` (the stream's record `index`); may commit the group.
  void Add(int index, v1::ImportRecord record);
  // Commits the queued records now, if any.
  void Flush();
  // Records acknowledged so far, and the synced writes that held them.
  int64_t acknowledged() const { return acknowledged_; }
  int64_t commits() const { return commits_; }

 private:
  Engine* const engine_;  // borrowed
  const ImportGroupOptions options_;
  const Acknowledge acknowledge_;
  std::vector<v1::ImportRecord> records_;
  std::vector<int> indexes_;
  absl::Time first_added_;
  int64_t acknowledged_ = 0;
  int64_t commits_ = 0;
};

}  // namespace peermatch

#endif  // PEERMATCH_ENGINE_IMPORT_WRITER_H_
