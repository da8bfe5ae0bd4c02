// HttpServer::Impl, its half that reads a request (the first call with its
// headers, then its body) and dispatches it to a worker; http_server.cc has
// the rest.
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "service/http_stream_body.h"
#include "service/internal/http_server_impl.h"

namespace peermatch {
namespace {

using http_server_internal::Exchange;
using Impl = HttpServer::Impl;

MHD_Result AddHeader(void* cls, MHD_ValueKind, const char* key, const char* value) {
  auto* ex = static_cast<Exchange*>(cls);
  std::string name = absl::AsciiStrToLower(key == nullptr ? "" : key);
  std::string& slot = ex->request.headers[name];
  if (!slot.empty()) slot += ", ";
  slot += value == nullptr ? "" : value;
  return MHD_YES;
}

size_t HeaderBytes(const HttpRequest& request) {
  size_t n = 0;
  for (const auto& [name, value] : request.headers) n += name.size() + value.size() + 4;
  return n;
}

}  // namespace

void Impl::QueueStream(MHD_Connection* c, Exchange* ex, HttpResponse res) {
  ex->status = res.status;
  ex->route = res.route;
  ex->reason = res.reason;
  auto body = std::make_shared<internal::StreamBody>(c);
  if (!res.body.empty()) body->Write(res.body);
  MHD_Response* r = internal::NewStreamResponse(body);
  if (!res.content_type.empty()) MHD_add_response_header(r, "Content-Type", res.content_type.c_str());
  for (const auto& [name, value] : res.headers) {
    MHD_add_response_header(r, name.c_str(), value.c_str());
  }
  MHD_queue_response(c, res.status, r);
  MHD_destroy_response(r);
  MHD_resume_connection(c);
  // `ex` may be gone from here on (the client can close at any time).
  res.stream(*body);
  body->End();
}

MHD_Result Impl::First(MHD_Connection* c, Exchange* ex, const char* method) {
  const HttpLimits& limits = options.limits;
  ex->request.method = method;
  ex->request.peer = ex->conn != nullptr ? ex->conn->peer : "";
  MHD_get_connection_values(c, MHD_HEADER_KIND, &AddHeader, ex);
  // A refusal is queued when no body follows (or the client waits for
  // "100 Continue" before sending it); otherwise it is written at once and
  // the body is dropped as it comes, since libmicrohttpd would close the
  // connection under a client still sending, which then sees a reset, not
  // the answer.
  const std::string& declared = ex->request.Header("content-length");
  const bool body_follows =
      (!declared.empty() && declared != "0") ||
      !ex->request.Header("transfer-encoding").empty();
  const bool waits_for_continue =
      absl::EqualsIgnoreCase(ex->request.Header("expect"), "100-continue");
  const auto refuse = [&](int status, const std::string& message, const char* reason) {
    HttpResponse res = ErrorResponse(status, message, reason);
    if (!body_follows || waits_for_continue) return Queue(c, ex, res, /*resume=*/false);
    absl::MutexLock lock(&mu);
    AnswerEarly(ex->conn, res);
    return MHD_YES;
  };
  if (ex->target.size() > limits.max_target_bytes) {
    return refuse(414, absl::StrCat("the request target has ", ex->target.size(),
                                    " bytes; the limit is ", limits.max_target_bytes),
                  "target_too_long");
  }
  if (const size_t n = HeaderBytes(ex->request); n > limits.max_header_bytes) {
    return refuse(431, absl::StrCat("the headers have ", n, " bytes; the limit is ",
                                    limits.max_header_bytes),
                  "headers_too_large");
  }
  if (absl::Status s = ParseTarget(ex->target, &ex->request); !s.ok()) {
    return refuse(400, std::string(s.message()), "bad_target");
  }
  const std::string& encoding = ex->request.Header("content-encoding");
  if (!encoding.empty() && !absl::EqualsIgnoreCase(encoding, "identity")) {
    return refuse(415, absl::StrCat("Content-Encoding \"", encoding,
                                    "\" is not supported; send the body uncompressed"),
                  "unsupported_encoding");
  }
  if (absl::StartsWithIgnoreCase(ex->request.Header("content-type"), "multipart/")) {
    return refuse(415, "multipart bodies are not read; send the JSON (or JSON Lines) as the body "
                       "itself (curl --data-binary @file)",
                  "unsupported_media_type");
  }
  ex->chunked = absl::StrContains(absl::AsciiStrToLower(ex->request.Header("transfer-encoding")), "chunked");
  const std::string& length_header = ex->request.Header("content-length");
  uint64_t length = 0;
  const bool has_length = !length_header.empty() && absl::SimpleAtoi(length_header, &length);
  const std::string& m = ex->request.method;
  if ((m == "POST" || m == "PUT" || m == "PATCH") && !has_length && !ex->chunked) {
    return refuse(411, absl::StrCat(m, " needs a body with Content-Length or "
                                       "Transfer-Encoding: chunked (send {} for an empty request)"),
                  "length_required");
  }
  if (length > limits.max_body_bytes) {
    return refuse(413, absl::StrCat("body: ", length, " bytes is over the limit of ",
                                    limits.max_body_bytes, " bytes; send it in smaller parts"),
                  "body_too_large");
  }
  if (length > 0 && !Reserve(ex, length)) {
    return refuse(503, "the server holds too many request bodies at once; retry later",
                  "buffers_full");
  }
  ex->request.body.reserve(length);
  return MHD_YES;
}

MHD_Result Impl::Body(Exchange* ex, const char* data, size_t size) {
  Conn* conn = ex->conn;
  {
    absl::MutexLock lock(&mu);
    if (conn->early_status != 0) return MHD_YES;  // answered: drop the rest
  }
  const size_t limit = options.limits.max_body_bytes;
  std::string error;
  HttpResponse refusal;
  if (ex->request.body.size() + size > limit) {
    refusal = ErrorResponse(413, absl::StrCat("body: over the limit of ", limit,
                                              " bytes; send it in smaller parts"),
                            "body_too_large");
  } else if (ex->chunked && !Reserve(ex, size)) {
    refusal = ErrorResponse(503, "the server holds too many request bodies at once; retry later",
                            "buffers_full");
  } else {
    ex->request.body.append(data, size);
    return MHD_YES;
  }
  std::string().swap(ex->request.body);
  Release(ex);
  absl::MutexLock lock(&mu);
  AnswerEarly(conn, refusal);
  return MHD_YES;
}

MHD_Result Impl::Dispatch(MHD_Connection* c, Exchange* ex) {
  {
    absl::MutexLock lock(&mu);
    if (ex->conn->early_status != 0) return MHD_NO;  // answered already: close
    ex->conn->receiving = false;
  }
  MHD_suspend_connection(c);
  auto job = workers->Submit([this, c, ex](const Cancellation&) {
    HttpResponse res = handler(ex->request);
    if (res.stream) {
      QueueStream(c, ex, std::move(res));
    } else {
      Queue(c, ex, res, /*resume=*/true);
    }
    return absl::OkStatus();
  });
  if (!job.ok()) {
    Queue(c, ex,
          ErrorResponse(503, absl::StrCat("the HTTP gateway is busy (", options.limits.worker_threads,
                                          " requests running, ", options.limits.worker_queue,
                                          " waiting); retry later"),
                        "queue_full"),
          /*resume=*/true);
  }
  return MHD_YES;
}


}  // namespace peermatch
