#include "embed/internal/dense_sum.h"

#include <cstring>
#include <random>

#include "embed/internal/model_util.h"
#include "gtest/gtest.h"

namespace peermatch::internal {
namespace {

std::vector<DenseSumKernel> KernelsOfThisCpu() {
  std::vector<DenseSumKernel> kernels = {DenseSumKernel::kScalar};
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) kernels.push_back(DenseSumKernel::kAvx2);
  if (__builtin_cpu_supports("avx512f")) kernels.push_back(DenseSumKernel::kAvx512);
#endif
  return kernels;
}

// Every kernel gives, bit for bit, what AddRow gives row after row from
// zeros (the plain path's Project): for widths that are whole blocks, that
// leave a part block, and that are narrower than one register, and for a
// document without rows. Random weights and rows make a fused
// multiply-add or another order of summation show in the last bits.
TEST(DenseSum, EqualsAddRowInOrderBitForBit) {
  std::mt19937 rng(13);
  std::normal_distribution<float> normal;
  for (const int cols : {256, 255, 200, 130, 64, 17, 8, 3}) {
    Projection projection(300, cols);
    for (int i = 0; i < projection.size(); ++i) projection.data()[i] = normal(rng);
    for (const int n : {0, 1, 5, 150}) {
      std::vector<WeightedRow> rows;
      Eigen::VectorXf expected = Eigen::VectorXf::Zero(cols);
      for (int i = 0; i < n; ++i) {
        const int row = static_cast<int>(rng() % projection.rows());
        const float w = 3.0f * normal(rng);
        rows.push_back({projection.row(row).data(), w});
        AddRow(projection, row, w, &expected);
      }
      for (const DenseSumKernel kernel : KernelsOfThisCpu()) {
        SCOPED_TRACE(testing::Message() << "cols " << cols << ", rows " << n << ", kernel "
                                        << static_cast<int>(kernel));
        Eigen::VectorXf got = Eigen::VectorXf::Constant(cols, 7.0f);  // overwritten
        DenseSum(rows, static_cast<size_t>(cols), got.data(), kernel);
        ASSERT_EQ(std::memcmp(got.data(), expected.data(), cols * sizeof(float)), 0)
            << "first element " << got[0] << " vs " << expected[0];
      }
    }
  }
}

}  // namespace
}  // namespace peermatch::internal
