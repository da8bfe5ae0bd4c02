#include "index/internal/dense_codes.h"

#include <algorithm>
#include <cmath>
#include <vector>

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

// c . u in int32 for every row (header: the integer kernel): each 32 codes
// widened to 16 bits, multiplied by the query's 16-bit values and summed
// in pairs (vpmaddwd), exactly. d a multiple of 32.
__attribute__((target("avx2,avx512f,avx512bw"))) void CodeDotsInt16(const int8_t* codes, size_t n,
                                                               size_t d, const int16_t* u,
                                                               int32_t* out) {
  const size_t blocks = d / 32;
  for (size_t r = 0; r < n; ++r) {
    const int8_t* c = codes + r * d;
    __m512i acc = _mm512_setzero_si512();
    for (size_t b = 0; b < blocks; ++b) {
      const __m512i x = _mm512_cvtepi8_epi16(
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c + 32 * b)));
      const __m512i q = _mm512_loadu_si512(reinterpret_cast<const void*>(u + 32 * b));
      acc = _mm512_add_epi32(acc, _mm512_madd_epi16(x, q));
    }
    // The 16 lanes' sum (masked extract: no undefined register).
    const __m256i s8 = _mm256_add_epi32(_mm512_maskz_extracti64x4_epi64(0xFF, acc, 0),
                                        _mm512_maskz_extracti64x4_epi64(0xFF, acc, 1));
    __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(s8), _mm256_extracti128_si256(s8, 1));
    s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4E));
    s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xB1));
    out[r] = _mm_cvtsi128_si32(s4);
  }
}

bool HasAvx512Bw() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
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

bool DenseCodes::UsesIntegerKernel() const {
#ifdef PEERMATCH_CODES_X86
  static const bool avx512 = HasAvx512Bw();
  return avx512 && d_ % 32 == 0 && d_ > 0 && d_ <= 512;
#else
  return false;
#endif
}

void DenseCodes::Bounds(const float* q, float* lower, float* upper, Kernel kernel) const {
  float q1 = 0, qmax = 0;
  for (size_t i = 0; i < d_; ++i) q1 += std::fabs(q[i]), qmax = std::max(qmax, std::fabs(q[i]));
  // ||q||_1 rounded up a little (its own float sum is rounded too).
  q1 = q1 * (1.0f + 1e-5f);
#ifdef PEERMATCH_CODES_X86
  if (kernel == Kernel::kAuto && UsesIntegerKernel()) {
    // The query in 16 bits (header): u_i = round(q_i / t), |u_i| <= 32767.
    const float t = qmax / 32767.0f;
    thread_local std::vector<int16_t> u;
    thread_local std::vector<int32_t> dots;
    u.resize(d_);
    dots.resize(n_);
    for (size_t i = 0; i < d_; ++i) {
      const float v = t > 0 ? std::nearbyint(q[i] / t) : 0.0f;
      u[i] = static_cast<int16_t>(std::clamp(v, -32767.0f, 32767.0f));
    }
    CodeDotsInt16(codes_.get(), n_, d_, u.data(), dots.data());
    // s_r * k bounds the row's error; (1 + 1e-3) covers the rounding of
    // q_i / t and of these float products.
    const float k = (0.5f * q1 + 0.5f * t * 127.0f * static_cast<float>(d_)) * (1.0f + 1e-3f);
    for (size_t r = 0; r < n_; ++r) {
      const float approx = step_[r] * t * static_cast<float>(dots[r]);
      const float err = step_[r] * k + kMargin;
      lower[r] = approx - err;
      upper[r] = approx + err;
    }
    return;
  }
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
