// The approximate-nearest-neighbour figures of peermatch-bench (issue
// "Performance", scale part): AnnIndex (index/ann_index.h) over 1,000,000
// synthetic 256-d case vectors (100,000 with `quick`), against exact
// brute force on the same vectors.
//
// Note for bench/main.cc: this file depends only on peermatch_ann (link it)
// and the standard library; call RunAnnBench and copy the keys into the
// results (for BenchResults: SetString for the keys ending in `_data`,
// `_params` and `_error`, which are text; SetNumber(std::stod(value)) for
// the others, which are decimal numbers). Progress goes to stderr.
// A full run takes ~3.5 minutes on 2 idle cores (the build 3 of them) and
// peaks at ~2.3 GB resident (1 GB of vectors, 1.3 GB of index); the index
// is saved to the temporary directory (a 1.2 GB file) and removed.
//
// Keys (S is the size label, "1m" or "100k"):
//   ann_S_data                what the vectors are and how they were drawn
//   ann_S_params              the AnnIndexOptions used
//   ann_S_build_seconds       AnnIndex::Build, 2 threads
//   ann_S_memory_ratio        resident bytes added by Build (vectors and
//                             graph) / raw vector bytes (n * 256 * 4)
//   ann_S_index_mb            those resident bytes, MB
//   ann_S_recall_at_10        mean recall of the top 10 against brute force,
//                             1,000 queries drawn like the data, not in it
//   ann_S_p50_ms, ann_S_p99_ms  single-query latency, one thread
//   ann_S_exact_p50_ms        the same query answered by a plain one-thread
//                             scan of the raw vectors, for comparison
//   ann_S_filter10_recall_at_10, ann_S_filter10_p50_ms
//                             with a mask keeping 10% of rows (graph search)
//   ann_S_filter1_recall_at_10, ann_S_filter1_p50_ms
//                             with a mask keeping 1% (an exact scan of those)
//   ann_S_true_top1_cos, ann_S_true_top10_cos
//                             mean cosine of the true 1st / 10th neighbour
//                             (how clustered the data is)
//   ann_S_save_seconds, ann_S_load_seconds
//                             AnnIndex::Save / Load (file in page cache)
#ifndef PEERMATCH_BENCH_ANN_BENCH_H_
#define PEERMATCH_BENCH_ANN_BENCH_H_

#include <string>
#include <utility>
#include <vector>

namespace peermatch::bench {

// Runs the ANN benchmark and appends its (key, value) pairs to `keys`.
// Never fails: a step that cannot run reports `ann_S_error` (text) instead of
// its figures.
void RunAnnBench(bool quick, std::vector<std::pair<std::string, std::string>>* keys);

}  // namespace peermatch::bench

#endif  // PEERMATCH_BENCH_ANN_BENCH_H_
