// StreamBody: the body of a streamed HTTP response (HttpResponse::stream,
// issue 15), between the worker thread that writes it and libmicrohttpd's
// polling thread that sends it. Internal to service/ (http_server.cc).
//
//   auto body = std::make_shared<StreamBody>(connection);
//   MHD_Response* r = NewStreamResponse(body);   // then queue r, resume
//   body->Write("{...}\n");  ...                 // on the worker thread
//   body->End();
//
// When the polling thread finds nothing to send, it suspends the connection
// (so that a long stream costs no polling); the next Write, or End, resumes
// it. Bytes written are held until sent (a stream is expected to be small:
// a pairing's messages).
//
// Ownership: the response holds a shared_ptr to the body until libmicrohttpd
// is done with it (sent, or the connection closed); the writer holds another.
// Thread-safety: every method under one mutex; Write and End from the
// writer's thread, the callbacks from libmicrohttpd's.
#ifndef PEERMATCH_SERVICE_HTTP_STREAM_BODY_H_
#define PEERMATCH_SERVICE_HTTP_STREAM_BODY_H_

#include <microhttpd.h>

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "service/http_router.h"

namespace peermatch::internal {

class StreamBody final : public HttpBodyWriter {
 public:
  // `connection`: the connection the response is queued on (borrowed; it
  // outlives the response).
  explicit StreamBody(MHD_Connection* connection) : connection_(connection) {}
  StreamBody(const StreamBody&) = delete;
  StreamBody& operator=(const StreamBody&) = delete;

  // Adds `bytes` to send; false (nothing added) once libmicrohttpd is done
  // with the response, the client having gone.
  bool Write(absl::string_view bytes) override ABSL_LOCKS_EXCLUDED(mu_);
  // The writer is done: the body ends once the pending bytes are sent.
  void End() ABSL_LOCKS_EXCLUDED(mu_);

  // libmicrohttpd's content reader and its free callback; `cls` is a
  // heap-allocated std::shared_ptr<StreamBody> (NewStreamResponse's).
  static ssize_t Read(void* cls, uint64_t pos, char* buf, size_t max);
  static void Free(void* cls);

 private:
  void WakeLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  MHD_Connection* const connection_;
  absl::Mutex mu_;
  std::string pending_ ABSL_GUARDED_BY(mu_);
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  bool gone_ ABSL_GUARDED_BY(mu_) = false;
  bool suspended_ ABSL_GUARDED_BY(mu_) = false;
};

// A response of unknown size (sent chunked) whose content is read from
// `body`; the caller adds headers, queues it and destroys its reference.
MHD_Response* NewStreamResponse(const std::shared_ptr<StreamBody>& body);

}  // namespace peermatch::internal

#endif  // PEERMATCH_SERVICE_HTTP_STREAM_BODY_H_
