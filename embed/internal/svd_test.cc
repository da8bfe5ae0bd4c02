#include "embed/internal/svd.h"

#include <random>

#include "Eigen/SVD"
#include "gtest/gtest.h"

namespace peermatch {
namespace {

TEST(Svd, MatchesExactSvdOnALowRankMatrix) {
  // A 60 x 40 matrix of rank 5 plus a little noise.
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  Eigen::MatrixXf left(60, 5), right(5, 40);
  for (int i = 0; i < left.size(); ++i) left.data()[i] = normal(rng);
  for (int i = 0; i < right.size(); ++i) right.data()[i] = normal(rng);
  Eigen::MatrixXf dense = left * right;
  for (int i = 0; i < dense.size(); ++i) dense.data()[i] += 0.01f * normal(rng);
  SparseRowMatrix sparse = dense.sparseView();

  Eigen::VectorXf sigma;
  const Eigen::MatrixXf v = TopRightSingularVectors(sparse, 5, 10, 4, 42, &sigma);
  Eigen::JacobiSVD<Eigen::MatrixXf> exact(dense, Eigen::ComputeThinV);
  for (int j = 0; j < 5; ++j) {
    EXPECT_NEAR(sigma(j), exact.singularValues()(j), 1e-3 * exact.singularValues()(0));
    // Same direction up to sign.
    EXPECT_NEAR(std::abs(v.col(j).dot(exact.matrixV().col(j))), 1.0f, 1e-3f) << j;
  }
  // Orthonormal columns.
  EXPECT_TRUE((v.transpose() * v).isApprox(Eigen::MatrixXf::Identity(5, 5), 1e-4f));
}

TEST(Svd, ClampsRankToTheMatrix) {
  SparseRowMatrix a(3, 10);
  a.insert(0, 1) = 1;
  a.insert(1, 2) = 2;
  a.insert(2, 3) = 3;
  const Eigen::MatrixXf v = TopRightSingularVectors(a, 50, 10, 2, 1);
  EXPECT_EQ(v.cols(), 3);
  EXPECT_EQ(v.rows(), 10);
}

}  // namespace
}  // namespace peermatch
