#include "service/reply_cache.h"

#include <iterator>
#include <vector>

#include "grpc/byte_buffer.h"

namespace peermatch {
namespace {

// What malloc adds to each block (glibc: 8-16 bytes of header and
// alignment); counted on every allocation an entry makes.
constexpr size_t kMallocHeader = 16;

}  // namespace

// The list node (Entry and two links), the index slot (a view, an iterator
// and a control byte, at the table's lowest load of 7/16 after it grows),
// the grpc_byte_buffer the entry's copy of the reply allocates (with its
// inline slices), and the reply slice's refcount (shared with the caller,
// but counted: the cache may be its last holder), each a malloc block.
const size_t ReplyCache::kEntryOverheadBytes =
    (sizeof(Entry) + 2 * sizeof(void*) + kMallocHeader) +
    (sizeof(absl::string_view) + sizeof(Lru::iterator) + 1) * 16 / 7 +
    (sizeof(grpc_byte_buffer) + kMallocHeader) + (64 + kMallocHeader) +
    kMallocHeader /* the key's block */;

std::optional<grpc::ByteBuffer> ReplyCache::Get(absl::string_view key, uint64_t generation) {
  if (capacity_ == 0) return std::nullopt;
  absl::MutexLock lock(&mu_);
  auto found = index_.find(key);
  if (found == index_.end()) return std::nullopt;
  const Lru::iterator it = found->second;
  if (it->generation != generation) {
    // Computed on older data: never served again. (A newer entry stays, for
    // the readers of its generation.)
    if (it->generation < generation) EraseLocked(it);
    return std::nullopt;
  }
  lru_.splice(lru_.begin(), lru_, it);
  return it->reply;  // shares the slices
}

void ReplyCache::Put(absl::string_view key, uint64_t generation, const grpc::ByteBuffer& reply) {
  const size_t bytes = key.size() + reply.Length() + kEntryOverheadBytes;
  if (capacity_ == 0 || bytes > max_bytes_) return;
  absl::MutexLock lock(&mu_);
  if (auto found = index_.find(key); found != index_.end()) {
    if (found->second->generation > generation) return;  // a newer reply is there
    EraseLocked(found->second);
  }
  // Exactly as long as the key: a copy with slack would hold bytes no one
  // counts.
  std::string copy;
  copy.reserve(key.size());
  copy.append(key.data(), key.size());
  lru_.push_front(Entry{std::move(copy), generation, reply, 0});
  Entry& entry = lru_.front();
  entry.bytes = entry.key.capacity() + reply.Length() + kEntryOverheadBytes;
  index_.emplace(absl::string_view(entry.key), lru_.begin());
  bytes_ += entry.bytes;
  while (lru_.size() > capacity_ || bytes_ > max_bytes_) EraseLocked(std::prev(lru_.end()));
}

size_t ReplyCache::bytes() const {
  absl::MutexLock lock(&mu_);
  return bytes_;
}

size_t ReplyCache::size() const {
  absl::MutexLock lock(&mu_);
  return lru_.size();
}

void ReplyCache::EraseLocked(Lru::iterator it) {
  bytes_ -= it->bytes;
  index_.erase(absl::string_view(it->key));
  lru_.erase(it);
}

std::optional<std::string> ReplyCache::Key(absl::string_view method,
                                           const grpc::ByteBuffer& request) {
  std::vector<grpc::Slice> slices;
  if (!request.Dump(&slices).ok()) return std::nullopt;
  size_t size = method.size() + 1;
  for (const grpc::Slice& s : slices) size += s.size();
  std::string key;
  key.reserve(size);
  key.append(method.data(), method.size());
  key.push_back(':');
  for (const grpc::Slice& s : slices) {
    key.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return key;
}

}  // namespace peermatch
