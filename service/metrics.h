// Metrics: request counts and latency histograms per method and status, in
// the Prometheus text exposition format.
//
// Thread-safety: Record() and Render() are thread-safe.
#ifndef PEERMATCH_SERVICE_METRICS_H_
#define PEERMATCH_SERVICE_METRICS_H_

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace peermatch {

class Metrics {
 public:
  // Upper bounds of the latency buckets, in seconds.
  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1,    5};

  void Record(const std::string& method, const std::string& code, double seconds);
  // The exposition text; `gauges` adds lines such as store and index sizes.
  std::string Render(const std::map<std::string, double>& gauges) const;

 private:
  struct Histogram {
    std::array<uint64_t, kBuckets.size()> buckets{};
    uint64_t count = 0;
    double sum = 0;
  };
  mutable absl::Mutex mu_;
  std::map<std::pair<std::string, std::string>, uint64_t> requests_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Histogram> latency_ ABSL_GUARDED_BY(mu_);
};

}  // namespace peermatch

#endif  // PEERMATCH_SERVICE_METRICS_H_
