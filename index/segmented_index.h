// SegmentedIndex: the searchable corpus as one large immutable base Index,
// a small delta Index over the cases written since the base was built, and
// tombstones (the base positions of cases deleted or replaced since). A
// write rebuilds only the delta; a merge (engine/internal/snapshot_manager.h)
// folds the delta into a new base off the write path.
//
// Exactness: Search ranks exactly as one Index built over the same live
// cases in case-id order would, bit for bit (segmented_index_test compares
// them on random corpora, writes and deletes). The fused score standardizes
// each system's scores over the candidate set C, the union of each system's
// top `depth` (index.h), so C is found across the segments before either is
// ranked: each segment's own union (tombstoned cases masked out, as a
// filter masks) holds its part of every system's top; the global top of
// each system is taken from both, C's moments are computed once, in
// case-id order, and each segment's fused top-k with them is merged by
// (score, case id). Word and gram weights are the model's BM25 weights,
// precomputed per case, so they compare across segments while the model is
// the same (a refit replaces every segment).
//
// Positions: [0, base size) are the base's, [base size, num_positions())
// the delta's (position base size + j is the delta's j). A tombstoned base
// position is dead: the accessors still answer for it (but city_position
// and city_of only for live positions: a dead case's city may be gone),
// Search never returns it, CasePosition never finds it and live() is false. Readers that
// walk positions skip the dead ones (or use ForEachLiveInIdOrder, which
// visits the live ones in case-id order, as one Index's positions run).
//
// Cities: every city the corpus knows, in id order, then a placeholder
// (CityInfo::city null) for each city a case names but the corpus does not
// know. city_position(d) indexes cities().
//
// Thread-safety: immutable after Make; share as shared_ptr<const
// SegmentedIndex>. Search may run on any number of threads at once.
#ifndef PEERMATCH_INDEX_SEGMENTED_INDEX_H_
#define PEERMATCH_INDEX_SEGMENTED_INDEX_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/call_once.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "index/index.h"

namespace peermatch {

// Cities by position, with a lookup by id.
struct CityTable {
  std::vector<CityInfo> cities;
  absl::flat_hash_map<std::string, uint32_t> positions;  // id -> index in cities

  // A table of `cities` in the order given.
  static std::shared_ptr<const CityTable> Make(std::vector<CityInfo> cities);
  // Position of a city id, or -1.
  int Find(absl::string_view id) const;
};

class SegmentedIndex {
 public:
  struct Parts {
    std::shared_ptr<const Index> base;  // never null (may be empty)
    // Base positions of cases deleted or replaced since the base was built,
    // ascending, each below base->size().
    std::vector<uint32_t> tombstones;
    // The cases written since the base was built (none of them is a live
    // base case), in case-id order, with the base's dense dimension; null
    // or empty for none.
    std::shared_ptr<const Index> delta;
    // Every city the corpus knows, in id order (never null).
    std::shared_ptr<const CityTable> cities;
  };
  // The view of `parts`. `previous`, when set, is an earlier view whose
  // per-base tables (the base cities' positions in the table, the base's
  // counts) are reused when its base and city table are the same, so a
  // view costs work proportional to the delta and the tombstones.
  static std::shared_ptr<const SegmentedIndex> Make(Parts parts,
                                                    const SegmentedIndex* previous = nullptr);

  // Positions (live or dead) and live cases.
  uint32_t num_positions() const { return base_size_ + delta_size_; }
  size_t num_cases() const { return base_size_ - tombstones_.size() + delta_size_; }
  bool live(uint32_t d) const { return d >= base_size_ || base_live_ == nullptr || (*base_live_)[d]; }
  // How many live cases are challenges / solutions.
  size_t num_challenges() const { return challenges_; }
  size_t num_solutions() const { return solutions_; }

  const DocInfo& doc(uint32_t d) const { return segment(d).doc(local(d)); }
  const IndexEntry& entry(uint32_t d) const { return segment(d).entry(local(d)); }
  const float* dense_row(uint32_t d) const { return segment(d).dense_row(local(d)); }
  int dense_dim() const { return base_->dense_dim(); }
  const Index::Attributes& attributes(uint32_t d) const {
    return segment(d).attributes(local(d));
  }
  uint32_t city_position(uint32_t d) const {
    return d < base_size_ ? (*base_city_)[base_->city_position(d)]
                          : delta_city_[delta_->city_position(d - base_size_)];
  }
  const CityInfo& city_of(uint32_t d) const { return cities_->cities[city_position(d)]; }
  const std::vector<CityInfo>& cities() const { return cities_->cities; }
  // Position in cities() of a city id, or -1.
  int CityPosition(absl::string_view city_id) const { return cities_->Find(city_id); }
  // Position of a live case id, or -1.
  int CasePosition(absl::string_view case_id) const;
  // Bytes of vectors held by both segments.
  size_t MemoryBytes() const;

  // Index::Search over the live cases: the best `k` hits among live
  // positions d with keep[d] (every live one when `keep` is empty; else
  // `keep` holds num_positions() entries), ranked exactly as one Index over
  // the live cases in case-id order ranks them (ties by case id). Hit::doc
  // is a position of this view.
  std::vector<Hit> Search(const IndexQuery& query, const StructuredQuery& structured,
                          const std::vector<bool>& keep, const ScoreWeights& weights,
                          size_t k) const;
  // The live positions of one kind (every live position for
  // CASE_KIND_UNSPECIFIED; null for a kind outside the enum): a mask of
  // num_positions() entries, how many positions it keeps, and each city's
  // number of them (by position in cities()). A query whose only filter is
  // the kind copies the mask instead of reading every case's attributes
  // (issue 16: that read was 3.5% of an uncached Match at 1,000,000 cases).
  // Computed on first use, once per view and kind; thread-safe.
  struct KindMask {
    std::vector<bool> mask;
    size_t cases = 0;
    size_t cities = 0;  // cities with at least one
    std::vector<uint32_t> city_cases;
  };
  const KindMask* LiveOfKind(v1::CaseKind kind) const;
  // The live positions of city `c` (a position in cities()), ascending.
  // Computed on first use for every city at once; thread-safe.
  absl::Span<const uint32_t> LiveCasesOfCity(uint32_t c) const;

  // Index::Contributions for position d.
  SparseIds Contributions(const SparseIds& query_words, uint32_t d) const {
    return segment(d).Contributions(query_words, local(d));
  }

  // Calls fn(d) for every live position, in case-id order.
  template <typename Fn>
  void ForEachLiveInIdOrder(Fn fn) const {
    const std::vector<uint32_t>& after = DeltaAfter();
    uint32_t b = 0;
    for (uint32_t j = 0; j < delta_size_; ++j) {
      for (; b < after[j]; ++b) {
        if (live(b)) fn(b);
      }
      fn(base_size_ + j);
    }
    for (; b < base_size_; ++b) {
      if (live(b)) fn(b);
    }
  }

  // The parts (for the snapshot manager, tests and benchmarks).
  const std::shared_ptr<const Index>& base() const { return base_; }
  const std::shared_ptr<const Index>& delta() const { return delta_; }
  const std::vector<uint32_t>& tombstones() const { return tombstones_; }
  const std::shared_ptr<const CityTable>& city_table() const { return cities_; }

 private:
  SegmentedIndex() = default;
  const Index& segment(uint32_t d) const { return d < base_size_ ? *base_ : *delta_; }
  uint32_t local(uint32_t d) const { return d < base_size_ ? d : d - base_size_; }
  // The case id at position d, for ordering across segments.
  const std::string& id(uint32_t d) const { return doc(d).case_id; }
  // The candidate set of both segments' unions (global top `depth` of each
  // system, in case-id order).
  CandidateSet Combine(const std::vector<CandidateScores>& base_own,
                       const std::vector<CandidateScores>& delta_own, bool use_dense,
                       size_t depth) const;

  std::shared_ptr<const Index> base_;
  std::shared_ptr<const Index> delta_;  // never null after Make (may be empty)
  uint32_t base_size_ = 0;
  uint32_t delta_size_ = 0;
  std::vector<uint32_t> tombstones_;
  std::shared_ptr<const std::vector<bool>> base_live_;  // null: no tombstone
  std::shared_ptr<const CityTable> cities_;
  // Base city position -> position in cities_ (shared between views of
  // the same base and table).
  std::shared_ptr<const std::vector<uint32_t>> base_city_;
  std::vector<uint32_t> delta_city_;  // delta city position -> cities_
  // What the view keeps of the base alone (shared between views of the
  // same base): each base city's number of cases, the base's challenges
  // and solutions.
  struct BaseCounts {
    std::vector<uint32_t> city_cases;  // by base city position
    size_t challenges = 0, solutions = 0;
  };
  std::shared_ptr<const BaseCounts> base_counts_;
  std::shared_ptr<const CityTable> source_cities_;  // Parts::cities (cities_ may extend it)
  size_t challenges_ = 0, solutions_ = 0;
  // For delta case j: how many base positions hold a smaller case id
  // (computed on first use: only ForEachLiveInIdOrder needs it).
  const std::vector<uint32_t>& DeltaAfter() const;
  mutable absl::once_flag delta_after_once_;
  // LiveOfKind's masks, by kind value (0-2), and LiveCasesOfCity's lists
  // (CSR by city position).
  mutable absl::once_flag kind_once_[3];
  mutable KindMask kind_masks_[3];
  mutable absl::once_flag city_cases_once_;
  mutable std::vector<uint32_t> city_cases_begin_, city_cases_;
  mutable std::vector<uint32_t> delta_after_;
};

}  // namespace peermatch

#endif  // PEERMATCH_INDEX_SEGMENTED_INDEX_H_
