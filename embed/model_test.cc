#include "embed/model.h"

#include <cmath>
#include <fstream>
#include <string>

#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

#include "gmock/gmock.h"
#include "peermatch/internal/matcher_data.pb.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace peermatch {
namespace {

using ::testing::ElementsAre;
using testing::StatusIs;

v1::Case MakeCase(const std::string& title, const std::string& description) {
  v1::Case c;
  c.set_id("c");
  c.set_title(title);
  c.set_description(description);
  return c;
}

float WeightOf(const TermWeights& weights, const std::string& term) {
  for (const auto& [t, w] : weights) {
    if (t == term) return w;
  }
  return -1;
}

TEST(Model, Bm25WeightsMatchHandComputedValues) {
  // Stems: radio, lesson, pupil, tablet, librari, open. Titles count twice.
  const v1::Case a = MakeCase("radio lessons", "radio for pupils");  // radio 3, lesson 2, pupil 1
  const v1::Case b = MakeCase("tablets", "tablets for pupils");      // tablet 3, pupil 1
  const v1::Case c = MakeCase("libraries", "open libraries");        // librari 3, open 1
  ModelOptions options;
  options.dense_dim = 0;
  const auto fitted = Model::Fit({&a, &b, &c}, 1, options);
  const double n = 3, avg = (6 + 4 + 4) / 3.0, k1 = 1.2, bb = 0.75;
  auto idf = [&](double df) { return std::log(1 + (n - df + 0.5) / (df + 0.5)); };
  auto w = [&](double tf, double len, double df) {
    return idf(df) * tf * (k1 + 1) / (tf + k1 * (1 - bb + bb * len / avg));
  };
  EXPECT_NEAR(WeightOf(fitted.embeddings[0].words, "pupil"), w(1, 6, 2), 1e-5);
  EXPECT_NEAR(WeightOf(fitted.embeddings[0].words, "radio"), w(3, 6, 1), 1e-5);
  EXPECT_NEAR(WeightOf(fitted.embeddings[1].words, "tablet"), w(3, 4, 1), 1e-5);
  EXPECT_NEAR(fitted.model->Idf("pupil"), idf(2), 1e-6);
  EXPECT_NEAR(fitted.model->Idf("never-seen"), idf(0), 1e-6);
}

TEST(Model, FitReturnsNoModelOnceCancelled) {
  const v1::Case a = MakeCase("radio lessons", "radio for pupils");
  const v1::Case b = MakeCase("tablets", "tablets for pupils");
  Cancellation cancel;
  EXPECT_NE(Model::Fit({&a, &b}, 1, ModelOptions(), 0, &cancel).model, nullptr);
  cancel.Cancel();
  const auto fitted = Model::Fit({&a, &b}, 1, ModelOptions(), 0, &cancel);
  EXPECT_EQ(fitted.model, nullptr);
  EXPECT_TRUE(fitted.embeddings.empty());
}

TEST(Model, CharGramsCutPaddedWordsByCodePoint) {
  EXPECT_THAT(CharGrams("il6"), ElementsAre("\x1f#il6", "\x1fil6#"));
  EXPECT_THAT(CharGrams("ab"), ElementsAre("\x1f#ab#"));
  // "é" is one code point (two bytes): "#café#" has 6 code points, 3 grams.
  EXPECT_THAT(CharGrams("café"), ElementsAre("\x1f#caf", "\x1f" "café", "\x1f" "afé#"));
}

TEST(Model, QueryCountsTermsAndRemembersSurfaceForms) {
  auto model = Model::Empty();
  QueryVector q = model->EmbedQuery("Libraries and libraries", "en");
  ASSERT_EQ(q.words.size(), 1u);
  EXPECT_EQ(q.words[0].first, "librari");
  EXPECT_EQ(q.words[0].second, 2.0f);
  EXPECT_EQ(q.surface.at("librari"), "libraries");
}

std::vector<v1::Case> Corpus() {
  std::vector<v1::Case> cases;
  const char* texts[][2] = {
      {"Radio lessons", "Daily radio lessons for pupils without internet during school closures"},
      {"Tablet lending", "The city lent tablets and data to pupils so they could study online"},
      {"Library cards", "Free library cards and reading clubs for families and children"},
      {"Older adults online", "Smartphone classes help older adults join video calls and services"},
      {"Adult literacy", "Evening literacy classes for adults who left school early"},
      {"Teacher training", "Teachers trained to teach online with video and shared documents"},
  };
  for (size_t i = 0; i < std::size(texts); ++i) {
    v1::Case c = MakeCase(texts[i][0], texts[i][1]);
    c.set_id("c" + std::to_string(i));
    cases.push_back(c);
  }
  return cases;
}

TEST(Model, SerializedModelEmbedsExactlyLikeTheOriginal) {
  const auto cases = Corpus();
  std::vector<const v1::Case*> pointers;
  for (const auto& c : cases) pointers.push_back(&c);
  const auto fitted = Model::Fit(pointers, 7, ModelOptions());
  ASSERT_GT(fitted.model->dense_dim(), 1);
  auto parsed = Model::Parse(fitted.model->Serialize());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ((*parsed)->version(), 7u);
  const Embedding a = fitted.model->Embed(cases[0]);
  const Embedding b = (*parsed)->Embed(cases[0]);
  EXPECT_EQ(a.words, b.words);
  EXPECT_EQ(a.grams, b.grams);
  EXPECT_TRUE(a.dense.isApprox(b.dense));
  EXPECT_NEAR(a.dense.norm(), 1.0f, 1e-5);
  // Embedding a case again gives what Fit gave it.
  EXPECT_EQ(a.words, fitted.embeddings[0].words);
  EXPECT_TRUE(a.dense.isApprox(fitted.embeddings[0].dense, 1e-4f));

  uint64_t version = 0;
  auto decoded = Model::DecodeVector(fitted.model->EncodeVector(a), &version);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(version, 7u);
  EXPECT_EQ(decoded->words, a.words);
  EXPECT_TRUE(decoded->dense.isApprox(a.dense));
  EXPECT_THAT(Model::Parse("garbage"), StatusIs(absl::StatusCode::kDataLoss));
}

TEST(Model, FitIsDeterministic) {
  const auto cases = Corpus();
  std::vector<const v1::Case*> pointers;
  for (const auto& c : cases) pointers.push_back(&c);
  EXPECT_EQ(Model::Fit(pointers, 1, ModelOptions()).model->Serialize(),
            Model::Fit(pointers, 1, ModelOptions()).model->Serialize());
}

TEST(Model, LsaPlacesRelatedTextsCloser) {
  const auto cases = Corpus();
  std::vector<const v1::Case*> pointers;
  for (const auto& c : cases) pointers.push_back(&c);
  const auto fitted = Model::Fit(pointers, 1, ModelOptions());
  const QueryVector q = fitted.model->EmbedQuery("pupils study online with tablets", "en");
  ASSERT_EQ(q.dense.size(), fitted.model->dense_dim());
  const float tablet = q.dense.dot(fitted.embeddings[1].dense);
  const float library = q.dense.dot(fitted.embeddings[2].dense);
  EXPECT_GT(tablet, library);
}

// A model of version `version` fitted on Corpus().
Model::Fitted FitCorpus(uint64_t version) {
  const auto cases = Corpus();
  std::vector<const v1::Case*> pointers;
  for (const auto& c : cases) pointers.push_back(&c);
  return Model::Fit(pointers, version, ModelOptions());
}

// Exact equality: the fast path must give the reference's floats, not
// approximately the same ones.
void ExpectSameEmbedding(const Embedding& fast, const Embedding& reference) {
  EXPECT_EQ(fast.words, reference.words);
  EXPECT_EQ(fast.grams, reference.grams);
  ASSERT_EQ(fast.dense.size(), reference.dense.size());
  for (Eigen::Index i = 0; i < fast.dense.size(); ++i) EXPECT_EQ(fast.dense[i], reference.dense[i]);
}

TEST(Model, FastEmbeddingEqualsTheReferencePath) {
  const auto cases = Corpus();
  std::vector<const v1::Case*> pointers;
  for (const auto& c : cases) pointers.push_back(&c);
  const auto fitted = Model::Fit(pointers, 3, ModelOptions());
  const auto other = Model::Fit({pointers[0], pointers[1], pointers[2]}, 4, ModelOptions());
  std::vector<v1::Case> probes = cases;
  // Words and grams the model has never seen, repeated words, numbers,
  // compounds, another language, non-ASCII text, tags and target groups.
  probes.push_back(MakeCase("Zebrafish zebrafish lessons",
                            "Pupils pupils pupils learn xylophone and 3.5-fold covid-19 e-learning"));
  probes.push_back(MakeCase("Éducation des adultes", "Cours du soir pour adultes à Lyon"));
  probes.back().set_language("fr");
  probes.push_back(MakeCase("终身学习", "Lifelong learning 学习 for older adults"));
  v1::Case tagged = MakeCase("Radio", "radio radio");
  tagged.add_tags("remote learning");
  tagged.add_target_groups("older adults");
  tagged.set_outcome("More pupils reached by radio lessons");
  probes.push_back(tagged);
  probes.push_back(MakeCase("", "!!! ..."));
  // Twice over, alternating models, so cached words are reused and the
  // per-thread state is rebuilt for each model.
  for (int round = 0; round < 2; ++round) {
    for (const v1::Case& c : probes) {
      SCOPED_TRACE(c.title());
      ExpectSameEmbedding(fitted.model->Embed(c), fitted.model->EmbedReference(c));
      ExpectSameEmbedding(other.model->Embed(c), other.model->EmbedReference(c));
    }
  }
  // The same word as a term of another language ("adultes" stems
  // differently in French and English).
  v1::Case english = MakeCase("adultes", "adultes");
  ExpectSameEmbedding(fitted.model->Embed(english), fitted.model->EmbedReference(english));
}

// One model, cases in rotating languages (more than the per-thread scratch
// keeps word spaces for): every vector equals the reference's, so the
// scratch is never reset in the middle of a document.
TEST(Model, FastEmbeddingInManyLanguagesWithOneModel) {
  const auto fitted = FitCorpus(3);
  const char* const languages[] = {"en", "fr", "de", "es", "pt", "it", "nl", "sv"};
  for (int round = 0; round < 3; ++round) {
    for (const char* lang : languages) {
      v1::Case c = MakeCase("Radio lessons for pupils",
                            "Libraries lend tablets to pupils; older adults learn online "
                            "with teachers and radio lessons in the evening");
      c.set_language(lang);
      SCOPED_TRACE(lang);
      ExpectSameEmbedding(fitted.model->Embed(c), fitted.model->EmbedReference(c));
    }
  }
}

// A document with more grams than the per-thread pool keeps (about a
// million): words cached before it and repeated after the pool is full must
// still get their own grams, in that document and the next.
TEST(Model, FastEmbeddingOfADocumentLargerThanTheWordCache) {
  const auto fitted = FitCorpus(3);
  const std::string common = "radio lessons for pupils with tablets and library cards ";
  const v1::Case before = MakeCase("Radio lessons", common);
  ExpectSameEmbedding(fitted.model->Embed(before), fitted.model->EmbedReference(before));
  std::string huge = common;
  for (int i = 0; i < 300000; ++i) {  // 5-6 grams each: over 1.5 million
    std::string word = "zq";
    for (int n = i; n > 0; n /= 26) word += static_cast<char>('a' + n % 26);
    huge += word + " ";
  }
  huge += common;
  const v1::Case big = MakeCase("Radio lessons", huge);
  ExpectSameEmbedding(fitted.model->Embed(big), fitted.model->EmbedReference(big));
  ExpectSameEmbedding(fitted.model->Embed(before), fitted.model->EmbedReference(before));
}

// Every document of BEIR SciFact (beside the checkout, in ../shared), with a
// model fitted on the first 4,000 so that the rest have unknown words: the
// fast path gives exactly the reference's vectors.
TEST(Model, FastEmbeddingEqualsTheReferenceOnSciFact) {
  std::ifstream in(std::string(PEERMATCH_SOURCE_DIR) +
                   "/../shared/datasets/scifact/corpus.jsonl");
  if (!in) GTEST_SKIP() << "SciFact is not beside the checkout";
  std::vector<v1::Case> cases;
  std::string line;
  while (std::getline(in, line)) {
    google::protobuf::Struct doc;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &doc).ok());
    cases.push_back(MakeCase(doc.fields().at("title").string_value(),
                             doc.fields().at("text").string_value()));
  }
  ASSERT_GT(cases.size(), 5000u);
  std::vector<const v1::Case*> sample;
  for (size_t i = 0; i < 4000; ++i) sample.push_back(&cases[i]);
  const auto fitted = Model::Fit(sample, 1, ModelOptions());
  size_t differ = 0;
  for (const v1::Case& c : cases) {
    const Embedding fast = fitted.model->Embed(c);
    const Embedding reference = fitted.model->EmbedReference(c);
    if (fast.words != reference.words || fast.grams != reference.grams ||
        fast.dense != reference.dense) {
      ++differ;
    }
  }
  EXPECT_EQ(differ, 0u) << "of " << cases.size();
}

// Found by vector_codec_fuzz: a model blob whose dense_dim has no LSA terms
// (and so no projection bytes to disagree with) parsed, and the first query
// allocated a dense vector of dense_dim floats (here 4 GiB) and ran out of
// memory. Such a blob is corrupt: Fit keeps dense_dim below the LSA terms.
// Issue 13: with a lexicon for Spanish, a Spanish case also counts its
// words' English translations (fast path = reference), a Spanish query word
// becomes a synonym group weighted idf(g)/idf(t) and remembers the
// translation, and English is untouched.
TEST(Model, TranslatesNonEnglishCasesAndQueriesIntoTheEnglishPivot) {
  testing::TempDir dir;
  std::ofstream(dir.Sub("es-en.lex"))
      << "peermatch-lexicon 1\nlanguage\tes\nversion\tv1\ndict\t0\tTest dict\ttest 1\n"
         "escuela\tescuel\t0\tschool\tschool\nescuela\tescuel\t0\tacademy\tacademi\n";
  const Translator translator(dir.path());
  ModelOptions options;
  options.translator = &translator;
  std::vector<v1::Case> cases = {MakeCase("School meals", "Pupils eat at school"),
                                 MakeCase("Academy", "An academy for adults"),
                                 MakeCase("Radio", "Radio lessons"),
                                 MakeCase("Escuela", "Una escuela nueva")};
  cases[3].set_language("es");
  std::vector<const v1::Case*> pointers;
  for (const auto& c : cases) pointers.push_back(&c);
  const auto fitted = Model::Fit(pointers, 1, options);
  const Model& m = *fitted.model;
  EXPECT_EQ(m.lexicon_version(), "es:v1");
  EXPECT_FALSE(m.LexiconsChanged());

  const Embedding spanish = m.Embed(cases[3]);
  EXPECT_GT(WeightOf(spanish.words, "school"), 0);
  EXPECT_GT(WeightOf(spanish.words, "escuel"), 0);  // its own word stays
  ExpectSameEmbedding(spanish, m.EmbedReference(cases[3]));
  EXPECT_LT(WeightOf(m.Embed(cases[0]).words, "academi"), 0);  // English: no translation

  const QueryVector q = m.EmbedQuery("escuela", "es");
  // Group {escuel, escuela (read as English), school, academi}: its idf is
  // that of its largest df (school and academi are in 2 documents each).
  const float idf_group = m.Idf("school");
  EXPECT_FLOAT_EQ(WeightOf(q.words, "school"), idf_group / m.Idf("school"));
  EXPECT_FLOAT_EQ(WeightOf(q.words, "academi"), idf_group / m.Idf("academi"));
  EXPECT_FLOAT_EQ(WeightOf(q.words, "escuel"), idf_group / m.Idf("escuel"));
  ASSERT_TRUE(q.translations.contains("school"));
  EXPECT_EQ(q.translations.at("school").source_word, "escuela");
  EXPECT_EQ(q.translations.at("school").source_language, "es");
  EXPECT_EQ(q.translations.at("school").target_word, "school");
  EXPECT_EQ(q.translations.at("school").dictionary, "Test dict");

  const QueryVector english = m.EmbedQuery("school", "en");
  EXPECT_TRUE(english.translations.empty());
  EXPECT_FLOAT_EQ(WeightOf(english.words, "school"), 1.0f);

  ModelOptions off = options;
  off.translate_queries = false;
  off.translate_cases = false;
  const auto plain = Model::Fit(pointers, 1, off);
  EXPECT_LT(WeightOf(plain.model->Embed(cases[3]).words, "school"), 0);
  EXPECT_TRUE(plain.model->EmbedQuery("escuela", "es").translations.empty());
}

TEST(Model, ParseRefusesDimensionsWithoutProjection) {
  internal::ModelData data;
  data.set_version(3);
  data.set_dense_dim(1u << 30);
  EXPECT_THAT(Model::Parse(data.SerializeAsString()), StatusIs(absl::StatusCode::kDataLoss));
  data.add_lsa_terms("school");
  data.set_projection(std::string(8, '\0'));  // 1 x 2 floats, not 1 x 2^30
  EXPECT_THAT(Model::Parse(data.SerializeAsString()), StatusIs(absl::StatusCode::kDataLoss));
  data.set_dense_dim(2);
  auto parsed = Model::Parse(data.SerializeAsString());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ((*parsed)->dense_dim(), 2);
  // LSA terms without dimensions are what Fit writes for a tiny corpus.
  data.set_dense_dim(0);
  data.clear_projection();
  EXPECT_TRUE(Model::Parse(data.SerializeAsString()).ok());
}

}  // namespace
}  // namespace peermatch
