// DenseCodes: an 8-bit copy of an index's dense rows that bounds every
// row's cosine with a query from a quarter of the bytes, so the exact scan
// is needed only for the rows whose bound can reach the top.
//
// Row r is stored as codes c (d int8) and a step s_r = max_i |x_ri| / 127,
// c_i = round(x_ri / s_r). Then |x_ri - s_r c_i| <= s_r / 2, so
//   |x_r . q - s_r (c . q)| <= s_r / 2 * ||q||_1,
// and Bounds() widens that by a margin far above the float rounding of
// either dot product (<= 2^-24 * d * sum |x_i q_i|, about 2e-5 at d = 256).
//
// Thread-safety: immutable after Build; Bounds is const and reentrant.
#ifndef PEERMATCH_INDEX_INTERNAL_DENSE_CODES_H_
#define PEERMATCH_INDEX_INTERNAL_DENSE_CODES_H_

#include <cstddef>
#include <cstdint>
#include <memory>

namespace peermatch::internal {

class DenseCodes {
 public:
  DenseCodes() = default;
  // Codes of n rows of d floats (row-major), on the calling thread.
  void Build(const float* rows, size_t n, size_t d);
  // For each row r in [0, n): lower[r] <= x_r . q <= upper[r] (the exact
  // float dot product, whichever kernel computes it). q: d floats.
  void Bounds(const float* q, float* lower, float* upper) const;
  size_t Bytes() const { return n_ * d_ + n_ * sizeof(float); }

 private:
  size_t n_ = 0, d_ = 0;
  std::unique_ptr<int8_t[]> codes_;  // n * d
  std::unique_ptr<float[]> step_;    // n
};

}  // namespace peermatch::internal

#endif  // PEERMATCH_INDEX_INTERNAL_DENSE_CODES_H_
