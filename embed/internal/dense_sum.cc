// Built with -ffp-contract=off (embed/CMakeLists.txt): with AVX-512 the
// compiler could otherwise fuse a multiplication and an addition into one
// FMA, which rounds once and would change the vectors.
#include "embed/internal/dense_sum.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define PEERMATCH_DENSE_SUM_X86 1
#endif

namespace peermatch::internal {
namespace {

// Columns [begin, cols), a row at a time (as AddRow).
void SumTail(const std::vector<WeightedRow>& rows, size_t begin, size_t cols, float* out) {
  for (size_t j = begin; j < cols; ++j) out[j] = 0.0f;
  for (const WeightedRow& r : rows) {
    const float w = r.weight;
    for (size_t j = begin; j < cols; ++j) out[j] = out[j] + w * r.row[j];
  }
}

#ifdef PEERMATCH_DENSE_SUM_X86

__attribute__((target("avx2"))) void SumAvx2(const std::vector<WeightedRow>& rows, size_t cols,
                                             float* out) {
  constexpr size_t kLanes = 8, kRegs = 8;
  size_t c = 0;
  for (; c + kLanes * kRegs <= cols; c += kLanes * kRegs) {
    __m256 acc[kRegs];
    for (size_t k = 0; k < kRegs; ++k) acc[k] = _mm256_setzero_ps();
    for (const WeightedRow& r : rows) {
      const __m256 w = _mm256_set1_ps(r.weight);
      const float* p = r.row + c;
      for (size_t k = 0; k < kRegs; ++k) {
        acc[k] = _mm256_add_ps(acc[k], _mm256_mul_ps(w, _mm256_loadu_ps(p + k * kLanes)));
      }
    }
    for (size_t k = 0; k < kRegs; ++k) _mm256_storeu_ps(out + c + k * kLanes, acc[k]);
  }
  for (; c + kLanes <= cols; c += kLanes) {
    __m256 acc = _mm256_setzero_ps();
    for (const WeightedRow& r : rows) {
      acc = _mm256_add_ps(acc, _mm256_mul_ps(_mm256_set1_ps(r.weight), _mm256_loadu_ps(r.row + c)));
    }
    _mm256_storeu_ps(out + c, acc);
  }
  SumTail(rows, c, cols, out);
}

__attribute__((target("avx512f"))) void SumAvx512(const std::vector<WeightedRow>& rows,
                                                  size_t cols, float* out) {
  constexpr size_t kLanes = 16, kRegs = 8;
  size_t c = 0;
  for (; c + kLanes * kRegs <= cols; c += kLanes * kRegs) {
    __m512 acc[kRegs];
    for (size_t k = 0; k < kRegs; ++k) acc[k] = _mm512_setzero_ps();
    for (const WeightedRow& r : rows) {
      const __m512 w = _mm512_set1_ps(r.weight);
      const float* p = r.row + c;
      for (size_t k = 0; k < kRegs; ++k) {
        acc[k] = _mm512_add_ps(acc[k], _mm512_mul_ps(w, _mm512_loadu_ps(p + k * kLanes)));
      }
    }
    for (size_t k = 0; k < kRegs; ++k) _mm512_storeu_ps(out + c + k * kLanes, acc[k]);
  }
  for (; c + kLanes <= cols; c += kLanes) {
    __m512 acc = _mm512_setzero_ps();
    for (const WeightedRow& r : rows) {
      acc = _mm512_add_ps(acc, _mm512_mul_ps(_mm512_set1_ps(r.weight), _mm512_loadu_ps(r.row + c)));
    }
    _mm512_storeu_ps(out + c, acc);
  }
  SumTail(rows, c, cols, out);
}

#endif  // PEERMATCH_DENSE_SUM_X86

}  // namespace

DenseSumKernel BestDenseSumKernel() {
#ifdef PEERMATCH_DENSE_SUM_X86
  static const DenseSumKernel best = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return DenseSumKernel::kAvx512;
    if (__builtin_cpu_supports("avx2")) return DenseSumKernel::kAvx2;
    return DenseSumKernel::kScalar;
  }();
  return best;
#else
  return DenseSumKernel::kScalar;
#endif
}

void DenseSum(const std::vector<WeightedRow>& rows, size_t cols, float* out,
              DenseSumKernel kernel) {
#ifdef PEERMATCH_DENSE_SUM_X86
  if (kernel == DenseSumKernel::kAvx512) return SumAvx512(rows, cols, out);
  if (kernel == DenseSumKernel::kAvx2) return SumAvx2(rows, cols, out);
#endif
  SumTail(rows, 0, cols, out);
}

}  // namespace peermatch::internal
