#include "embed/model.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <thread>

#include "embed/internal/svd.h"
#include "peermatch/internal/matcher_data.pb.h"
#include "unicode/utf8.h"

namespace peermatch {
namespace {

// Sorts and merges (term, value) pairs, adding the values of a term.
TermWeights Merge(TermWeights items) {
  std::sort(items.begin(), items.end());
  TermWeights out;
  out.reserve(items.size());
  for (auto& [term, w] : items) {
    if (!out.empty() && out.back().first == term) {
      out.back().second += w;
    } else {
      out.emplace_back(std::move(term), w);
    }
  }
  return out;
}

float Sum(const TermWeights& items) {
  float s = 0;
  for (const auto& [term, w] : items) s += w;
  return s;
}

using Projection = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// ASCII words up to this long take the packed-gram path.
constexpr size_t kMaxWordBytesForGrams = 256;

bool IsAsciiWord(absl::string_view word) {
  if (word.size() > kMaxWordBytesForGrams) return false;
  unsigned char any = 0;
  for (char c : word) any |= static_cast<unsigned char>(c);
  return any < 0x80;
}

// Packs a gram of 1-4 ASCII bytes (not NUL) into an integer, one byte each;
// false for anything else.
bool PackAsciiGram(absl::string_view gram, uint32_t* packed) {
  if (gram.empty() || gram.size() > 4) return false;
  uint32_t v = 0;
  for (size_t i = 0; i < gram.size(); ++i) {
    const auto c = static_cast<unsigned char>(gram[i]);
    if (c == 0 || c >= 0x80) return false;
    v |= uint32_t{c} << (8 * i);
  }
  *packed = v;
  return true;
}

// out += w * projection row `row`.
void AddRow(const Projection& projection, int64_t row, float w, Eigen::VectorXf* out) {
  *out += w * projection.row(row).transpose();
}

void Normalize(Eigen::VectorXf* v) {
  const float n = v->norm();
  if (n > 0) *v /= n;
}

std::string FloatsToBytes(const float* data, size_t n) {
  return std::string(reinterpret_cast<const char*>(data), n * sizeof(float));
}

// Runs fn(i) for i in [0, n) on the machine's two cores.
template <typename Fn>
void ParallelFor(size_t n, const Fn& fn) {
  if (n < 64 || std::thread::hardware_concurrency() < 2) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::thread other([&] {
    for (size_t i = 1; i < n; i += 2) fn(i);
  });
  for (size_t i = 0; i < n; i += 2) fn(i);
  other.join();
}

void AddTokens(const Analyzer& analyzer, absl::string_view text, absl::string_view lang,
               float weight, TermWeights* words, TermWeights* grams) {
  analyzer.Scan(text, lang, [&](absl::string_view term, absl::string_view surface, WordRef) {
    for (std::string& g : CharGrams(surface)) grams->emplace_back(std::move(g), weight);
    words->emplace_back(std::string(term), weight);
  });
}

}  // namespace

std::vector<std::string> CharGrams(absl::string_view word) {
  const std::string padded = "#" + std::string(word) + "#";
  // Byte offset of each code point, plus the end.
  std::vector<int32_t> starts;
  const auto* s = reinterpret_cast<const uint8_t*>(padded.data());
  const auto n = static_cast<int32_t>(padded.size());
  for (int32_t i = 0; i < n;) {
    starts.push_back(i);
    UChar32 c;
    U8_NEXT(s, i, n, c);
  }
  starts.push_back(n);
  const size_t points = starts.size() - 1;
  std::vector<std::string> grams;
  if (points <= 4) {
    grams.push_back(kGramPrefix + padded);
    return grams;
  }
  for (size_t i = 0; i + 4 <= points; ++i) {
    grams.push_back(kGramPrefix + padded.substr(starts[i], starts[i + 4] - starts[i]));
  }
  return grams;
}

std::shared_ptr<const Model> Model::Empty(const ModelOptions& options) {
  return std::shared_ptr<const Model>(new Model(options));
}

float Model::Idf(absl::string_view term) const {
  auto it = term_ids_.find(term);
  const float df = it == term_ids_.end() ? 0.0f : static_cast<float>(df_[it->second]);
  return std::log(1.0f + (static_cast<float>(num_docs_) - df + 0.5f) / (df + 0.5f));
}

Model::Model(const ModelOptions& options) : options_(options), analyzer_(options.analyzer) {
  static std::atomic<uint64_t> next_serial{1};
  serial_ = next_serial.fetch_add(1);
}

template <typename Fn>
void Model::ForEachField(const v1::Case& c, const Fn& fn) const {
  fn(c.title(), options_.title_weight);
  fn(c.description(), 1.0f);
  fn(c.outcome(), 1.0f);
  for (const auto& tag : c.tags()) fn(tag, 1.0f);
  for (const auto& group : c.target_groups()) fn(group, 1.0f);
}

Model::Counts Model::Count(const v1::Case& c) const {
  Counts counts;
  ForEachField(c, [&](absl::string_view text, float weight) {
    AddTokens(analyzer_, text, c.language(), weight, &counts.words, &counts.grams);
  });
  counts.words = Merge(std::move(counts.words));
  counts.grams = Merge(std::move(counts.grams));
  counts.word_len = Sum(counts.words);
  counts.gram_len = Sum(counts.grams);
  return counts;
}

TermWeights Model::Bm25(const TermWeights& tf, float len, float avg_len) const {
  const float k1 = options_.k1, b = options_.b;
  const float norm = k1 * (1 - b + b * len / std::max(avg_len, 1e-6f));
  TermWeights out;
  out.reserve(tf.size());
  for (const auto& [term, f] : tf) out.emplace_back(term, Idf(term) * f * (k1 + 1) / (f + norm));
  return out;
}

Embedding Model::Weigh(const Counts& counts) const {
  Embedding e;
  e.words = Bm25(counts.words, counts.word_len, avg_word_len_);
  e.grams = Bm25(counts.grams, counts.gram_len, avg_gram_len_);
  e.dense = Project(e.words);
  return e;
}

Eigen::VectorXf Model::Project(const TermWeights& weights) const {
  if (projection_.cols() == 0) return Eigen::VectorXf();
  Eigen::VectorXf out = Eigen::VectorXf::Zero(projection_.cols());
  for (const auto& [term, w] : weights) {
    auto it = lsa_ids_.find(term);
    if (it != lsa_ids_.end()) AddRow(projection_, it->second, w, &out);
  }
  Normalize(&out);
  return out;
}

void Model::IndexVocabulary() {
  term_info_.resize(terms_.size());
  for (size_t i = 0; i < terms_.size(); ++i) {
    auto it = lsa_ids_.find(terms_[i]);
    term_info_[i] = {Idf(terms_[i]), it == lsa_ids_.end() ? -1 : static_cast<int32_t>(it->second)};
  }
  const auto first_gram = std::lower_bound(terms_.begin(), terms_.end(), std::string(1, kGramPrefix));
  auto end_gram = first_gram;
  while (end_gram != terms_.end() && (*end_gram)[0] == kGramPrefix) ++end_gram;
  grams_begin_ = static_cast<uint32_t>(first_gram - terms_.begin());
  grams_end_ = static_cast<uint32_t>(end_gram - terms_.begin());
  // Grams of at most four ASCII bytes, by their bytes packed in an integer.
  ascii_gram_ids_.clear();
  for (uint32_t id = grams_begin_; id < grams_end_; ++id) {
    const absl::string_view gram = absl::string_view(terms_[id]).substr(1);
    uint32_t packed = 0;
    if (PackAsciiGram(gram, &packed)) ascii_gram_ids_.emplace(packed, id);
  }
}

// Calls fn(gram) for each character 4-gram of an ASCII word (CharGrams'
// grams, as packed bytes), without building strings.
template <typename Fn>
void ForEachAsciiGram(absl::string_view word, const Fn& fn) {
  char padded[kMaxWordBytesForGrams + 2];
  padded[0] = '#';
  std::memcpy(padded + 1, word.data(), word.size());
  padded[word.size() + 1] = '#';
  const size_t n = word.size() + 2;
  if (n <= 4) {
    uint32_t packed = 0;
    PackAsciiGram(absl::string_view(padded, n), &packed);
    fn(packed, absl::string_view(padded, n));
    return;
  }
  for (size_t i = 0; i + 4 <= n; ++i) {
    uint32_t packed = 0;
    PackAsciiGram(absl::string_view(padded + i, 4), &packed);
    fn(packed, absl::string_view(padded + i, 4));
  }
}

Embedding Model::EmbedReference(const v1::Case& c) const { return Weigh(Count(c)); }

namespace {

// A word (surface form) as the fast path has resolved it for one model.
struct CachedWord {
  int32_t term_id = -1;    // the term's id; -1 when not in the vocabulary
  uint32_t grams_begin = 0;    // its known grams: gram_ids[grams_begin, +grams)
  uint32_t unknown_begin = 0;  // its other grams: unknown_grams[unknown_begin, +unknown)
  uint32_t grams = 0, unknown = 0;
  // Its slot in EmbedScratch::doc_words when doc_stamp is the current one
  // (stamp 0: not resolved yet).
  uint32_t doc_stamp = 0;
  uint32_t doc_slot = 0;
};

// A distinct word of the document being embedded, with its total weight.
struct DocWord {
  CachedWord word;
  float weight = 0;
  uint32_t unknown_term = 0;  // in EmbedScratch::unknown_terms, when not in the vocabulary
};

// Per-thread working space of Model::Embed's fast path, for one model.
struct EmbedScratch {
  // Bounds on what a thread keeps: about 4 MB of gram ids for a typical
  // corpus (grams of ~130,000 distinct words), at most ~32 MB; at most 4
  // word spaces (languages, or caches the analyzer started over).
  static constexpr size_t kMaxPooledGrams = size_t{1} << 20;
  static constexpr size_t kMaxWordSpaces = 4;
  uint64_t model_serial = 0;
  // Words by the analyzer's reference (one vector per word space), and
  // words without one (numbers) by surface form.
  absl::flat_hash_map<uint64_t, std::vector<CachedWord>> by_ref;
  absl::flat_hash_map<std::string, CachedWord> by_surface;
  std::vector<uint32_t> gram_ids;
  std::vector<std::string> unknown_grams;
  // The document being embedded: (term id, weight) pairs, then sorted by
  // id (a radix sort; the ids are dense) and merged.
  std::vector<std::pair<uint32_t, float>> items, sorted, word_tf, gram_tf;
  int radix_bits = 1, radix_passes = 1;
  TermWeights unknown_word_tf, unknown_gram_tf;
  // The document's distinct words (grams are added once per word, with the
  // word's total weight). Stamps start at 2 (0: unresolved, 1: resolved).
  uint32_t doc_stamp = 1;
  std::vector<DocWord> doc_words;
  std::vector<std::string> unknown_terms;  // of the document's words

  void ForgetWords() {
    last_space = 0;
    last_words = nullptr;
    by_ref.clear();
    by_surface.clear();
    gram_ids.clear();
    unknown_grams.clear();
  }
  void Reset(uint64_t serial, size_t vocabulary) {
    model_serial = serial;
    ForgetWords();
    // Radix digits of at most 11 bits, as few passes as the ids need.
    int bits = 1;
    while (bits < 32 && (size_t{1} << bits) < vocabulary) ++bits;
    radix_passes = (bits + 10) / 11;
    radix_bits = (bits + radix_passes - 1) / radix_passes;
  }
  // Sorts `items` by id (stable), in `sorted`.
  void SortItems() {
    const uint32_t mask = (uint32_t{1} << radix_bits) - 1;
    uint32_t counts[1 << 11];
    for (int pass = 0; pass < radix_passes; ++pass) {
      const int shift = pass * radix_bits;
      std::fill(counts, counts + mask + 1, 0u);
      for (const auto& item : items) ++counts[(item.first >> shift) & mask];
      uint32_t sum = 0;
      for (uint32_t i = 0; i <= mask; ++i) {
        const uint32_t c = counts[i];
        counts[i] = sum;
        sum += c;
      }
      sorted.resize(items.size());
      for (const auto& item : items) sorted[counts[(item.first >> shift) & mask]++] = item;
      items.swap(sorted);
    }
    items.swap(sorted);
  }
  // The entry for a word: by reference when it has one.
  // Called between documents only: a document's words point into the
  // pools until it is done.
  void ForgetWordsIfTooMany() {
    // Bounded: the pools and maps are dropped when they grow too large
    // (word spaces of cleared analyzer caches stay behind until then).
    if (gram_ids.size() + unknown_grams.size() >= kMaxPooledGrams ||
        by_ref.size() > kMaxWordSpaces) {
      ForgetWords();
    }
  }
  CachedWord& Find(absl::string_view surface, WordRef ref) {
    if (ref.index == WordRef::kNone) return by_surface[surface];
    if (ref.space != last_space) {
      last_space = ref.space;
      last_words = &by_ref[ref.space];
    }
    if (last_words->size() <= ref.index) last_words->resize(ref.index + 1);
    return (*last_words)[ref.index];
  }
  uint64_t last_space = 0;
  std::vector<CachedWord>* last_words = nullptr;
};

EmbedScratch& ScratchFor(uint64_t serial, size_t vocabulary) {
  thread_local EmbedScratch scratch;
  if (scratch.model_serial != serial) scratch.Reset(serial, vocabulary);
  return scratch;
}

}  // namespace

Embedding Model::Embed(const v1::Case& c) const {
  if (terms_.empty()) return EmbedReference(c);
  EmbedScratch& s = ScratchFor(serial_, terms_.size());
  s.ForgetWordsIfTooMany();
  if (++s.doc_stamp == 0) {  // wrapped: forget every word's stamp
    s.ForgetWords();
    s.doc_stamp = 2;
  }
  auto lookup = [&](absl::string_view term) {
    auto it = term_ids_.find(term);
    return it == term_ids_.end() ? -1 : static_cast<int32_t>(it->second);
  };
  // Words and grams into counts.
  ForEachField(c, [&](absl::string_view text, float weight) {
    analyzer_.Scan(text, c.language(), [&](absl::string_view term, absl::string_view surface,
                                           WordRef ref) {
      CachedWord& w = s.Find(surface, ref);
      if (w.doc_stamp == 0) {
        w.doc_stamp = 1;
        w.term_id = lookup(term);
        w.grams_begin = static_cast<uint32_t>(s.gram_ids.size());
        w.unknown_begin = static_cast<uint32_t>(s.unknown_grams.size());
        if (IsAsciiWord(surface)) {
          ForEachAsciiGram(surface, [&](uint32_t packed, absl::string_view gram) {
            auto it = ascii_gram_ids_.find(packed);
            if (it != ascii_gram_ids_.end()) {
              s.gram_ids.push_back(it->second);
            } else {
              s.unknown_grams.push_back(std::string(1, kGramPrefix).append(gram.data(), gram.size()));
            }
          });
        } else {
          for (std::string& g : CharGrams(surface)) {
            const int32_t id = lookup(g);
            if (id >= 0) {
              s.gram_ids.push_back(static_cast<uint32_t>(id));
            } else {
              s.unknown_grams.push_back(std::move(g));
            }
          }
        }
        w.grams = static_cast<uint32_t>(s.gram_ids.size() - w.grams_begin);
        w.unknown = static_cast<uint32_t>(s.unknown_grams.size() - w.unknown_begin);
      }
      if (w.doc_stamp != s.doc_stamp) {
        w.doc_stamp = s.doc_stamp;
        w.doc_slot = static_cast<uint32_t>(s.doc_words.size());
        s.doc_words.push_back({w, 0.0f, 0});
        if (w.term_id < 0) {
          s.doc_words.back().unknown_term = static_cast<uint32_t>(s.unknown_terms.size());
          s.unknown_terms.emplace_back(term);
        }
      }
      s.doc_words[w.doc_slot].weight += weight;
    });
  });
  s.items.clear();
  for (const DocWord& d : s.doc_words) {
    const CachedWord& w = d.word;
    if (w.term_id >= 0) {
      s.items.emplace_back(static_cast<uint32_t>(w.term_id), d.weight);
    } else {
      s.unknown_word_tf.emplace_back(std::move(s.unknown_terms[d.unknown_term]), d.weight);
    }
    for (uint32_t i = w.grams_begin; i < w.grams_begin + w.grams; ++i) {
      s.items.emplace_back(s.gram_ids[i], d.weight);
    }
    for (uint32_t i = w.unknown_begin; i < w.unknown_begin + w.unknown; ++i) {
      s.unknown_gram_tf.emplace_back(s.unknown_grams[i], d.weight);
    }
  }
  s.doc_words.clear();
  s.unknown_terms.clear();

  // Ids in increasing order, which is the terms' sorted order; equal ids
  // merged.
  s.SortItems();
  s.word_tf.clear();
  s.gram_tf.clear();
  float word_len = 0, gram_len = 0;
  for (size_t i = 0; i < s.sorted.size();) {
    const uint32_t id = s.sorted[i].first;
    float f = 0;
    for (; i < s.sorted.size() && s.sorted[i].first == id; ++i) f += s.sorted[i].second;
    if (id >= grams_begin_ && id < grams_end_) {
      s.gram_tf.emplace_back(id, f);
      gram_len += f;
    } else {
      s.word_tf.emplace_back(id, f);
      word_len += f;
    }
  }
  TermWeights unknown_words = Merge(std::move(s.unknown_word_tf));
  TermWeights unknown_grams = Merge(std::move(s.unknown_gram_tf));
  s.unknown_word_tf.clear();
  s.unknown_gram_tf.clear();
  word_len += Sum(unknown_words);
  gram_len += Sum(unknown_grams);

  // BM25 weights, known and unknown terms merged in sorted order.
  const float k1 = options_.k1, b = options_.b;
  const float unknown_idf = Idf(absl::string_view());
  auto weigh = [&](const std::vector<std::pair<uint32_t, float>>& known,
                   const TermWeights& unknown, float len, float avg_len, TermWeights* out,
                   Eigen::VectorXf* dense) {
    const float norm = k1 * (1 - b + b * len / std::max(avg_len, 1e-6f));
    out->reserve(known.size() + unknown.size());
    size_t u = 0;
    auto add_unknown = [&](const std::pair<std::string, float>& t) {
      out->emplace_back(t.first, unknown_idf * t.second * (k1 + 1) / (t.second + norm));
    };
    // The ids are scattered over the vocabulary: fetch a few ahead so that
    // the cache misses overlap.
    constexpr size_t kAhead = 8;
    for (size_t i = 0; i < known.size(); ++i) {
      if (i + kAhead < known.size()) {
        __builtin_prefetch(&terms_[known[i + kAhead].first]);
        __builtin_prefetch(&term_info_[known[i + kAhead].first]);
      }
      // And the LSA row two terms ahead (a row is 1 KiB at 256 dimensions).
      if (dense != nullptr && i + 2 < known.size()) {
        const int32_t row = term_info_[known[i + 2].first].lsa_row;
        if (row >= 0) {
          const char* p = reinterpret_cast<const char*>(projection_.row(row).data());
          const size_t bytes = static_cast<size_t>(projection_.cols()) * sizeof(float);
          for (size_t off = 0; off < bytes; off += 64) __builtin_prefetch(p + off);
        }
      }
      const auto [id, f] = known[i];
      const std::string& term = terms_[id];
      for (; u < unknown.size() && unknown[u].first < term; ++u) add_unknown(unknown[u]);
      const TermInfo& info = term_info_[id];
      const float w = info.idf * f * (k1 + 1) / (f + norm);
      out->emplace_back(term, w);
      if (dense != nullptr && info.lsa_row >= 0) AddRow(projection_, info.lsa_row, w, dense);
    }
    for (; u < unknown.size(); ++u) add_unknown(unknown[u]);
  };
  Embedding e;
  if (projection_.cols() > 0) e.dense = Eigen::VectorXf::Zero(projection_.cols());
  weigh(s.word_tf, unknown_words, word_len, avg_word_len_, &e.words,
        projection_.cols() > 0 ? &e.dense : nullptr);
  weigh(s.gram_tf, unknown_grams, gram_len, avg_gram_len_, &e.grams, nullptr);
  if (projection_.cols() > 0) Normalize(&e.dense);
  return e;
}

QueryVector Model::EmbedQuery(absl::string_view text, absl::string_view language) const {
  QueryVector q;
  for (Token& t : analyzer_.Analyze(text, language)) {
    for (std::string& g : CharGrams(t.surface)) q.grams.emplace_back(std::move(g), 1.0f);
    q.surface.emplace(t.term, t.surface);
    q.words.emplace_back(std::move(t.term), 1.0f);
  }
  q.words = Merge(std::move(q.words));
  q.grams = Merge(std::move(q.grams));
  TermWeights weighted = q.words;
  for (auto& [term, w] : weighted) w *= Idf(term);
  q.dense = Project(weighted);
  return q;
}

Model::Fitted Model::Fit(const std::vector<const v1::Case*>& cases, uint64_t version,
                         const ModelOptions& options, int64_t fitted_at) {
  auto model = std::shared_ptr<Model>(new Model(options));
  model->version_ = version;
  model->fitted_at_ = fitted_at;
  model->num_docs_ = static_cast<uint32_t>(cases.size());

  std::vector<Counts> counts(cases.size());
  ParallelFor(cases.size(), [&](size_t i) { counts[i] = model->Count(*cases[i]); });

  // Vocabulary in sorted order, so that ids never depend on input order.
  absl::flat_hash_map<std::string, uint32_t> df;
  double word_len = 0, gram_len = 0;
  for (const Counts& c : counts) {
    word_len += c.word_len;
    gram_len += c.gram_len;
    for (const auto& [term, tf] : c.words) ++df[term];
    for (const auto& [term, tf] : c.grams) ++df[term];
  }
  std::vector<std::pair<std::string, uint32_t>> vocab(df.begin(), df.end());
  std::sort(vocab.begin(), vocab.end());
  model->terms_.reserve(vocab.size());
  for (auto& [term, n] : vocab) {
    model->term_ids_.emplace(term, static_cast<uint32_t>(model->terms_.size()));
    model->terms_.push_back(term);
    model->df_.push_back(n);
    // LSA vocabulary: words (not grams) in at least two documents.
    if (n >= 2 && term[0] != kGramPrefix) {
      model->lsa_ids_.emplace(term, static_cast<uint32_t>(model->lsa_terms_.size()));
      model->lsa_terms_.push_back(term);
    }
  }
  if (!cases.empty()) {
    model->avg_word_len_ = static_cast<float>(word_len / cases.size());
    model->avg_gram_len_ = static_cast<float>(gram_len / cases.size());
  }

  Fitted fitted;
  fitted.embeddings.resize(cases.size());
  ParallelFor(cases.size(), [&](size_t i) {
    fitted.embeddings[i].words = model->Bm25(counts[i].words, counts[i].word_len,
                                             model->avg_word_len_);
    fitted.embeddings[i].grams = model->Bm25(counts[i].grams, counts[i].gram_len,
                                             model->avg_gram_len_);
  });

  const int lsa_vocab = static_cast<int>(model->lsa_terms_.size());
  const int dim = std::min<int>(options.dense_dim,
                                std::min<int>(static_cast<int>(cases.size()), lsa_vocab) - 1);
  if (dim >= 2) {
    // Rows: the cases' word vectors on the LSA vocabulary, unit length.
    std::vector<Eigen::Triplet<float>> triplets;
    for (size_t i = 0; i < cases.size(); ++i) {
      const size_t first = triplets.size();
      float norm2 = 0;
      for (const auto& [term, w] : fitted.embeddings[i].words) {
        auto it = model->lsa_ids_.find(term);
        if (it == model->lsa_ids_.end()) continue;
        triplets.emplace_back(static_cast<int>(i), static_cast<int>(it->second), w);
        norm2 += w * w;
      }
      const float inv = norm2 > 0 ? 1.0f / std::sqrt(norm2) : 0.0f;
      for (size_t j = first; j < triplets.size(); ++j) {
        triplets[j] = Eigen::Triplet<float>(triplets[j].row(), triplets[j].col(),
                                            triplets[j].value() * inv);
      }
    }
    SparseRowMatrix a(static_cast<int>(cases.size()), lsa_vocab);
    a.setFromTriplets(triplets.begin(), triplets.end());
    model->projection_ = TopRightSingularVectors(a, dim, options.svd_oversample,
                                                 options.svd_power_iters, options.seed);
  }
  ParallelFor(cases.size(), [&](size_t i) {
    fitted.embeddings[i].dense = model->Project(fitted.embeddings[i].words);
  });
  model->IndexVocabulary();
  fitted.model = std::move(model);
  return fitted;
}

std::string Model::Serialize() const {
  internal::ModelData data;
  data.set_version(version_);
  data.set_num_docs(num_docs_);
  data.set_avg_doc_len(avg_word_len_);
  data.set_avg_gram_len(avg_gram_len_);
  data.set_k1(options_.k1);
  data.set_b(options_.b);
  data.set_title_weight(options_.title_weight);
  data.set_fitted_at(fitted_at_);
  for (size_t i = 0; i < terms_.size(); ++i) {
    data.add_terms(terms_[i]);
    data.add_df(df_[i]);
  }
  for (const auto& t : lsa_terms_) data.add_lsa_terms(t);
  data.set_dense_dim(static_cast<uint32_t>(projection_.cols()));
  data.set_projection(FloatsToBytes(projection_.data(), projection_.size()));
  return data.SerializeAsString();
}

absl::StatusOr<std::shared_ptr<const Model>> Model::Parse(absl::string_view blob,
                                                          const ModelOptions& options) {
  internal::ModelData data;
  if (!data.ParseFromArray(blob.data(), static_cast<int>(blob.size())) ||
      data.terms_size() != data.df_size() ||
      data.projection().size() !=
          static_cast<size_t>(data.lsa_terms_size()) * data.dense_dim() * sizeof(float)) {
    return absl::DataLossError("the stored model does not parse");
  }
  ModelOptions fitted = options;
  fitted.k1 = data.k1();
  fitted.b = data.b();
  fitted.title_weight = data.title_weight();
  auto model = std::shared_ptr<Model>(new Model(fitted));
  model->version_ = data.version();
  model->num_docs_ = data.num_docs();
  model->avg_word_len_ = data.avg_doc_len();
  model->avg_gram_len_ = data.avg_gram_len();
  model->fitted_at_ = data.fitted_at();
  model->terms_.reserve(data.terms_size());
  for (int i = 0; i < data.terms_size(); ++i) {
    model->term_ids_.emplace(data.terms(i), static_cast<uint32_t>(i));
    model->terms_.push_back(data.terms(i));
    model->df_.push_back(data.df(i));
  }
  for (int i = 0; i < data.lsa_terms_size(); ++i) {
    model->lsa_ids_.emplace(data.lsa_terms(i), static_cast<uint32_t>(i));
    model->lsa_terms_.push_back(data.lsa_terms(i));
  }
  model->projection_.resize(data.lsa_terms_size(), data.dense_dim());
  std::memcpy(model->projection_.data(), data.projection().data(), data.projection().size());
  model->IndexVocabulary();
  return std::shared_ptr<const Model>(std::move(model));
}

std::string Model::EncodeVector(const Embedding& e) const {
  internal::VectorData data;
  data.set_model_version(version_);
  for (const auto& [term, w] : e.words) {
    data.add_terms(term);
    data.add_weights(w);
  }
  for (const auto& [term, w] : e.grams) {
    data.add_gram_terms(term);
    data.add_gram_weights(w);
  }
  data.set_dense(FloatsToBytes(e.dense.data(), e.dense.size()));
  return data.SerializeAsString();
}

absl::StatusOr<Embedding> Model::DecodeVector(absl::string_view blob, uint64_t* model_version) {
  internal::VectorData data;
  if (!data.ParseFromArray(blob.data(), static_cast<int>(blob.size())) ||
      data.terms_size() != data.weights_size() ||
      data.gram_terms_size() != data.gram_weights_size() ||
      data.dense().size() % sizeof(float) != 0) {
    return absl::DataLossError("a stored vector does not parse");
  }
  Embedding e;
  e.words.reserve(data.terms_size());
  for (int i = 0; i < data.terms_size(); ++i) e.words.emplace_back(data.terms(i), data.weights(i));
  e.grams.reserve(data.gram_terms_size());
  for (int i = 0; i < data.gram_terms_size(); ++i) {
    e.grams.emplace_back(data.gram_terms(i), data.gram_weights(i));
  }
  e.dense.resize(static_cast<Eigen::Index>(data.dense().size() / sizeof(float)));
  std::memcpy(e.dense.data(), data.dense().data(), data.dense().size());
  if (model_version != nullptr) *model_version = data.model_version();
  return e;
}

}  // namespace peermatch
