// Reading a stored case vector (Model::EncodeVector's bytes, a
// peermatch.internal.VectorData message) in place: terms as string_views
// into the blob, weights into reused arrays, no allocation per term. For
// loading every case's vectors at start-up, where Model::DecodeVector's
// std::string per term dominated.
//
// Usage:
//   VectorView view;  // reuse across blobs: its arrays keep their capacity
//   for (...) {
//     if (absl::Status s = DecodeVectorView(blob, &view); !s.ok()) return s;
//     for (size_t i = 0; i < view.words.size(); ++i) Use(view.words[i], view.word_weights[i]);
//   }
//
// Thread-safety: DecodeVectorView is thread-compatible (one VectorView per
// thread).
#ifndef PEERMATCH_EMBED_VECTOR_CODEC_H_
#define PEERMATCH_EMBED_VECTOR_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "embed/model.h"

namespace peermatch {

// A decoded vector. Views point into the blob given to DecodeVectorView (or
// into the view's own copy, see there) and are valid while both live.
struct VectorView {
  uint64_t model_version = 0;
  std::vector<absl::string_view> words;  // sorted, as encoded
  std::vector<float> word_weights;       // word_weights[i] belongs to words[i]
  std::vector<absl::string_view> grams;
  std::vector<float> gram_weights;
  // The dense vector: dense_size() little-endian float32, not aligned.
  absl::string_view dense_bytes;
  size_t dense_size() const { return dense_bytes.size() / sizeof(float); }
  // Copies the dense vector to `out` (dense_size() floats).
  void CopyDense(float* out) const;

  // False when the general decoder read the blob (see below): the views
  // then point into `owned`, which the next decode overwrites.
  bool read_in_place = true;
  Embedding owned;
};

// Decodes `blob` into *out, with Model::DecodeVector's contract: DATA_LOSS
// exactly when Model::DecodeVector fails, and otherwise the same terms,
// weights, dense vector and model version. Blobs as EncodeVector writes them
// are read in place; anything else (unknown fields, unpacked repeated
// fields in odd places, malformed bytes) goes through Model::DecodeVector
// itself, and the views then point into out->owned.
absl::Status DecodeVectorView(absl::string_view blob, VectorView* out);

}  // namespace peermatch

#endif  // PEERMATCH_EMBED_VECTOR_CODEC_H_
