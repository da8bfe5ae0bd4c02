#include "service/reply_cache.h"

#include <vector>

#include "absl/strings/str_cat.h"

namespace peermatch {

std::optional<grpc::ByteBuffer> ReplyCache::Get(absl::string_view key, uint64_t generation) {
  if (capacity_ == 0) return std::nullopt;
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  if (it->second.generation != generation) {
    // Computed on older data: never served again. (A newer entry stays, for
    // the readers of its generation.)
    if (it->second.generation < generation) EraseLocked(it);
    return std::nullopt;
  }
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  return it->second.reply;  // shares the slices
}

void ReplyCache::Put(absl::string_view key, uint64_t generation, const grpc::ByteBuffer& reply) {
  const size_t bytes = key.size() + reply.Length();
  if (capacity_ == 0 || bytes > max_bytes_) return;
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    if (it->second.generation > generation) return;  // a newer reply is there
    EraseLocked(it);
  }
  lru_.emplace_front(key);
  entries_.emplace(lru_.front(), Entry{generation, reply, bytes, lru_.begin()});
  bytes_ += bytes;
  while (entries_.size() > capacity_ || bytes_ > max_bytes_) EraseLocked(entries_.find(lru_.back()));
}

void ReplyCache::EraseLocked(absl::flat_hash_map<std::string, Entry>::iterator it) {
  bytes_ -= it->second.bytes;
  lru_.erase(it->second.lru);
  entries_.erase(it);
}

std::optional<std::string> ReplyCache::Key(absl::string_view method,
                                           const grpc::ByteBuffer& request) {
  std::string key = absl::StrCat(method, ":");
  std::vector<grpc::Slice> slices;
  if (!request.Dump(&slices).ok()) return std::nullopt;
  for (const grpc::Slice& s : slices) {
    key.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return key;
}

}  // namespace peermatch
