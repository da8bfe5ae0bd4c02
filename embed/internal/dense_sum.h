// The LSA projection of one document: out = sum over (row, w) of w * row,
// the rows of a row-major matrix. Internal to embed/ (model_embed.cc).
//
// Bit for bit the same as starting from zeros and calling AddRow
// (model_util.h) for each pair in order: every element is summed in the
// pairs' order, each step one multiplication and one addition, rounded
// separately (never fused: the kernels are built without FMA). The fast
// kernels keep a block of the output in registers while all rows pass
// (AVX-512: 128 columns, AVX2: 64), instead of loading and storing the
// whole output once per row; the rest of a row goes element by element.
//
// Thread-safety: pure functions (the kernel is chosen once per process).
#ifndef PEERMATCH_EMBED_INTERNAL_DENSE_SUM_H_
#define PEERMATCH_EMBED_INTERNAL_DENSE_SUM_H_

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace peermatch::internal {

// One term of the sum: a row of the matrix and its weight.
struct WeightedRow {
  const float* row;  // `cols` floats
  float weight;
};

enum class DenseSumKernel { kScalar, kAvx2, kAvx512 };

// The fastest kernel this CPU runs.
DenseSumKernel BestDenseSumKernel();

// out[0, cols) = sum of rows[i].weight * rows[i].row, in order (see above).
// `out` is overwritten.
void DenseSum(const std::vector<WeightedRow>& rows, size_t cols, float* out,
              DenseSumKernel kernel = BestDenseSumKernel());

}  // namespace peermatch::internal

#endif  // PEERMATCH_EMBED_INTERNAL_DENSE_SUM_H_
