// DenseScanner: exact top-k inner-product search over a dense row-major float
// matrix (the LSA vectors: n rows of d floats, rows of unit length, so the
// inner product is the cosine). Every row is scored; nothing is approximate.
//
// Speed: one query is memory-bound (it reads n * d * 4 bytes once), so the
// rows are shared out over a small persistent thread pool owned by the
// scanner: the calling thread and the workers take chunks of rows (256 KB
// each) from a shared counter, each keeps its own bounded top-k, and the
// caller merges them. A worker that the machine does not schedule in time
// holds nobody up: the caller does its share. The kernel is chosen at run
// time: AVX2+FMA when the CPU has it (four rows per step, one comparison
// with the current k-th best per four rows), a portable one otherwise. A
// batch of queries is scanned in blocks of rows that stay in L1 while every
// query is scored against them (a 4 rows x 3 queries register tile), so the
// matrix is read from memory once per batch, not once per query. Figures:
// bench/README.md (`peermatch-bench`, section "exact").
//
// Results are deterministic: best score first; equal scores are ordered by
// row index, lower first (also across threads). For a given kernel, Search
// and SearchBatch compute bit-identical scores (same summation order).
// Scores that are NaN or -inf are never returned; use finite inputs.
//
// Example:
//   DenseScanner scanner;                        // 2 threads on a 2-core machine
//   DenseMatrixView x{matrix.data(), n, 256};    // borrowed; n * 256 floats
//   std::vector<float> scores(10);
//   std::vector<int64_t> ids(10);
//   absl::StatusOr<size_t> found =
//       scanner.Search(x, query, 10, /*keep=*/nullptr, scores.data(), ids.data());
//
// Memory: the scanner holds per thread a top-k buffer of `max_k` entries and,
// after a batch call, nq * k entries (grown to the largest batch seen and
// reused), so in steady state a call allocates nothing and starts no thread.
//
// Thread-safety: Search and SearchBatch may be called from any number of
// threads; calls on one scanner are serialized (they share its pool and
// buffers). Use one scanner per concurrent caller to scan in parallel.
#ifndef PEERMATCH_INDEX_DENSE_SCAN_H_
#define PEERMATCH_INDEX_DENSE_SCAN_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace peermatch {

// A borrowed row-major matrix: row i is data[i * d, (i + 1) * d).
struct DenseMatrixView {
  const float* data = nullptr;  // n * d floats; may be null when n == 0
  size_t n = 0;                 // rows
  size_t d = 0;                 // columns (the dimension); > 0
};

struct DenseScanOptions {
  // Threads that scan one call, the caller's included. 0 = the number of
  // hardware threads, at most 8.
  int num_threads = 0;
  // The largest k accepted. Each thread's top-k buffer is sized for it when
  // the scanner is built.
  size_t max_k = 1000;
  // A call scanning fewer rows than this per thread uses fewer threads (a
  // small scan is faster on the caller's thread than woken workers).
  size_t min_rows_per_thread = 4096;
  // false = always use the portable kernel (for tests and comparisons).
  bool allow_avx2 = true;
};

namespace internal {
class WorkerPool;
struct ScanThreadState;
}  // namespace internal

class DenseScanner {
 public:
  explicit DenseScanner(const DenseScanOptions& options = DenseScanOptions());
  ~DenseScanner();  // waits for the workers to exit; no call may be running
  DenseScanner(const DenseScanner&) = delete;
  DenseScanner& operator=(const DenseScanner&) = delete;

  // The top k rows of x by inner product with `query`.
  //   x:      n * d floats (borrowed for the call)
  //   query:  d floats
  //   keep:   n bytes or nullptr; row i is a candidate only if keep[i] != 0
  //           (nullptr = every row); four consecutive rows left out are
  //           not even read, so a selective mask makes the scan cheaper
  //   scores: k floats, out; ids: k int64, out (row indices)
  // x, query and keep must not change during the call.
  // Writes min(k, candidate rows) results, best first, and fills the other
  // slots with score -inf and id -1; returns how many results it wrote.
  // k == 0 writes nothing and returns 0.
  // Errors (nothing written): kInvalidArgument if k > max_k, d == 0, or a
  // required pointer is null (x.data when n > 0; query, scores, ids when
  // k > 0).
  absl::StatusOr<size_t> Search(const DenseMatrixView& x, const float* query, size_t k,
                                const uint8_t* keep, float* scores, int64_t* ids);

  // The top k rows of x for each of nq queries, as Search for each one.
  //   queries: nq * d floats, row-major
  //   scores, ids: nq * k each, out; query q's results at [q * k, (q + 1) * k)
  // Each query's results are exactly those Search would give it. The matrix
  // is read once per call (in blocks), whatever nq is.
  // Errors as Search (nothing written).
  absl::Status SearchBatch(const DenseMatrixView& x, const float* queries, size_t nq,
                           size_t k, const uint8_t* keep, float* scores, int64_t* ids);

  // Every row's inner product with `query`: scores[i] for row i, n floats
  // (out). The same scores, bit for bit, as Search computes for the rows it
  // returns. Errors (nothing written): kInvalidArgument if d == 0 or a
  // pointer is null while n > 0.
  absl::Status ScoreAll(const DenseMatrixView& x, const float* query, float* scores);

  // One row's inner product with `query` (d floats each), computed by the
  // kernel in use exactly as ScoreAll computes it (the same bits). Needs no
  // lock: safe from any thread, concurrently with any call.
  float Dot(const float* row, const float* query, size_t d) const;

  int num_threads() const { return num_threads_; }
  // True when the AVX2+FMA kernel is in use.
  bool uses_avx2() const { return use_avx2_; }

 private:
  absl::Status Validate(const DenseMatrixView& x, const float* queries, size_t nq, size_t k,
                        const float* scores, const int64_t* ids) const;
  // Threads to use for n rows (1 .. num_threads_).
  int ThreadsFor(size_t n) const;
  // Runs fn(0) on the caller and fn(p), p in [1, parts), on each worker
  // that starts before the caller is done; fn shares its work dynamically.
  void RunParallel(int parts, absl::FunctionRef<void(int)> fn)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  const DenseScanOptions options_;
  const int num_threads_;
  const bool use_avx2_;

  absl::Mutex mutex_;  // one call at a time
  std::unique_ptr<internal::WorkerPool> pool_;  // num_threads_ - 1 workers
  // One per thread; states_[0] is the caller's and also holds the merge buffer.
  std::vector<std::unique_ptr<internal::ScanThreadState>> states_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace peermatch

#endif  // PEERMATCH_INDEX_DENSE_SCAN_H_
