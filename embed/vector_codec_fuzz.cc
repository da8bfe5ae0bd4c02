// libFuzzer target: the decoders of what the store keeps for the model,
// on arbitrary bytes: a case's vectors (DecodeVectorView, against
// Model::DecodeVector, its reference) and the model itself (Model::Parse).
//
// Checks, beyond "no crash and no sanitizer report":
// - DecodeVectorView fails exactly when Model::DecodeVector does, with
//   DATA_LOSS, and otherwise gives bit for bit the same terms, weights,
//   dense vector and model version (its header's contract);
// - Model::Parse fails only with DATA_LOSS, and a model it returns can
//   embed a query.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "embed/model.h"
#include "embed/vector_codec.h"
#include "google/protobuf/stubs/logging.h"

namespace {

void Check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "vector_codec_fuzz: %s\n", what);
  std::abort();
}

bool SameBits(float a, float b) { return std::memcmp(&a, &b, sizeof(float)) == 0; }

bool SameTerms(const std::vector<absl::string_view>& terms, const std::vector<float>& weights,
               const peermatch::TermWeights& reference) {
  if (terms.size() != reference.size() || weights.size() != reference.size()) return false;
  for (size_t i = 0; i < terms.size(); ++i) {
    if (terms[i] != reference[i].first || !SameBits(weights[i], reference[i].second)) {
      return false;
    }
  }
  return true;
}

void CheckVector(absl::string_view blob) {
  static peermatch::VectorView view;  // reused across inputs, as the engine does
  const absl::Status s = peermatch::DecodeVectorView(blob, &view);
  uint64_t version = 0;
  const absl::StatusOr<peermatch::Embedding> reference =
      peermatch::Model::DecodeVector(blob, &version);
  Check(s.ok() == reference.ok(), "DecodeVectorView and Model::DecodeVector disagree on success");
  if (!s.ok()) {
    Check(s.code() == absl::StatusCode::kDataLoss, "a vector that does not parse is not DATA_LOSS");
    return;
  }
  Check(view.model_version == version, "the model versions differ");
  Check(SameTerms(view.words, view.word_weights, reference->words), "the words differ");
  Check(SameTerms(view.grams, view.gram_weights, reference->grams), "the grams differ");
  Check(view.dense_size() == static_cast<size_t>(reference->dense.size()),
        "the dense sizes differ");
  std::vector<float> dense(view.dense_size());
  view.CopyDense(dense.data());
  for (size_t i = 0; i < dense.size(); ++i) {
    Check(SameBits(dense[i], reference->dense[static_cast<Eigen::Index>(i)]),
          "the dense vectors differ");
  }
}

void CheckModel(absl::string_view blob) {
  auto model = peermatch::Model::Parse(blob);
  if (!model.ok()) {
    Check(model.status().code() == absl::StatusCode::kDataLoss,
          "a model that does not parse is not DATA_LOSS");
    return;
  }
  const peermatch::QueryVector q =
      (*model)->EmbedQuery("pupils without internet during school closures", "en");
  Check(q.dense.size() == 0 || q.dense.size() == (*model)->dense_dim(),
        "a query's dense vector does not have the model's dimension");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Protobuf logs every string field with invalid UTF-8 it parses.
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view blob(reinterpret_cast<const char*>(data), size);
  CheckVector(blob);
  CheckModel(blob);
  return 0;
}
