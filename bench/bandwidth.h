// The memory-bandwidth floor of a scan: how long it takes merely to read a
// buffer once, split over threads, with the widest loads the CPU has (AVX2
// when present) and nothing else to do. No exact scan of the same bytes can
// be faster, so it anchors a scan's time in the same run.
#ifndef PEERMATCH_BENCH_BANDWIDTH_H_
#define PEERMATCH_BENCH_BANDWIDTH_H_

#include <cstddef>

namespace peermatch::bench {

// Seconds to read data[0, count) once: `threads` threads sum it, taking
// 256 KB chunks from a shared counter. Threads are started before the clock
// and released together, so the time is the read alone (from release to the
// last thread's end). One repetition; take the best of several.
//   data: count floats, borrowed
double ReadOnceSeconds(const float* data, size_t count, int threads);

}  // namespace peermatch::bench

#endif  // PEERMATCH_BENCH_BANDWIDTH_H_
