// DenseCodes::Bounds against the exact dot products of the scanner's kernel
// (DenseScanner::Dot) on random unit rows with fixed seeds: every row's
// bounds hold, and are narrow enough to prune.
#include "index/internal/dense_codes.h"

#include <cmath>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "index/dense_scan.h"

namespace peermatch::internal {
namespace {

std::vector<float> UnitRows(std::mt19937& rng, size_t n, size_t d) {
  std::normal_distribution<float> normal;
  std::vector<float> rows(n * d);
  for (size_t r = 0; r < n; ++r) {
    float norm = 0;
    // Skewed like LSA rows: the first dimensions carry more.
    for (size_t i = 0; i < d; ++i) {
      rows[r * d + i] = normal(rng) / (1.0f + 0.05f * i), norm += rows[r * d + i] * rows[r * d + i];
    }
    for (size_t i = 0; i < d; ++i) rows[r * d + i] /= std::sqrt(norm);
  }
  if (n > 3) std::fill(rows.begin() + 3 * d, rows.begin() + 4 * d, 0.0f);  // a zero row
  return rows;
}

void CheckBounds(size_t d) {
  std::mt19937 rng(static_cast<uint32_t>(d));
  const size_t n = 999;
  const std::vector<float> rows = UnitRows(rng, n, d);
  DenseCodes codes;
  codes.Build(rows.data(), n, d);
  DenseScanner scanner;
  for (int trial = 0; trial < 10; ++trial) {
    const std::vector<float> q = UnitRows(rng, 1, d);
    std::vector<float> lower(n), upper(n);
    codes.Bounds(q.data(), lower.data(), upper.data());
    double width = 0;
    for (size_t r = 0; r < n; ++r) {
      const float exact = scanner.Dot(rows.data() + r * d, q.data(), d);
      EXPECT_LE(lower[r], exact) << "d " << d << " row " << r;
      EXPECT_GE(upper[r], exact) << "d " << d << " row " << r;
      width += upper[r] - lower[r];
    }
    // Bounds that hold by being wide would prune nothing: about 0.03 at
    // d 256 (8-bit steps).
    EXPECT_LT(width / n, 0.1) << "d " << d;
  }
}

TEST(DenseCodes, BoundsHoldForEveryRow) {
  CheckBounds(256);  // the engine's width (the AVX2 kernel)
  CheckBounds(36);   // not a multiple of 8: the portable kernel
}

}  // namespace
}  // namespace peermatch::internal
