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
// The integer kernel (AVX-512BW, d a multiple of 32) also rounds the query,
// to 16 bits: u_i = round(q_i / t), t = max_i |q_i| / 32767, and sums c . u
// exactly in int32 (|c . u| <= 127 * 32767 * d < 2^31 for d <= 512). Then
//   |x_r . q - s_r t (c . u)| <= s_r (||q||_1 / 2 + t / 2 * 127 d),
// about 2% wider than the float kernel's bound at d = 256, for about a
// quarter of its instructions (the scan then runs at memory speed).
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
  // Which kernel Bounds uses: the fastest this machine has (kAuto), or the
  // float one (AVX2 when the machine has it, else portable C++); tests
  // compare them.
  enum class Kernel { kAuto, kFloat };
  // For each row r in [0, n): lower[r] <= x_r . q <= upper[r] (the exact
  // float dot product, whichever kernel computes it). q: d floats.
  void Bounds(const float* q, float* lower, float* upper, Kernel kernel = Kernel::kAuto) const;
  // True when kAuto is the integer kernel on this machine for these rows.
  bool UsesIntegerKernel() const;
  size_t Bytes() const { return n_ * d_ + n_ * sizeof(float); }

 private:
  size_t n_ = 0, d_ = 0;
  std::unique_ptr<int8_t[]> codes_;  // n * d
  std::unique_ptr<float[]> step_;    // n
};

}  // namespace peermatch::internal

#endif  // PEERMATCH_INDEX_INTERNAL_DENSE_CODES_H_
