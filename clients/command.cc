#include "clients/command.h"

#include <chrono>
#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

namespace peermatch::cli {

std::shared_ptr<grpc::Channel> Context::Channel() {
  if (channel_ == nullptr) {
    grpc::ChannelArguments channel_args;
    channel_args.SetMaxReceiveMessageSize(64 << 20);
    std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
    if (!tls_ca_pem.empty() || !tls_server_name.empty()) {
      grpc::SslCredentialsOptions ssl;
      ssl.pem_root_certs = tls_ca_pem;
      credentials = grpc::SslCredentials(ssl);
      if (!tls_server_name.empty()) channel_args.SetSslTargetNameOverride(tls_server_name);
    }
    channel_ = grpc::CreateCustomChannel(server, credentials, channel_args);
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

const char* Strength(double score) {
  score = std::round(score * 100) / 100;  // as printed: "4.00" is strong
  if (score >= kStrongScore) return "strong";
  if (score >= kGoodScore) return "good";
  return "weak";
}

absl::StatusOr<std::map<std::string, v1::City>> AllCities(Context& ctx) {
  std::map<std::string, v1::City> out;
  v1::ListCitiesRequest req;
  req.set_page_size(1000);
  do {
    v1::ListCitiesResponse resp;
    grpc::ClientContext call;
    ctx.Prepare(&call);
    if (auto s = FromGrpc(ctx.Stub().ListCities(&call, req, &resp), ctx.server); !s.ok()) {
      return s;
    }
    for (const auto& c : resp.cities()) out.emplace(c.id(), c);
    req.set_page_token(resp.next_page_token());
  } while (!req.page_token().empty());
  return out;
}

std::string CityLabel(const std::map<std::string, v1::City>& cities, const std::string& id) {
  auto it = cities.find(id);
  if (it == cities.end()) return id;
  return absl::StrCat(it->second.name(), " (", it->second.country(), ")");
}

std::string Fit(absl::string_view s, size_t width) {
  // Byte offsets where each code point starts (continuation bytes are 10xxxxxx).
  std::vector<size_t> starts;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) starts.push_back(i);
  }
  if (starts.size() > width) {
    const size_t keep = width >= 3 ? width - 3 : 0;
    return absl::StrCat(s.substr(0, starts[keep]), std::string(width - keep, '.'));
  }
  return absl::StrCat(s, std::string(width - starts.size(), ' '));
}

std::string JsonString(absl::string_view s) {
  google::protobuf::Value v;
  v.set_string_value(std::string(s));
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(v, &out);
  return out;
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
