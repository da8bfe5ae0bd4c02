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

// Rows and queries whose coordinates are all of one size (every code and
// every 16-bit query value at its largest) or one spike: the error terms at
// their worst.
void AddExtremeRows(std::mt19937& rng, size_t d, std::vector<float>* rows) {
  for (int r = 0; r < 40; ++r) {
    const size_t spike = rng() % d;
    for (size_t i = 0; i < d; ++i) {
      const float sign = (rng() % 2 == 0) ? 1.0f : -1.0f;
      rows->push_back(r % 2 == 0 ? sign / std::sqrt(static_cast<float>(d))
                                 : (i == spike ? sign * 0.999f : sign * 0.001f));
    }
  }
}

void CheckBounds(size_t d, DenseCodes::Kernel kernel) {
  std::mt19937 rng(static_cast<uint32_t>(d));
  std::vector<float> rows = UnitRows(rng, 999, d);
  AddExtremeRows(rng, d, &rows);
  const size_t n = rows.size() / d;
  DenseCodes codes;
  codes.Build(rows.data(), n, d);
  DenseScanner scanner;
  std::vector<float> extreme;
  AddExtremeRows(rng, d, &extreme);
  for (int trial = 0; trial < 14; ++trial) {
    std::vector<float> q = UnitRows(rng, 1, d);
    if (trial >= 10) q.assign(extreme.begin() + trial * d, extreme.begin() + (trial + 1) * d);
    std::vector<float> lower(n), upper(n);
    codes.Bounds(q.data(), lower.data(), upper.data(), kernel);
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
  for (auto kernel : {DenseCodes::Kernel::kAuto, DenseCodes::Kernel::kFloat}) {
    CheckBounds(256, kernel);  // the engine's width (the integer or the AVX2 kernel)
    CheckBounds(64, kernel);
    CheckBounds(36, kernel);  // not a multiple of 8: the portable kernel
  }
}

TEST(DenseCodes, TheIntegerKernelIsUsedWhereTheMachineHasIt) {
  // On this project's machines (AVX-512BW) the integer kernel is the one
  // BoundsHoldForEveryRow tested; say so when it is not.
  DenseCodes codes;
  std::vector<float> rows(256, 1.0f / 16);
  codes.Build(rows.data(), 1, 256);
  if (!codes.UsesIntegerKernel()) GTEST_SKIP() << "no AVX-512BW here: the float kernel only";
  DenseCodes odd;
  odd.Build(rows.data(), 7, 36);
  EXPECT_FALSE(odd.UsesIntegerKernel());
}

}  // namespace
}  // namespace peermatch::internal
