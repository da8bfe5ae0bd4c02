// AnnIndex: an approximate nearest-neighbour index over dense vectors (the
// 256-d, unit-length LSA vectors of cases), scored by inner product. It wraps
// hnswlib's HNSW graph (Debian libhnswlib-dev 0.6.2, kept private to
// ann_index.cc) for corpora too large to scan on every query; below that size
// an exact scan is cheaper and the engine should not build one.
//
// Rows are numbered 0..n-1 in the order given to Build(); a hit names its row
// and its score, the inner product of the query with the row (the cosine for
// unit-length vectors).
//
// Filters: Search() takes a keep mask (std::vector<bool> of n, the engine's
// filter form). hnswlib 0.6.2 has no filter hook, so the graph search
// over-fetches (filter_overfetch * k * n / kept candidates, by default twice
// what the kept fraction suggests) and drops the rows the mask does not keep;
// when that leaves fewer than k hits it retries with 4x, then 16x the fetch,
// and finally scans. The more selective the mask, the deeper that search;
// below a threshold the kept rows are scanned exactly instead, which is then
// cheaper, and exact. The threshold compares the two costs
// (`graph_candidate_cost`): with the defaults and k = 10, masks keeping
// fewer than ~20,000 rows of 1,000,000 (2%), ~6,300 of 100,000 (6%), or
// 2,560 of any size are scanned. An index of fewer than 2,560 rows is always
// scanned.
//
// Example:
//   AnnIndexOptions options;  // M 16, ef_construction 200, ef_search 128
//   absl::StatusOr<std::unique_ptr<AnnIndex>> index =
//       AnnIndex::Build(vectors /* n * 256 floats, row-major */, 256, options);
//   if (!index.ok()) return index.status();
//   absl::StatusOr<std::vector<AnnHit>> hits = (*index)->Search(query, 10);
//   // (*hits)[0].row is the best row, (*hits)[0].score its inner product.
//   RETURN_IF_ERROR((*index)->Save("var/peermatch/ann.hnsw"));
//   // ... at the next start-up:
//   index = AnnIndex::Load("var/peermatch/ann.hnsw", 256, options);
//
// Cost, measured by bench/ann_bench.cc on the 2-core development machine
// with the default options over 1,000,000 synthetic 256-d vectors shaped like
// peermatch's LSA vectors (clustered; see the bench): Build 181 s on 2
// threads; memory 1.25x the raw vectors (1.28 GB: hnswlib keeps a copy of
// every vector beside its links); a single query p50 0.23 ms, p99 0.46 ms, at
// recall@10 0.983 (a plain one-thread scan takes 106 ms); with a mask keeping
// 10% of rows 0.39 ms at recall 0.951, keeping 1% (scanned exactly) 0.90 ms;
// Save 3.3 s, Load 1.0 s (file in page cache).
//
// Thread-safety: immutable after Build() or Load(). Search() and Save() are
// const and safe to call concurrently from any number of threads (hnswlib's
// searchKnn only reads the graph; the search breadth `ef_search` is fixed at
// build or load time and never changed afterwards). Share as
// std::shared_ptr<const AnnIndex>.
//
// Errors: hnswlib reports failures by throwing; every entry point here catches
// them and returns absl::Status, so no exception leaves this class.
#ifndef PEERMATCH_INDEX_ANN_INDEX_H_
#define PEERMATCH_INDEX_ANN_INDEX_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace peermatch {

struct AnnIndexOptions {
  // Graph links per node above level 0 (2*M at level 0). More links: better
  // recall at a given ef_search, slower build, 8 bytes per row for each unit
  // of M. Between 2 and 256.
  int m = 16;
  // Candidate list size while inserting (hnswlib's default). Higher: a better
  // graph, proportionally slower build. At least 1.
  int ef_construction = 200;
  // Candidate list size while searching (at least k is used). Higher: better
  // recall, slower queries. Fixed for the life of the index. At least 1.
  // A sweep on 1,000,000 clustered 256-d vectors (M 16, ef_construction
  // 200), recall@10 / p50: ef 64 0.956 / 0.15 ms, 96 0.973 / 0.20 ms,
  // 128 0.979 / 0.27 ms, 200 0.987 / 0.42 ms.
  int ef_search = 128;
  // Threads for Build(); 0 means std::thread::hardware_concurrency().
  int num_threads = 2;
  // Seed of hnswlib's level generator. With one thread a build is
  // reproducible; with more, insertion order (and so the graph) varies a
  // little between runs, recall does not.
  uint64_t seed = 100;
  // A filtered graph search fetches filter_overfetch * k * n / kept
  // candidates. Higher: better recall, slower. Measured with a mask keeping
  // 10% of 1,000,000 rows, recall@10 / p50: 2 0.950 / 0.46 ms, 3 0.958 /
  // 0.60 ms, 4 0.962 / 0.74 ms, 6 0.967 / 0.97 ms (sparser masks fetch more
  // and reach higher recall: 0.97 at 5%, 0.985 at 2%). At least 1.
  double filter_overfetch = 2;
  // What fetching one graph candidate costs, in exactly scanned rows. A
  // search scans the kept rows exactly when there are fewer of them than
  // graph_candidate_cost * max(ef_search, fetch), fetch being what the
  // graph search would request (k unfiltered, filter_overfetch * k * n /
  // kept with a mask). Measured at 256-d: ~1.3 us a candidate, ~80 ns a
  // scanned row. 0 never scans (except for masks keeping nothing); at least
  // 0.
  double graph_candidate_cost = 20;
  // Build() checks it before each row it inserts and returns CANCELLED once
  // it is true (null: never). Must outlive the Build() call.
  const std::atomic<bool>* cancel = nullptr;
};

// One search result.
struct AnnHit {
  uint32_t row = 0;  // index in the Build() input
  float score = 0;   // inner product with the query
};

// How a search was answered (for tests and metrics).
struct AnnSearchInfo {
  bool exact_scan = false;  // true: the kept rows were scanned exactly
  size_t fetched = 0;       // rows requested from the graph, over all tries
  int graph_tries = 0;      // graph searches made (0 for a pure scan)
};

class AnnIndex {
 public:
  // Builds the graph over `vectors`, n * dim floats, row-major (row i is
  // vectors[i * dim, (i + 1) * dim)), with options.num_threads threads. The
  // rows are copied; `vectors` is not kept.
  // Errors: INVALID_ARGUMENT when dim is 0, vectors is empty or not a
  // multiple of dim, n is 2^32 or more, a value is not finite, or an option
  // is out of range; RESOURCE_EXHAUSTED when memory runs out; CANCELLED when
  // options.cancel became true; INTERNAL for any other hnswlib failure.
  static absl::StatusOr<std::unique_ptr<AnnIndex>> Build(absl::Span<const float> vectors,
                                                          size_t dim,
                                                          const AnnIndexOptions& options = {});

  // Reads an index written by Save(). `dim` is the dimension the caller
  // expects. The search options (ef_search, filter_overfetch,
  // graph_candidate_cost) are taken from `options`; m and ef_construction
  // are those of the saved graph, and options() reports them.
  // Errors: NOT_FOUND when `path` cannot be opened; FAILED_PRECONDITION when
  // the file holds vectors of another dimension; DATA_LOSS when it is
  // truncated, corrupt or not an index; INVALID_ARGUMENT for bad options;
  // RESOURCE_EXHAUSTED when memory runs out.
  static absl::StatusOr<std::unique_ptr<AnnIndex>> Load(const std::string& path, size_t dim,
                                                         const AnnIndexOptions& options = {});

  ~AnnIndex();
  AnnIndex(const AnnIndex&) = delete;
  AnnIndex& operator=(const AnnIndex&) = delete;

  // Writes the index to `path` (hnswlib's format: every vector and link, about
  // the index's memory size). Written to `path`.tmp, flushed to disk, then
  // renamed over `path`, so a crash leaves the old file or the new one.
  // Concurrent calls must name different paths.
  // Errors: INTERNAL when the file cannot be written completely (the old
  // file, if any, is left as it was).
  absl::Status Save(const std::string& path) const;

  // The best min(k, kept rows) rows for `query` (dim floats), best first
  // (score descending, then row ascending), among the rows `keep` keeps (all
  // when `keep` is empty). Graph results are approximate (see the top of the
  // file); exact-scan results are exact. k = 0 gives no hits. When `info` is
  // not null it is filled in on success.
  // Errors: INVALID_ARGUMENT when query.size() != dim(), a query value is not
  // finite, or keep is neither empty nor of size(); INTERNAL when hnswlib
  // fails. On error `info` is unspecified.
  absl::StatusOr<std::vector<AnnHit>> Search(absl::Span<const float> query, size_t k,
                                             const std::vector<bool>& keep = {},
                                             AnnSearchInfo* info = nullptr) const;

  size_t size() const;  // rows
  size_t dim() const { return dim_; }
  const AnnIndexOptions& options() const { return options_; }

 private:
  struct Graph;  // hnswlib's space and graph, defined in ann_index.cc

  AnnIndex(size_t dim, const AnnIndexOptions& options, std::unique_ptr<Graph> graph);

  // Exact inner products of `query` with the rows `keep` keeps (all when
  // empty); the best k.
  std::vector<AnnHit> ScanExact(const float* query, size_t k, const std::vector<bool>& keep) const;

  const size_t dim_;
  const AnnIndexOptions options_;
  const std::unique_ptr<Graph> graph_;
};

}  // namespace peermatch

#endif  // PEERMATCH_INDEX_ANN_INDEX_H_
