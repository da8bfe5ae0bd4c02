// CallObserver: a gRPC server interceptor that, for every call, writes one
// structured log line (JSON: time, method, status code, latency, peer) and
// records the call in Metrics.
//
// Thread-safety: the factory is shared by all calls; Metrics is thread-safe.
#ifndef PEERMATCH_SERVICE_CALL_LOG_H_
#define PEERMATCH_SERVICE_CALL_LOG_H_

#include <cstdio>

#include "grpcpp/support/server_interceptor.h"
#include "service/metrics.h"

namespace peermatch {

class CallObserverFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  // Borrows `metrics`; logs to `log` (null: no log lines).
  CallObserverFactory(Metrics* metrics, FILE* log) : metrics_(metrics), log_(log) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  Metrics* metrics_;
  FILE* log_;
};

}  // namespace peermatch

#endif  // PEERMATCH_SERVICE_CALL_LOG_H_
