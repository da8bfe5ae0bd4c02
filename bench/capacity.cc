#include "bench/capacity.h"

#include <time.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/startup_bench.h"
#include "engine/engine.h"
#include "store/store.h"

namespace peermatch::bench {
namespace {

// The peak resident memory of this process so far (VmHWM), in bytes.
uint64_t PeakResidentBytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

// Resets the peak (VmHWM) to the current resident memory (Linux 4.0+:
// "5" to clear_refs), so that the next peak is the next step's.
void ResetPeakResidentBytes() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
}

}  // namespace

void MeasureCapacity(const std::string& dir, size_t n, const CapacityOptions& options,
                     BenchResults* results) {
  const std::string p = absl::StrCat("capacity_", SizeLabel(n), "_");
  const double dn = static_cast<double>(n);
  const uint64_t disk = DirectoryBytes(dir);
  results->SetInt(p + "cases", static_cast<int64_t>(n));
  results->SetInt(p + "store_bytes", static_cast<int64_t>(disk));
  results->SetNumber(p + "disk_per_case_bytes", std::round(static_cast<double>(disk) / dn));

  // Trimmed before and after, so that the heap this process freed earlier
  // (the store's build) is not counted as the served store's.
  const uint64_t rss_before = ResidentBytes(/*trim=*/true);
  auto store = Store::Open(dir);
  if (!store.ok()) return results->SetString(p + "error", store.status().ToString());
  EngineOptions eo;
  eo.refit_at_open = false;
  eo.background_refit = false;
  eo.refit_min_changes = 1 << 30;
  auto engine = Engine::Open(store->get(), eo);
  if (!engine.ok()) return results->SetString(p + "error", engine.status().ToString());
  (*engine)->snapshot();
  const uint64_t rss_served = ResidentBytes(/*trim=*/true);
  results->SetNumber(p + "memory_per_case_bytes",
                     std::round(static_cast<double>(rss_served - rss_before) / dn));

  // New questions as a city types them (as the `scale` section asks them):
  // 8-20 words of one topic, each asked once, in-process on this thread.
  std::mt19937_64 rng(20261202 + n);
  std::vector<double> wall_ms, cpu_ms;
  int64_t failures = 0;
  for (int i = 0; i < 20 + options.questions; ++i) {
    MatchQuery q;
    q.about.text = SyntheticText(rng, static_cast<int>(rng() % kSyntheticTopics),
                                 8 + static_cast<int>(rng() % 13));
    const double t0 = NowSeconds(), c0 = ThreadCpuSeconds();
    if (!(*engine)->Match(q).ok()) ++failures;
    if (i < 20) continue;  // warm-up
    wall_ms.push_back((NowSeconds() - t0) * 1e3);
    cpu_ms.push_back((ThreadCpuSeconds() - c0) * 1e3);
  }
  const double cpu_mean =
      std::accumulate(cpu_ms.begin(), cpu_ms.end(), 0.0) / static_cast<double>(cpu_ms.size());
  results->SetInt(p + "match_questions", options.questions);
  results->SetInt(p + "match_failures", failures);
  results->SetNumber(p + "match_p50_ms", Median(wall_ms));
  results->SetNumber(p + "match_p99_ms", Percentile(wall_ms, 0.99));
  results->SetNumber(p + "match_cpu_p50_ms", Median(cpu_ms));
  results->SetNumber(p + "match_cpu_mean_ms", cpu_mean);
  // A Match runs on its calling thread alone: one core answers 1000 / (CPU
  // ms a Match) of them a second, if nothing else needs that core.
  results->SetNumber(p + "match_qps_per_core", 1000 / cpu_mean);
  std::fprintf(stderr,
               "capacity: %zu cases: %.0f B disk, %.0f B resident a case; Match p50 %.2f ms "
               "(CPU p50 %.2f ms, mean %.2f ms)\n",
               n, static_cast<double>(disk) / dn,
               static_cast<double>(rss_served - rss_before) / dn, Median(wall_ms),
               Median(cpu_ms), cpu_mean);

  if (options.refit) {
    std::fprintf(stderr, "capacity: refitting %zu cases\n", n);
    ResetPeakResidentBytes();
    const double t0 = NowSeconds();
    const absl::Status s = (*engine)->Refit();
    if (!s.ok()) return results->SetString(p + "refit_error", s.ToString());
    results->SetNumber(p + "refit_seconds", NowSeconds() - t0);
    results->SetNumber(p + "refit_peak_rss_mb", static_cast<double>(PeakResidentBytes()) / 1e6);
    results->SetNumber(p + "rss_after_refit_mb", static_cast<double>(ResidentBytes()) / 1e6);
    results->SetNumber(p + "rss_served_mb", static_cast<double>(rss_served) / 1e6);
  }
}

}  // namespace peermatch::bench
