#include "index/internal/dense_codes.h"

#include <algorithm>
#include <cmath>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define PEERMATCH_CODES_X86 1
#endif

namespace peermatch::internal {
namespace {

// Rounding of both dot products is far below this (see the header).
constexpr float kMargin = 1e-4f;

float CodeDotPortable(const int8_t* c, const float* q, size_t d) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t j = 0;
  for (; j + 8 <= d; j += 8) {
    for (int l = 0; l < 8; ++l) acc[l] += static_cast<float>(c[j + l]) * q[j + l];
  }
  for (size_t l = 0; j < d; ++j, ++l) acc[l] += static_cast<float>(c[j]) * q[j];
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

#ifdef PEERMATCH_CODES_X86
#define PEERMATCH_CODES_AVX2 __attribute__((target("avx2,fma")))
PEERMATCH_CODES_AVX2 float HSum(__m256 v) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(t, _mm_shuffle_ps(t, t, 1)));
}

// Two rows at a time, the query loaded once for both; d a multiple of 8.
PEERMATCH_CODES_AVX2 void CodeDotsAvx2(const int8_t* codes, size_t n, size_t d, const float* q,
                                       float* out) {
  size_t r = 0;
  for (; r + 2 <= n; r += 2) {
    const int8_t* c0 = codes + r * d;
    const int8_t* c1 = c0 + d;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0;
    for (size_t j = 0; j < d; j += 8) {
      const __m256 qv = _mm256_loadu_ps(q + j);
      const __m256 x0 = _mm256_cvtepi32_ps(
          _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(c0 + j))));
      const __m256 x1 = _mm256_cvtepi32_ps(
          _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(c1 + j))));
      a0 = _mm256_fmadd_ps(x0, qv, a0);
      a1 = _mm256_fmadd_ps(x1, qv, a1);
    }
    out[r] = HSum(a0);
    out[r + 1] = HSum(a1);
  }
  for (; r < n; ++r) out[r] = CodeDotPortable(codes + r * d, q, d);
}

bool HasAvx2Fma() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#endif

}  // namespace

void DenseCodes::Build(const float* rows, size_t n, size_t d) {
  n_ = n;
  d_ = d;
  codes_.reset(new int8_t[n * d]);
  step_.reset(new float[n]);
  for (size_t r = 0; r < n; ++r) {
    const float* x = rows + r * d;
    float m = 0;
    for (size_t i = 0; i < d; ++i) m = std::max(m, std::fabs(x[i]));
    const float step = m / 127.0f;
    step_[r] = step;
    for (size_t i = 0; i < d; ++i) {
      const float c = step > 0 ? std::nearbyint(x[i] / step) : 0.0f;
      codes_[r * d + i] = static_cast<int8_t>(std::clamp(c, -127.0f, 127.0f));
    }
  }
}

void DenseCodes::Bounds(const float* q, float* lower, float* upper) const {
  float q1 = 0;
  for (size_t i = 0; i < d_; ++i) q1 += std::fabs(q[i]);
  // ||q||_1 rounded up a little (its own float sum is rounded too).
  q1 = q1 * (1.0f + 1e-5f);
#ifdef PEERMATCH_CODES_X86
  static const bool avx2 = HasAvx2Fma();
  if (avx2 && d_ % 8 == 0) {
    CodeDotsAvx2(codes_.get(), n_, d_, q, upper);
  } else {
    for (size_t r = 0; r < n_; ++r) upper[r] = CodeDotPortable(codes_.get() + r * d_, q, d_);
  }
#else
  for (size_t r = 0; r < n_; ++r) upper[r] = CodeDotPortable(codes_.get() + r * d_, q, d_);
#endif
  for (size_t r = 0; r < n_; ++r) {
    const float approx = step_[r] * upper[r];
    const float err = 0.5f * step_[r] * q1 * (1.0f + 1e-3f) + kMargin;
    lower[r] = approx - err;
    upper[r] = approx + err;
  }
}

}  // namespace peermatch::internal
