// The sections of peermatch-bench. Each measures one subject, with its
// anchors, in its own file and adds its keys to `results`; main.cc lists them
// in kSections (name, one-line description, function). To add a section:
// declare it here, define it in bench/<name>_bench.cc, add a row to
// kSections and its keys to bench/README.md.
#ifndef PEERMATCH_BENCH_SECTIONS_H_
#define PEERMATCH_BENCH_SECTIONS_H_

#include <string>

#include "bench/bench_util.h"

namespace peermatch::bench {

// Exact dense top-k (DenseScanner) against FAISS IndexFlatIP and the
// memory-bandwidth floor: single-query latency and a batch of queries.
void RunExactBench(const BenchOptions& options, BenchResults* results);
// Section `scale` (scale_bench.cc): uncached Match at 100k and 1M cases
// beside Xapian (issue 16).
void RunScaleBench(const BenchOptions& options, BenchResults* results);
// Section `delta` (delta_bench.cc): a write's publication and Match's p99
// while an import streams in, on 100k cases (issue 16, item 4).
void RunDeltaBench(const BenchOptions& options, BenchResults* results);

// Section `import` (import_bench.cc): streaming import rate, group commit
// against one sync per case (issue 16).
void RunImportBench(const BenchOptions& options, BenchResults* results);

// Section `refit` (refit_bench.cc): ranking change against drift on SciFact,
// resident memory over 10 refits, Match p99 during a refit (issue 16).
void RunRefitBench(const BenchOptions& options, BenchResults* results);
// Its child process (peermatch-bench --refit-child memory|latency DIR).
int RunRefitChild(const std::string& mode, const std::string& dir);

}  // namespace peermatch::bench

#endif  // PEERMATCH_BENCH_SECTIONS_H_
