#include "index/index.h"

#include <algorithm>
#include <atomic>
#include <bitset>
#include <cmath>
#include <cstring>
#include <limits>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "index/dense_scan.h"
#include "index/internal/pruned_search.h"

namespace peermatch {
namespace {

float Jaccard(uint32_t a, uint32_t b) {
  const int inter = static_cast<int>(std::bitset<32>(a & b).count());
  const int uni = static_cast<int>(std::bitset<32>(a | b).count());
  return uni == 0 ? 0.0f : static_cast<float>(inter) / static_cast<float>(uni);
}

float Jaccard(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  if (a.empty() && b.empty()) return 0;
  int inter = 0;
  for (const auto& x : a) inter += std::count(b.begin(), b.end(), x) > 0 ? 1 : 0;
  return static_cast<float>(inter) / static_cast<float>(a.size() + b.size() - inter);
}

// Mean and population standard deviation of the candidates' scores, given
// in position order.
internal::SystemMoments Moments(const std::vector<float>& values) {
  if (values.empty()) return {0.0f, 1.0f};
  double sum = 0, sum2 = 0;
  for (float v : values) sum += v, sum2 += double(v) * v;
  const double mean = sum / values.size();
  const double var = std::max(0.0, sum2 / values.size() - mean * mean);
  return {static_cast<float>(mean), static_cast<float>(std::sqrt(var) + 1e-9)};
}

// A (score, case) pair; `Better` orders them best first, ties by position.
struct Scored {
  float score;
  uint32_t doc;
};
bool Better(const Scored& x, const Scored& y) {
  return x.score != y.score ? x.score > y.score : x.doc < y.doc;
}

// Keeps the `depth` best pairs offered (a heap with the worst on top): one
// comparison per pair once full, no allocation after the first query.
class TopK {
 public:
  void Reset(size_t depth) {
    depth_ = depth;
    heap_.clear();
  }
  void Offer(float score, uint32_t doc) {
    if (heap_.size() < depth_) {
      heap_.push_back({score, doc});
      std::push_heap(heap_.begin(), heap_.end(), Better);
    } else if (depth_ > 0 && Better({score, doc}, heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), Better);
      heap_.back() = {score, doc};
      std::push_heap(heap_.begin(), heap_.end(), Better);
    }
  }
  // True when `depth` pairs are kept; then worst() is the one a new pair
  // must be Better than to enter.
  bool full() const { return depth_ > 0 && heap_.size() >= depth_; }
  const Scored& worst() const { return heap_.front(); }
  // The kept pairs, in no order.
  const std::vector<Scored>& items() const { return heap_; }
  // The kept pairs, best first (consumes the heap order).
  std::vector<Scored>& Sorted() {
    std::sort_heap(heap_.begin(), heap_.end(), Better);
    return heap_;
  }

 private:
  size_t depth_ = 0;
  std::vector<Scored> heap_;
};

struct Scratch {
  std::vector<uint32_t> candidates;
  std::vector<int64_t> word_fixed, gram_fixed;
  std::vector<float> word, gram, dense;
  std::vector<bool> in_set;
  std::vector<float> boost;  // all zero between queries
  std::vector<uint32_t> boosted;
  TopK top;
  std::vector<uint32_t> forced;
  std::vector<float> lower;  // the dense codes' lower bounds
  std::vector<Scored> dense_top;
  // SearchApproximate's: one block of partial sums (kSumBlock floats, all
  // zero outside a query), the candidates, and the query's counts and bits
  // by term id (all zero outside a query).
  std::vector<float> partial;
  std::vector<uint32_t> approx;
  std::vector<float> word_count, gram_count;
  std::vector<uint64_t> word_bits, gram_bits;
  std::vector<float> approx_word, approx_gram, approx_dense;  // by candidate
  // The dense product: the exact scanner's kernel on this thread alone
  // (concurrent queries run on their own threads; a shared pool would
  // serialize them).
  DenseScanner scanner{[] {
    DenseScanOptions options;
    options.num_threads = 1;
    options.max_k = 1;
    return options;
  }()};
};

// The `depth` best kept rows by exact cosine among the graph's hits for
// the query (the graph's own scores come from another kernel: each hit is
// re-scored with the scanner's, as every other cosine is). False when the
// graph cannot answer (then the caller bounds every row instead).
bool DenseTopFromGraph(const AnnIndex& graph, const DenseRows& rows, const IndexQuery& query,
                       const std::vector<bool>& keep, size_t depth, DenseScanner* scanner,
                       TopK* top) {
  const size_t dim = static_cast<size_t>(query.dense.size());
  if (graph.size() != rows.rows() || graph.dim() != dim) return false;
  absl::StatusOr<std::vector<AnnHit>> hits =
      graph.Search(absl::MakeConstSpan(query.dense.data(), dim), depth, keep);
  if (!hits.ok()) return false;
  top->Reset(depth);
  for (const AnnHit& h : *hits) {
    top->Offer(scanner->Dot(rows.row(h.row), query.dense.data(), dim), h.row);
  }
  return true;
}

// The dense system's exact top `depth` among the kept rows (in `top`), and a
// bound of every row's cosine in `upper` (n floats). With codes, upper[d] >=
// row d's cosine, and exact cosines are taken only for the rows whose bound
// reaches the depth-th best lower bound (the true top is among them:
// index/internal/dense_codes.h); without codes, `upper` holds every row's
// exact cosine and *exact is set. Returns the number of kept rows.
size_t DenseTop(const internal::DenseCodes* codes, const DenseRows& rows, const float* q,
                const std::vector<bool>& keep, size_t depth, DenseScanner* scanner,
                std::vector<float>* lower, std::vector<float>* upper, TopK* top, bool* exact) {
  const size_t n = rows.rows(), dim = rows.cols();
  auto kept = [&](uint32_t d) { return keep.empty() || keep[d]; };
  // Scratch is grown only (as BoostTable's).
  if (upper->size() < n) upper->resize(n);
  size_t num_kept = 0;
  top->Reset(depth);
  if (codes == nullptr) {
    // Small index: every row's cosine (the exact scan), the best `depth`
    // kept ones.
    scanner->ScoreAll({rows.data(), n, dim}, q, upper->data()).IgnoreError();
    *exact = true;
    for (uint32_t d = 0; d < n; ++d) {
      if (!kept(d)) continue;
      ++num_kept;
      top->Offer((*upper)[d], d);
    }
    return num_kept;
  }
  *exact = false;
  if (lower->size() < n) lower->resize(n);
  codes->Bounds(q, lower->data(), upper->data());
  for (uint32_t d = 0; d < n; ++d) {
    if (!kept(d)) continue;
    ++num_kept;
    top->Offer((*lower)[d], d);
  }
  float cut = -std::numeric_limits<float>::infinity();
  if (top->full()) cut = top->worst().score;
  top->Reset(depth);
  for (uint32_t d = 0; d < n; ++d) {
    if (!kept(d) || (*upper)[d] < cut) continue;
    top->Offer(scanner->Dot(rows.row(d), q, dim), d);
  }
  return num_kept;
}

// From this many cases on, the dense rows get 8-bit codes (a quarter of
// the bytes to scan); below, the exact scan of every row is cheap enough.
constexpr size_t kCodesFrom = 2048;

// From this many query postings per case on, Search adds up every posting
// once (SearchAccumulated) instead of pruning (issue 16): MaxScore's probes
// and its second walk over the lists cost more than one plain pass once the
// lists cover the corpus a few times over (about 10 ns against 1.9 ns a
// posting, plus a few linear passes over the cases, at 100,000 synthetic
// cases with about 7 postings per case per query: README "One pass over the
// postings"). Whether or not the index has a graph: the exact pass measured
// faster at 1,000,000 cases than the pruned one with the graph's dense top.
constexpr size_t kAccumulateFromPostingsPerCase = 2;

// SearchApproximate (issue 16). From kApproximateFrom cases on, Build gives
// each gram list a high tier: its max(kTierMin, length / kTierDivisor)
// postings of largest weight. Each text system's candidates are its best
// kApproxCandidatesPerDepth * depth cases (or k, when larger): the word
// system's by its sums over every posting, the gram system's by the tiers'
// sums. README "A million cases" has the recall and the times these were
// set from.
constexpr size_t kApproximateFrom = 200000;
std::atomic<size_t> approximate_from{kApproximateFrom};
constexpr uint32_t kTierDivisor = 16;
constexpr uint32_t kTierMin = 512;
constexpr size_t kApproxCandidatesPerDepth = 2;
// The partial sums are added up a block of cases at a time (every term's
// postings in the block, then the block's sums read in order): the block's
// sums stay in the core's cache instead of missing it at every posting.
constexpr uint32_t kSumBlock = 1 << 15;

internal::FusionParams Fusion(const ScoreWeights& weights, bool use_dense) {
  internal::FusionParams p;
  p.lexical = weights.lexical;
  p.subword = weights.subword;
  p.semantic = weights.semantic;
  p.structure = weights.structure;
  p.use_dense = use_dense;
  return p;
}


// The boosts of one query laid out by case position in scratch's `boost`
// (n floats, all zero outside a query: the destructor puts back the zeros).
class BoostTable {
 public:
  BoostTable(const Index& index, const ScoreWeights& weights, std::vector<float>* boost,
             std::vector<uint32_t>* boosted)
      : boost_(*boost), boosted_(*boosted) {
    const size_t n = index.size();
    // Grown only: a thread searching indexes of different sizes in turn
    // (a base and a delta segment) does not clear it each time.
    if (boost_.size() < n) boost_.resize(n, 0.0f);
    boosted_.clear();
    if (weights.boosts == nullptr) return;
    for (const auto& [id, value] : *weights.boosts) {
      const int p = index.CasePosition(id);
      if (p < 0) continue;
      boost_[p] += value;
      boosted_.push_back(static_cast<uint32_t>(p));
    }
    for (uint32_t p : boosted_) max_ = std::max(max_, boost_[p]);
  }
  ~BoostTable() {
    for (uint32_t p : boosted_) boost_[p] = 0.0f;
  }
  BoostTable(const BoostTable&) = delete;
  BoostTable& operator=(const BoostTable&) = delete;
  float operator[](uint32_t d) const { return boost_[d]; }
  // Every case's boost, or null when no case has one.
  const float* data() const { return boosted_.empty() ? nullptr : boost_.data(); }
  // >= every case's boost, and >= 0 (the unboosted cases' boost).
  float max() const { return max_; }

 private:
  std::vector<float>& boost_;
  std::vector<uint32_t>& boosted_;
  float max_ = 0;
};

// The fusion's moments and the best word and gram scores (Hit::lexical,
// Hit::subword), from the candidate set's scores: the one place both the
// single ranking and the segmented one (index/segmented_index.h) get them.
void ApplyCandidateSet(const CandidateSet& set, internal::FusionParams* p, float* best_word,
                       float* best_gram) {
  p->word = Moments(set.word);
  p->gram = Moments(set.gram);
  p->dense = Moments(set.dense);
  *best_word = 0;
  *best_gram = 0;
  for (float w : set.word) *best_word = std::max(*best_word, w);
  for (float g : set.gram) *best_gram = std::max(*best_gram, g);
}

// A hit's standardized parts (Hit::z_*), from the fusion's moments.
void SetStandardized(const internal::FusionParams& p, float word, float gram, float dense,
                     Hit* h) {
  h->z_lexical = (word - p.word.mean) / p.word.sd;
  h->z_subword = (gram - p.gram.mean) / p.gram.sd;
  h->z_semantic = p.use_dense ? (dense - p.dense.mean) / p.dense.sd : 0.0f;
}
// Every case's exact word and gram scores (the fixed-point sums of every
// posting of the query's terms, as floats) in scratch's word and gram.
template <typename Postings>
void LexicalScores(const Postings& words, const Postings& grams, const IndexQuery& query,
                   size_t n, Scratch* scratch) {
  scratch->word_fixed.assign(n, 0);
  scratch->gram_fixed.assign(n, 0);
  words.Accumulate(query.words, &scratch->word_fixed);
  grams.Accumulate(query.grams, &scratch->gram_fixed);
  scratch->word.resize(n);
  scratch->gram.resize(n);
  for (size_t d = 0; d < n; ++d) {
    scratch->word[d] = internal::FromFixed(scratch->word_fixed[d]);
    scratch->gram[d] = internal::FromFixed(scratch->gram_fixed[d]);
  }
}

// The cases marked in `in_set`, in position order, into `candidates`, and
// the candidate set's scores into `set`: the candidates' own (dense(d) a
// case's cosine), or the hook's. False when the hook ends the search.
template <typename Dense>
bool CandidateSetOf(const std::vector<bool>& in_set, const std::vector<float>& word,
                    const std::vector<float>& gram, Dense dense, const CandidateHook* hook,
                    std::vector<uint32_t>* candidates, CandidateSet* set) {
  candidates->clear();
  for (uint32_t d = 0; d < in_set.size(); ++d) {
    if (in_set[d]) candidates->push_back(d);
  }
  if (hook == nullptr) {
    for (uint32_t d : *candidates) {
      set->word.push_back(word[d]);
      set->gram.push_back(gram[d]);
      set->dense.push_back(dense(d));
    }
    return true;
  }
  std::vector<CandidateScores> own(candidates->size());
  for (size_t i = 0; i < candidates->size(); ++i) {
    const uint32_t d = (*candidates)[i];
    own[i] = {d, word[d], gram[d], dense(d)};
  }
  return (*hook)(own, set);
}

// Marks in `in_set` one system's top `depth` among the kept cases (as
// TopK keeps them: ties by position); returns how many cases are kept.
size_t MarkTop(const std::vector<float>& scores, const std::vector<bool>& keep, size_t depth,
               TopK* top, std::vector<bool>* in_set) {
  size_t num_kept = 0;
  top->Reset(depth);
  for (uint32_t d = 0; d < scores.size(); ++d) {
    if (!keep.empty() && !keep[d]) continue;
    ++num_kept;
    top->Offer(scores[d], d);
  }
  for (const Scored& s : top->items()) (*in_set)[s.doc] = true;
  return num_kept;
}

// A hit from its case's exact scores.
Hit MakeHit(const Scored& s, float word, float gram, float dense, float structure, float boost,
            const internal::FusionParams& params, float best_word, float best_gram) {
  Hit h;
  h.doc = s.doc;
  h.score = s.score;
  h.lexical = best_word > 0 ? word / best_word : 0.0f;
  h.subword = best_gram > 0 ? gram / best_gram : 0.0f;
  h.semantic = dense;
  h.structure = structure;
  SetStandardized(params, word, gram, dense, &h);
  h.boost = boost;
  return h;
}
}  // namespace

float StructureOverlap(const StructuredQuery& q, const DocInfo& d) {
  float sum = 0;
  int parts = 0;
  if (q.themes != 0) sum += Jaccard(q.themes, d.themes), ++parts;
  if (q.sdgs != 0) sum += Jaccard(q.sdgs, d.sdgs), ++parts;
  if (!q.target_groups.empty()) sum += Jaccard(q.target_groups, d.target_groups), ++parts;
  return parts == 0 ? 0.0f : sum / static_cast<float>(parts);
}

void Index::Postings::Build(const std::vector<std::shared_ptr<const IndexEntry>>& entries,
                            SparseIds IndexEntry::*field, uint32_t num_terms, bool two_threads) {
  // Counting sort on term id keeps case order within a term. With two
  // threads, each takes half the cases: it counts its own, and the second
  // half's postings of a term go after the first half's, so the result is
  // the one-thread result.
  const size_t n = entries.size();
  const size_t parts = two_threads ? 2 : 1;
  const size_t bounds[3] = {0, parts == 2 ? n / 2 : n, n};
  std::vector<uint32_t> fill[2];
  auto on_parts = [&](const auto& fn) {
    std::thread second;
    if (parts == 2) second = std::thread([&] { fn(1); });
    fn(0);
    if (second.joinable()) second.join();
  };
  on_parts([&](size_t part) {
    std::vector<uint32_t>& count = fill[part];
    count.assign(num_terms, 0);
    for (size_t d = bounds[part]; d < bounds[part + 1]; ++d) {
      for (const auto& [term, w] : (*entries[d]).*field) {
        if (term < num_terms) ++count[term];
      }
    }
  });
  begin.assign(num_terms + 1, 0);
  for (uint32_t t = 0; t < num_terms; ++t) {
    const uint32_t first = fill[0][t];
    fill[0][t] = begin[t];
    if (parts == 2) {
      const uint32_t second = fill[1][t];
      fill[1][t] = begin[t] + first;
      begin[t + 1] = begin[t] + first + second;
    } else {
      begin[t + 1] = begin[t] + first;
    }
  }
  nnz = begin[num_terms];
  doc.reset(new uint32_t[nnz]);
  weight.reset(new float[nnz]);
  on_parts([&](size_t part) {
    std::vector<uint32_t>& at = fill[part];
    for (size_t d = bounds[part]; d < bounds[part + 1]; ++d) {
      for (const auto& [term, w] : (*entries[d]).*field) {
        if (term >= num_terms) continue;
        const uint32_t p = at[term]++;
        doc[p] = static_cast<uint32_t>(d);
        weight[p] = w;
      }
    }
  });
  max_weight.assign(num_terms, 0.0f);
  nonnegative = true;
  for (uint32_t t = 0; t < num_terms; ++t) {
    float m = 0;
    for (uint32_t p = begin[t]; p < begin[t + 1]; ++p) {
      m = std::max(m, weight[p]);
      if (!(weight[p] >= 0)) nonnegative = false;
    }
    max_weight[t] = m;
  }
}

void Index::Postings::Accumulate(const SparseIds& query, std::vector<int64_t>* scores) const {
  for (const auto& [term, count] : query) {
    if (term + 1 >= begin.size()) continue;
    for (uint32_t p = begin[term]; p < begin[term + 1]; ++p) {
      (*scores)[doc[p]] += internal::ToFixed(count, weight[p]);
    }
  }
}

size_t Index::Postings::Bytes() const {
  return begin.size() * sizeof(uint32_t) + nnz * sizeof(uint32_t) + nnz * sizeof(float) +
         tier_begin.size() * sizeof(uint32_t) + tier_nnz * (sizeof(uint32_t) + sizeof(float));
}

void Index::Postings::BuildTier() {
  const uint32_t terms = static_cast<uint32_t>(begin.size()) - 1;
  tier_begin.assign(terms + 1, 0);
  for (uint32_t t = 0; t < terms; ++t) {
    const uint32_t len = begin[t + 1] - begin[t];
    tier_begin[t + 1] = tier_begin[t] + std::min(len, std::max(kTierMin, len / kTierDivisor));
  }
  tier_nnz = tier_begin[terms];
  tier_doc.reset(new uint32_t[tier_nnz]);
  tier_weight.reset(new float[tier_nnz]);
  // Two threads, each on the terms of about half the postings.
  uint32_t mid = 0;
  while (mid < terms && begin[mid] < nnz / 2) ++mid;
  auto fill = [&](uint32_t from, uint32_t to) {
    std::vector<float> w;
    for (uint32_t t = from; t < to; ++t) {
      const uint32_t b = begin[t], len = begin[t + 1] - b;
      const uint32_t take = tier_begin[t + 1] - tier_begin[t];
      uint32_t out = tier_begin[t];
      if (take == len) {
        std::memcpy(&tier_doc[out], &doc[b], len * sizeof(uint32_t));
        std::memcpy(&tier_weight[out], &weight[b], len * sizeof(float));
        continue;
      }
      // The take-th largest weight; every larger one, and the first ties
      // in case order up to `take`.
      w.assign(&weight[b], &weight[b] + len);
      std::nth_element(w.begin(), w.begin() + (take - 1), w.end(), std::greater<float>());
      const float threshold = w[take - 1];
      uint32_t above = 0;
      for (uint32_t p = b; p < b + len; ++p) above += weight[p] > threshold ? 1 : 0;
      uint32_t ties = take - above;
      for (uint32_t p = b; p < b + len; ++p) {
        if (weight[p] > threshold || (weight[p] == threshold && ties > 0 && ties--)) {
          tier_doc[out] = doc[p];
          tier_weight[out] = weight[p];
          ++out;
        }
      }
    }
  };
  std::thread second([&] { fill(mid, terms); });
  fill(0, mid);
  second.join();
}

void Index::SetApproximateFromForTesting(size_t cases) {
  approximate_from = cases == 0 ? kApproximateFrom : cases;
}

std::vector<internal::QueryTerm> Index::Postings::Terms(const SparseIds& query) const {
  std::vector<internal::QueryTerm> out;
  for (const auto& [term, count] : query) {
    if (term + 1 >= begin.size() || begin[term] == begin[term + 1]) continue;
    out.push_back({{doc.get() + begin[term], weight.get() + begin[term],
                    begin[term + 1] - begin[term], max_weight[term]},
                   count});
  }
  return out;
}

std::shared_ptr<const Index> Index::Build(std::vector<std::shared_ptr<const IndexEntry>> entries,
                                          const std::vector<const float*>& dense_rows,
                                          std::vector<CityInfo> cities, uint32_t num_terms,
                                          int dense_dim) {
  const size_t n = entries.size();
  return BuildWith(std::move(entries), std::move(cities), num_terms,
                   DenseRows(static_cast<size_t>(std::max(0, dense_dim)), n), &dense_rows);
}

std::shared_ptr<const Index> Index::Build(std::vector<std::shared_ptr<const IndexEntry>> entries,
                                          DenseRows dense, std::vector<CityInfo> cities,
                                          uint32_t num_terms) {
  return BuildWith(std::move(entries), std::move(cities), num_terms, std::move(dense), nullptr);
}

std::shared_ptr<const Index> Index::BuildWith(
    std::vector<std::shared_ptr<const IndexEntry>> entries, std::vector<CityInfo> cities,
    uint32_t num_terms, DenseRows dense, const std::vector<const float*>* dense_rows) {
  auto index = std::shared_ptr<Index>(new Index());
  index->entries_ = std::move(entries);
  index->cities_ = std::move(cities);
  index->dense_ = std::move(dense);
  const size_t n = index->entries_.size();
  index->dense_.SetRows(n);

  // Each postings build uses two threads on a large index.
  constexpr size_t kThreadFrom = 4096;  // below that, a thread costs more than it saves
  const bool two_threads = n >= kThreadFrom;
  index->grams_.Build(index->entries_, &IndexEntry::grams, num_terms, two_threads);
  index->words_.Build(index->entries_, &IndexEntry::words, num_terms, two_threads);

  absl::flat_hash_map<std::string, uint32_t>& city_pos = index->city_positions_;
  for (size_t i = 0; i < index->cities_.size(); ++i) city_pos[index->cities_[i].id] = i;
  index->docs_.reserve(n);
  index->doc_city_.reserve(n);
  index->attributes_.reserve(n);
  for (const auto& e : index->entries_) {
    index->docs_.push_back(&e->info);
    index->attributes_.push_back({e->info.kind, e->info.themes, e->info.sdgs, e->info.year});
    auto it = city_pos.find(e->info.city_id);
    if (it == city_pos.end()) {  // a case whose city is unknown: keep it findable
      it = city_pos.emplace(e->info.city_id, index->cities_.size()).first;
      index->cities_.push_back(CityInfo{e->info.city_id, "", v1::REGION_UNSPECIFIED, nullptr});
    }
    index->doc_city_.push_back(it->second);
    if (index->docs_.size() > 1 &&
        !(index->docs_[index->docs_.size() - 2]->case_id < e->info.case_id)) {
      index->sorted_by_id_ = false;
    }
  }

  const size_t dim = index->dense_.cols();
  if (dense_rows != nullptr && dim > 0) {
    for (uint32_t d = 0; d < n; ++d) {
      // Rows left alone read as zero (fresh pages).
      if ((*dense_rows)[d] != nullptr) {
        std::memcpy(index->dense_.row(d), (*dense_rows)[d], dim * sizeof(float));
      }
    }
  }
  if (dim > 0 && n >= kCodesFrom) {
    index->codes_ = std::make_unique<internal::DenseCodes>();
    index->codes_->Build(index->dense_.data(), n, dim);
  }
  if (n >= approximate_from.load()) {
    index->grams_.BuildTier();
  }
  return index;
}

bool Index::StartGraphBuild(const AnnIndexOptions& options) const {
  const size_t n = size(), dim = dense_.cols();
  if (n == 0 || dim == 0) return false;
  return graph_->StartBuild(dense_.data(), n, dim, options);
}

size_t Index::MemoryBytes() const {
  size_t forward = 0;
  for (const auto& e : entries_) {
    forward += (e->words.size() + e->grams.size()) * sizeof(SparseIds::value_type);
  }
  return words_.Bytes() + grams_.Bytes() + forward + dense_.Bytes() +
         (words_.max_weight.size() + grams_.max_weight.size()) * sizeof(float) +
         (codes_ != nullptr ? codes_->Bytes() : 0);
}

int Index::CasePosition(absl::string_view case_id) const {
  if (!sorted_by_id_) {
    for (size_t i = 0; i < docs_.size(); ++i) {
      if (docs_[i]->case_id == case_id) return static_cast<int>(i);
    }
    return -1;
  }
  auto it = std::lower_bound(docs_.begin(), docs_.end(), case_id,
                             [](const DocInfo* d, absl::string_view id) { return d->case_id < id; });
  return it != docs_.end() && (*it)->case_id == case_id ? static_cast<int>(it - docs_.begin()) : -1;
}

int Index::CityPosition(absl::string_view city_id) const {
  auto it = city_positions_.find(city_id);
  return it == city_positions_.end() ? -1 : static_cast<int>(it->second);
}

std::vector<Hit> Index::SearchExhaustive(const IndexQuery& query,
                                         const StructuredQuery& structured,
                                         const std::vector<bool>& keep,
                                         const ScoreWeights& weights, size_t k,
                                         const CandidateHook* hook) const {
  const size_t n = docs_.size();
  std::vector<Hit> hits;
  if (n == 0 || k == 0) return hits;
  auto kept = [&](uint32_t d) { return keep.empty() || keep[d]; };

  // Per-thread scratch space, reused across queries: no O(N) allocation per
  // query once a thread has served one.
  thread_local Scratch scratch;
  const std::vector<float>& word = scratch.word;
  const std::vector<float>& gram = scratch.gram;
  std::vector<float>& dense = scratch.dense;
  LexicalScores(words_, grams_, query, n, &scratch);
  dense.assign(n, 0.0f);
  const Eigen::Index dim = static_cast<Eigen::Index>(dense_.cols());
  const bool use_dense = query.dense.size() == dim && dim > 0;
  if (use_dense) {
    // Cannot fail: d > 0 and every pointer is set.
    scratch.scanner
        .ScoreAll({dense_.data(), n, static_cast<size_t>(dim)}, query.dense.data(), dense.data())
        .IgnoreError();
  }

  // The candidate set: each system's top `depth` among the kept cases.
  std::vector<bool>& in_set = scratch.in_set;
  in_set.assign(n, false);
  const size_t depth = static_cast<size_t>(std::max(1, weights.depth));
  TopK& top = scratch.top;
  MarkTop(word, keep, depth, &top, &in_set);
  const size_t num_kept = MarkTop(gram, keep, depth, &top, &in_set);
  if (use_dense) MarkTop(dense, keep, depth, &top, &in_set);
  if (num_kept == 0) return hits;
  internal::FusionParams params = Fusion(weights, use_dense);
  CandidateSet set;
  if (!CandidateSetOf(
          in_set, word, gram, [&](uint32_t d) { return dense[d]; }, hook, &scratch.candidates,
          &set)) {
    return hits;
  }
  float best_word = 0, best_gram = 0;
  ApplyCandidateSet(set, &params, &best_word, &best_gram);

  // Every kept case is ranked by the fused score; the best k are kept.
  const bool use_structure = !structured.empty();
  auto structure = [&](uint32_t d) {
    return use_structure ? StructureOverlap(structured, *docs_[d]) : 0.0f;
  };
  // The boosted cases' extra score, by position.
  const BoostTable boost(*this, weights, &scratch.boost, &scratch.boosted);
  top.Reset(k);
  for (uint32_t d = 0; d < n; ++d) {
    if (!kept(d)) continue;
    // A case that no text system finds anything in is not a match.
    if (word[d] <= 0 && gram[d] <= 0 && dense[d] <= 0) continue;
    top.Offer(internal::FusedScore(params, word[d], gram[d], dense[d], structure(d), boost[d]), d);
  }
  hits.reserve(top.items().size());
  for (const Scored& s : top.Sorted()) {
    hits.push_back(MakeHit(s, word[s.doc], gram[s.doc], dense[s.doc], structure(s.doc),
                           boost[s.doc], params, best_word, best_gram));
  }
  return hits;
}

bool Index::PrunesFor(const IndexQuery& query, const ScoreWeights& weights) const {
  // A query whose postings cover the corpus a few times over leaves bounds
  // little to prune: one pass over every posting is cheaper than two pruned
  // ones. Same answer.
  size_t volume = 0;
  for (const auto& [postings, terms] : {std::pair{&words_, &query.words}, {&grams_, &query.grams}}) {
    for (const auto& [term, count] : *terms) {
      if (term + 1 < postings->begin.size()) volume += postings->begin[term + 1] - postings->begin[term];
    }
  }
  return Prunable(query, weights) && volume < kAccumulateFromPostingsPerCase * docs_.size();
}

bool Index::Prunable(const IndexQuery& query, const ScoreWeights& weights) const {
  bool prunable = words_.nonnegative && grams_.nonnegative && weights.lexical >= 0 &&
                  weights.subword >= 0 && weights.semantic >= 0 && weights.structure >= 0;
  for (const SparseIds* terms : {&query.words, &query.grams}) {
    for (const auto& [term, count] : *terms) prunable = prunable && count > 0;
  }
  if (weights.boosts != nullptr) {  // the bounds add finite boosts
    for (const auto& [id, value] : *weights.boosts) prunable = prunable && std::isfinite(value);
  }
  return prunable;
}

std::vector<Hit> Index::Search(const IndexQuery& query, const StructuredQuery& structured,
                               const std::vector<bool>& keep, const ScoreWeights& weights,
                               size_t k, const CandidateHook* hook) const {
  const size_t n = docs_.size();
  if (n == 0 || k == 0) return {};
  if (!Prunable(query, weights)) {
    return SearchExhaustive(query, structured, keep, weights, k, hook);
  }
  if (!PrunesFor(query, weights)) {
    if (approximate()) return SearchApproximate(query, structured, keep, weights, k, hook);
    return SearchAccumulated(query, structured, keep, weights, k, hook);
  }
  return SearchPruned(query, structured, keep, weights, k, hook);
}

std::vector<Hit> Index::SearchPruned(const IndexQuery& query, const StructuredQuery& structured,
                                     const std::vector<bool>& keep, const ScoreWeights& weights,
                                     size_t k, const CandidateHook* hook) const {
  const size_t n = docs_.size();
  if (n == 0 || k == 0) return {};
  if (!Prunable(query, weights)) {
    return SearchExhaustive(query, structured, keep, weights, k, hook);
  }

  thread_local Scratch scratch;
  const Eigen::Index dim = static_cast<Eigen::Index>(dense_.cols());
  const bool use_dense = query.dense.size() == dim && dim > 0;
  const size_t depth = static_cast<size_t>(std::max(1, weights.depth));
  TopK& top = scratch.top;
  std::vector<uint32_t>& forced = scratch.forced;
  forced.clear();
  size_t num_kept = 0;
  // Cosines: exact ones in `dense` (every row when there are no codes), and
  // a bound of every row in `upper`.
  struct DenseCtx {
    const DenseRows* rows;
    const DenseScanner* scanner;
    const float* q;
    const std::vector<float>* all;  // every row's cosine, or null
  } dense_ctx{&dense_, &scratch.scanner, query.dense.data(), nullptr};
  std::vector<float>& upper = scratch.dense;
  std::vector<float>& lower = scratch.lower;
  float max_dense = 0;
  std::shared_ptr<const AnnIndex> graph;  // held for the whole search
  bool approximate = false;
  if (use_dense && (graph = graph_->Get()) != nullptr &&
      DenseTopFromGraph(*graph, dense_, query, keep, depth, &scratch.scanner, &top)) {
    // The graph's top, re-scored exactly; every other case's cosine is
    // taken to be at most the lowest of them (index.h "Approximate dense
    // top"). A graph search returns min(depth, kept) rows: none when
    // nothing is kept.
    num_kept = top.items().size();
    float floor = std::numeric_limits<float>::infinity();
    for (const Scored& s : top.items()) floor = std::min(floor, s.score);
    if (upper.size() < n) upper.resize(n);
    std::fill(upper.begin(), upper.begin() + n, floor);
    for (const Scored& s : top.items()) upper[s.doc] = s.score;
    approximate = true;
  } else if (use_dense) {
    bool exact = false;
    num_kept = DenseTop(codes_.get(), dense_, query.dense.data(), keep, depth, &scratch.scanner,
                        &lower, &upper, &top, &exact);
    if (exact) dense_ctx.all = &upper;
  } else {
    top.Reset(0);
    num_kept = keep.empty() ? n : static_cast<size_t>(std::count(keep.begin(), keep.end(), true));
  }
  if (num_kept == 0) return {};
  for (const Scored& s : top.items()) forced.push_back(s.doc);
  std::sort(forced.begin(), forced.end());
  for (size_t i = 0; i < top.items().size(); ++i) {
    max_dense = i == 0 ? top.items()[i].score : std::max(max_dense, top.items()[i].score);
  }
  auto cosine = [&](uint32_t d) {
    if (!use_dense) return 0.0f;
    return dense_ctx.all != nullptr ? (*dense_ctx.all)[d]
                                    : scratch.scanner.Dot(dense_.row(d), query.dense.data(),
                                                          static_cast<size_t>(dim));
  };

  const std::vector<internal::QueryTerm> words = words_.Terms(query.words);
  const std::vector<internal::QueryTerm> grams = grams_.Terms(query.grams);
  const bool use_structure = !structured.empty();
  internal::DocAccess access;
  access.num_docs = n;
  access.keep = &keep;
  access.dense_only_tail = !approximate;
  if (use_dense) {
    access.dense_upper = upper.data();
    access.dense = [](const void* c, uint32_t d) {
      const auto* x = static_cast<const DenseCtx*>(c);
      if (x->all != nullptr) return (*x->all)[d];
      return x->scanner->Dot(x->rows->row(d), x->q, x->rows->cols());
    };
    access.dense_ctx = &dense_ctx;
  }
  struct StructureCtx {
    const StructuredQuery* q;
    const std::vector<const DocInfo*>* docs;
  } ctx{&structured, &docs_};
  if (use_structure) {
    access.structure = [](const void* c, uint32_t d) {
      const auto* x = static_cast<const StructureCtx*>(c);
      return StructureOverlap(*x->q, *(*x->docs)[d]);
    };
    access.structure_ctx = &ctx;
  }
  thread_local std::vector<internal::ScoredDoc> scored;  // pass 1's exact scores: the seeds
  const std::vector<internal::ScoredDoc> candidates =
      internal::CandidateUnion(words, grams, forced, depth, access, &scored);
  const BoostTable boost(*this, weights, &scratch.boost, &scratch.boosted);
  access.boost = boost.data();
  access.max_boost = boost.max();

  internal::FusionParams params = Fusion(weights, use_dense);
  CandidateSet set;
  if (hook == nullptr) {
    for (const internal::ScoredDoc& c : candidates) {
      set.word.push_back(internal::FromFixed(c.word));
      set.gram.push_back(internal::FromFixed(c.gram));
      set.dense.push_back(cosine(c.doc));
    }
  } else {
    std::vector<CandidateScores> own;
    own.reserve(candidates.size());
    for (const internal::ScoredDoc& c : candidates) {
      own.push_back({c.doc, internal::FromFixed(c.word), internal::FromFixed(c.gram),
                     cosine(c.doc)});
    }
    if (!(*hook)(own, &set)) return {};
  }
  float best_word = 0, best_gram = 0;
  ApplyCandidateSet(set, &params, &best_word, &best_gram);

  std::vector<Hit> hits;
  for (const auto& [score, s] : internal::FusedTopK(words, grams, params, max_dense, k, access, scored)) {
    Hit h;
    h.doc = s.doc;
    h.score = score;
    const float w = internal::FromFixed(s.word), g = internal::FromFixed(s.gram);
    h.lexical = best_word > 0 ? w / best_word : 0.0f;
    h.subword = best_gram > 0 ? g / best_gram : 0.0f;
    h.semantic = cosine(s.doc);
    h.structure = use_structure ? StructureOverlap(structured, *docs_[s.doc]) : 0.0f;
    SetStandardized(params, w, g, h.semantic, &h);
    h.boost = boost[s.doc];
    hits.push_back(h);
  }
  return hits;
}

std::vector<Hit> Index::SearchAccumulated(const IndexQuery& query,
                                          const StructuredQuery& structured,
                                          const std::vector<bool>& keep,
                                          const ScoreWeights& weights, size_t k,
                                          const CandidateHook* hook) const {
  const size_t n = docs_.size();
  if (n == 0 || k == 0) return {};
  if (!Prunable(query, weights)) {
    return SearchExhaustive(query, structured, keep, weights, k, hook);
  }
  auto kept = [&](uint32_t d) { return keep.empty() || keep[d]; };
  thread_local Scratch scratch;
  const size_t dim = dense_.cols();
  const bool use_dense = static_cast<size_t>(query.dense.size()) == dim && dim > 0;
  const size_t depth = static_cast<size_t>(std::max(1, weights.depth));
  TopK& top = scratch.top;

  // The dense system: its exact top `depth` and every row's bound (exact
  // cosines without codes).
  std::vector<float>& upper = scratch.dense;
  std::vector<Scored>& dense_top = scratch.dense_top;
  dense_top.clear();
  bool dense_exact = false;
  size_t num_kept = 0;
  float max_dense = 0;
  if (use_dense) {
    num_kept = DenseTop(codes_.get(), dense_, query.dense.data(), keep, depth, &scratch.scanner,
                        &scratch.lower, &upper, &top, &dense_exact);
    dense_top = top.items();
    for (size_t i = 0; i < dense_top.size(); ++i) {
      max_dense = i == 0 ? dense_top[i].score : std::max(max_dense, dense_top[i].score);
    }
  } else {
    for (uint32_t d = 0; d < n; ++d) num_kept += kept(d) ? 1 : 0;
  }
  if (num_kept == 0) return {};
  auto cosine = [&](uint32_t d) {
    if (!use_dense) return 0.0f;
    return dense_exact ? upper[d] : scratch.scanner.Dot(dense_.row(d), query.dense.data(), dim);
  };

  // The word and gram systems: every posting of the query's terms added
  // once (as SearchExhaustive: the same fixed-point sums).
  LexicalScores(words_, grams_, query, n, &scratch);
  const std::vector<float>& word = scratch.word;
  const std::vector<float>& gram = scratch.gram;

  // The candidate set: each system's top `depth` among the kept cases.
  std::vector<bool>& in_set = scratch.in_set;
  in_set.assign(n, false);
  MarkTop(word, keep, depth, &top, &in_set);
  MarkTop(gram, keep, depth, &top, &in_set);
  for (const Scored& s : dense_top) in_set[s.doc] = true;
  internal::FusionParams params = Fusion(weights, use_dense);
  CandidateSet set;
  if (!CandidateSetOf(in_set, word, gram, cosine, hook, &scratch.candidates, &set)) return {};
  float best_word = 0, best_gram = 0;
  ApplyCandidateSet(set, &params, &best_word, &best_gram);

  // Every kept case by the fused score, as SearchExhaustive ranks them; a
  // case's exact cosine (and structure) is taken only when the fused score
  // of its bounds could enter the top k (FusedScore is non-decreasing in
  // each input, and cases are offered in position order, so a case whose
  // bound is not Better than the k-th cannot be).
  const bool use_structure = !structured.empty();
  const float max_structure = use_structure ? 1.0f : 0.0f;
  const BoostTable boost(*this, weights, &scratch.boost, &scratch.boosted);
  top.Reset(k);
  for (uint32_t d = 0; d < n; ++d) {
    if (!kept(d)) continue;
    const float w = word[d], g = gram[d];
    const float dense_bound = use_dense ? std::min(upper[d], max_dense) : 0.0f;
    // A case that no text system finds anything in is not a match.
    if (w <= 0 && g <= 0 && dense_bound <= 0) continue;
    float st = max_structure;
    if (top.full()) {
      if (!Better({internal::FusedScore(params, w, g, dense_bound, st, boost[d]), d},
                  top.worst())) {
        continue;
      }
      if (use_structure) {
        st = StructureOverlap(structured, *docs_[d]);
        if (!Better({internal::FusedScore(params, w, g, dense_bound, st, boost[d]), d},
                    top.worst())) {
          continue;
        }
      }
    } else if (use_structure) {
      st = StructureOverlap(structured, *docs_[d]);
    }
    const float dense = cosine(d);
    if (w <= 0 && g <= 0 && dense <= 0) continue;
    top.Offer(internal::FusedScore(params, w, g, dense, st, boost[d]), d);
  }
  std::vector<Hit> hits;
  hits.reserve(top.items().size());
  for (const Scored& s : top.Sorted()) {
    hits.push_back(MakeHit(s, word[s.doc], gram[s.doc], cosine(s.doc),
                           use_structure ? StructureOverlap(structured, *docs_[s.doc]) : 0.0f,
                           boost[s.doc], params, best_word, best_gram));
  }
  return hits;
}

std::vector<Hit> Index::SearchApproximate(const IndexQuery& query,
                                          const StructuredQuery& structured,
                                          const std::vector<bool>& keep,
                                          const ScoreWeights& weights, size_t k,
                                          const CandidateHook* hook) const {
  const size_t n = docs_.size();
  if (n == 0 || k == 0) return {};
  if (!Prunable(query, weights)) {
    return SearchExhaustive(query, structured, keep, weights, k, hook);
  }
  if (!approximate()) return SearchAccumulated(query, structured, keep, weights, k, hook);
  auto kept = [&](uint32_t d) { return keep.empty() || keep[d]; };
  static const std::vector<bool> kAll;  // an empty mask: every case
  thread_local Scratch scratch;
  const size_t dim = dense_.cols();
  const bool use_dense = static_cast<size_t>(query.dense.size()) == dim && dim > 0;
  const size_t depth = static_cast<size_t>(std::max(1, weights.depth));
  const size_t want = std::max(kApproxCandidatesPerDepth * depth, k);
  TopK& top = scratch.top;
  std::vector<uint32_t>& cand = scratch.approx;
  cand.clear();

  // Each text system's best `want` kept cases: the word system's by its
  // exact sums (every posting), the gram system's by its high tiers' sums.
  std::vector<float>& partial = scratch.partial;
  if (partial.size() < kSumBlock) partial.resize(kSumBlock, 0.0f);
  struct List {
    const uint32_t* doc;
    const float* weight;
    uint32_t at, end;
    float count;
  };
  std::vector<List> lists;
  for (const bool grams : {false, true}) {
    const Postings& postings = grams ? grams_ : words_;
    const std::vector<uint32_t>& begin = grams ? postings.tier_begin : postings.begin;
    bool truncated = false;
    lists.clear();
    for (const auto& [term, count] : grams ? query.grams : query.words) {
      if (term + 1 >= begin.size() || begin[term] == begin[term + 1]) continue;
      truncated = truncated || begin[term + 1] - begin[term] <
                                   postings.begin[term + 1] - postings.begin[term];
      lists.push_back({grams ? postings.tier_doc.get() : postings.doc.get(),
                       grams ? postings.tier_weight.get() : postings.weight.get(), begin[term],
                       begin[term + 1], count});
    }
    top.Reset(want);
    // A case enters the top only when its sum is above `cut`: 0 until the
    // top is full (sums of postings are >= 0 here: Prunable), then the
    // worst kept one's (a tie does not enter: cases come in position order).
    float cut = 0;
    auto offer = [&](const float* sums, uint32_t d) {
      if (sums[d] <= cut || !kept(d)) return;
      top.Offer(sums[d], d);
      if (top.full()) cut = std::max(0.0f, top.worst().score);
    };
    for (uint32_t from = 0; from < n && !lists.empty(); from += kSumBlock) {
      const uint32_t to = static_cast<uint32_t>(std::min<size_t>(n, from + kSumBlock));
      float* sums = partial.data() - from;
      for (List& l : lists) {
        uint32_t p = l.at;
        for (; p < l.end && l.doc[p] < to; ++p) sums[l.doc[p]] += l.count * l.weight[p];
        l.at = p;
      }
      // Sums and the cut are >= 0, so they compare as their bits do: a
      // group of 16 is read (vectorized) for its largest before any case
      // of it is looked at.
      uint32_t d = from;
      for (; d + 16 <= to; d += 16) {
        uint32_t bits[16], most = 0;
        std::memcpy(bits, &sums[d], sizeof bits);
        for (uint32_t b : bits) most = std::max(most, b);
        uint32_t cut_bits;
        std::memcpy(&cut_bits, &cut, sizeof cut_bits);
        if (most <= cut_bits) continue;
        for (uint32_t i = d; i < d + 16; ++i) offer(sums, i);
      }
      for (; d < to; ++d) offer(sums, d);
      std::fill(partial.begin(), partial.begin() + (to - from), 0.0f);
    }
    // A narrow filter (fewer kept cases in the tiers than wanted: the top
    // is not full): the exact pass.
    if (truncated && !top.full()) {
      return SearchAccumulated(query, structured, keep, weights, k, hook);
    }
    for (const Scored& s : top.items()) cand.push_back(s.doc);
  }

  // The dense system's top `depth`: the graph's among every case (a
  // filtered graph search fetches n / kept times more: at 1,000,000 cases
  // and Match's 60% it cost 3.5 ms against 1.5 ms), re-scored, or without a
  // graph the codes' exact top among the kept cases.
  if (use_dense) {
    std::shared_ptr<const AnnIndex> graph = graph_->Get();
    if (graph == nullptr ||
        !DenseTopFromGraph(*graph, dense_, query, kAll, depth, &scratch.scanner, &top)) {
      bool exact = false;
      DenseTop(codes_.get(), dense_, query.dense.data(), keep, depth, &scratch.scanner,
               &scratch.lower, &scratch.dense, &top, &exact);
    }
    for (const Scored& s : top.items()) cand.push_back(s.doc);
  }
  // (The graph's top is of every case: the filter applies to it here.)
  cand.erase(std::remove_if(cand.begin(), cand.end(), [&](uint32_t d) { return !kept(d); }),
             cand.end());
  // Every boosted case (a boost can lift a case no system ranks high).
  const BoostTable boost(*this, weights, &scratch.boost, &scratch.boosted);
  for (uint32_t p : scratch.boosted) {
    if (kept(p)) cand.push_back(p);
  }
  std::sort(cand.begin(), cand.end());
  cand.erase(std::unique(cand.begin(), cand.end()), cand.end());
  if (cand.empty()) return {};

  // Each candidate's exact scores: its forward lists against the query's
  // counts by term (the same fixed-point terms the postings add up).
  const size_t num_terms = words_.begin.size() - 1;
  std::vector<float>& word_count = scratch.word_count;
  std::vector<float>& gram_count = scratch.gram_count;
  if (word_count.size() < num_terms) word_count.resize(num_terms, 0.0f);
  if (gram_count.size() < num_terms) gram_count.resize(num_terms, 0.0f);
  // And a bit for each of them, in a table small enough for the core's
  // first cache (most of a candidate's terms are not the query's).
  std::vector<uint64_t>& word_bits = scratch.word_bits;
  std::vector<uint64_t>& gram_bits = scratch.gram_bits;
  if (word_bits.size() < num_terms / 64 + 1) word_bits.resize(num_terms / 64 + 1, 0);
  if (gram_bits.size() < num_terms / 64 + 1) gram_bits.resize(num_terms / 64 + 1, 0);
  bool twice = false;
  auto set_counts = [&](const SparseIds& terms, std::vector<float>* counts,
                        std::vector<uint64_t>* bits, bool on) {
    for (const auto& [term, count] : terms) {
      if (term >= num_terms) continue;
      if (on) {
        twice = twice || (*counts)[term] != 0;
        (*counts)[term] = count;
        (*bits)[term >> 6] |= uint64_t{1} << (term & 63);
      } else {  // (a word of bits holds only query terms: all are cleared)
        (*counts)[term] = 0;
        (*bits)[term >> 6] = 0;
      }
    }
  };
  set_counts(query.words, &word_count, &word_bits, true);
  set_counts(query.grams, &gram_count, &gram_bits, true);
  const size_t m = cand.size();
  std::vector<float>& word = scratch.approx_word;
  std::vector<float>& gram = scratch.approx_gram;
  std::vector<float>& cosine = scratch.approx_dense;
  word.resize(m);
  gram.resize(m);
  cosine.resize(m);
  auto exact_sum = [&](const SparseIds& forward, const std::vector<float>& counts,
                       const std::vector<uint64_t>& bits) {
    int64_t sum = 0;
    for (const auto& [term, w] : forward) {
      if (term < num_terms && (bits[term >> 6] >> (term & 63) & 1) != 0) {
        sum += internal::ToFixed(counts[term], w);
      }
    }
    return internal::FromFixed(sum);
  };
  for (size_t i = 0; i < m && !twice; ++i) {
    const IndexEntry& e = *entries_[cand[i]];
    word[i] = exact_sum(e.words, word_count, word_bits);
    gram[i] = exact_sum(e.grams, gram_count, gram_bits);
    cosine[i] = use_dense ? scratch.scanner.Dot(dense_.row(cand[i]), query.dense.data(), dim) : 0.0f;
  }
  set_counts(query.words, &word_count, &word_bits, false);
  set_counts(query.grams, &gram_count, &gram_bits, false);
  if (twice) return SearchAccumulated(query, structured, keep, weights, k, hook);

  // The candidate set: each system's top `depth` among the candidates
  // (indexes into `cand`, which is in position order: ties as TopK keeps
  // them).
  std::vector<bool>& in_set = scratch.in_set;
  in_set.assign(m, false);
  MarkTop(word, kAll, depth, &top, &in_set);
  MarkTop(gram, kAll, depth, &top, &in_set);
  if (use_dense) MarkTop(cosine, kAll, depth, &top, &in_set);
  internal::FusionParams params = Fusion(weights, use_dense);
  CandidateSet set;
  if (hook == nullptr) {
    for (size_t i = 0; i < m; ++i) {
      if (!in_set[i]) continue;
      set.word.push_back(word[i]);
      set.gram.push_back(gram[i]);
      set.dense.push_back(cosine[i]);
    }
  } else {
    std::vector<CandidateScores> own;
    for (size_t i = 0; i < m; ++i) {
      if (in_set[i]) own.push_back({cand[i], word[i], gram[i], cosine[i]});
    }
    if (!(*hook)(own, &set)) return {};
  }
  float best_word = 0, best_gram = 0;
  ApplyCandidateSet(set, &params, &best_word, &best_gram);

  // The fused top k among the candidates.
  const bool use_structure = !structured.empty();
  top.Reset(k);
  for (size_t i = 0; i < m; ++i) {
    if (word[i] <= 0 && gram[i] <= 0 && cosine[i] <= 0) continue;
    const float st = use_structure ? StructureOverlap(structured, *docs_[cand[i]]) : 0.0f;
    top.Offer(internal::FusedScore(params, word[i], gram[i], cosine[i], st, boost[cand[i]]),
              static_cast<uint32_t>(i));
  }
  std::vector<Hit> hits;
  hits.reserve(top.items().size());
  for (Scored s : top.Sorted()) {
    const size_t i = s.doc;
    s.doc = cand[i];
    hits.push_back(MakeHit(s, word[i], gram[i], cosine[i],
                           use_structure ? StructureOverlap(structured, *docs_[s.doc]) : 0.0f,
                           boost[s.doc], params, best_word, best_gram));
  }
  return hits;
}

SparseIds Index::Contributions(const SparseIds& query_words, uint32_t doc) const {
  SparseIds out;
  const SparseIds& words = entries_[doc]->words;
  for (const auto& [term, count] : query_words) {
    auto it = std::lower_bound(words.begin(), words.end(), std::make_pair(term, -1e30f));
    if (it != words.end() && it->first == term) out.emplace_back(term, count * it->second);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  return out;
}

}  // namespace peermatch
