// ReplyCache: recent replies of Match and SimilarCases, as the bytes sent on
// the wire, keyed by the request's bytes. Each reply is valid only for the
// index generation that computed it (any write makes a new generation, so a
// cached reply is never stale); a reply of an older generation never
// replaces one of a newer. The portal asks the same questions on every
// page view; this makes a repeated question cost a lookup: no parsing, no
// search, no serialization (the bytes are shared, not copied).
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
  // Holds at most `capacity` replies and `max_bytes` bytes of them (keys
  // included); 0 capacity caches nothing.
  explicit ReplyCache(size_t capacity, size_t max_bytes = size_t{64} << 20)
      : capacity_(capacity), max_bytes_(max_bytes) {}

  // The reply stored under `key` for `generation`, if any.
  std::optional<grpc::ByteBuffer> Get(absl::string_view key, uint64_t generation);
  void Put(absl::string_view key, uint64_t generation, const grpc::ByteBuffer& reply);

  // A key: the method's name and the request's bytes; nullopt when the
  // request's bytes cannot be read.
  static std::optional<std::string> Key(absl::string_view method,
                                        const grpc::ByteBuffer& request);

 private:
  struct Entry {
    uint64_t generation;
    grpc::ByteBuffer reply;
    size_t bytes;
    std::list<std::string>::iterator lru;  // position in lru_
  };
  void EraseLocked(absl::flat_hash_map<std::string, Entry>::iterator it)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const size_t capacity_;
  const size_t max_bytes_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  std::list<std::string> lru_ ABSL_GUARDED_BY(mu_);  // most recent first
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace peermatch

#endif  // PEERMATCH_SERVICE_REPLY_CACHE_H_
