#include "matcher/answer_cache.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace peermatch {

AnswerCache::Answer AnswerCache::Get(const std::string& key, uint64_t generation) {
  if (capacity_ == 0) return {};
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return {};
  if (it->second.generation != generation) {  // computed on older data
    lru_.erase(it->second.lru);
    entries_.erase(it);
    return {};
  }
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  return it->second.answer;
}

void AnswerCache::Put(const std::string& key, uint64_t generation, Answer answer) {
  if (capacity_ == 0) return;
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    lru_.erase(it->second.lru);
    entries_.erase(it);
  }
  lru_.push_front(key);
  entries_.emplace(key, Entry{generation, std::move(answer), lru_.begin()});
  while (entries_.size() > capacity_) {
    entries_.erase(lru_.back());
    lru_.pop_back();
  }
}

std::string AnswerCache::Key(const char* tag, const google::protobuf::Message& request,
                             int offset) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    request.SerializeToCodedStream(&coded);
  }
  return absl::StrCat(tag, ":", offset, ":", bytes);
}

}  // namespace peermatch
