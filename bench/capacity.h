// Figures for the capacity plan (deploy/README.md, issue 16), measured on a
// store a section has built anyway: disk and resident memory per case, and
// what an uncached Match costs in-process on one thread (wall and CPU time),
// so that Match QPS per core can be read off (1000 / CPU mean in ms).
//
// Used by the `refit` section (10,000 cases) and the `import` section
// (100,000 cases); keys are named capacity_<size>_*, see bench/README.md.
#ifndef PEERMATCH_BENCH_CAPACITY_H_
#define PEERMATCH_BENCH_CAPACITY_H_

#include <cstddef>
#include <string>

#include "bench/bench_util.h"

namespace peermatch::bench {

struct CapacityOptions {
  int questions = 200;  // new questions asked, each once, after 20 untimed ones
  // Also time one inline Engine::Refit() of the store (it rewrites every
  // vector: the store is left with a new model version).
  bool refit = false;
};

// Opens the served store at `dir` (n cases, as BuildServedStore left it) as
// peermatchd would (synced, no refit at open), measures, closes it, and adds
// capacity_<SizeLabel(n)>_* keys to `results` (an _error key on failure).
// Thread-compatible: call it with no other engine open on `dir`.
void MeasureCapacity(const std::string& dir, size_t n, const CapacityOptions& options,
                     BenchResults* results);

}  // namespace peermatch::bench

#endif  // PEERMATCH_BENCH_CAPACITY_H_
