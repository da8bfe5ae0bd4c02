// FAISS as an anchor for peermatch-bench (linked by the benchmark only).
// FAISS throws; this file is the one boundary where its exceptions become
// absl::Status.
#ifndef PEERMATCH_BENCH_FAISS_ANCHOR_H_
#define PEERMATCH_BENCH_FAISS_ANCHOR_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "bench/bench_util.h"

namespace faiss {
struct IndexFlatIP;
}

namespace peermatch::bench {

// An exact inner-product index (faiss::IndexFlatIP) holding its own copy of
// the vectors. Not thread-safe; FAISS parallelizes each call itself
// (OpenMP, over queries).
class FaissFlatIP {
 public:
  FaissFlatIP();
  ~FaissFlatIP();
  FaissFlatIP(const FaissFlatIP&) = delete;
  FaissFlatIP& operator=(const FaissFlatIP&) = delete;

  // Copies x: n * d floats. kInternal with FAISS's message if it throws.
  absl::Status Build(const float* x, size_t n, size_t d);

  // The top k of each of nq queries (nq * d floats); scores and ids nq * k
  // each, query-major, as faiss::Index::search writes them.
  absl::Status Search(const float* queries, size_t nq, size_t k, float* scores,
                      int64_t* ids) const;

 private:
  std::unique_ptr<faiss::IndexFlatIP> index_;
};

// How FAISS runs in this process, for the output: faiss_version,
// faiss_omp_max_threads, faiss_blas (which BLAS library is loaded: OpenBLAS
// with its configuration, or the reference BLAS), faiss_openblas_num_threads
// and faiss_omp_num_threads (the environment, "unset" when unset) and
// faiss_blas_threshold (FAISS uses BLAS from this many queries per call up).
void DescribeFaiss(BenchResults* results);

}  // namespace peermatch::bench

#endif  // PEERMATCH_BENCH_FAISS_ANCHOR_H_
