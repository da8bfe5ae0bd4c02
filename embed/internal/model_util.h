// Small pieces shared by the model's files (model.cc: fitting, weighing,
// encoding; model_embed.cc: the fast embedding path). Internal to embed/.
#ifndef PEERMATCH_EMBED_INTERNAL_MODEL_UTIL_H_
#define PEERMATCH_EMBED_INTERNAL_MODEL_UTIL_H_

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>

#include "Eigen/Core"
#include "absl/strings/string_view.h"
#include "embed/model.h"

namespace peermatch::internal {

// Sorts and merges (term, value) pairs, adding the values of a term.
inline TermWeights Merge(TermWeights items) {
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

inline float Sum(const TermWeights& items) {
  float s = 0;
  for (const auto& [term, w] : items) s += w;
  return s;
}

using Projection = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// ASCII words up to this long take the packed-gram path.
inline constexpr size_t kMaxWordBytesForGrams = 256;

inline bool IsAsciiWord(absl::string_view word) {
  if (word.size() > kMaxWordBytesForGrams) return false;
  unsigned char any = 0;
  for (char c : word) any |= static_cast<unsigned char>(c);
  return any < 0x80;
}

// Packs a gram of 1-4 ASCII bytes (not NUL) into an integer, one byte each;
// false for anything else.
inline bool PackAsciiGram(absl::string_view gram, uint32_t* packed) {
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
inline void AddRow(const Projection& projection, int64_t row, float w, Eigen::VectorXf* out) {
  *out += w * projection.row(row).transpose();
}

inline void Normalize(Eigen::VectorXf* v) {
  const float n = v->norm();
  if (n > 0) *v /= n;
}

}  // namespace peermatch::internal

namespace peermatch {

// The fields of a case that are embedded, each with its weight (both the
// fast and the plain path read them through this).
template <typename Fn>
void Model::ForEachField(const v1::Case& c, const Fn& fn) const {
  fn(c.title(), options_.title_weight);
  fn(c.description(), 1.0f);
  fn(c.outcome(), 1.0f);
  for (const auto& tag : c.tags()) fn(tag, 1.0f);
  for (const auto& group : c.target_groups()) fn(group, 1.0f);
}

}  // namespace peermatch

#endif  // PEERMATCH_EMBED_INTERNAL_MODEL_UTIL_H_
