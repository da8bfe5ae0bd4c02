// Section `startup`: what peermatchd does before it serves (Store::Open,
// Engine::Open, the first snapshot, which builds the index), timed, and the
// resident memory it leaves, on stores of 100,000 and 1,000,000 synthetic
// cases (20,000 with --quick).
//
// Each store is built first, untimed, in
// temp_directory_path()/peermatch-startup-bench (removed afterwards) so that
// it looks like a store peermatchd has been serving: N/5 cities of 5 cases
// each, a fitted model committed as the current version and every case's
// vector stored under it, so opening neither refits nor re-embeds (the
// section reports it if a refit happened anyway). The model is fitted on all
// cases up to kMaxFitSample cases; above that, on an evenly spaced sample of
// kMaxFitSample, with its document counts scaled to N (see startup_bench.cc).
//
// The timed part runs in a fresh process (this program, re-executed with
// --startup-child DIR N), as a server start does, so that resident memory
// counts only what opening allocates (not the heap this process kept from
// building the store).
//
// Keys (L is the size: 20k, 100k, 1m): startup_L_seconds,
// memory_per_case_bytes_L, startup_store_bytes_L and their breakdowns;
// startup_corpus_note; startup_cases (the largest N measured).
#ifndef PEERMATCH_BENCH_STARTUP_BENCH_H_
#define PEERMATCH_BENCH_STARTUP_BENCH_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "bench/bench_util.h"
#include "peermatch/v1/model.pb.h"

namespace peermatch::bench {

void RunStartupBench(const BenchOptions& options, BenchResults* results);

// The timed part, in the child process: opens the store at `dir` (which
// holds `cases` cases) and the engine as peermatchd does, builds the first
// snapshot, and prints "key value" lines on stdout. Returns the exit code.
int RunStartupChild(const std::string& dir, size_t cases);

// Builds at `dir` (removed first) the store the section opens: `n`
// synthetic cases (SyntheticCase(0 .. n-1)) in n/5 cities, a fitted model
// and every case's vector, so that opening it neither refits nor re-embeds.
// `seconds` (may be null) receives the time it took.
absl::Status BuildServedStore(const std::string& dir, size_t n, double* seconds);
// The bytes of every regular file under `dir` (0 when it does not exist).
uint64_t DirectoryBytes(const std::string& dir);
// Case i of such a store: deterministic, whatever order cases are made in.
v1::Case SyntheticCase(size_t i);

}  // namespace peermatch::bench

#endif  // PEERMATCH_BENCH_STARTUP_BENCH_H_
