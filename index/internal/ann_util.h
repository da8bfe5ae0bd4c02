// Pieces of AnnIndex that do not touch hnswlib: keep masks over
// std::vector<bool>, a bounded top-k, and the Status conversions. Internal
// to index/ann_index.cc (hnswlib itself stays private to that file).
#ifndef PEERMATCH_INDEX_INTERNAL_ANN_UTIL_H_
#define PEERMATCH_INDEX_INTERNAL_ANN_UTIL_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <exception>
#include <new>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "index/ann_index.h"

namespace peermatch::ann_internal {

inline constexpr int kMaxM = 256;

// --- Keep masks ---

// std::vector<bool> offers no access to its words; a loop over bits costs
// about 1 ms per million rows, as much as a whole graph search. libstdc++'s
// iterator exposes the words (_M_p), so there the loops below are popcounts
// and bit scans (microseconds per million rows).
#if defined(__GLIBCXX__)
using MaskWord = std::remove_cv_t<
    std::remove_pointer_t<decltype(std::declval<const std::vector<bool>&>().begin()._M_p)>>;
static_assert(std::is_same_v<MaskWord, unsigned long>, "libstdc++ stores vector<bool> in longs");
inline constexpr size_t kWordBits = sizeof(MaskWord) * 8;

// The i-th word of `keep`, with the bits past its end cleared.
inline MaskWord KeepWord(const std::vector<bool>& keep, size_t i) {
  MaskWord bits = keep.begin()._M_p[i];
  const size_t left = keep.size() - i * kWordBits;
  if (left < kWordBits) bits &= (MaskWord{1} << left) - 1;
  return bits;
}
#endif

inline size_t CountKept(const std::vector<bool>& keep) {
#if defined(__GLIBCXX__)
  size_t count = 0;
  for (size_t w = 0; w * kWordBits < keep.size(); ++w) {
    count += __builtin_popcountl(KeepWord(keep, w));
  }
  return count;
#else
  return static_cast<size_t>(std::count(keep.begin(), keep.end(), true));
#endif
}

template <typename Fn>
inline void ForEachKept(const std::vector<bool>& keep, Fn&& fn) {
#if defined(__GLIBCXX__)
  for (size_t w = 0; w * kWordBits < keep.size(); ++w) {
    for (MaskWord bits = KeepWord(keep, w); bits != 0; bits &= bits - 1) {
      fn(w * kWordBits + static_cast<size_t>(__builtin_ctzl(bits)));
    }
  }
#else
  for (size_t i = 0; i < keep.size(); ++i) {
    if (keep[i]) fn(i);
  }
#endif
}

// --- Results ---

// Score descending, then row ascending.
inline bool Better(const AnnHit& a, const AnnHit& b) {
  return a.score > b.score || (a.score == b.score && a.row < b.row);
}

// The best k of the hits offered, kept in a heap whose top is the worst.
class TopK {
 public:
  explicit TopK(size_t k) : k_(k) { heap_.reserve(k); }
  void Offer(AnnHit hit) {
    if (heap_.size() < k_) {
      heap_.push_back(hit);
      std::push_heap(heap_.begin(), heap_.end(), Better);
    } else if (k_ > 0 && Better(hit, heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), Better);
      heap_.back() = hit;
      std::push_heap(heap_.begin(), heap_.end(), Better);
    }
  }
  std::vector<AnnHit> Take() && {
    std::sort_heap(heap_.begin(), heap_.end(), Better);
    return std::move(heap_);
  }

 private:
  const size_t k_;
  std::vector<AnnHit> heap_;
};

// --- Errors ---

// hnswlib throws std::runtime_error (its allocation failures say "Not enough
// memory") and lets std::bad_alloc through.
inline absl::Status FromCurrentException(absl::string_view what_doing,
                                  absl::StatusCode other = absl::StatusCode::kInternal) {
  try {
    throw;
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(absl::StrCat(what_doing, ": out of memory"));
  } catch (const std::exception& e) {
    const absl::string_view message = e.what();
    if (absl::StartsWith(message, "Not enough memory")) {
      return absl::ResourceExhaustedError(absl::StrCat(what_doing, ": ", message));
    }
    return absl::Status(other, absl::StrCat(what_doing, ": hnswlib: ", message));
  } catch (...) {
    return absl::Status(other, absl::StrCat(what_doing, ": unknown exception"));
  }
}

inline absl::Status ValidateOptions(const AnnIndexOptions& o) {
  if (o.m < 2 || o.m > kMaxM) {
    return absl::InvalidArgumentError(absl::StrCat("options.m: ", o.m, " is outside 2-", kMaxM));
  }
  if (o.ef_construction < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("options.ef_construction: ", o.ef_construction, " is below 1"));
  }
  if (o.ef_search < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("options.ef_search: ", o.ef_search, " is below 1"));
  }
  if (o.num_threads < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("options.num_threads: ", o.num_threads, " is negative"));
  }
  if (!(o.filter_overfetch >= 1 && std::isfinite(o.filter_overfetch))) {
    return absl::InvalidArgumentError(absl::StrCat("options.filter_overfetch: ",
                                                   o.filter_overfetch, " is not a finite "
                                                   "number >= 1"));
  }
  if (!(o.graph_candidate_cost >= 0 && std::isfinite(o.graph_candidate_cost))) {
    return absl::InvalidArgumentError(absl::StrCat("options.graph_candidate_cost: ",
                                                   o.graph_candidate_cost, " is not a finite "
                                                   "number >= 0"));
  }
  return absl::OkStatus();
}

inline absl::Status CheckFinite(absl::Span<const float> values, size_t dim, absl::string_view name) {
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      return absl::InvalidArgumentError(absl::StrCat(name, ": value ", i % dim, " of row ", i / dim,
                                                     " is not finite"));
    }
  }
  return absl::OkStatus();
}

}  // namespace peermatch::ann_internal

#endif  // PEERMATCH_INDEX_INTERNAL_ANN_UTIL_H_
