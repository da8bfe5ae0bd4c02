#include "clients/command.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

namespace peermatch::cli {

std::shared_ptr<grpc::Channel> Context::Channel() {
  if (channel_ == nullptr) {
    grpc::ChannelArguments channel_args;
    channel_args.SetMaxReceiveMessageSize(64 << 20);
    channel_ = grpc::CreateCustomChannel(server, grpc::InsecureChannelCredentials(), channel_args);
  }
  return channel_;
}

v1::Peermatch::Stub& Context::Stub() {
  if (stub_ == nullptr) stub_ = v1::Peermatch::NewStub(Channel());
  return *stub_;
}

void Context::Prepare(grpc::ClientContext* ctx, int timeout_seconds) const {
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  if (timeout_seconds > 0) {
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(timeout_seconds));
  }
}

absl::Status FromGrpc(const grpc::Status& s, const std::string& server) {
  if (s.ok()) return absl::OkStatus();
  std::string msg = s.error_message();
  if (s.error_code() == grpc::StatusCode::UNAVAILABLE) {
    msg = absl::StrCat("cannot reach a peermatch server at ", server, " (", msg,
                       "). Start one with `make serve`, or pass --server HOST:PORT.");
  } else if (s.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
             s.error_code() == grpc::StatusCode::PERMISSION_DENIED) {
    msg = absl::StrCat(msg, " (pass a token with --token or PEERMATCH_TOKEN)");
  }
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), msg);
}

}  // namespace peermatch::cli
