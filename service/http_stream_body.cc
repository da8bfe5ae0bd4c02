#include "service/http_stream_body.h"

#include <algorithm>
#include <cstring>

namespace peermatch::internal {

bool StreamBody::Write(absl::string_view bytes) {
  absl::MutexLock lock(&mu_);
  if (gone_) return false;
  pending_.append(bytes.data(), bytes.size());
  WakeLocked();
  return true;
}

void StreamBody::End() {
  absl::MutexLock lock(&mu_);
  ended_ = true;
  WakeLocked();
}

ssize_t StreamBody::Read(void* cls, uint64_t, char* buf, size_t max) {
  StreamBody* self = static_cast<std::shared_ptr<StreamBody>*>(cls)->get();
  absl::MutexLock lock(&self->mu_);
  if (!self->pending_.empty()) {
    const size_t n = std::min(max, self->pending_.size());
    std::memcpy(buf, self->pending_.data(), n);
    self->pending_.erase(0, n);
    return static_cast<ssize_t>(n);
  }
  if (self->ended_) return MHD_CONTENT_READER_END_OF_STREAM;
  // Suspending from the content reader is what libmicrohttpd documents for
  // "no data yet" (returning 0 alone would make it call again at once).
  self->suspended_ = true;
  MHD_suspend_connection(self->connection_);
  return 0;
}

void StreamBody::Free(void* cls) {
  auto* held = static_cast<std::shared_ptr<StreamBody>*>(cls);
  {
    absl::MutexLock lock(&(*held)->mu_);
    (*held)->gone_ = true;
  }
  delete held;
}

void StreamBody::WakeLocked() {
  if (!suspended_) return;
  suspended_ = false;
  MHD_resume_connection(connection_);
}

MHD_Response* NewStreamResponse(const std::shared_ptr<StreamBody>& body) {
  return MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 << 10, &StreamBody::Read,
                                           new std::shared_ptr<StreamBody>(body),
                                           &StreamBody::Free);
}

}  // namespace peermatch::internal
