#include "service/server.h"

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "service/call_log.h"

namespace peermatch {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read ", path));
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

}  // namespace

void ConfigureProcessForServing() {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}

bool IsLoopback(const std::string& listen) {
  const std::string host = listen.substr(0, listen.rfind(':'));
  return host == "localhost" || absl::StartsWith(host, "127.") || host == "[::1]" ||
         absl::StartsWith(host, "unix:");
}

absl::StatusOr<std::unique_ptr<Server>> Server::Start(Engine* engine, ServerOptions options) {
  if (options.auth.open() && (!IsLoopback(options.listen) ||
                              (!options.http_listen.empty() && !IsLoopback(options.http_listen)))) {
    return absl::FailedPreconditionError(
        "refusing to serve without tokens on a non-loopback address: give --tokens-file "
        "(or --write-token/--read-token), or listen on 127.0.0.1");
  }
  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
  if (!options.tls_cert_file.empty() || !options.tls_key_file.empty()) {
    auto cert = ReadFile(options.tls_cert_file);
    auto key = ReadFile(options.tls_key_file);
    if (!cert.ok()) return absl::InvalidArgumentError(absl::StrCat("--tls-cert: ", cert.status().message()));
    if (!key.ok()) return absl::InvalidArgumentError(absl::StrCat("--tls-key: ", key.status().message()));
    grpc::SslServerCredentialsOptions ssl;
    ssl.pem_key_cert_pairs.push_back({*key, *cert});
    credentials = grpc::SslServerCredentials(ssl);
  }

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  auto server = std::unique_ptr<Server>(new Server());
  server->options_ = std::move(options);
  const ServerOptions& opts = server->options_;
  server->heavy_ = std::make_unique<Executor>(opts.heavy);
  HeavyWork heavy;
  heavy.executor = server->heavy_.get();
  heavy.after_progress = opts.pairing_after_progress;
  heavy.backup_root = opts.backup_root;
  server->service_ = std::make_unique<PeermatchService>(engine, &opts.auth, std::move(heavy),
                                                        opts.reply_cache_bytes);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(opts.listen, credentials, &server->port_);
  builder.SetMaxReceiveMessageSize(opts.max_receive_bytes);
  builder.RegisterService(server->service_.get());
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> observers;
  observers.push_back(std::make_unique<CallObserverFactory>(&server->metrics_, opts.call_log));
  builder.experimental().SetInterceptorCreators(std::move(observers));
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", opts.listen,
        " (is another server using the port? choose another with --listen)"));
  }
  server->server_->GetHealthCheckService()->SetServingStatus(true);

  if (!opts.http_listen.empty()) {
    HttpOptions http;
    http.listen = opts.http_listen;
    http.cors_origin = opts.cors_origin;
    http.limits = opts.http_limits;
    http.access_log = opts.call_log;
    http.console = opts.console;
    if (opts.metrics_token_required) {
      const Auth* auth = &opts.auth;
      http.metrics_authorization = [auth](absl::string_view authorization) {
        return auth->Check(authorization, Access::kRead);
      };
    }
    auto gauges = [engine]() {
      auto snapshot = engine->snapshot();
      std::map<std::string, double> g;
      g["peermatch_index_cases"] = static_cast<double>(snapshot->index->num_cases());
      // Issue 16: the delta segment and the tombstones a merge folds away.
      g["peermatch_index_delta_cases"] =
          static_cast<double>(snapshot->index->num_positions() - snapshot->index->base()->size());
      g["peermatch_index_tombstones"] = static_cast<double>(snapshot->index->tombstones().size());
      g["peermatch_index_bytes"] = static_cast<double>(snapshot->index->MemoryBytes());
      g["peermatch_model_version"] = static_cast<double>(snapshot->model->version());
      g["peermatch_store_bytes"] = static_cast<double>(engine->store().ApproximateBytes());
      return g;
    };
    auto gateway = HttpGateway::Start(server->InProcessChannel(), &server->metrics_, gauges, http);
    if (!gateway.ok()) {
      server->server_->Shutdown();
      return gateway.status();
    }
    server->http_ = *std::move(gateway);
  }
  return server;
}

std::shared_ptr<grpc::Channel> Server::InProcessChannel() {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  return server_->InProcessChannel(args);
}

Server::~Server() { Shutdown(std::chrono::milliseconds(0)); }

bool Server::Shutdown(std::chrono::milliseconds grace) {
  {
    absl::MutexLock lock(&shutdown_mu_);
    if (shut_down_ || server_ == nullptr) return true;
    shut_down_ = true;
  }
  const auto deadline = std::chrono::system_clock::now() + grace;
  if (http_ != nullptr) http_->Stop();
  server_->GetHealthCheckService()->SetServingStatus(false);
  // Heavy jobs first: each finishes its call as it returns, so that the
  // server's wait below is for light calls only.
  const bool heavy_stopped = heavy_->Shutdown(absl::FromChrono(grace));
  server_->Shutdown(deadline);
  return heavy_stopped;
}

void Server::Wait() { server_->Wait(); }

}  // namespace peermatch
