// StableHash64: FNV-1a over bytes, 64 bits. Unlike absl::Hash it is the same
// across builds, processes and machines, so it may be stored (judgement
// keys) or decide something that must not change between runs (a
// challenge's cross-validation fold).
//
// Not for hash tables facing untrusted keys (no seed), nor for security.
// Thread-safety: a pure function.
#ifndef PEERMATCH_COMMON_STABLE_HASH_H_
#define PEERMATCH_COMMON_STABLE_HASH_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace peermatch {

inline uint64_t StableHash64(absl::string_view bytes) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ull;
  return h;
}

}  // namespace peermatch

#endif  // PEERMATCH_COMMON_STABLE_HASH_H_
