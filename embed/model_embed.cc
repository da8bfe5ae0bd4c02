// Model::Embed, the fast embedding path, and Model::EmbedReference, the
// plain one it must equal bit for bit (embed_test compares them on every
// SciFact document).
#include <algorithm>
#include <cstring>

#include "embed/internal/dense_sum.h"
#include "embed/internal/model_util.h"
#include "embed/model.h"
#include "records/case_language.h"
#include "unicode/utf8.h"

namespace peermatch {
namespace {

using internal::IsAsciiWord;
using internal::kMaxWordBytesForGrams;
using internal::Merge;
using internal::Normalize;
using internal::PackAsciiGram;
using internal::Sum;

}  // namespace

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
  // Its translations' English terms (issue 13), resolved on its first
  // non-compound occurrence in a translated document: known ones as ids,
  // EmbedScratch::translation_ids[translations_begin, +translations), the
  // others as strings, unknown_translations[unknown_translations_begin,
  // +unknown_translations). The translator, like the word, is fixed by the
  // word's space (its language) and the model.
  bool translations_resolved = false;
  uint32_t translations_begin = 0, translations = 0;
  uint32_t unknown_translations_begin = 0, unknown_translations = 0;
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
  std::vector<uint32_t> translation_ids;
  std::vector<std::string> unknown_translations;
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
  // The document's words' English translations (issue 13): (id, weight).
  std::vector<std::pair<uint32_t, float>> translated;
  // The document's LSA rows with their weights, in term order.
  std::vector<internal::WeightedRow> dense_rows;

  void ForgetWords() {
    last_space = 0;
    last_words = nullptr;
    by_ref.clear();
    by_surface.clear();
    gram_ids.clear();
    unknown_grams.clear();
    translation_ids.clear();
    unknown_translations.clear();
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
    if (gram_ids.size() + unknown_grams.size() + translation_ids.size() +
                unknown_translations.size() >=
            kMaxPooledGrams ||
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
  const std::string language = CaseAnalysisLanguage(c);
  const Translator* translator = TranslatorFor(language, options_.translate_cases);
  ForEachField(c, [&](absl::string_view text, float weight) {
    analyzer_.Scan(text, language, [&](absl::string_view term, absl::string_view surface,
                                       WordRef ref) {
      CachedWord& w = s.Find(surface, ref);
      if (translator != nullptr && !ref.compound) {
        if (ref.index == WordRef::kNone) {  // a number: cached by surface, in any language
          for (const std::string& t : translator->Lookup(language, surface, term).terms) {
            const int32_t id = lookup(t);
            if (id >= 0) {
              s.translated.emplace_back(static_cast<uint32_t>(id), weight);
            } else {
              s.unknown_word_tf.emplace_back(t, weight);
            }
          }
        } else {
          if (!w.translations_resolved) {
            w.translations_resolved = true;
            w.translations_begin = static_cast<uint32_t>(s.translation_ids.size());
            w.unknown_translations_begin = static_cast<uint32_t>(s.unknown_translations.size());
            for (const std::string& t : translator->Lookup(language, surface, term).terms) {
              const int32_t id = lookup(t);
              if (id >= 0) {
                s.translation_ids.push_back(static_cast<uint32_t>(id));
              } else {
                s.unknown_translations.push_back(t);
              }
            }
            w.translations = static_cast<uint32_t>(s.translation_ids.size() - w.translations_begin);
            w.unknown_translations = static_cast<uint32_t>(s.unknown_translations.size() -
                                                           w.unknown_translations_begin);
          }
          for (uint32_t i = 0; i < w.translations; ++i) {
            s.translated.emplace_back(s.translation_ids[w.translations_begin + i], weight);
          }
          for (uint32_t i = 0; i < w.unknown_translations; ++i) {
            s.unknown_word_tf.emplace_back(s.unknown_translations[w.unknown_translations_begin + i],
                                           weight);
          }
        }
      }
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
  s.items.swap(s.translated);
  s.translated.clear();
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
      if (dense != nullptr && info.lsa_row >= 0) {
        s.dense_rows.push_back({projection_.row(info.lsa_row).data(), w});
      }
    }
    for (; u < unknown.size(); ++u) add_unknown(unknown[u]);
    // The projection: the same sums as AddRow row after row (dense_sum.h).
    if (dense != nullptr) {
      internal::DenseSum(s.dense_rows, static_cast<size_t>(dense->size()), dense->data());
      s.dense_rows.clear();
    }
  };
  Embedding e;
  if (projection_.cols() > 0) e.dense.resize(projection_.cols());
  weigh(s.word_tf, unknown_words, word_len, avg_word_len_, &e.words,
        projection_.cols() > 0 ? &e.dense : nullptr);
  weigh(s.gram_tf, unknown_grams, gram_len, avg_gram_len_, &e.grams, nullptr);
  if (projection_.cols() > 0) Normalize(&e.dense);
  return e;
}

}  // namespace peermatch
