// gRPC over loopback on a 10,000-case corpus: Match queries per second and
// latency, against an empty unary RPC (the standard health Check) on the
// same server, from the same client, in the same run. Also memory per
// stored case and server start-up time.
#ifndef PEERMATCH_BENCH_GRPC_BENCH_H_
#define PEERMATCH_BENCH_GRPC_BENCH_H_

#include <string>
#include <utility>
#include <vector>

namespace peermatch::bench {

// Appends its figures as (key, JSON value) pairs. `quick`: shorter runs.
void RunGrpcBench(bool quick, std::vector<std::pair<std::string, std::string>>* keys);

}  // namespace peermatch::bench

#endif  // PEERMATCH_BENCH_GRPC_BENCH_H_
