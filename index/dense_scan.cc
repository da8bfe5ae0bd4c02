#include "index/dense_scan.h"

#include <algorithm>
#include <atomic>
#include <limits>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define PEERMATCH_DENSE_SCAN_X86 1
#endif

namespace peermatch {
namespace internal {

struct Hit {
  float score;
  int64_t id;
};

// Best first: higher score, then lower row index.
inline bool Better(const Hit& a, const Hit& b) {
  return a.score > b.score || (a.score == b.score && a.id < b.id);
}

// A bounded top-k over borrowed storage of k hits: a heap with the worst hit
// on top. Rows must be offered in increasing id order, so that a score equal
// to the current worst never displaces it (the earlier row wins the tie); the
// kernels then only need one comparison, `score > threshold`, per row.
struct TopK {
  Hit* heap = nullptr;
  size_t size = 0;
  size_t k = 0;
  // -inf until k hits are held, then the worst held score.
  float threshold = -std::numeric_limits<float>::infinity();

  void Init(Hit* storage, size_t capacity) {
    heap = storage;
    size = 0;
    k = capacity;
    threshold = -std::numeric_limits<float>::infinity();
  }

  // Requires score > threshold and id above every id offered before.
  void Push(float score, int64_t id) {
    if (size < k) {
      heap[size++] = Hit{score, id};
      std::push_heap(heap, heap + size, Better);
      if (size == k) threshold = heap[0].score;
      return;
    }
    std::pop_heap(heap, heap + k, Better);
    heap[k - 1] = Hit{score, id};
    std::push_heap(heap, heap + k, Better);
    threshold = heap[0].score;
  }
};

// What one thread of the scanner owns. Sized once (single queries) or grown
// to the largest batch seen; never shrunk.
struct alignas(64) ScanThreadState {
  std::vector<Hit> single_storage;  // max_k
  TopK single;
  std::vector<Hit> batch_storage;  // nq * k
  std::vector<TopK> batch_tops;    // nq
  std::vector<Hit> merge;          // states_[0] only: num_threads * max_k
};

// A fixed set of worker threads that help with one job at a time. The caller
// of Run always works on the job itself (as part 0); a worker joins only if
// it wakes up before the caller has finished. So a job must share its work
// dynamically (an atomic counter of chunks), and a worker that the machine
// is too busy to schedule delays nothing: the caller does its share.
class WorkerPool {
 public:
  explicit WorkerPool(int workers) {
    threads_.reserve(workers);
    for (int w = 0; w < workers; ++w) threads_.emplace_back([this, w] { WorkerLoop(w + 1); });
  }

  ~WorkerPool() {
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
      work_cv_.SignalAll();
    }
    for (std::thread& t : threads_) t.join();
  }

  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Runs fn(0) on the caller and fn(p) on each worker p in [1, parts) that
  // starts in time; returns when every started part has returned. Not
  // reentrant: one Run at a time.
  void Run(int parts, absl::FunctionRef<void(int)> fn) {
    if (parts > 1) {
      absl::MutexLock lock(&mu_);
      fn_ = &fn;
      parts_ = parts;
      open_ = true;
      ++generation_;
      work_cv_.SignalAll();
    }
    fn(0);
    if (parts > 1) {
      absl::MutexLock lock(&mu_);
      open_ = false;  // latecomers skip this job
      while (active_ > 0) done_cv_.Wait(&mu_);
      fn_ = nullptr;
    }
  }

 private:
  void WorkerLoop(int part) {
    uint64_t seen = 0;
    absl::MutexLock lock(&mu_);
    while (true) {
      while (!stop_ && generation_ == seen) work_cv_.Wait(&mu_);
      if (stop_) return;
      seen = generation_;
      if (!open_ || part >= parts_) continue;
      ++active_;
      const absl::FunctionRef<void(int)>* fn = fn_;
      mu_.Unlock();
      (*fn)(part);
      mu_.Lock();
      if (--active_ == 0) done_cv_.Signal();
    }
  }

  absl::Mutex mu_;
  absl::CondVar work_cv_;  // a new job, or stop
  absl::CondVar done_cv_;  // active_ reached 0
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  int parts_ ABSL_GUARDED_BY(mu_) = 0;
  bool open_ ABSL_GUARDED_BY(mu_) = false;  // workers may still join the job
  int active_ ABSL_GUARDED_BY(mu_) = 0;     // workers inside fn
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  const absl::FunctionRef<void(int)>* fn_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::vector<std::thread> threads_;
};

}  // namespace internal

namespace {

using internal::Hit;
using internal::TopK;

// Bit b set when row begin + b (b < rows <= 4) is a candidate.
inline unsigned KeepBits(const uint8_t* keep, size_t begin, size_t rows) {
  unsigned bits = (1u << rows) - 1;
  if (keep == nullptr) return bits;
  unsigned kept = 0;
  for (size_t b = 0; b < rows; ++b) kept |= unsigned{keep[begin + b] != 0} << b;
  return bits & kept;
}

// ---- Portable kernel ------------------------------------------------------
// Eight partial sums, so that the compiler can vectorize without reordering
// float additions; Search and SearchBatch share it, hence equal scores.
float DotPortable(const float* a, const float* b, size_t d) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t j = 0;
  for (; j + 8 <= d; j += 8) {
    for (int l = 0; l < 8; ++l) acc[l] += a[j + l] * b[j + l];
  }
  for (size_t l = 0; j < d; ++j, ++l) acc[l] += a[j] * b[j];
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

void ScanRowsPortable(const float* x, size_t d, size_t begin, size_t end, const float* q,
                      const uint8_t* keep, TopK* top) {
  for (size_t i = begin; i < end; ++i) {
    if (keep != nullptr && keep[i] == 0) continue;
    const float s = DotPortable(x + i * d, q, d);
    if (s > top->threshold) top->Push(s, static_cast<int64_t>(i));
  }
}

void ScoreRowsPortable(const float* x, size_t d, size_t begin, size_t end, const float* q,
                       float* out) {
  for (size_t i = begin; i < end; ++i) out[i] = DotPortable(x + i * d, q, d);
}

void ScanBlockPortable(const float* x, size_t d, size_t begin, size_t end,
                       const float* queries, size_t nq, const uint8_t* keep, TopK* tops) {
  for (size_t qi = 0; qi < nq; ++qi) {
    ScanRowsPortable(x, d, begin, end, queries + qi * d, keep, &tops[qi]);
  }
}

// ---- AVX2 + FMA kernel ----------------------------------------------------
// Rows are scored four at a time: each query chunk is loaded once for four
// rows, four independent FMA chains hide the FMA latency, and one
// horizontal reduction yields the four scores in one register, compared with
// the threshold at once (a new hit is rare once the top-k has filled).
// Every (row, query) pair is summed in the same order in both kernels below:
// chunks of 8 in order (the tail chunk masked), then Reduce4's tree.
#ifdef PEERMATCH_DENSE_SCAN_X86
#define PEERMATCH_AVX2 __attribute__((target("avx2,fma")))

PEERMATCH_AVX2 inline __m128 Reduce4(__m256 a0, __m256 a1, __m256 a2, __m256 a3) {
  const __m256 t0 = _mm256_hadd_ps(a0, a1);
  const __m256 t1 = _mm256_hadd_ps(a2, a3);
  const __m256 t = _mm256_hadd_ps(t0, t1);
  return _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1));
}

// Lanes [0, tail) set.
PEERMATCH_AVX2 inline __m256i TailMask(size_t tail) {
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(tail)), lanes);
}

// Offers the four scores of rows i .. i + 3 whose bit is in `bits`.
PEERMATCH_AVX2 inline void Offer(__m128 s, unsigned bits, size_t i, TopK* top) {
  unsigned hits = _mm_movemask_ps(_mm_cmpgt_ps(s, _mm_set1_ps(top->threshold))) & bits;
  if (hits == 0) return;
  alignas(16) float sc[4];
  _mm_store_ps(sc, s);
  for (; hits != 0; hits &= hits - 1) {
    const int b = __builtin_ctz(hits);
    if (sc[b] > top->threshold) top->Push(sc[b], static_cast<int64_t>(i + b));
  }
}

// The inner products of four rows with q (d floats; d8 = d rounded down to
// a multiple of 8, `tail` the mask of the d - d8 last lanes).
PEERMATCH_AVX2 inline __m128 Dot4(const float* r0, const float* r1, const float* r2,
                                  const float* r3, const float* q, size_t d, size_t d8,
                                  __m256i tail) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  for (size_t j = 0; j < d8; j += 8) {
    const __m256 qv = _mm256_loadu_ps(q + j);
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(r0 + j), qv, a0);
    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(r1 + j), qv, a1);
    a2 = _mm256_fmadd_ps(_mm256_loadu_ps(r2 + j), qv, a2);
    a3 = _mm256_fmadd_ps(_mm256_loadu_ps(r3 + j), qv, a3);
  }
  if (d8 < d) {
    const __m256 qv = _mm256_maskload_ps(q + d8, tail);
    a0 = _mm256_fmadd_ps(_mm256_maskload_ps(r0 + d8, tail), qv, a0);
    a1 = _mm256_fmadd_ps(_mm256_maskload_ps(r1 + d8, tail), qv, a1);
    a2 = _mm256_fmadd_ps(_mm256_maskload_ps(r2 + d8, tail), qv, a2);
    a3 = _mm256_fmadd_ps(_mm256_maskload_ps(r3 + d8, tail), qv, a3);
  }
  return Reduce4(a0, a1, a2, a3);
}

PEERMATCH_AVX2 void ScanRowsAvx2(const float* x, size_t d, size_t begin, size_t end,
                                 const float* q, const uint8_t* keep, TopK* top) {
  const size_t d8 = d & ~size_t{7};
  const __m256i tail = TailMask(d - d8);
  for (size_t i = begin; i < end; i += 4) {
    const size_t rows = std::min<size_t>(4, end - i);
    const unsigned bits = KeepBits(keep, i, rows);
    if (bits == 0) continue;
    // Missing rows of a last partial group repeat row i; their bits are off.
    const float* r0 = x + i * d;
    const float* r1 = rows > 1 ? r0 + d : r0;
    const float* r2 = rows > 2 ? r0 + 2 * d : r0;
    const float* r3 = rows > 3 ? r0 + 3 * d : r0;
    Offer(Dot4(r0, r1, r2, r3, q, d, d8, tail), bits, i, top);
  }
}

// ScanRowsAvx2's sums, every row's written out.
PEERMATCH_AVX2 void ScoreRowsAvx2(const float* x, size_t d, size_t begin, size_t end,
                                  const float* q, float* out) {
  const size_t d8 = d & ~size_t{7};
  const __m256i tail = TailMask(d - d8);
  for (size_t i = begin; i < end; i += 4) {
    const size_t rows = std::min<size_t>(4, end - i);
    const float* r0 = x + i * d;
    const float* r1 = rows > 1 ? r0 + d : r0;
    const float* r2 = rows > 2 ? r0 + 2 * d : r0;
    const float* r3 = rows > 3 ? r0 + 3 * d : r0;
    const __m128 sums = Dot4(r0, r1, r2, r3, q, d, d8, tail);
    if (rows == 4) {
      _mm_storeu_ps(out + i, sums);
    } else {
      alignas(16) float sc[4];
      _mm_store_ps(sc, sums);
      std::copy(sc, sc + rows, out + i);
    }
  }
}

// A register tile of 4 rows x 3 queries: 12 accumulators, and per chunk 7
// loads for 12 FMAs. The rows of the block sit in L1 (see kBlockBytes); the
// three queries are reloaded from L2 once per block.
PEERMATCH_AVX2 void ScanBlockAvx2(const float* x, size_t d, size_t begin, size_t end,
                                  const float* queries, size_t nq, const uint8_t* keep,
                                  TopK* tops) {
  const size_t d8 = d & ~size_t{7};
  const __m256i tail = TailMask(d - d8);
  for (size_t qi = 0; qi < nq; qi += 3) {
    const size_t nqt = std::min<size_t>(3, nq - qi);
    const float* q0 = queries + qi * d;
    const float* q1 = nqt > 1 ? q0 + d : q0;
    const float* q2 = nqt > 2 ? q0 + 2 * d : q0;
    for (size_t i = begin; i < end; i += 4) {
      const size_t rows = std::min<size_t>(4, end - i);
      const unsigned bits = KeepBits(keep, i, rows);
      if (bits == 0) continue;
      const float* r0 = x + i * d;
      const float* r1 = rows > 1 ? r0 + d : r0;
      const float* r2 = rows > 2 ? r0 + 2 * d : r0;
      const float* r3 = rows > 3 ? r0 + 3 * d : r0;
      __m256 a00 = _mm256_setzero_ps(), a01 = a00, a02 = a00;
      __m256 a10 = a00, a11 = a00, a12 = a00;
      __m256 a20 = a00, a21 = a00, a22 = a00;
      __m256 a30 = a00, a31 = a00, a32 = a00;
// One chunk of 8 dimensions: v0..v2 from the queries, w0..w3 from the rows.
#define PEERMATCH_TILE_STEP(v0, v1, v2, w0, w1, w2, w3) \
  do {                                                  \
    const __m256 q0v = (v0), q1v = (v1), q2v = (v2);    \
    __m256 w = (w0);                                    \
    a00 = _mm256_fmadd_ps(w, q0v, a00);                 \
    a01 = _mm256_fmadd_ps(w, q1v, a01);                 \
    a02 = _mm256_fmadd_ps(w, q2v, a02);                 \
    w = (w1);                                           \
    a10 = _mm256_fmadd_ps(w, q0v, a10);                 \
    a11 = _mm256_fmadd_ps(w, q1v, a11);                 \
    a12 = _mm256_fmadd_ps(w, q2v, a12);                 \
    w = (w2);                                           \
    a20 = _mm256_fmadd_ps(w, q0v, a20);                 \
    a21 = _mm256_fmadd_ps(w, q1v, a21);                 \
    a22 = _mm256_fmadd_ps(w, q2v, a22);                 \
    w = (w3);                                           \
    a30 = _mm256_fmadd_ps(w, q0v, a30);                 \
    a31 = _mm256_fmadd_ps(w, q1v, a31);                 \
    a32 = _mm256_fmadd_ps(w, q2v, a32);                 \
  } while (0)
      for (size_t j = 0; j < d8; j += 8) {
        PEERMATCH_TILE_STEP(_mm256_loadu_ps(q0 + j), _mm256_loadu_ps(q1 + j),
                            _mm256_loadu_ps(q2 + j), _mm256_loadu_ps(r0 + j),
                            _mm256_loadu_ps(r1 + j), _mm256_loadu_ps(r2 + j),
                            _mm256_loadu_ps(r3 + j));
      }
      if (d8 < d) {
        PEERMATCH_TILE_STEP(_mm256_maskload_ps(q0 + d8, tail), _mm256_maskload_ps(q1 + d8, tail),
                            _mm256_maskload_ps(q2 + d8, tail), _mm256_maskload_ps(r0 + d8, tail),
                            _mm256_maskload_ps(r1 + d8, tail), _mm256_maskload_ps(r2 + d8, tail),
                            _mm256_maskload_ps(r3 + d8, tail));
      }
#undef PEERMATCH_TILE_STEP
      Offer(Reduce4(a00, a10, a20, a30), bits, i, &tops[qi]);
      if (nqt > 1) Offer(Reduce4(a01, a11, a21, a31), bits, i, &tops[qi + 1]);
      if (nqt > 2) Offer(Reduce4(a02, a12, a22, a32), bits, i, &tops[qi + 2]);
    }
  }
}

bool CpuHasAvx2Fma() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#else
bool CpuHasAvx2Fma() { return false; }
#endif  // PEERMATCH_DENSE_SCAN_X86

// Bytes of matrix rows per batch block: the block stays in L1 (48 KB on the
// development machine) while every query is scored against it.
constexpr size_t kBlockBytes = 32 << 10;

// Rows per chunk of a single-query scan: threads take chunks from a shared
// counter, so that a thread the machine does not schedule holds nobody up.
// 256 KB keeps the counter's cost negligible and each chunk a long
// sequential stream for the hardware prefetcher. A multiple of 4.
size_t ChunkRows(size_t d) {
  constexpr size_t kChunkBytes = 256 << 10;
  return std::max<size_t>(4, (kChunkBytes / (d * sizeof(float))) & ~size_t{3});
}

// Hands out chunks [0, count) in increasing order, so that each thread sees
// its rows in increasing order (TopK's requirement).
class ChunkCounter {
 public:
  explicit ChunkCounter(size_t count) : count_(count) {}
  bool Next(size_t* chunk) {
    *chunk = next_.fetch_add(1, std::memory_order_relaxed);
    return *chunk < count_;
  }

 private:
  const size_t count_;
  std::atomic<size_t> next_{0};
};

// Writes the best min(k, hits) of `hits` (unordered) into scores/ids, then
// -inf / -1 up to k; returns the count written.
size_t WriteBest(Hit* hits, size_t count, size_t k, float* scores, int64_t* ids) {
  const size_t found = std::min(count, k);
  std::partial_sort(hits, hits + found, hits + count, internal::Better);
  for (size_t r = 0; r < found; ++r) {
    scores[r] = hits[r].score;
    ids[r] = hits[r].id;
  }
  for (size_t r = found; r < k; ++r) {
    scores[r] = -std::numeric_limits<float>::infinity();
    ids[r] = -1;
  }
  return found;
}

}  // namespace

DenseScanner::DenseScanner(const DenseScanOptions& options)
    : options_(options),
      num_threads_(options.num_threads > 0
                       ? options.num_threads
                       : static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 8u))),
      use_avx2_(options.allow_avx2 && CpuHasAvx2Fma()),
      pool_(std::make_unique<internal::WorkerPool>(num_threads_ - 1)) {
  absl::MutexLock lock(&mutex_);
  for (int t = 0; t < num_threads_; ++t) {
    auto state = std::make_unique<internal::ScanThreadState>();
    state->single_storage.resize(options_.max_k);
    if (t == 0) state->merge.resize(static_cast<size_t>(num_threads_) * options_.max_k);
    states_.push_back(std::move(state));
  }
}

DenseScanner::~DenseScanner() = default;

absl::Status DenseScanner::Validate(const DenseMatrixView& x, const float* queries, size_t nq,
                                    size_t k, const float* scores, const int64_t* ids) const {
  if (k > options_.max_k) {
    return absl::InvalidArgumentError(
        absl::StrCat("k: ", k, " is above this scanner's max_k ", options_.max_k));
  }
  if (x.d == 0) return absl::InvalidArgumentError("x.d: must be positive");
  if (x.n > 0 && x.data == nullptr) return absl::InvalidArgumentError("x.data: null with n > 0");
  if (k > 0 && nq > 0) {
    if (queries == nullptr) return absl::InvalidArgumentError("query: null");
    if (scores == nullptr) return absl::InvalidArgumentError("scores: null");
    if (ids == nullptr) return absl::InvalidArgumentError("ids: null");
  }
  return absl::OkStatus();
}

int DenseScanner::ThreadsFor(size_t n) const {
  const size_t per_thread = std::max<size_t>(options_.min_rows_per_thread, 4);
  return static_cast<int>(std::clamp<size_t>(n / per_thread, 1, num_threads_));
}

void DenseScanner::RunParallel(int parts, absl::FunctionRef<void(int)> fn) {
  pool_->Run(parts, fn);
}

absl::StatusOr<size_t> DenseScanner::Search(const DenseMatrixView& x, const float* query,
                                            size_t k, const uint8_t* keep, float* scores,
                                            int64_t* ids) {
  if (absl::Status s = Validate(x, query, 1, k, scores, ids); !s.ok()) return s;
  if (k == 0) return 0;
  absl::MutexLock lock(&mutex_);
  const size_t chunk_rows = ChunkRows(x.d);
  const size_t num_chunks = (x.n + chunk_rows - 1) / chunk_rows;
  const int parts =
      static_cast<int>(std::min<size_t>(ThreadsFor(x.n), std::max<size_t>(num_chunks, 1)));
  for (int p = 0; p < parts; ++p) states_[p]->single.Init(states_[p]->single_storage.data(), k);
  ChunkCounter chunks(num_chunks);
  RunParallel(parts, [&](int part) {
    TopK* top = &states_[part]->single;
    for (size_t c; chunks.Next(&c);) {
      const size_t begin = c * chunk_rows, end = std::min(x.n, begin + chunk_rows);
#ifdef PEERMATCH_DENSE_SCAN_X86
      if (use_avx2_) {
        ScanRowsAvx2(x.data, x.d, begin, end, query, keep, top);
        continue;
      }
#endif
      ScanRowsPortable(x.data, x.d, begin, end, query, keep, top);
    }
  });
  Hit* merge = states_[0]->merge.data();
  size_t count = 0;
  for (int p = 0; p < parts; ++p) {
    const TopK& top = states_[p]->single;
    std::copy(top.heap, top.heap + top.size, merge + count);
    count += top.size;
  }
  return WriteBest(merge, count, k, scores, ids);
}

float DenseScanner::Dot(const float* row, const float* query, size_t d) const {
#ifdef PEERMATCH_DENSE_SCAN_X86
  if (use_avx2_) {
    float out;
    ScoreRowsAvx2(row, d, 0, 1, query, &out);
    return out;
  }
#endif
  return DotPortable(row, query, d);
}

absl::Status DenseScanner::ScoreAll(const DenseMatrixView& x, const float* query, float* scores) {
  if (x.d == 0) return absl::InvalidArgumentError("x.d: must be positive");
  if (x.n == 0) return absl::OkStatus();
  if (x.data == nullptr) return absl::InvalidArgumentError("x.data: null with n > 0");
  if (query == nullptr) return absl::InvalidArgumentError("query: null");
  if (scores == nullptr) return absl::InvalidArgumentError("scores: null");
  absl::MutexLock lock(&mutex_);
  const size_t chunk_rows = ChunkRows(x.d);
  const size_t num_chunks = (x.n + chunk_rows - 1) / chunk_rows;
  const int parts = static_cast<int>(std::min<size_t>(ThreadsFor(x.n), num_chunks));
  ChunkCounter chunks(num_chunks);
  RunParallel(parts, [&](int) {
    for (size_t c; chunks.Next(&c);) {
      const size_t begin = c * chunk_rows, end = std::min(x.n, begin + chunk_rows);
#ifdef PEERMATCH_DENSE_SCAN_X86
      if (use_avx2_) {
        ScoreRowsAvx2(x.data, x.d, begin, end, query, scores);
        continue;
      }
#endif
      ScoreRowsPortable(x.data, x.d, begin, end, query, scores);
    }
  });
  return absl::OkStatus();
}

absl::Status DenseScanner::SearchBatch(const DenseMatrixView& x, const float* queries,
                                       size_t nq, size_t k, const uint8_t* keep, float* scores,
                                       int64_t* ids) {
  if (absl::Status s = Validate(x, queries, nq, k, scores, ids); !s.ok()) return s;
  if (k == 0 || nq == 0) return absl::OkStatus();
  absl::MutexLock lock(&mutex_);
  const size_t block_rows = std::max<size_t>(4, (kBlockBytes / (x.d * sizeof(float))) & ~size_t{3});
  const size_t num_blocks = (x.n + block_rows - 1) / block_rows;
  // Threads by total work (rows x queries), at most one per block.
  const int parts = static_cast<int>(
      std::min<size_t>(ThreadsFor(x.n * nq), std::max<size_t>(num_blocks, 1)));
  for (int p = 0; p < parts; ++p) {
    internal::ScanThreadState& st = *states_[p];
    if (st.batch_storage.size() < nq * k) st.batch_storage.resize(nq * k);  // grows once
    if (st.batch_tops.size() < nq) st.batch_tops.resize(nq);
    for (size_t qi = 0; qi < nq; ++qi) st.batch_tops[qi].Init(st.batch_storage.data() + qi * k, k);
  }
  ChunkCounter blocks(num_blocks);
  RunParallel(parts, [&](int part) {
    TopK* tops = states_[part]->batch_tops.data();
    for (size_t c; blocks.Next(&c);) {
      const size_t begin = c * block_rows, end = std::min(x.n, begin + block_rows);
#ifdef PEERMATCH_DENSE_SCAN_X86
      if (use_avx2_) {
        ScanBlockAvx2(x.data, x.d, begin, end, queries, nq, keep, tops);
        continue;
      }
#endif
      ScanBlockPortable(x.data, x.d, begin, end, queries, nq, keep, tops);
    }
  });
  Hit* merge = states_[0]->merge.data();
  for (size_t qi = 0; qi < nq; ++qi) {
    size_t count = 0;
    for (int p = 0; p < parts; ++p) {
      const TopK& top = states_[p]->batch_tops[qi];
      std::copy(top.heap, top.heap + top.size, merge + count);
      count += top.size;
    }
    WriteBest(merge, count, k, scores + qi * k, ids + qi * k);
  }
  return absl::OkStatus();
}

}  // namespace peermatch
