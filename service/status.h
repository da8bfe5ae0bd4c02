// The edge between absl::Status (inside) and grpc::Status (on the wire).
#ifndef PEERMATCH_SERVICE_STATUS_H_
#define PEERMATCH_SERVICE_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace peermatch {

// Canonical codes map one to one; the message is kept.
grpc::Status ToGrpc(const absl::Status& s);

}  // namespace peermatch

#endif  // PEERMATCH_SERVICE_STATUS_H_
