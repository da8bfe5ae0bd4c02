#include "index/ann_index.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <limits>
#include <new>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <type_traits>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "index/internal/ann_util.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#include <x86intrin.h>
#endif

// hnswlib 0.6.2's header defines functions and variables at namespace scope
// without `inline` (cpuid, xgetbv, AVXCapable, AVX512Capable,
// hnswlib::InnerProductSIMD16Ext, ...), so two translation units that include
// it cannot be linked together. Renaming them here makes this file's copy
// private to it, whoever else includes hnswlib.
#define hnswlib peermatch_hnswlib_0_6_2
#define cpuid peermatch_hnswlib_cpuid
#define xgetbv peermatch_hnswlib_xgetbv
#define AVXCapable peermatch_hnswlib_AVXCapable
#define AVX512Capable peermatch_hnswlib_AVX512Capable
#include <hnswlib/hnswlib.h>
#undef AVX512Capable
#undef AVXCapable
#undef xgetbv
#undef cpuid
#undef hnswlib

namespace peermatch {
namespace {

namespace hnsw = ::peermatch_hnswlib_0_6_2;
using ann_internal::Better;
using ann_internal::CheckFinite;
using ann_internal::CountKept;
using ann_internal::ForEachKept;
using ann_internal::FromCurrentException;
using ann_internal::KeepWord;
using ann_internal::kMaxM;
using ann_internal::MaskWord;
using ann_internal::TopK;
using ann_internal::ValidateOptions;
using Hnsw = hnsw::HierarchicalNSW<float>;


// --- Inner-product distance (hnswlib's convention: 1 - <a, b>) ---

// Eight independent sums so that the compiler vectorizes without -ffast-math.
float IpDistancePortable(const void* a, const void* b, const void* dim_ptr) {
  const float* x = static_cast<const float*>(a);
  const float* y = static_cast<const float*>(b);
  const size_t d = *static_cast<const size_t*>(dim_ptr);
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t i = 0;
  for (; i + 8 <= d; i += 8) {
    for (int l = 0; l < 8; ++l) acc[l] += x[i + l] * y[i + l];
  }
  float sum = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; i < d; ++i) sum += x[i] * y[i];
  return 1.0f - sum;
}

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define PEERMATCH_ANN_HAVE_AVX2 1
// The build targets baseline x86-64 (SSE2), where hnswlib's own kernels use
// 4-wide SSE. Distances are most of the build and search time, so this one
// kernel is compiled for AVX2+FMA and chosen at run time when the CPU has
// them (measured at 256-d against the portable kernel: builds 1.4x and
// searches 1.5x faster).
__attribute__((target("avx2,fma"))) float IpDistanceAvx2(const void* a, const void* b,
                                                         const void* dim_ptr) {
  const float* x = static_cast<const float*>(a);
  const float* y = static_cast<const float*>(b);
  const size_t d = *static_cast<const size_t*>(dim_ptr);
  __m256 acc0 = _mm256_setzero_ps();
  __m256 acc1 = _mm256_setzero_ps();
  __m256 acc2 = _mm256_setzero_ps();
  __m256 acc3 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= d; i += 32) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8), acc1);
    acc2 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 16), _mm256_loadu_ps(y + i + 16), acc2);
    acc3 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 24), _mm256_loadu_ps(y + i + 24), acc3);
  }
  for (; i + 8 <= d; i += 8) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), acc0);
  }
  const __m256 acc = _mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3));
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  float sum = _mm_cvtss_f32(s);
  for (; i < d; ++i) sum += x[i] * y[i];
  return 1.0f - sum;
}
#endif

hnsw::DISTFUNC<float> ChooseDistance() {
#ifdef PEERMATCH_ANN_HAVE_AVX2
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return IpDistanceAvx2;
#endif
  return IpDistancePortable;
}

// hnswlib's InnerProductSpace with our kernel. Its dimension is what hnswlib
// passes back to the kernel, so it must outlive the graph.
class IpSpace final : public hnsw::SpaceInterface<float> {
 public:
  explicit IpSpace(size_t dim) : dim_(dim), distance_(ChooseDistance()) {}
  size_t get_data_size() override { return dim_ * sizeof(float); }
  hnsw::DISTFUNC<float> get_dist_func() override { return distance_; }
  void* get_dist_func_param() override { return &dim_; }

 private:
  size_t dim_;
  const hnsw::DISTFUNC<float> distance_;
};


// --- hnswlib 0.6.2's file format (hnswalg.h, saveIndex/loadIndex) ---

// The fixed header, in file order.
struct FileHeader {
  size_t offset_level0 = 0;
  size_t max_elements = 0;
  size_t count = 0;
  size_t size_data_per_element = 0;
  size_t label_offset = 0;
  size_t offset_data = 0;
  int max_level = 0;
  uint32_t enterpoint = 0;
  size_t max_m = 0;
  size_t max_m0 = 0;
  size_t m = 0;
  double mult = 0;
  size_t ef_construction = 0;
};
constexpr size_t kFileHeaderBytes = 6 * sizeof(size_t) + sizeof(int) + sizeof(uint32_t) +
                                    3 * sizeof(size_t) + sizeof(double) + sizeof(size_t);

template <typename T>
void ReadPod(std::istream& in, T& value) {
  in.read(reinterpret_cast<char*>(&value), sizeof(T));
}

bool ReadFileHeader(std::istream& in, FileHeader& h) {
  ReadPod(in, h.offset_level0);
  ReadPod(in, h.max_elements);
  ReadPod(in, h.count);
  ReadPod(in, h.size_data_per_element);
  ReadPod(in, h.label_offset);
  ReadPod(in, h.offset_data);
  ReadPod(in, h.max_level);
  ReadPod(in, h.enterpoint);
  ReadPod(in, h.max_m);
  ReadPod(in, h.max_m0);
  ReadPod(in, h.m);
  ReadPod(in, h.mult);
  ReadPod(in, h.ef_construction);
  return static_cast<bool>(in);
}

// hnswlib's loadIndex trusts the header (it allocates what it says and never
// compares the vector size with the space's), so the header is checked first.
absl::Status CheckFileHeader(const FileHeader& h, size_t dim, uintmax_t file_bytes,
                             const std::string& path) {
  auto corrupt = [&](absl::string_view why) {
    return absl::DataLossError(absl::StrCat("ANN index ", path, " is corrupt: ", why));
  };
  if (h.offset_level0 != 0 || h.m < 2 || h.m > 10000 || h.max_m != h.m || h.max_m0 != 2 * h.m ||
      h.offset_data != h.max_m0 * sizeof(hnsw::tableint) + sizeof(hnsw::linklistsizeint) ||
      h.label_offset <= h.offset_data || (h.label_offset - h.offset_data) % sizeof(float) != 0 ||
      h.size_data_per_element != h.label_offset + sizeof(hnsw::labeltype) ||
      !(std::isfinite(h.mult) && h.mult > 0)) {
    return corrupt("bad header");
  }
  const size_t file_dim = (h.label_offset - h.offset_data) / sizeof(float);
  if (file_dim != dim) {
    return absl::FailedPreconditionError(absl::StrCat("ANN index ", path, " holds ", file_dim,
                                                      "-d vectors, expected ", dim));
  }
  if (h.count == 0 || h.count > h.max_elements ||
      h.count >= std::numeric_limits<hnsw::tableint>::max() || h.enterpoint >= h.count ||
      h.max_level < 0 || h.max_level > 64) {
    return corrupt("bad header");
  }
  if (h.count > (file_bytes - kFileHeaderBytes) / h.size_data_per_element) {
    return corrupt("shorter than its header says");
  }
  return absl::OkStatus();
}

}  // namespace

struct AnnIndex::Graph {
  explicit Graph(size_t dim) : space(dim) {}

  IpSpace space;                // used by `index`; declared first, destroyed last
  std::unique_ptr<Hnsw> index;  // labels are rows
  std::vector<hnsw::tableint> internal_of_row;  // row -> hnswlib's id, for exact scans

  const float* Row(size_t row) const {
    return reinterpret_cast<const float*>(index->getDataByInternalId(internal_of_row[row]));
  }
  // Fills internal_of_row; false when the labels are not a permutation of
  // the rows.
  bool MapRows() {
    const size_t n = index->cur_element_count;
    constexpr hnsw::tableint kUnset = std::numeric_limits<hnsw::tableint>::max();
    internal_of_row.assign(n, kUnset);
    for (hnsw::tableint id = 0; id < n; ++id) {
      const hnsw::labeltype row = index->getExternalLabel(id);
      if (row >= n || internal_of_row[row] != kUnset) return false;
      internal_of_row[row] = id;
    }
    return true;
  }
  // Every link names an existing node and every list fits its level.
  bool LinksValid() const {
    const Hnsw& g = *index;
    const size_t n = g.cur_element_count;
    auto list_ok = [&](hnsw::linklistsizeint* list, size_t max_count) {
      const size_t count = g.getListCount(list);
      if (count > max_count) return false;
      const hnsw::tableint* links = reinterpret_cast<const hnsw::tableint*>(list + 1);
      for (size_t j = 0; j < count; ++j) {
        if (links[j] >= n) return false;
      }
      return true;
    };
    for (hnsw::tableint id = 0; id < n; ++id) {
      if (g.isMarkedDeleted(id)) return false;  // never written by Build()
      if (g.element_levels_[id] > g.maxlevel_) return false;
      if (!list_ok(g.get_linklist0(id), g.maxM0_)) return false;
      for (int level = 1; level <= g.element_levels_[id]; ++level) {
        if (!list_ok(g.get_linklist(id, level), g.maxM_)) return false;
      }
    }
    return g.element_levels_[g.enterpoint_node_] == g.maxlevel_;
  }
  // What hnswlib's saveIndex writes.
  uintmax_t FileBytes() const {
    const Hnsw& g = *index;
    uintmax_t bytes = kFileHeaderBytes + uintmax_t{g.cur_element_count} * g.size_data_per_element_;
    for (size_t id = 0; id < g.cur_element_count; ++id) {
      bytes += sizeof(unsigned int) + uintmax_t{g.size_links_per_element_} * g.element_levels_[id];
    }
    return bytes;
  }
};

AnnIndex::AnnIndex(size_t dim, const AnnIndexOptions& options, std::unique_ptr<Graph> graph)
    : dim_(dim), options_(options), graph_(std::move(graph)) {}

AnnIndex::~AnnIndex() = default;

size_t AnnIndex::size() const { return graph_->internal_of_row.size(); }

absl::StatusOr<std::unique_ptr<AnnIndex>> AnnIndex::Build(absl::Span<const float> vectors,
                                                          size_t dim,
                                                          const AnnIndexOptions& options) {
  if (absl::Status s = ValidateOptions(options); !s.ok()) return s;
  if (dim == 0) return absl::InvalidArgumentError("dim: must be positive");
  if (vectors.empty()) return absl::InvalidArgumentError("vectors: no rows");
  if (vectors.size() % dim != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("vectors: ", vectors.size(), " floats is not a multiple of dim ", dim));
  }
  const size_t n = vectors.size() / dim;
  if (n >= std::numeric_limits<hnsw::tableint>::max()) {
    return absl::InvalidArgumentError(absl::StrCat("vectors: ", n, " rows is too many"));
  }
  if (absl::Status s = CheckFinite(vectors, dim, "vectors"); !s.ok()) return s;

  auto graph = std::make_unique<Graph>(dim);
  try {
    graph->index = std::make_unique<Hnsw>(&graph->space, n, options.m, options.ef_construction,
                                          options.seed);
  } catch (...) {
    return FromCurrentException("building the ANN index");
  }
  Hnsw& index = *graph->index;

  // The first row goes in alone: it becomes the entry point. Then each
  // thread takes the next row until none is left; hnswlib's addPoint is safe
  // to call concurrently for distinct labels. (It draws node levels from one
  // generator without a lock: concurrent builds are not reproducible, which
  // only changes which nodes get upper levels.)
  auto insert = [&](size_t row) { index.addPoint(vectors.data() + row * dim, row); };
  try {
    insert(0);
  } catch (...) {
    return FromCurrentException("building the ANN index");
  }
  std::atomic<size_t> next_row{1};
  std::atomic<bool> failed{false};
  int threads = options.num_threads;
  if (threads == 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<absl::Status> errors(threads);  // one per worker: no lock needed
  auto work = [&](int worker) {
    try {
      for (size_t row = next_row++; row < n && !failed; row = next_row++) {
        if (options.cancel != nullptr && options.cancel->load(std::memory_order_relaxed)) {
          errors[worker] = absl::CancelledError("building the ANN index: cancelled");
          failed = true;
          break;
        }
        insert(row);
      }
    } catch (...) {
      errors[worker] = FromCurrentException("building the ANN index");
      failed = true;
    }
  };
  std::vector<std::thread> helpers;
  for (int t = 1; t < threads; ++t) {
    try {
      helpers.emplace_back(work, t);
    } catch (const std::system_error&) {
      break;  // fewer threads: slower, not wrong
    }
  }
  work(0);
  for (std::thread& helper : helpers) helper.join();
  for (absl::Status& error : errors) {
    if (!error.ok()) return error;
  }

  index.setEf(options.ef_search);
  try {
    if (!graph->MapRows()) return absl::InternalError("ANN index: rows were not all inserted");
  } catch (...) {
    return FromCurrentException("building the ANN index");
  }
  return std::unique_ptr<AnnIndex>(new AnnIndex(dim, options, std::move(graph)));
}

absl::StatusOr<std::unique_ptr<AnnIndex>> AnnIndex::Load(const std::string& path, size_t dim,
                                                         const AnnIndexOptions& options) {
  if (absl::Status s = ValidateOptions(options); !s.ok()) return s;
  if (dim == 0) return absl::InvalidArgumentError("dim: must be positive");
  std::error_code ec;
  const uintmax_t file_bytes = std::filesystem::file_size(path, ec);
  std::ifstream in(path, std::ios::binary);
  if (ec || !in.is_open()) {
    return absl::NotFoundError(absl::StrCat("ANN index ", path, ": cannot be opened"));
  }
  FileHeader header;
  if (file_bytes < kFileHeaderBytes || !ReadFileHeader(in, header)) {
    return absl::DataLossError(absl::StrCat("ANN index ", path, " is corrupt: no header"));
  }
  in.close();
  if (absl::Status s = CheckFileHeader(header, dim, file_bytes, path); !s.ok()) return s;

  auto graph = std::make_unique<Graph>(dim);
  try {
    graph->index = std::make_unique<Hnsw>(&graph->space, path, false, header.count);
    // That constructor leaves num_deleted_ unset (loadIndex only adds to
    // it); LinksValid() rejects files with deleted nodes, so it is 0.
    graph->index->num_deleted_ = 0;
    if (!graph->MapRows()) {
      return absl::DataLossError(absl::StrCat("ANN index ", path, " is corrupt: bad row labels"));
    }
    if (!graph->LinksValid()) {
      return absl::DataLossError(absl::StrCat("ANN index ", path, " is corrupt: bad links"));
    }
  } catch (...) {
    return FromCurrentException(absl::StrCat("loading ANN index ", path),
                                absl::StatusCode::kDataLoss);
  }
  graph->index->setEf(options.ef_search);
  AnnIndexOptions loaded = options;
  loaded.m = static_cast<int>(header.m);
  loaded.ef_construction = static_cast<int>(header.ef_construction);
  return std::unique_ptr<AnnIndex>(new AnnIndex(dim, loaded, std::move(graph)));
}

absl::Status AnnIndex::Save(const std::string& path) const {
  const std::string tmp = path + ".tmp";
  std::error_code ec;
  auto fail = [&](absl::string_view why) {
    std::filesystem::remove(tmp, ec);
    return absl::InternalError(absl::StrCat("writing ANN index ", path, ": ", why));
  };
  try {
    graph_->index->saveIndex(tmp);
  } catch (...) {
    return fail(FromCurrentException("saveIndex").message());
  }
  // saveIndex checks nothing (an unopened or short stream passes silently),
  // so the size is.
  const uintmax_t written = std::filesystem::file_size(tmp, ec);
  const uintmax_t expected = graph_->FileBytes();
  if (ec || written != expected) {
    return fail(absl::StrCat("wrote ", ec ? 0 : written, " of ", expected, " bytes"));
  }
  const int fd = ::open(tmp.c_str(), O_RDONLY);
  const bool synced = fd >= 0 && ::fsync(fd) == 0;
  if (fd >= 0) ::close(fd);
  if (!synced) return fail("fsync failed");
  std::filesystem::rename(tmp, path, ec);
  if (ec) return fail(absl::StrCat("rename: ", ec.message()));
  // Make the rename itself durable.
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  const int dir_fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return absl::OkStatus();
}

std::vector<AnnHit> AnnIndex::ScanExact(const float* query, size_t k,
                                        const std::vector<bool>& keep) const {
  const hnsw::DISTFUNC<float> distance = graph_->space.get_dist_func();
  void* param = graph_->space.get_dist_func_param();
  TopK top(k);
  auto score = [&](size_t row) {
    top.Offer({static_cast<uint32_t>(row), 1.0f - distance(query, graph_->Row(row), param)});
  };
  if (keep.empty()) {
    for (size_t row = 0; row < size(); ++row) score(row);
  } else {
    ForEachKept(keep, score);
  }
  return std::move(top).Take();
}

absl::StatusOr<std::vector<AnnHit>> AnnIndex::Search(absl::Span<const float> query, size_t k,
                                                     const std::vector<bool>& keep,
                                                     AnnSearchInfo* info) const {
  if (query.size() != dim_) {
    return absl::InvalidArgumentError(
        absl::StrCat("query: ", query.size(), " values, expected ", dim_));
  }
  if (absl::Status s = CheckFinite(query, dim_, "query"); !s.ok()) return s;
  const size_t n = size();
  if (!keep.empty() && keep.size() != n) {
    return absl::InvalidArgumentError(
        absl::StrCat("keep: ", keep.size(), " rows, expected ", n, " or none"));
  }
  AnnSearchInfo local;
  AnnSearchInfo& stats = info != nullptr ? *info : local;
  stats = AnnSearchInfo();

  const size_t kept = keep.empty() ? n : CountKept(keep);
  k = std::min(k, kept);
  if (k == 0) return std::vector<AnnHit>();

  // With a mask, a graph search over all rows finds about fetch * kept / n
  // kept rows among its best `fetch`: fetch filter_overfetch times what k
  // needs, and four times more again (twice) when a mask that avoids the
  // query's neighbourhood leaves too few. Scan instead when that costs less.
  size_t fetch = k;
  if (kept < n) {
    fetch = static_cast<size_t>(std::ceil(options_.filter_overfetch * static_cast<double>(k) *
                                          static_cast<double>(n) / static_cast<double>(kept)));
  }
  const double graph_cost =
      options_.graph_candidate_cost *
      static_cast<double>(std::max(fetch, static_cast<size_t>(options_.ef_search)));
  if (static_cast<double>(kept) < graph_cost) {
    stats.exact_scan = true;
    return ScanExact(query.data(), k, keep);
  }
  constexpr int kMaxTries = 3;
  try {
    for (int attempt = 0; attempt < kMaxTries; ++attempt) {
      fetch = std::min(fetch, n);
      ++stats.graph_tries;
      stats.fetched += fetch;
      // searchKnn searches with max(ef_search, fetch) candidates.
      auto found = graph_->index->searchKnn(query.data(), fetch);
      TopK top(k);
      while (!found.empty()) {
        const auto& [distance, row] = found.top();
        if (keep.empty() || keep[row]) top.Offer({static_cast<uint32_t>(row), 1.0f - distance});
        found.pop();
      }
      std::vector<AnnHit> hits = std::move(top).Take();
      if (hits.size() >= k) return hits;
      if (fetch == n) break;
      fetch *= 4;
    }
  } catch (...) {
    return FromCurrentException("ANN search");
  }
  // The graph did not reach k kept rows: scan them.
  stats.exact_scan = true;
  return ScanExact(query.data(), k, keep);
}

}  // namespace peermatch
