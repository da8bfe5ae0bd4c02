#include "index/index.h"

#include <algorithm>
#include <bitset>
#include <cmath>
#include <cstring>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "index/dense_scan.h"

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

// Mean and population standard deviation of scores[d] over `docs`.
std::pair<float, float> Moments(const std::vector<float>& scores,
                                const std::vector<uint32_t>& docs) {
  if (docs.empty()) return {0.0f, 1.0f};
  double sum = 0, sum2 = 0;
  for (uint32_t d : docs) sum += scores[d], sum2 += double(scores[d]) * scores[d];
  const double mean = sum / docs.size();
  const double var = std::max(0.0, sum2 / docs.size() - mean * mean);
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
  std::vector<float> word, gram, dense;
  std::vector<bool> in_set;
  std::vector<float> boost;  // all zero between queries
  std::vector<uint32_t> boosted;
  TopK top;
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
}

void Index::Postings::Accumulate(const SparseIds& query, std::vector<float>* scores) const {
  for (const auto& [term, count] : query) {
    if (term + 1 >= begin.size()) continue;
    for (uint32_t p = begin[term]; p < begin[term + 1]; ++p) (*scores)[doc[p]] += count * weight[p];
  }
}

size_t Index::Postings::Bytes() const {
  return begin.size() * sizeof(uint32_t) + nnz * sizeof(uint32_t) + nnz * sizeof(float);
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
  return index;
}

size_t Index::MemoryBytes() const {
  size_t forward = 0;
  for (const auto& e : entries_) {
    forward += (e->words.size() + e->grams.size()) * sizeof(SparseIds::value_type);
  }
  return words_.Bytes() + grams_.Bytes() + forward + dense_.Bytes();
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

std::vector<Hit> Index::Search(const IndexQuery& query, const StructuredQuery& structured,
                               const std::vector<bool>& keep, const ScoreWeights& weights,
                               size_t k) const {
  const size_t n = docs_.size();
  std::vector<Hit> hits;
  if (n == 0 || k == 0) return hits;
  auto kept = [&](uint32_t d) { return keep.empty() || keep[d]; };

  // Per-thread scratch space, reused across queries: no O(N) allocation per
  // query once a thread has served one.
  thread_local Scratch scratch;
  std::vector<float>& word = scratch.word;
  std::vector<float>& gram = scratch.gram;
  std::vector<float>& dense = scratch.dense;
  word.assign(n, 0.0f);
  gram.assign(n, 0.0f);
  dense.assign(n, 0.0f);
  words_.Accumulate(query.words, &word);
  grams_.Accumulate(query.grams, &gram);
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
  size_t num_kept = 0;
  for (const std::vector<float>* system : {&word, &gram, &dense}) {
    if (system == &dense && !use_dense) break;
    top.Reset(depth);
    num_kept = 0;
    for (uint32_t d = 0; d < n; ++d) {
      if (!kept(d)) continue;
      ++num_kept;
      top.Offer((*system)[d], d);
    }
    for (const Scored& s : top.items()) in_set[s.doc] = true;
  }
  if (num_kept == 0) return hits;
  std::vector<uint32_t>& candidates = scratch.candidates;
  candidates.clear();
  for (uint32_t d = 0; d < n; ++d) {
    if (in_set[d]) candidates.push_back(d);
  }
  const auto [word_mean, word_sd] = Moments(word, candidates);
  const auto [gram_mean, gram_sd] = Moments(gram, candidates);
  const auto [dense_mean, dense_sd] = Moments(dense, candidates);
  float best_word = 0, best_gram = 0;
  for (uint32_t d : candidates) {
    best_word = std::max(best_word, word[d]);
    best_gram = std::max(best_gram, gram[d]);
  }

  // Every kept case is ranked by the fused score; the best k are kept.
  const bool use_structure = !structured.empty();
  auto structure = [&](uint32_t d) {
    return use_structure ? StructureOverlap(structured, *docs_[d]) : 0.0f;
  };
  // The boosted cases' extra score, by position (reset after the ranking).
  std::vector<float>& boost = scratch.boost;
  if (boost.size() != n) boost.assign(n, 0.0f);
  scratch.boosted.clear();
  if (weights.boosts != nullptr) {
    for (const auto& [id, value] : *weights.boosts) {
      const int p = CasePosition(id);
      if (p < 0) continue;
      boost[p] += value;
      scratch.boosted.push_back(static_cast<uint32_t>(p));
    }
  }
  top.Reset(k);
  for (uint32_t d = 0; d < n; ++d) {
    if (!kept(d)) continue;
    // A case that no text system finds anything in is not a match.
    if (word[d] <= 0 && gram[d] <= 0 && dense[d] <= 0) continue;
    const float score = weights.lexical * (word[d] - word_mean) / word_sd +
                        weights.subword * (gram[d] - gram_mean) / gram_sd +
                        (use_dense ? weights.semantic * (dense[d] - dense_mean) / dense_sd : 0.0f) +
                        weights.structure * structure(d) + boost[d];
    top.Offer(score, d);
  }
  hits.reserve(top.items().size());
  for (const Scored& s : top.Sorted()) {
    Hit h;
    h.doc = s.doc;
    h.score = s.score;
    h.lexical = best_word > 0 ? word[s.doc] / best_word : 0.0f;
    h.subword = best_gram > 0 ? gram[s.doc] / best_gram : 0.0f;
    h.semantic = dense[s.doc];
    h.structure = structure(s.doc);
    h.z_lexical = (word[s.doc] - word_mean) / word_sd;
    h.z_subword = (gram[s.doc] - gram_mean) / gram_sd;
    h.z_semantic = use_dense ? (dense[s.doc] - dense_mean) / dense_sd : 0.0f;
    h.boost = boost[s.doc];
    hits.push_back(h);
  }
  for (uint32_t p : scratch.boosted) boost[p] = 0.0f;
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
