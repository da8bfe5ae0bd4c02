#include "embed/vector_codec.h"

#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "embed/model.h"
#include "peermatch/internal/matcher_data.pb.h"

namespace peermatch {
namespace {

// A view rendered as text, to compare whole results.
std::string Render(const VectorView& v) {
  std::string out = absl::StrCat("v", v.model_version, " words:");
  for (size_t i = 0; i < v.words.size(); ++i) {
    absl::StrAppend(&out, " ", v.words[i], "=", v.word_weights[i]);
  }
  absl::StrAppend(&out, " grams:");
  for (size_t i = 0; i < v.grams.size(); ++i) {
    absl::StrAppend(&out, " ", v.grams[i], "=", v.gram_weights[i]);
  }
  std::vector<float> dense(v.dense_size());
  v.CopyDense(dense.data());
  absl::StrAppend(&out, " dense:");
  for (float x : dense) absl::StrAppend(&out, " ", x);
  return out;
}

// What Model::DecodeVector makes of `blob`, rendered the same way (or its error).
std::string Reference(absl::string_view blob) {
  uint64_t version = 0;
  absl::StatusOr<Embedding> e = Model::DecodeVector(blob, &version);
  if (!e.ok()) return e.status().ToString();
  std::string out = absl::StrCat("v", version, " words:");
  for (const auto& [t, w] : e->words) absl::StrAppend(&out, " ", t, "=", w);
  absl::StrAppend(&out, " grams:");
  for (const auto& [t, w] : e->grams) absl::StrAppend(&out, " ", t, "=", w);
  absl::StrAppend(&out, " dense:");
  for (float x : e->dense) absl::StrAppend(&out, " ", x);
  return out;
}

std::string Decoded(absl::string_view blob, VectorView* view) {
  absl::Status s = DecodeVectorView(blob, view);
  return s.ok() ? Render(*view) : s.ToString();
}

Embedding RandomEmbedding(std::mt19937_64& rng) {
  Embedding e;
  std::uniform_real_distribution<float> w(0.0f, 5.0f);
  const int words = static_cast<int>(rng() % 30), grams = static_cast<int>(rng() % 60);
  for (int i = 0; i < words; ++i) e.words.emplace_back(absl::StrCat("w", rng() % 1000), w(rng));
  for (int i = 0; i < grams; ++i) {
    e.grams.emplace_back(absl::StrCat(std::string(1, kGramPrefix), "g\xc3\xa9", rng() % 1000),
                         w(rng));
  }
  if (rng() % 4 != 0) {
    e.dense.resize(16);
    for (int i = 0; i < 16; ++i) e.dense[i] = w(rng) - 2.5f;
  }
  return e;
}

TEST(VectorCodec, ReadsEncodedVectorsAsModelDecodeVectorDoes) {
  std::mt19937_64 rng(7);
  auto model = Model::Empty();
  VectorView view;  // reused, as the engine does
  for (int i = 0; i < 300; ++i) {
    const std::string blob = model->EncodeVector(RandomEmbedding(rng));
    EXPECT_EQ(Decoded(blob, &view), Reference(blob));
    EXPECT_TRUE(view.read_in_place);
  }
  EXPECT_EQ(Decoded("", &view), Reference(""));
}

TEST(VectorCodec, OddAndMalformedBlobsGetModelDecodeVectorsAnswer) {
  std::mt19937_64 rng(11);
  auto model = Model::Empty();
  VectorView view;
  for (int i = 0; i < 2000; ++i) {
    std::string blob = model->EncodeVector(RandomEmbedding(rng));
    switch (i % 5) {
      case 0:  // truncated
        blob.resize(blob.empty() ? 0 : rng() % blob.size());
        break;
      case 1:  // a byte changed
        if (!blob.empty()) blob[rng() % blob.size()] = static_cast<char>(rng());
        break;
      case 2: {  // unknown fields, unpacked weights, a second dense, a version
        internal::VectorData extra;
        extra.set_model_version(rng() % 100000);
        extra.add_terms("zz");
        extra.add_weights(1.5f);
        extra.set_dense(std::string(8, '\1'));
        blob += extra.SerializeAsString();
        blob += std::string("\x38\x05", 2);            // field 7, varint 5
        blob += std::string("\x1d\x00\x00\x80\x3f", 5);  // field 3 unpacked: 1.0f
        break;
      }
      case 3:  // invalid UTF-8 in a term
        blob += std::string("\x12\x02\xc3\x28", 4);
        break;
      default:  // random bytes
        blob.resize(rng() % 64);
        for (char& c : blob) c = static_cast<char>(rng());
    }
    EXPECT_EQ(Decoded(blob, &view), Reference(blob)) << "case " << i;
  }
}

// Found by vector_codec_fuzz: decoding a vector without a dense part (the
// empty blob, or any vector stored before the first fit) and parsing a model
// without a projection passed a null pointer to memcpy, undefined behaviour
// that UBSan reports. The inputs stay in its corpus
// (embed/fuzz_corpus/vector_codec_fuzz/), so every fuzz smoke run re-checks
// them under UBSan; here, what they must decode to.
TEST(VectorCodec, VectorsWithoutDenseAndModelsWithoutProjectionDecode) {
  uint64_t version = 99;
  absl::StatusOr<Embedding> empty = Model::DecodeVector("", &version);
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(version, 0u);
  EXPECT_TRUE(empty->words.empty());
  EXPECT_EQ(empty->dense.size(), 0);

  auto model = Model::Empty();
  Embedding sparse;
  sparse.words = {{"school", 0.5f}};
  absl::StatusOr<Embedding> decoded = Model::DecodeVector(model->EncodeVector(sparse), &version);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->words, sparse.words);
  EXPECT_EQ(decoded->dense.size(), 0);

  auto parsed = Model::Parse(model->Serialize());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ((*parsed)->dense_dim(), 0);
  EXPECT_EQ((*parsed)->EmbedQuery("pupils at home", "en").dense.size(), 0);
}

}  // namespace
}  // namespace peermatch
