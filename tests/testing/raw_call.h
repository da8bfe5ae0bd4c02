// CallRaw: a unary call with raw request bytes, bypassing the client's
// serializer (bytes no client library would send), through
// grpc::GenericStub; waits for and returns the call's status.
#ifndef PEERMATCH_TESTS_TESTING_RAW_CALL_H_
#define PEERMATCH_TESTS_TESTING_RAW_CALL_H_

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/generic/generic_stub.h"

namespace peermatch::testing {

// `method`: "/peermatch.v1.Peermatch/Match"; `ctx` carries the caller's
// metadata and deadline.
inline grpc::Status CallRaw(const std::shared_ptr<grpc::Channel>& channel,
                            const std::string& method, const std::string& bytes,
                            grpc::ClientContext* ctx) {
  grpc::GenericStub generic(channel);
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1), response;
  grpc::Status result;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  generic.UnaryCall(ctx, method, grpc::StubOptions(), &request, &response,
                    [&](grpc::Status s) {
                      std::lock_guard<std::mutex> lock(mu);
                      result = s;
                      done = true;
                      cv.notify_one();
                    });
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return done; });
  return result;
}

}  // namespace peermatch::testing

#endif  // PEERMATCH_TESTS_TESTING_RAW_CALL_H_
