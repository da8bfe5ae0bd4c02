#include "service/metrics.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace peermatch {
namespace {

using ::testing::HasSubstr;

TEST(Metrics, CountsAndHistogramsInPrometheusFormat) {
  Metrics m;
  m.Record("/peermatch.v1.Peermatch/Match", "OK", 0.002);
  m.Record("/peermatch.v1.Peermatch/Match", "OK", 0.02);
  m.Record("/peermatch.v1.Peermatch/Match", "INVALID_ARGUMENT", 0.0001);
  const std::string text = m.Render({{"peermatch_index_cases", 337}});
  EXPECT_THAT(text, HasSubstr(
      "peermatch_requests_total{method=\"/peermatch.v1.Peermatch/Match\",code=\"OK\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("code=\"INVALID_ARGUMENT\"} 1\n"));
  // 0.0001 and 0.002 are under 0.0025; all three under 0.025.
  EXPECT_THAT(text, HasSubstr("method=\"/peermatch.v1.Peermatch/Match\",le=\"0.0025\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("method=\"/peermatch.v1.Peermatch/Match\",le=\"0.025\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("le=\"+Inf\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("peermatch_request_seconds_count{method=\"/peermatch.v1.Peermatch/Match\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE peermatch_index_cases gauge\npeermatch_index_cases 337\n"));
}

}  // namespace
}  // namespace peermatch
