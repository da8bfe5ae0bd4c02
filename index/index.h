// Index: an immutable, searchable snapshot of every case's vectors and
// filterable attributes. Exact search: every case is scored.
//
// Layout (N cases, in the order given; term ids from a TermDictionary):
// - postings for words and for character grams: for each term id, the
//   (case, BM25 weight) pairs, case-sorted (compressed sparse rows);
// - forward lists: each case's (term id, weight) pairs, for explanations;
// - dense: N x d float matrix, row-major, rows of unit length.
//
// Scoring (the fusion measured in README "How matching works"): each of the
// three systems (word BM25, gram BM25, LSA cosine) scores every candidate
// case; the candidate set C is the union of each system's top `depth`; each
// system's scores are standardized with C's mean and standard deviation
// (z-scores), and
//   score = lexical * z_words + subword * z_grams + semantic * z_dense
//           + structure * overlap + boost
// ranks every candidate case (boost: ScoreWeights::boosts, 0 for a case
// it does not name).
//
// Thread-safety: immutable after Build(); share as shared_ptr<const Index>.
#ifndef PEERMATCH_INDEX_INDEX_H_
#define PEERMATCH_INDEX_INDEX_H_

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "Eigen/Core"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "index/ann_index.h"
#include "index/dense_rows.h"
#include "index/internal/graph_slot.h"
#include "index/internal/dense_codes.h"
#include "index/internal/pruned_search.h"
#include "peermatch/v1/model.pb.h"

namespace peermatch {

// What the index knows of a city (for filters and results).
struct CityInfo {
  std::string id;
  std::string country;
  v1::Region region = v1::REGION_UNSPECIFIED;
  std::shared_ptr<const v1::City> city;  // null for a case whose city is unknown
};

// What the index knows of a case besides its vectors.
struct DocInfo {
  std::string case_id;
  std::string city_id;
  std::string title;
  v1::CaseKind kind = v1::CASE_KIND_UNSPECIFIED;
  uint32_t themes = 0;  // bit t for Theme t
  uint32_t sdgs = 0;    // bit n for SDG n
  std::vector<std::string> target_groups;  // lower-cased
  std::string language;
  int32_t year = 0;
};

using SparseIds = std::vector<std::pair<uint32_t, float>>;  // (term id, value), id-sorted

// A case ready for the index: attributes and sparse vectors, with term ids
// from the engine's dictionary. Its dense vector is given to Build apart
// (the index holds the only copy, in its matrix).
struct IndexEntry {
  DocInfo info;
  SparseIds words;  // BM25 weights of words, id-sorted
  // BM25 weights of character grams, in any order: only the postings read
  // them, and sorting them was a sixth of loading a store.
  SparseIds grams;
};

// A query with term ids from the same dictionary.
struct IndexQuery {
  SparseIds words;  // (term id, count); unknown terms left out
  SparseIds grams;
  Eigen::VectorXf dense;
};

// What a query adds besides its vectors.
struct StructuredQuery {
  uint32_t themes = 0;
  uint32_t sdgs = 0;
  std::vector<std::string> target_groups;  // lower-cased
  bool empty() const { return themes == 0 && sdgs == 0 && target_groups.empty(); }
};

// A score added to named cases, (case id, value) sorted by case id: the
// learned fusion's solution prior (engine/learned_fusion.h; issue 14).
using CaseBoosts = std::vector<std::pair<std::string, float>>;

// Weights of the fused score (see the top of this file). Tuned on the
// train split of BEIR SciFact; the results are on a plateau (README).
struct ScoreWeights {
  float lexical = 0.6f;    // word BM25
  float subword = 0.3f;    // character 4-gram BM25
  float semantic = 0.1f;   // LSA cosine
  float structure = 0.3f;  // themes / SDGs / target groups overlap, in [0, 1]
  int depth = 100;         // each system's top-`depth` make the candidate set
  // Added to the fused score of the cases it names (null: none).
  std::shared_ptr<const CaseBoosts> boosts;
};

struct Hit {
  uint32_t doc = 0;  // position in the index
  float score = 0;      // fused
  float lexical = 0;    // word BM25 / best word BM25 among the candidates
  float subword = 0;    // gram BM25 / best gram BM25
  float semantic = 0;   // cosine
  float structure = 0;  // overlap in [0, 1]
  // The standardized parts the fused score weighs (issue 14: the features
  // the learned fusion is fitted on): score = lexical weight * z_lexical +
  // subword weight * z_subword + semantic weight * z_semantic + structure
  // weight * structure.
  float z_lexical = 0;
  float z_subword = 0;
  float z_semantic = 0;  // 0 without dense vectors
  float boost = 0;       // from ScoreWeights::boosts
};

// A search's candidate set in parts (index/segmented_index.h ranks several
// indexes as one): one case of an index's own union of each system's top
// `depth`, with its three systems' scores (dense 0 without dense vectors).
struct CandidateScores {
  uint32_t doc = 0;  // position in the index
  float word = 0;
  float gram = 0;
  float dense = 0;
};
// The scores of the whole candidate set C the fused score standardizes
// with, each system's values in the order of the single ranking (case-id
// order; the order fixes the moments' rounding).
struct CandidateSet {
  std::vector<float> word, gram, dense;
};
// Called by Search once it has its own candidate union (positions
// ascending, `own`) and before the fused pass: fills `set` with the scores
// of the candidate set to standardize with and returns true, or returns
// false to end the search there with no hits. Not called when no case is
// kept.
using CandidateHook =
    absl::FunctionRef<bool(const std::vector<CandidateScores>& own, CandidateSet* set)>;

// When a base segment gets an HNSW graph of its dense rows (issue 16):
// from `min_cases` cases on, built with `options` on a background thread
// once the base is built (Index::StartGraphBuild). The index never starts
// one by itself: its owner does (engine/internal/snapshot_manager.h, from
// EngineOptions::graph). Off by default here (SIZE_MAX); the engine's
// default and why: README "HNSW on the Match path".
struct GraphPolicy {
  size_t min_cases = std::numeric_limits<size_t>::max();
  AnnIndexOptions options;
  // True when a base of `cases` cases with dense rows gets a graph.
  bool Wants(size_t cases) const { return cases > 0 && cases >= min_cases; }
};

class Index {
 public:
  // Builds an index over `entries` (taken in the order given, which should be
  // case-id order for deterministic ties); `num_terms` bounds the term ids.
  // dense_rows[i] is entries[i]'s dense vector (dense_dim floats, unit
  // length), copied; null for none (a zero row). Uses two threads.
  static std::shared_ptr<const Index> Build(std::vector<std::shared_ptr<const IndexEntry>> entries,
                                            const std::vector<const float*>& dense_rows,
                                            std::vector<CityInfo> cities, uint32_t num_terms,
                                            int dense_dim);
  // The same with the dense matrix ready (row i for entries[i]; its cols()
  // is the dimension), taken over without a copy; rows() is set to
  // entries.size().
  static std::shared_ptr<const Index> Build(std::vector<std::shared_ptr<const IndexEntry>> entries,
                                            DenseRows dense, std::vector<CityInfo> cities,
                                            uint32_t num_terms);
  const IndexEntry& entry(uint32_t i) const { return *entries_[i]; }
  // The same, shared (entries are immutable and shared between indexes).
  const std::shared_ptr<const IndexEntry>& shared_entry(uint32_t i) const { return entries_[i]; }
  // The dense vector of case i: dense_dim() floats (all zero for a case
  // without one); null when dense_dim() is 0.
  const float* dense_row(uint32_t i) const { return dense_.row(i); }
  int dense_dim() const { return static_cast<int>(dense_.cols()); }

  size_t size() const { return docs_.size(); }
  const DocInfo& doc(uint32_t i) const { return entries_[i]->info; }
  const CityInfo& city_of(uint32_t i) const { return cities_[doc_city_[i]]; }
  // Position in cities() of case i's city.
  uint32_t city_position(uint32_t i) const { return doc_city_[i]; }
  // Case i's filterable attributes, stored flat (the same as in doc(i)), so
  // that filtering every case reads one small array.
  struct Attributes {
    v1::CaseKind kind;
    uint32_t themes;
    uint32_t sdgs;
    int32_t year;
  };
  const Attributes& attributes(uint32_t i) const { return attributes_[i]; }
  // Every city the index knows, with or without cases.
  const std::vector<CityInfo>& cities() const { return cities_; }
  // Bytes of vectors held (postings, forward lists, dense matrix).
  size_t MemoryBytes() const;

  // The best `k` hits, best first, among cases for which `keep[i]` is true
  // (all when `keep` is empty) and that at least one text system scores
  // above zero (no shared word, no shared gram, no positive cosine: no
  // match). Ties break by index position, so results are deterministic.
  //
  // Pruned (index/internal/pruned_search.h): the word and gram systems'
  // tops and the fused top-k are found with windowed MaxScore over the
  // postings, touching only the cases that can still make it (the bounds
  // include each case's boost); the result is bit for bit SearchExhaustive's
  // (pruned_search_test compares them on random corpora, with and without
  // boosts). Word and gram scores are fixed-point sums (exact in any
  // order). Falls back to SearchExhaustive when a query count or weight is
  // negative or a boost is not finite (the bounds assume neither). When the
  // query's postings cover the corpus a few times over (bounds then prune
  // little), it takes SearchAccumulated instead: one pass over every
  // posting, the same ranking; on an index of kApproximateFrom cases or
  // more (approximate()), SearchApproximate instead, which is not exact.
  //
  // With `hook` (index/segmented_index.h), the candidate set's scores come
  // from the hook instead of this index's own union (see CandidateHook);
  // everything else is as above. `keep` is empty or holds size() entries.
  std::vector<Hit> Search(const IndexQuery& query, const StructuredQuery& structured,
                          const std::vector<bool>& keep, const ScoreWeights& weights,
                          size_t k, const CandidateHook* hook = nullptr) const;
  // True when Search would take the pruned path for this query (then a
  // smaller k costs less; the accumulated pass costs about the same for any k).
  bool PrunesFor(const IndexQuery& query, const ScoreWeights& weights) const;
  // The same ranking, always by the pruned path (unless a count or weight
  // is not positive); Search chooses between it, SearchAccumulated and
  // SearchExhaustive.
  std::vector<Hit> SearchPruned(const IndexQuery& query, const StructuredQuery& structured,
                                const std::vector<bool>& keep, const ScoreWeights& weights,
                                size_t k, const CandidateHook* hook = nullptr) const;
  // The same ranking by adding up every posting of the query's terms once
  // (each case's exact word and gram scores), with the dense system as the
  // pruned path has it (the 8-bit codes' bounds, exact cosines only for the
  // rows whose bound can reach the dense top or the fused top k; never the
  // graph). Search takes it when the query's postings reach 2 per case
  // (then MaxScore's probes cost more than they spare).
  // Falls back to SearchExhaustive as SearchPruned does.
  std::vector<Hit> SearchAccumulated(const IndexQuery& query, const StructuredQuery& structured,
                                     const std::vector<bool>& keep, const ScoreWeights& weights,
                                     size_t k, const CandidateHook* hook = nullptr) const;
  // An approximate ranking for large indexes (issue 16; indexes of
  // kApproximateFrom cases or more, 200,000 in index.cc, whose gram lists
  // get a high tier at Build). The candidates are: the word system's best
  // max(2 * depth, k) kept cases by their exact word scores (every word
  // posting, added a block of cases at a time); the gram system's best as
  // many by the sums of the high tiers alone (each list's largest
  // sixteenth of weights, at least 512 postings); the dense system's top
  // `depth` (the graph's among every case when the index has one, then
  // filtered; else the codes' exact top among the kept cases); and every
  // boosted kept case. Each candidate then gets its exact gram score (from
  // its forward list: the same fixed-point sums the postings give) and its
  // exact cosine; the candidate set, its moments and the fused top k are
  // those of the candidates alone. The ranking is SearchExhaustive's
  // whenever the candidates hold each system's true top `depth` and the
  // true fused top k (approximate_search_test checks that bit for bit;
  // recall against it is measured: README "A million cases"). Falls back to
  // SearchAccumulated (exact) when the gram tiers reach fewer kept cases
  // than it wants (a narrow filter), when a query term is given twice, and
  // where SearchPruned falls back.
  std::vector<Hit> SearchApproximate(const IndexQuery& query, const StructuredQuery& structured,
                                     const std::vector<bool>& keep, const ScoreWeights& weights,
                                     size_t k, const CandidateHook* hook = nullptr) const;
  // Tests: indexes built from now on get the high tiers from `cases` cases
  // on (0: the default, kApproximateFrom in index.cc). Not for use while
  // another thread builds an index.
  static void SetApproximateFromForTesting(size_t cases);
  // True when the index has the high tiers SearchApproximate needs (then
  // Search takes it for every query it does not prune).
  bool approximate() const { return grams_.has_tier(); }
  // The same ranking by scoring every kept case (the reference).
  std::vector<Hit> SearchExhaustive(const IndexQuery& query, const StructuredQuery& structured,
                                    const std::vector<bool>& keep, const ScoreWeights& weights,
                                    size_t k, const CandidateHook* hook = nullptr) const;

  // Approximate dense top (issue 16). Once the index has a graph (built in
  // the background under GraphPolicy, or attached), the pruned path takes
  // the dense system's top `depth` from the graph's search among the kept
  // rows instead of bounding every row's cosine, re-scores those exactly,
  // and bounds every other case's cosine by the lowest of them (as if the
  // graph's top were the true one); a case no word or gram list holds is
  // then ranked only if it is in that top. The ranking is
  // SearchExhaustive's whenever the graph's top is the exact top (recall
  // against it is measured: README); SearchExhaustive and SearchAccumulated
  // never use the graph, so below kApproximateFrom cases a query Search
  // sends to the accumulated pass (postings of 2 per case or more) is exact
  // with or without one; from that size on such a query takes
  // SearchApproximate, which takes its dense top from the graph too. Until
  // the graph is ready, SearchPruned is exact as above.
  std::shared_ptr<const AnnIndex> graph() const { return graph_->Get(); }
  // Makes `graph` this index's graph: it must index dense_row(0..size()-1)
  // in that order (AnnIndex::size() == size()). Cancels a background build.
  // Thread-safe; a search in flight keeps the graph it started with.
  void AttachGraph(std::shared_ptr<const AnnIndex> graph) const { graph_->Attach(std::move(graph)); }
  // Starts building the graph of dense_row(0..size()-1) with `options` on
  // a background thread (internal::GraphSlot: nice 10, published whole
  // once built, cancelled and joined when the index is freed); true when
  // it started. False, doing nothing, when the index has no cases or no
  // dense rows, or a build was started or a graph attached before: an
  // index gets at most one build in its life. Thread-safe.
  bool StartGraphBuild(const AnnIndexOptions& options) const;
  // Blocks until a background graph build has ended (at once when none).
  void WaitForGraph() const { graph_->Wait(); }
  internal::GraphSlot::BuildInfo graph_build_info() const { return graph_->build_info(); }

  // Per query word present in case `doc`: (term id, count * weight), the
  // term's contribution to the word BM25 score, largest first.
  SparseIds Contributions(const SparseIds& query_words, uint32_t doc) const;

  // Position in cities() of a city id, or -1.
  int CityPosition(absl::string_view city_id) const;
  // Position of a case id, or -1 (a binary search: entries are in id order
  // when built from the engine's corpus; a linear scan otherwise).
  int CasePosition(absl::string_view case_id) const;

 private:
  Index() = default;
  // True when every count, posting weight and score weight is such that
  // the pruned path's bounds hold.
  bool Prunable(const IndexQuery& query, const ScoreWeights& weights) const;
  static std::shared_ptr<const Index> BuildWith(
      std::vector<std::shared_ptr<const IndexEntry>> entries, std::vector<CityInfo> cities,
      uint32_t num_terms, DenseRows dense, const std::vector<const float*>* dense_rows);

  std::vector<std::shared_ptr<const IndexEntry>> entries_;
  std::vector<const DocInfo*> docs_;
  std::vector<CityInfo> cities_;
  std::vector<uint32_t> doc_city_;  // index into cities_
  std::vector<Attributes> attributes_;
  bool sorted_by_id_ = true;
  absl::flat_hash_map<std::string, uint32_t> city_positions_;
  // Postings, CSR by term id.
  struct Postings {
    std::vector<uint32_t> begin;  // num_terms + 1
    // nnz each; not value-initialized (every slot is written once).
    std::unique_ptr<uint32_t[]> doc;
    std::unique_ptr<float[]> weight;
    std::vector<float> max_weight;  // num_terms: the largest weight of each list
    bool nonnegative = true;        // every weight >= 0 (pruning's bounds need it)
    size_t nnz = 0;
    void Build(const std::vector<std::shared_ptr<const IndexEntry>>& entries,
               SparseIds IndexEntry::*field, uint32_t num_terms, bool two_threads);
    // scores[d] += sum over query terms of count * weight(term, d), in
    // fixed point (internal::ToFixed).
    void Accumulate(const SparseIds& query, std::vector<int64_t>* scores) const;
    // The query's terms that have postings, in query order.
    std::vector<internal::QueryTerm> Terms(const SparseIds& query) const;
    size_t Bytes() const;
    // The high tier (issue 16; SearchApproximate's candidates): for each
    // term, the min(length, max(kTierMin, length / kTierDivisor)) postings
    // of its list with the largest weights (ties by case position), in
    // case order, as CSR by term id. Empty until BuildTier.
    std::vector<uint32_t> tier_begin;
    std::unique_ptr<uint32_t[]> tier_doc;
    std::unique_ptr<float[]> tier_weight;
    size_t tier_nnz = 0;
    void BuildTier();
    bool has_tier() const { return !tier_begin.empty(); }
  };
  Postings words_;
  Postings grams_;
  DenseRows dense_;  // size() x dense_dim(), row-major
  // 8-bit codes of dense_ (bounds for the pruned path); null below
  // kCodesFrom cases.
  std::unique_ptr<internal::DenseCodes> codes_;
  // The HNSW graph of dense_ (declared after it: destroyed, and its build
  // thread joined, before the rows it reads).
  std::unique_ptr<internal::GraphSlot> graph_ = std::make_unique<internal::GraphSlot>();
};

// Overlap of a case's structure with the query's: Jaccard of themes, SDGs
// and target groups, averaged over those the query has. 0 for an empty query.
float StructureOverlap(const StructuredQuery& q, const DocInfo& d);

}  // namespace peermatch

#endif  // PEERMATCH_INDEX_INDEX_H_
