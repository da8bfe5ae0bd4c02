// TermDictionary: term string <-> dense id, shared by all index snapshots.
// Append-only: an id, once given, keeps its term for the process's life, so
// snapshots built at different times agree.
//
// Thread-safety: all methods are safe to call concurrently.
#ifndef PEERMATCH_EMBED_TERM_DICTIONARY_H_
#define PEERMATCH_EMBED_TERM_DICTIONARY_H_

#include <cstdint>
#include <deque>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "absl/synchronization/mutex.h"

namespace peermatch {

class TermDictionary {
 public:
  // The id of `term`, adding it when new.
  uint32_t Intern(absl::string_view term);
  // The id of `term`, or -1 when it was never interned.
  int64_t Find(absl::string_view term) const;
  // The term of an id from Intern(). The reference stays valid.
  const std::string& Term(uint32_t id) const;
  uint32_t size() const;

  // Batch forms, one lock for the whole batch (a lock per term was a
  // quarter of loading a large store). ids must have terms.size() room.
  // FindAll: ids[i] = the id of terms[i], or kUnknown when never interned.
  static constexpr uint32_t kUnknown = UINT32_MAX;
  void FindAll(absl::Span<const absl::string_view> terms, uint32_t* ids) const;
  // InternAll: like Intern on each term in order (new terms get ids in the
  // order given).
  void InternAll(absl::Span<const absl::string_view> terms, uint32_t* ids);

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, uint32_t> ids_ ABSL_GUARDED_BY(mu_);
  std::deque<std::string> terms_ ABSL_GUARDED_BY(mu_);  // deque: stable references
};

}  // namespace peermatch

#endif  // PEERMATCH_EMBED_TERM_DICTIONARY_H_
