#include "service/metrics.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace peermatch {

void Metrics::Record(const std::string& method, const std::string& code, double seconds) {
  absl::MutexLock lock(&mu_);
  ++requests_[{method, code}];
  Histogram& h = latency_[method];
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++h.buckets[i];
  }
  ++h.count;
  h.sum += seconds;
}

std::string Metrics::Render(const std::map<std::string, double>& gauges) const {
  std::string out;
  absl::StrAppend(&out,
                  "# HELP peermatch_requests_total Calls handled, by method and status code.\n"
                  "# TYPE peermatch_requests_total counter\n");
  absl::MutexLock lock(&mu_);
  for (const auto& [key, n] : requests_) {
    absl::StrAppend(&out, "peermatch_requests_total{method=\"", key.first, "\",code=\"",
                    key.second, "\"} ", n, "\n");
  }
  absl::StrAppend(&out,
                  "# HELP peermatch_request_seconds Call latency, by method.\n"
                  "# TYPE peermatch_request_seconds histogram\n");
  for (const auto& [method, h] : latency_) {
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      absl::StrAppend(&out, "peermatch_request_seconds_bucket{method=\"", method, "\",le=\"",
                      kBuckets[i], "\"} ", h.buckets[i], "\n");
    }
    absl::StrAppend(&out, "peermatch_request_seconds_bucket{method=\"", method,
                    "\",le=\"+Inf\"} ", h.count, "\n");
    absl::StrAppend(&out, "peermatch_request_seconds_sum{method=\"", method, "\"} ",
                    absl::StrFormat("%.6f", h.sum), "\n");
    absl::StrAppend(&out, "peermatch_request_seconds_count{method=\"", method, "\"} ", h.count,
                    "\n");
  }
  for (const auto& [name, value] : gauges) {
    absl::StrAppend(&out, "# TYPE ", name, " gauge\n", name, " ", absl::StrFormat("%.17g", value),
                    "\n");
  }
  return out;
}

}  // namespace peermatch
