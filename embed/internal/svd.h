// Randomized truncated SVD (Halko, Martinsson & Tropp 2011, algorithm 4.4
// with subspace iteration), for LSA.
//
// Thread-safety: a pure function.
#ifndef PEERMATCH_EMBED_INTERNAL_SVD_H_
#define PEERMATCH_EMBED_INTERNAL_SVD_H_

#include <cstdint>

#include "Eigen/Core"
#include "Eigen/SparseCore"

namespace peermatch {

using SparseRowMatrix = Eigen::SparseMatrix<float, Eigen::RowMajor, int>;

// The top `k` right singular vectors of `a` (rows x cols), as a cols x k
// matrix with orthonormal columns, ordered by decreasing singular value;
// `singular_values` (if not null) receives those k values. k is clamped to
// min(rows, cols). Deterministic for the same input and seed.
Eigen::MatrixXf TopRightSingularVectors(const SparseRowMatrix& a, int k, int oversample,
                                        int power_iters, uint64_t seed,
                                        Eigen::VectorXf* singular_values = nullptr);

}  // namespace peermatch

#endif  // PEERMATCH_EMBED_INTERNAL_SVD_H_
