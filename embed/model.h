// Model: how text becomes feature vectors. A fitted model is immutable and
// versioned; it holds the vocabulary statistics for the two BM25-style
// sparse vectors and the LSA projection for the dense one. Cases and queries
// are embedded with the same model so that their vectors compare.
//
// Three vectors per case d (see README "How matching works"):
// 1. words: Analyzer terms (stemmed). For each term t:
//      w(t,d) = idf(t) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(d) / avg_len))
//      idf(t) = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))
//    tf counts a title occurrence `title_weight` times; len(d) is the sum of
//    tf; a term the model has never seen has df = 0. A query's vector is its
//    term counts, so query . case is the case's BM25 score.
// 2. grams: the same BM25 over character 4-grams of the unstemmed words
//    ("#word#" cut into every 4-code-point window), with their own
//    statistics. They match word forms the stemmer misses (gene names,
//    spelling variants, other languages' inflections).
// 3. dense (LSA): the word vector restricted to terms in at least two
//    documents, L2-normalized, projected on the top right singular vectors
//    of the matrix of all such rows (randomized truncated SVD), and
//    L2-normalized. A query projects its idf-weighted counts.
//
// Translation (issue 13): with a Translator that has a lexicon for the
// text's language (not English),
// - a query's word w with translations becomes one Pirkola synonym group
//   g = {w's term, w's English term, every translation's English terms}:
//   each t of g gets the count idf(g) / idf(t), so that query . case sums
//   sat(tf_t) * idf(g) over the group ("satsum"), with idf(g) that of the
//   group's most frequent term (its df the largest of the group's);
// - a case's word w also counts each English term of its translations once
//   (tf + 1 each, times the field's weight), so English queries find it.
// The model records the lexicons' version (lexicon_version()): a model
// fitted with other lexicons must be refitted.
//
// Embed() has a fast path for a fitted model: terms and character grams
// become vocabulary ids through a per-thread cache of the words seen
// (bounded; reset when the thread embeds with another model), counts
// accumulate in a per-thread array, and ids give sorted order for free (the
// vocabulary is sorted). Its result is identical to the plain path
// (EmbedReference), which tests check.
//
// Thread-safety: a Model is immutable; share it as shared_ptr<const Model>.
#ifndef PEERMATCH_EMBED_MODEL_H_
#define PEERMATCH_EMBED_MODEL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "Eigen/Core"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "common/cancellation.h"
#include "absl/strings/string_view.h"
#include "text/analyzer.h"
#include "translate/translator.h"
#include "peermatch/v1/model.pb.h"

namespace peermatch {

struct ModelOptions {
  float k1 = 1.2f;            // BM25 term-frequency saturation
  float b = 0.75f;            // BM25 length normalization
  float title_weight = 2.0f;  // a title word counts this many times
  int dense_dim = 256;        // LSA dimensions (fewer when the corpus is small)
  int svd_oversample = 10;    // randomized SVD: extra columns ...
  int svd_power_iters = 7;    // ... and power iterations, for accuracy
  uint64_t seed = 42;         // randomized SVD seed: same data, same model
  AnalyzerOptions analyzer;
  // Cross-lingual matching through the English pivot (issue 13; see
  // "Translation" below). English text is never translated.
  const Translator* translator = nullptr;  // null: Translator::Default()
  bool translate_queries = true;  // structured (Pirkola) query translation
  bool translate_cases = true;    // a case's words also count their translations
};

// Sparse (term, value) pairs sorted by term.
using TermWeights = std::vector<std::pair<std::string, float>>;

// A case's vectors.
struct Embedding {
  TermWeights words;     // (term, BM25 weight)
  TermWeights grams;     // (gram, BM25 weight); gram terms start with kGramPrefix
  Eigen::VectorXf dense; // unit length, or empty before the first fit
};

// The translation that put an English term into a query (for evidence).
struct TermTranslation {
  std::string source_word;      // as the query wrote it (case-folded): "alfabetización"
  std::string source_language;  // "es"
  std::string target_word;      // the dictionary's English: "literacy"
  std::string dictionary;       // "FreeDict spa-eng"
};

// A query's vectors.
struct QueryVector {
  TermWeights words;     // (term, count)
  TermWeights grams;     // (gram, count)
  Eigen::VectorXf dense; // unit length, or empty
  // The word each term came from, for explanations; none for a term that
  // only a hyphenated compound's joined form made ("homelearn").
  absl::flat_hash_map<std::string, std::string> surface;
  // English terms that only a translation brought in, with that translation.
  absl::flat_hash_map<std::string, TermTranslation> translations;
};

// Character 4-gram terms carry this prefix, so words and grams never clash.
inline constexpr char kGramPrefix = '\x1f';

class Model {
 public:
  // The model before any fit (version 0): no statistics, no dense vectors;
  // every term has df = 0, so sparse scores are pure saturated tf.
  static std::shared_ptr<const Model> Empty(const ModelOptions& options = {});

  // Fits a model of version `version` to `cases` and embeds each of them
  // with it (embeddings[i] belongs to cases[i]). Uses both cores. When
  // `cancel` (may be null) is cancelled, stops between stages and between
  // documents and returns no model (null) and no embeddings.
  struct Fitted {
    std::shared_ptr<const Model> model;
    std::vector<Embedding> embeddings;
  };
  static Fitted Fit(const std::vector<const v1::Case*>& cases, uint64_t version,
                    const ModelOptions& options, int64_t fitted_at = 0,
                    const Cancellation* cancel = nullptr);

  // Restores a model from Serialize()'s bytes. DATA_LOSS when they do not
  // parse. The fitted BM25 parameters override those in `options`.
  static absl::StatusOr<std::shared_ptr<const Model>> Parse(absl::string_view blob,
                                                            const ModelOptions& options = {});
  std::string Serialize() const;

  // Text of a case: title (weighted), description, outcome, tags, target groups.
  Embedding Embed(const v1::Case& c) const;
  // The same vectors by the plain path (strings, sorting, hash lookups per
  // term): the reference the fast path is tested against.
  Embedding EmbedReference(const v1::Case& c) const;
  QueryVector EmbedQuery(absl::string_view text, absl::string_view language) const;

  uint64_t version() const { return version_; }
  int dense_dim() const { return static_cast<int>(projection_.cols()); }
  size_t vocabulary_size() const { return terms_.size(); }
  uint32_t num_docs() const { return num_docs_; }
  int64_t fitted_at() const { return fitted_at_; }
  // The analysis rules the model was fitted with (kAnalyzerVersion when
  // fitted by this build; 0 for a model stored before it was recorded).
  uint32_t analyzer_version() const { return analyzer_version_; }
  float Idf(absl::string_view term) const;
  // The lexicons the model embeds with (Translator::Version()).
  const std::string& lexicon_version() const { return lexicon_version_; }
  // True when the lexicons changed since the model was fitted (its cases
  // must be re-embedded and the model refitted).
  bool LexiconsChanged() const { return lexicon_version_ != translator_->Version(); }
  const ModelOptions& options() const { return options_; }

  // Encodes/decodes a case's vectors for the store.
  std::string EncodeVector(const Embedding& e) const;
  static absl::StatusOr<Embedding> DecodeVector(absl::string_view blob, uint64_t* model_version);

 private:
  struct Counts {
    TermWeights words, grams;  // (term, tf)
    float word_len = 0, gram_len = 0;
  };
  explicit Model(const ModelOptions& options);
  Counts Count(const v1::Case& c) const;
  // Fills idf_ and lsa_row_ from the vocabulary (after a fit or parse).
  void IndexVocabulary();
  // Calls fn(text, weight) for each text field of a case.
  template <typename Fn>
  void ForEachField(const v1::Case& c, const Fn& fn) const;
  TermWeights Bm25(const TermWeights& tf, float len, float avg_len) const;
  Embedding Weigh(const Counts& counts) const;
  Eigen::VectorXf Project(const TermWeights& weights) const;

  // The translator for a case's or query's language, or null.
  const Translator* TranslatorFor(absl::string_view language, bool enabled) const;
  // df of a term (0 when unknown).
  uint32_t Df(absl::string_view term) const;

  ModelOptions options_;
  Analyzer analyzer_;
  const Translator* translator_;
  std::string lexicon_version_;
  uint64_t version_ = 0;
  uint32_t num_docs_ = 0;
  float avg_word_len_ = 1;
  float avg_gram_len_ = 1;
  int64_t fitted_at_ = 0;
  uint32_t analyzer_version_ = kAnalyzerVersion;
  std::vector<std::string> terms_;
  std::vector<uint32_t> df_;
  absl::flat_hash_map<std::string, uint32_t> term_ids_;
  // LSA: rows for the terms of lsa_ids_ (dense_dim columns).
  absl::flat_hash_map<std::string, uint32_t> lsa_ids_;
  std::vector<std::string> lsa_terms_;
  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> projection_;
  // By term id: idf, and the LSA row (-1 when the term has none); together,
  // so one cache line serves both.
  struct TermInfo {
    float idf;
    int32_t lsa_row;
  };
  std::vector<TermInfo> term_info_;
  // Gram terms are the ids in [grams_begin_, grams_end_) (the vocabulary is
  // sorted and grams share their prefix).
  uint32_t grams_begin_ = 0, grams_end_ = 0;
  // Grams of at most 4 ASCII bytes (without the prefix), packed one byte
  // each, to their ids: the fast path looks them up without strings.
  absl::flat_hash_map<uint32_t, uint32_t> ascii_gram_ids_;
  // Unique per Model object: names the per-thread caches built for it.
  uint64_t serial_;
};

// The character 4-grams of a word, as terms (with kGramPrefix).
std::vector<std::string> CharGrams(absl::string_view word);

}  // namespace peermatch

#endif  // PEERMATCH_EMBED_MODEL_H_
