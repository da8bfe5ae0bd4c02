#include "matcher/index.h"

#include <algorithm>
#include <bitset>
#include <cmath>

#include "absl/container/flat_hash_map.h"

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

// Orders hits best first, ties by index position.
bool Better(const Hit& x, const Hit& y) {
  return x.score != y.score ? x.score > y.score : x.doc < y.doc;
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

// Marks in `in_set` the `depth` best of `kept` by scores (ties by position).
// `work` is scratch space.
void TopInto(const std::vector<float>& scores, const std::vector<uint32_t>& kept, size_t depth,
             std::vector<bool>* in_set, std::vector<uint32_t>* work) {
  auto better = [&](uint32_t a, uint32_t b) {
    return scores[a] != scores[b] ? scores[a] > scores[b] : a < b;
  };
  work->assign(kept.begin(), kept.end());
  if (work->size() > depth) {
    std::nth_element(work->begin(), work->begin() + depth, work->end(), better);
    work->resize(depth);
  }
  for (uint32_t d : *work) (*in_set)[d] = true;
}

struct Scratch {
  std::vector<uint32_t> kept, candidates, work;
  std::vector<float> word, gram, dense;
  std::vector<bool> in_set;
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
                            SparseIds IndexEntry::*field, uint32_t num_terms) {
  // Counting sort on term id keeps case order within a term.
  begin.assign(num_terms + 1, 0);
  size_t nnz = 0;
  for (const auto& e : entries) {
    for (const auto& [term, w] : (*e).*field) {
      if (term < num_terms) ++begin[term + 1], ++nnz;
    }
  }
  for (uint32_t t = 0; t < num_terms; ++t) begin[t + 1] += begin[t];
  doc.resize(nnz);
  weight.resize(nnz);
  std::vector<uint32_t> fill(begin.begin(), begin.end() - 1);
  for (uint32_t d = 0; d < entries.size(); ++d) {
    for (const auto& [term, w] : (*entries[d]).*field) {
      if (term >= num_terms) continue;
      const uint32_t at = fill[term]++;
      doc[at] = d;
      weight[at] = w;
    }
  }
}

void Index::Postings::Accumulate(const SparseIds& query, std::vector<float>* scores) const {
  for (const auto& [term, count] : query) {
    if (term + 1 >= begin.size()) continue;
    for (uint32_t p = begin[term]; p < begin[term + 1]; ++p) (*scores)[doc[p]] += count * weight[p];
  }
}

size_t Index::Postings::Bytes() const {
  return begin.size() * sizeof(uint32_t) + doc.size() * sizeof(uint32_t) +
         weight.size() * sizeof(float);
}

std::shared_ptr<const Index> Index::Build(std::vector<std::shared_ptr<const IndexEntry>> entries,
                                          std::vector<CityInfo> cities, uint32_t num_terms,
                                          int dense_dim) {
  auto index = std::shared_ptr<Index>(new Index());
  index->entries_ = std::move(entries);
  index->cities_ = std::move(cities);
  const size_t n = index->entries_.size();

  absl::flat_hash_map<std::string, uint32_t> city_pos;
  for (size_t i = 0; i < index->cities_.size(); ++i) city_pos[index->cities_[i].id] = i;
  index->docs_.reserve(n);
  index->doc_city_.reserve(n);
  for (const auto& e : index->entries_) {
    index->docs_.push_back(&e->info);
    auto it = city_pos.find(e->info.city_id);
    if (it == city_pos.end()) {  // a case whose city is unknown: keep it findable
      it = city_pos.emplace(e->info.city_id, index->cities_.size()).first;
      index->cities_.push_back(CityInfo{e->info.city_id, "", v1::REGION_UNSPECIFIED, nullptr});
    }
    index->doc_city_.push_back(it->second);
  }
  index->words_.Build(index->entries_, &IndexEntry::words, num_terms);
  index->grams_.Build(index->entries_, &IndexEntry::grams, num_terms);

  index->dense_.setZero(static_cast<Eigen::Index>(n), dense_dim);
  for (uint32_t d = 0; d < n; ++d) {
    const Eigen::VectorXf& v = index->entries_[d]->dense;
    if (v.size() == dense_dim) index->dense_.row(d) = v.transpose();
  }
  return index;
}

size_t Index::MemoryBytes() const {
  size_t forward = 0;
  for (const auto& e : entries_) {
    forward += (e->words.size() + e->grams.size()) * sizeof(SparseIds::value_type);
  }
  return words_.Bytes() + grams_.Bytes() + forward +
         static_cast<size_t>(dense_.size()) * sizeof(float);
}

int Index::CityPosition(const std::string& city_id) const {
  for (size_t i = 0; i < cities_.size(); ++i) {
    if (cities_[i].id == city_id) return static_cast<int>(i);
  }
  return -1;
}

std::vector<Hit> Index::Search(const IndexQuery& query, const StructuredQuery& structured,
                               const std::vector<bool>& keep, const ScoreWeights& weights,
                               size_t k) const {
  const size_t n = docs_.size();
  std::vector<Hit> hits;
  if (n == 0 || k == 0) return hits;

  // Per-thread scratch space, reused across queries: no O(N) allocation per
  // query once a thread has served one.
  thread_local Scratch scratch;
  std::vector<uint32_t>& kept = scratch.kept;
  kept.clear();
  for (uint32_t d = 0; d < n; ++d) {
    if (keep.empty() || keep[d]) kept.push_back(d);
  }
  if (kept.empty()) return hits;

  std::vector<float>& word = scratch.word;
  std::vector<float>& gram = scratch.gram;
  std::vector<float>& dense = scratch.dense;
  word.assign(n, 0.0f);
  gram.assign(n, 0.0f);
  dense.assign(n, 0.0f);
  words_.Accumulate(query.words, &word);
  grams_.Accumulate(query.grams, &gram);
  const bool use_dense = query.dense.size() == dense_.cols() && dense_.cols() > 0;
  if (use_dense) Eigen::Map<Eigen::VectorXf>(dense.data(), n).noalias() = dense_ * query.dense;

  // The candidate set: each system's top `depth`.
  std::vector<bool>& in_set = scratch.in_set;
  in_set.assign(n, false);
  const size_t depth = static_cast<size_t>(std::max(1, weights.depth));
  TopInto(word, kept, depth, &in_set, &scratch.work);
  TopInto(gram, kept, depth, &in_set, &scratch.work);
  if (use_dense) TopInto(dense, kept, depth, &in_set, &scratch.work);
  std::vector<uint32_t>& candidates = scratch.candidates;
  candidates.clear();
  for (uint32_t d : kept) {
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

  const bool use_structure = !structured.empty();
  hits.reserve(kept.size());
  for (uint32_t d : kept) {
    // A case that no text system finds anything in is not a match.
    if (word[d] <= 0 && gram[d] <= 0 && dense[d] <= 0) continue;
    Hit h;
    h.doc = d;
    h.lexical = best_word > 0 ? word[d] / best_word : 0.0f;
    h.subword = best_gram > 0 ? gram[d] / best_gram : 0.0f;
    h.semantic = dense[d];
    h.structure = use_structure ? StructureOverlap(structured, *docs_[d]) : 0.0f;
    h.score = weights.lexical * (word[d] - word_mean) / word_sd +
              weights.subword * (gram[d] - gram_mean) / gram_sd +
              (use_dense ? weights.semantic * (dense[d] - dense_mean) / dense_sd : 0.0f) +
              weights.structure * h.structure;
    hits.push_back(h);
  }
  if (hits.size() > k) {
    std::nth_element(hits.begin(), hits.begin() + k, hits.end(), Better);
    hits.resize(k);
  }
  std::sort(hits.begin(), hits.end(), Better);
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
