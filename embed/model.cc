#include "embed/model.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <thread>

#include "absl/strings/str_split.h"
#include "embed/internal/model_util.h"
#include "embed/internal/svd.h"
#include "peermatch/internal/matcher_data.pb.h"
#include "records/case_language.h"
#include "unicode/utf8.h"

namespace peermatch {
namespace {

using internal::AddRow;
using internal::Merge;
using internal::Normalize;
using internal::PackAsciiGram;
using internal::Projection;
using internal::Sum;


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

// `translator` (may be null) adds each word's English translations.
void AddTokens(const Analyzer& analyzer, const Translator* translator, absl::string_view text,
               absl::string_view lang, float weight, TermWeights* words, TermWeights* grams) {
  analyzer.Scan(text, lang, [&](absl::string_view term, absl::string_view surface, WordRef ref) {
    for (std::string& g : CharGrams(surface)) grams->emplace_back(std::move(g), weight);
    words->emplace_back(std::string(term), weight);
    if (translator != nullptr && !ref.compound) {
      for (const std::string& t : translator->Lookup(lang, surface, term).terms) {
        words->emplace_back(t, weight);
      }
    }
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

Model::Model(const ModelOptions& options)
    : options_(options),
      analyzer_(options.analyzer),
      translator_(options.translator != nullptr ? options.translator : &Translator::Default()),
      lexicon_version_(translator_->Version()) {
  static std::atomic<uint64_t> next_serial{1};
  serial_ = next_serial.fetch_add(1);
}

const Translator* Model::TranslatorFor(absl::string_view language, bool enabled) const {
  return enabled && translator_->Translates(language) ? translator_ : nullptr;
}

uint32_t Model::Df(absl::string_view term) const {
  auto it = term_ids_.find(term);
  return it == term_ids_.end() ? 0 : df_[it->second];
}

Model::Counts Model::Count(const v1::Case& c) const {
  Counts counts;
  const std::string language = CaseAnalysisLanguage(c);
  ForEachField(c, [&](absl::string_view text, float weight) {
    AddTokens(analyzer_, TranslatorFor(language, options_.translate_cases), text, language,
              weight, &counts.words, &counts.grams);
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


QueryVector Model::EmbedQuery(absl::string_view text, absl::string_view language) const {
  QueryVector q;
  const Translator* translator = TranslatorFor(language, options_.translate_queries);
  for (Token& t : analyzer_.Analyze(text, language)) {
    for (std::string& g : CharGrams(t.surface)) q.grams.emplace_back(std::move(g), 1.0f);
    // A compound's joined form is no word of the text: explanations show its
    // parts instead.
    if (!t.compound) q.surface.emplace(t.term, t.surface);
    const TranslationGroup* g =
        translator == nullptr || t.compound ? nullptr : &translator->Lookup(language, t.surface, t.term);
    if (g == nullptr || g->empty()) {
      q.words.emplace_back(std::move(t.term), 1.0f);
      continue;
    }
    // One synonym group: the word itself, its spelling read as English
    // (names, cognates), and every translation.
    std::vector<std::string> group = {t.term};
    for (std::string& e : analyzer_.Terms(t.surface, "en")) {
      q.surface.emplace(e, t.surface);
      group.push_back(std::move(e));
    }
    group.insert(group.end(), g->terms.begin(), g->terms.end());
    std::sort(group.begin(), group.end());
    group.erase(std::unique(group.begin(), group.end()), group.end());
    uint32_t df = 0;
    for (const std::string& term : group) df = std::max(df, Df(term));
    const float idf_group =
        std::log(1.0f + (static_cast<float>(num_docs_) - df + 0.5f) / (df + 0.5f));
    for (std::string& term : group) {
      q.words.emplace_back(term, idf_group / Idf(term));
    }
    for (const Alternative& a : g->alternatives) {
      for (absl::string_view term : absl::StrSplit(a.terms, ' ', absl::SkipEmpty())) {
        if (q.surface.contains(term)) continue;
        q.translations.try_emplace(std::string(term), TermTranslation{t.surface, std::string(language),
                                                         std::string(a.english),
                                                         std::string(a.dictionary)});
      }
    }
  }
  q.words = Merge(std::move(q.words));
  q.grams = Merge(std::move(q.grams));
  TermWeights weighted = q.words;
  for (auto& [term, w] : weighted) w *= Idf(term);
  q.dense = Project(weighted);
  return q;
}

Model::Fitted Model::Fit(const std::vector<const v1::Case*>& cases, uint64_t version,
                         const ModelOptions& options, int64_t fitted_at,
                         const Cancellation* cancel) {
  auto stopped = [cancel] { return cancel != nullptr && cancel->cancelled(); };
  auto model = std::shared_ptr<Model>(new Model(options));
  model->version_ = version;
  model->fitted_at_ = fitted_at;
  model->num_docs_ = static_cast<uint32_t>(cases.size());

  std::vector<Counts> counts(cases.size());
  ParallelFor(cases.size(), [&](size_t i) {
    if (!stopped()) counts[i] = model->Count(*cases[i]);
  });
  if (stopped()) return Fitted();

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
    if (stopped()) return;
    fitted.embeddings[i].words = model->Bm25(counts[i].words, counts[i].word_len,
                                             model->avg_word_len_);
    fitted.embeddings[i].grams = model->Bm25(counts[i].grams, counts[i].gram_len,
                                             model->avg_gram_len_);
  });

  const int lsa_vocab = static_cast<int>(model->lsa_terms_.size());
  const int dim = std::min<int>(options.dense_dim,
                                std::min<int>(static_cast<int>(cases.size()), lsa_vocab) - 1);
  if (stopped()) return Fitted();
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
  if (stopped()) return Fitted();
  ParallelFor(cases.size(), [&](size_t i) {
    if (!stopped()) fitted.embeddings[i].dense = model->Project(fitted.embeddings[i].words);
  });
  if (stopped()) return Fitted();
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
  data.set_analyzer_version(analyzer_version_);
  data.set_lexicon_version(lexicon_version_);
  for (size_t i = 0; i < terms_.size(); ++i) {
    data.add_terms(terms_[i]);
    data.add_df(df_[i]);
  }
  for (const auto& t : lsa_terms_) data.add_lsa_terms(t);
  data.set_dense_dim(static_cast<uint32_t>(projection_.cols()));
  data.set_projection(FloatsToBytes(projection_.data(), projection_.size()));
  return data.SerializeAsString();
}

namespace {

// `projection` holds lsa_terms x dense_dim floats, and there are no
// dimensions without LSA terms (Fit keeps dense_dim below their count).
// Checked without overflow: a corrupt dense_dim must not pass, since it
// sizes every query's dense vector (found by vector_codec_fuzz: a blob with
// dense_dim ~2^30 and no LSA terms parsed, and the first query ran out of
// memory).
bool ProjectionFits(const internal::ModelData& data) {
  const size_t rows = static_cast<size_t>(data.lsa_terms_size());
  const size_t row_bytes = static_cast<size_t>(data.dense_dim()) * sizeof(float);
  if (row_bytes == 0) return data.projection().empty();
  return rows != 0 && data.projection().size() % row_bytes == 0 &&
         data.projection().size() / row_bytes == rows;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const Model>> Model::Parse(absl::string_view blob,
                                                          const ModelOptions& options) {
  internal::ModelData data;
  if (!data.ParseFromArray(blob.data(), static_cast<int>(blob.size())) ||
      data.terms_size() != data.df_size() || !ProjectionFits(data)) {
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
  model->analyzer_version_ = data.analyzer_version();
  model->lexicon_version_ = data.lexicon_version();
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
  // memcpy's pointers must not be null, even for 0 bytes (an empty matrix's is).
  if (!data.projection().empty()) {
    std::memcpy(model->projection_.data(), data.projection().data(), data.projection().size());
  }
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
  // memcpy's pointers must not be null, even for 0 bytes (an empty vector's is).
  if (!data.dense().empty()) std::memcpy(e.dense.data(), data.dense().data(), data.dense().size());
  if (model_version != nullptr) *model_version = data.model_version();
  return e;
}

}  // namespace peermatch
