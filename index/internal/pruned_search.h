// The pruned retrieval behind Index::Search (index.h): the same ranking as
// scoring every case, found by touching only the cases that can still make
// it (windowed MaxScore over the postings, as Lucene's MaxScore bulk scorer).
//
// Exactness. Word and gram scores are sums of count * weight in fixed point
// (int64, 2^-32 units: every product truncated once, then summed exactly),
// so a case's score does not depend on the order its postings are visited
// in, and the pruned and exhaustive paths compute the same bits. The fused
// score (FusedScore) is a float expression that is non-decreasing in each of
// its inputs (every operation is monotone under round-to-nearest and the
// weights are >= 0), so evaluating it on upper bounds of the inputs bounds
// it: pruning compares that bound with the current k-th score, with no slack
// and no approximation. Ties break by case position exactly as the
// exhaustive scan does, because cases are visited in increasing position.
//
// Thread-safety: free functions over immutable data; scratch is per call.
#ifndef PEERMATCH_INDEX_INTERNAL_PRUNED_SEARCH_H_
#define PEERMATCH_INDEX_INTERNAL_PRUNED_SEARCH_H_

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace peermatch::internal {

inline constexpr double kFixedScale = 4294967296.0;  // 2^32 units per 1.0

// count * weight in fixed point (exact product in double, then truncated).
inline int64_t ToFixed(float count, float weight) {
  return static_cast<int64_t>(static_cast<double>(count) * static_cast<double>(weight) *
                              kFixedScale);
}
inline float FromFixed(int64_t x) {
  return static_cast<float>(static_cast<double>(x) * (1.0 / kFixedScale));
}

// One term's postings (case-sorted) as the search reads them.
struct PostingsView {
  const uint32_t* doc = nullptr;
  const float* weight = nullptr;
  uint32_t size = 0;
  float max_weight = 0;  // the largest weight in the list
};

// One query term: its postings and its count (> 0).
struct QueryTerm {
  PostingsView postings;
  float count = 0;
};

// Mean and standard deviation of one system's scores over the candidates.
struct SystemMoments {
  float mean = 0;
  float sd = 1;
};

// What the fused score is made of (index.h ScoreWeights, the moments of the
// candidate set, whether the dense and structure parts apply).
struct FusionParams {
  float lexical = 0, subword = 0, semantic = 0, structure = 0;
  SystemMoments word, gram, dense;
  bool use_dense = false;
};

// The fused score of one case (the one expression both paths use), the
// case's boost (index.h ScoreWeights::boosts; 0 for most cases) added last.
// Non-decreasing in each input, the boost included.
inline float FusedScore(const FusionParams& p, float word, float gram, float dense,
                        float structure, float boost) {
  return p.lexical * (word - p.word.mean) / p.word.sd +
         p.subword * (gram - p.gram.mean) / p.gram.sd +
         (p.use_dense ? p.semantic * (dense - p.dense.mean) / p.dense.sd : 0.0f) +
         p.structure * structure + boost;
}

// A case with its exact fixed-point word and gram scores.
struct ScoredDoc {
  uint32_t doc = 0;
  int64_t word = 0;
  int64_t gram = 0;
};

// Callbacks into the index for one query.
struct DocAccess {
  size_t num_docs = 0;
  const std::vector<bool>* keep = nullptr;  // empty: every case
  // Every kept case's cosine bounded from above (num_docs floats), or null when
  // the query has no dense part (then every cosine is 0).
  const float* dense_upper = nullptr;
  // A case's exact cosine (when dense_upper is set).
  float (*dense)(const void* ctx, uint32_t doc) = nullptr;
  const void* dense_ctx = nullptr;
  // structure(d) in [0, 1]; null when the query has no structure.
  float (*structure)(const void* ctx, uint32_t doc) = nullptr;
  const void* structure_ctx = nullptr;
  // Every case's boost (num_docs finite floats, mostly 0), or null for
  // none; max_boost is >= every one of them and >= 0.
  const float* boost = nullptr;
  float max_boost = 0;
  // False: FusedTopK leaves out the cases no word or gram list holds
  // beyond those in `known` (issue 16: with the approximate dense top,
  // index.h, those are the graph's top; the rest are not scanned).
  bool dense_only_tail = true;
  bool kept(uint32_t d) const { return keep->empty() || (*keep)[d]; }
  float boost_of(uint32_t d) const { return boost != nullptr ? boost[d] : 0.0f; }
  float cosine(uint32_t d) const { return dense_upper != nullptr ? dense(dense_ctx, d) : 0.0f; }
};

// Pass 1: the `depth` best kept cases by word score and by gram score (as
// the exhaustive TopK over every kept case would keep them: best first,
// ties by position, zero-score cases by lowest position when fewer than
// `depth` score above zero), plus the exact scores of `forced` (sorted,
// kept cases; the dense system's top). Returns every case of the union
// with both scores, sorted by position. `scored` (optional, out): cleared,
// then every kept case whose exact scores the pass computed on the way
// (a superset of the union's cases found in the postings), each once, in
// no particular order: FusedTopK's seeds.
std::vector<ScoredDoc> CandidateUnion(const std::vector<QueryTerm>& words,
                                      const std::vector<QueryTerm>& grams,
                                      const std::vector<uint32_t>& forced, size_t depth,
                                      const DocAccess& access,
                                      std::vector<ScoredDoc>* scored = nullptr);

// Pass 3: the best `k` kept cases by FusedScore (with their boosts) among
// those with a positive word, gram or dense score, best first, ties by
// position.
// `max_dense` bounds every kept case's dense score. `known`: cases with
// their exact word and gram scores (any order, no duplicates; typically
// CandidateUnion's `scored`), offered first so that pruning starts from a
// high k-th score; they change the work done, never the result.
std::vector<std::pair<float, ScoredDoc>> FusedTopK(const std::vector<QueryTerm>& words,
                                                   const std::vector<QueryTerm>& grams,
                                                   const FusionParams& params, float max_dense,
                                                   size_t k, const DocAccess& access,
                                                   const std::vector<ScoredDoc>& known = {});

}  // namespace peermatch::internal

#endif  // PEERMATCH_INDEX_INTERNAL_PRUNED_SEARCH_H_
