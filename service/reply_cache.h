// ReplyCache: recent replies of Match and SimilarCases, as the bytes sent on
// the wire, keyed by the request's bytes. Each reply is valid only for the
// index generation that computed it (any write makes a new generation, so a
// cached reply is never stale); a reply of an older generation never
// replaces one of a newer. The portal asks the same questions on every
// page view; this makes a repeated question cost a lookup: no parsing, no
// search, no serialization (the bytes are shared, not copied).
//
// Budget: every byte an entry holds is counted against `max_bytes`: its
// key (held once, by capacity), its reply, and an estimate of the list
// node, hash-table slot and gRPC slice that hold them (kEntryOverheadBytes).
// The least recently used entries go until the count is within budget, so
// bytes() <= max_bytes always holds.
//
// Thread-safety: all methods are thread-safe.
#ifndef PEERMATCH_SERVICE_REPLY_CACHE_H_
#define PEERMATCH_SERVICE_REPLY_CACHE_H_

#include <cstdint>
#include <list>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/support/byte_buffer.h"

namespace peermatch {

class ReplyCache {
 public:
  // Bytes counted per entry beyond its key and reply: the list node, the
  // hash table's slot (at its lowest load), the reply's slice and byte
  // buffer headers, and malloc's headers on each (estimated from their
  // sizes in this build; ReplyCache.StaysWithinItsBudget measures it).
  static const size_t kEntryOverheadBytes;

  // Holds at most `capacity` replies and `max_bytes` bytes (see above); 0
  // capacity caches nothing.
  explicit ReplyCache(size_t capacity, size_t max_bytes = size_t{64} << 20)
      : capacity_(capacity), max_bytes_(max_bytes) {}

  // The reply stored under `key` for `generation`, if any.
  std::optional<grpc::ByteBuffer> Get(absl::string_view key, uint64_t generation);
  // Stores a reply; not at all when the entry alone would exceed the budget.
  void Put(absl::string_view key, uint64_t generation, const grpc::ByteBuffer& reply);

  // Bytes the entries hold now, as counted against the budget.
  size_t bytes() const;
  size_t size() const;

  // A key: the method's name and the request's bytes; nullopt when the
  // request's bytes cannot be read. Its capacity is its size.
  static std::optional<std::string> Key(absl::string_view method,
                                        const grpc::ByteBuffer& request);

 private:
  struct Entry {
    std::string key;  // the only copy; the index holds views of it
    uint64_t generation;
    grpc::ByteBuffer reply;
    size_t bytes;
  };
  using Lru = std::list<Entry>;  // most recent first
  void EraseLocked(Lru::iterator it) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const size_t capacity_;
  const size_t max_bytes_;
  mutable absl::Mutex mu_;
  Lru lru_ ABSL_GUARDED_BY(mu_);
  // Views of the keys in lru_ (list nodes do not move).
  absl::flat_hash_map<absl::string_view, Lru::iterator> index_ ABSL_GUARDED_BY(mu_);
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace peermatch

#endif  // PEERMATCH_SERVICE_REPLY_CACHE_H_
