#include "embed/internal/svd.h"

#include <algorithm>
#include <random>

#include "Eigen/Eigenvalues"
#include "Eigen/QR"

namespace peermatch {
namespace {

// An orthonormal basis of the columns of m (thin Q of a QR).
Eigen::MatrixXf Orthonormalize(const Eigen::MatrixXf& m) {
  Eigen::HouseholderQR<Eigen::MatrixXf> qr(m);
  return qr.householderQ() * Eigen::MatrixXf::Identity(m.rows(), m.cols());
}

}  // namespace

Eigen::MatrixXf TopRightSingularVectors(const SparseRowMatrix& a, int k, int oversample,
                                        int power_iters, uint64_t seed,
                                        Eigen::VectorXf* singular_values) {
  const int max_rank = static_cast<int>(std::min(a.rows(), a.cols()));
  k = std::max(0, std::min(k, max_rank));
  if (k == 0) return Eigen::MatrixXf(a.cols(), 0);
  const int l = std::min(k + oversample, max_rank);

  // Gaussian test matrix from a fixed seed (std::normal_distribution's
  // output is implementation-defined, so draw Box-Muller from mt19937_64).
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uniform(1e-12, 1.0);
  Eigen::MatrixXf omega(a.cols(), l);
  for (Eigen::Index i = 0; i < omega.size(); ++i) {
    const double u1 = uniform(rng), u2 = uniform(rng);
    omega.data()[i] = static_cast<float>(std::sqrt(-2 * std::log(u1)) * std::cos(2 * M_PI * u2));
  }
  // Range of A, sharpened by subspace iteration.
  Eigen::MatrixXf q = Orthonormalize(a * omega);
  for (int i = 0; i < power_iters; ++i) {
    Eigen::MatrixXf z = Orthonormalize(a.transpose() * q);
    q = Orthonormalize(a * z);
  }
  // B = Q^T A (l x cols); its right singular vectors are A's. Work with the
  // small l x l Gram matrix B B^T = U S^2 U^T, then V = B^T U S^-1.
  Eigen::MatrixXf bt = a.transpose() * q;  // cols x l
  Eigen::MatrixXf gram = bt.transpose() * bt;
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXf> eig(gram);
  // Eigenvalues come in increasing order; take the largest k.
  Eigen::MatrixXf v(a.cols(), k);
  Eigen::VectorXf s(k);
  for (int j = 0; j < k; ++j) {
    const int src = l - 1 - j;
    const float sigma = std::sqrt(std::max(0.0f, eig.eigenvalues()(src)));
    s(j) = sigma;
    v.col(j) = sigma > 0 ? Eigen::VectorXf(bt * eig.eigenvectors().col(src) / sigma)
                         : Eigen::VectorXf::Zero(a.cols());
  }
  if (singular_values != nullptr) *singular_values = s;
  return v;
}

}  // namespace peermatch
