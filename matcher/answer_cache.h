// AnswerCache: recent answers of Match and SimilarCases, each valid only for
// the index generation that computed it (any write makes a new generation,
// so a cached answer is never stale). The portal asks the same questions on
// every page view; this makes a repeated question cost a lookup.
//
// Thread-safety: all methods are thread-safe.
#ifndef PEERMATCH_MATCHER_ANSWER_CACHE_H_
#define PEERMATCH_MATCHER_ANSWER_CACHE_H_

#include <cstdint>
#include <list>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/message.h"

namespace peermatch {

class AnswerCache {
 public:
  // Holds at most `capacity` answers (0: caches nothing).
  explicit AnswerCache(size_t capacity) : capacity_(capacity) {}

  struct Answer {
    std::shared_ptr<const google::protobuf::Message> message;
    bool more = false;
  };
  // The answer stored under `key` for `generation`, or a null message.
  Answer Get(const std::string& key, uint64_t generation);
  void Put(const std::string& key, uint64_t generation, Answer answer);
  // A key for a request: its deterministic serialization, tagged.
  static std::string Key(const char* tag, const google::protobuf::Message& request, int offset);

 private:
  struct Entry {
    uint64_t generation;
    Answer answer;
    std::list<std::string>::iterator lru;  // position in lru_
  };
  const size_t capacity_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  std::list<std::string> lru_ ABSL_GUARDED_BY(mu_);  // most recent first
};

}  // namespace peermatch

#endif  // PEERMATCH_MATCHER_ANSWER_CACHE_H_
