#include "bench/bandwidth.h"

#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#endif

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "bench/bench_util.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace peermatch::bench {
namespace {

// The sum keeps the loads from being optimized away; eight independent
// accumulators keep the adds off the critical path, so the loop is limited
// by memory alone.
float SumPortable(const float* p, size_t count) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t i = 0;
  for (; i + 8 <= count; i += 8) {
    for (int l = 0; l < 8; ++l) acc[l] += p[i + l];
  }
  for (; i < count; ++i) acc[0] += p[i];
  return acc[0] + acc[1] + acc[2] + acc[3] + acc[4] + acc[5] + acc[6] + acc[7];
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) float SumAvx2(const float* p, size_t count) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  size_t i = 0;
  for (; i + 32 <= count; i += 32) {
    a0 = _mm256_add_ps(a0, _mm256_loadu_ps(p + i));
    a1 = _mm256_add_ps(a1, _mm256_loadu_ps(p + i + 8));
    a2 = _mm256_add_ps(a2, _mm256_loadu_ps(p + i + 16));
    a3 = _mm256_add_ps(a3, _mm256_loadu_ps(p + i + 24));
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  return SumPortable(lanes, 8) + SumPortable(p + i, count - i);
}
#endif

float Sum(const float* p, size_t count) {
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx2")) return SumAvx2(p, count);
#endif
  return SumPortable(p, count);
}

// New threads may start on their parent's core and be spread only later;
// one core per thread from the start measures the memory, not the scheduler.
void PinToCpu(int t) {
#if defined(__linux__)
  const unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(static_cast<unsigned>(t) % cpus, &set);
  pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
#endif
}

}  // namespace

double ReadOnceSeconds(const float* data, size_t count, int threads) {
  threads = std::max(threads, 1);
  // Threads take 256 KB chunks from a shared counter (as DenseScanner does),
  // so that a thread the machine is slow to schedule does not make the
  // floor look higher than the memory makes it.
  constexpr size_t kChunk = (256 << 10) / sizeof(float);
  const size_t chunks = (count + kChunk - 1) / kChunk;
  std::atomic<size_t> next{0};
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<double> end(threads, 0);
  std::vector<float> sums(threads, 0);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      PinToCpu(t);
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) {
#if defined(__x86_64__)
        _mm_pause();
#endif
      }
      float sum = 0;
      for (size_t c; (c = next.fetch_add(1, std::memory_order_relaxed)) < chunks;) {
        const size_t begin = c * kChunk;
        sum += Sum(data + begin, std::min(kChunk, count - begin));
      }
      sums[t] = sum;
      end[t] = NowSeconds();
    });
  }
  while (ready.load() < threads) std::this_thread::yield();
  const double start = NowSeconds();
  go.store(true, std::memory_order_release);
  for (std::thread& w : workers) w.join();
  volatile float sink = 0;
  for (float s : sums) sink = sink + s;
  return *std::max_element(end.begin(), end.end()) - start;
}

}  // namespace peermatch::bench
