#include "embed/vector_codec.h"

#include <cstring>

#include "absl/base/config.h"
#include "google/protobuf/stubs/common.h"

namespace peermatch {
namespace {

#ifndef ABSL_IS_LITTLE_ENDIAN
#error "vector_codec.cc reads little-endian floats in place"
#endif

// VectorData's fields (proto/peermatch/internal/matcher_data.proto).
enum Field : uint32_t {
  kModelVersion = 1,
  kTerms = 2,
  kWeights = 3,
  kDense = 4,
  kGramTerms = 5,
  kGramWeights = 6,
};
enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

// Reads a varint of at most `max_bytes` bytes; false when it is longer or
// truncated (the caller then leaves the blob to the general decoder).
bool ReadVarint(const char** p, const char* end, int max_bytes, uint64_t* out) {
  uint64_t v = 0;
  for (int i = 0; i < max_bytes && *p < end; ++i) {
    const uint8_t b = static_cast<uint8_t>(*(*p)++);
    v |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
    if (b < 0x80) {
      *out = v;
      return true;
    }
  }
  return false;
}

bool ReadBytes(const char** p, const char* end, absl::string_view* out) {
  uint64_t len = 0;
  if (!ReadVarint(p, end, 5, &len) || len > static_cast<uint64_t>(end - *p)) return false;
  *out = absl::string_view(*p, static_cast<size_t>(len));
  *p += len;
  return true;
}

// Terms are nearly all ASCII (always valid UTF-8): checked inline, eight
// bytes at a time.
bool IsAscii(absl::string_view s) {
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, s.data() + i, 8);
    if (word & 0x8080808080808080ull) return false;
  }
  for (; i < s.size(); ++i) {
    if (static_cast<uint8_t>(s[i]) >= 0x80) return false;
  }
  return true;
}

bool AppendFloats(absl::string_view bytes, std::vector<float>* out) {
  if (bytes.size() % sizeof(float) != 0) return false;
  const size_t n = bytes.size() / sizeof(float);
  const size_t at = out->size();
  out->resize(at + n);
  if (n > 0) std::memcpy(out->data() + at, bytes.data(), bytes.size());
  return true;
}

// The in-place reader: false for anything but well-formed VectorData with
// packed weights and no unknown fields.
bool ReadInPlace(absl::string_view blob, VectorView* out) {
  const char* p = blob.data();
  const char* const end = p + blob.size();
  while (p < end) {
    uint64_t tag = 0;
    if (!ReadVarint(&p, end, 5, &tag) || tag > 0xffffffffu) return false;
    const uint32_t field = static_cast<uint32_t>(tag >> 3);
    const uint32_t wire = static_cast<uint32_t>(tag & 7);
    absl::string_view bytes;
    switch (field) {
      case kModelVersion:
        if (wire != kVarint || !ReadVarint(&p, end, 9, &out->model_version)) return false;
        break;
      case kTerms:
      case kGramTerms:
        if (wire != kLengthDelimited || !ReadBytes(&p, end, &bytes)) return false;
        // proto3 strings must be UTF-8: the parser refuses others.
        if (!IsAscii(bytes) && !google::protobuf::internal::IsStructurallyValidUTF8(
                                   bytes.data(), static_cast<int>(bytes.size()))) {
          return false;
        }
        (field == kTerms ? out->words : out->grams).push_back(bytes);
        break;
      case kWeights:
      case kGramWeights:
        if (wire != kLengthDelimited || !ReadBytes(&p, end, &bytes) ||
            !AppendFloats(bytes, field == kWeights ? &out->word_weights : &out->gram_weights)) {
          return false;
        }
        break;
      case kDense:
        if (wire != kLengthDelimited || !ReadBytes(&p, end, &out->dense_bytes)) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

void Clear(VectorView* out) {
  if (!out->read_in_place) out->owned = Embedding();
  out->read_in_place = true;
  out->model_version = 0;
  out->words.clear();
  out->word_weights.clear();
  out->grams.clear();
  out->gram_weights.clear();
  out->dense_bytes = absl::string_view();
}

}  // namespace

void VectorView::CopyDense(float* out) const {
  if (!dense_bytes.empty()) std::memcpy(out, dense_bytes.data(), dense_bytes.size());
}

absl::Status DecodeVectorView(absl::string_view blob, VectorView* out) {
  Clear(out);
  if (ReadInPlace(blob, out) && out->words.size() == out->word_weights.size() &&
      out->grams.size() == out->gram_weights.size() &&
      out->dense_bytes.size() % sizeof(float) == 0) {
    return absl::OkStatus();
  }
  // Anything else: the general decoder decides, and its result is viewed.
  Clear(out);
  out->read_in_place = false;
  absl::StatusOr<Embedding> e = Model::DecodeVector(blob, &out->model_version);
  if (!e.ok()) return e.status();
  out->owned = *std::move(e);
  for (const auto& [term, w] : out->owned.words) {
    out->words.push_back(term);
    out->word_weights.push_back(w);
  }
  for (const auto& [term, w] : out->owned.grams) {
    out->grams.push_back(term);
    out->gram_weights.push_back(w);
  }
  out->dense_bytes = absl::string_view(reinterpret_cast<const char*>(out->owned.dense.data()),
                                       out->owned.dense.size() * sizeof(float));
  return absl::OkStatus();
}

}  // namespace peermatch
