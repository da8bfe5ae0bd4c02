// TestServer: a real peermatch server (store, engine, gRPC, optionally the
// HTTP gateway and tokens) on free loopback ports over a temporary data
// directory, and a client stub to it.
#ifndef PEERMATCH_TESTS_TESTING_TEST_SERVER_H_
#define PEERMATCH_TESTS_TESTING_TEST_SERVER_H_

#include <functional>
#include <memory>
#include <string>

#include "records/records.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "engine/engine.h"
#include "service/server.h"
#include "store/store.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_engine.h"

#ifndef PEERMATCH_SOURCE_DIR
#error "PEERMATCH_SOURCE_DIR must name the source tree"
#endif

namespace peermatch::testing {

inline constexpr char kWriteToken[] = "test-write-token-0123456789";
inline constexpr char kReadToken[] = "test-read-token-0123456789";

struct TestServerOptions {
  bool tokens = false;      // require kWriteToken / kReadToken
  bool http = false;        // start the HTTP gateway
  bool demo_data = false;   // load data/demo before serving
  std::string cors_origin;
  size_t reply_cache_bytes = size_t{64} << 20;  // ServerOptions' default
  // EngineOptions::before_publish_for_test.
  std::function<void()> before_publish;
  // EngineOptions::at_query_check_for_test.
  std::function<void(const QueryStop&)> at_query_check;
  ExecutorOptions heavy;                         // ServerOptions' default
  // ServerOptions::backup_root; empty: "backups" in the server's temporary
  // directory (see TestServer::backup_root()).
  std::string backup_root;
  std::function<void(const Cancellation&)> pairing_after_progress;  // see ServerOptions
  FusionOptions fusion;  // EngineOptions::fusion
};

class TestServer {
 public:
  explicit TestServer(const TestServerOptions& options = {})
      : opened_(dir_.Sub("db"), options.before_publish, options.at_query_check, options.fusion) {
    if (options.demo_data) LoadDemo();
    ServerOptions server_options;
    server_options.listen = "127.0.0.1:0";
    server_options.call_log = nullptr;
    if (options.tokens) {
      EXPECT_TRUE(server_options.auth.AddToken(Access::kWrite, kWriteToken).ok());
      EXPECT_TRUE(server_options.auth.AddToken(Access::kRead, kReadToken).ok());
    }
    if (options.http) server_options.http_listen = "127.0.0.1:0";
    server_options.cors_origin = options.cors_origin;
    server_options.reply_cache_bytes = options.reply_cache_bytes;
    server_options.heavy = options.heavy;
    server_options.pairing_after_progress = options.pairing_after_progress;
    backup_root_ = options.backup_root.empty() ? dir_.Sub("backups") : options.backup_root;
    server_options.backup_root = backup_root_;
    auto server = Server::Start(opened_.engine.get(), std::move(server_options));
    EXPECT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    address_ = "127.0.0.1:" + std::to_string(server_->port());
    grpc::ChannelArguments args;
    args.SetMaxSendMessageSize(64 << 20);
    channel_ = grpc::CreateCustomChannel(address_, grpc::InsecureChannelCredentials(), args);
    stub_ = v1::Peermatch::NewStub(channel_);
  }
  ~TestServer() {
    server_->Shutdown(std::chrono::milliseconds(100));
    server_.reset();
  }

  void LoadDemo() { LoadInto(*opened_.engine); }

  // Loads data/demo into `engine` and fits the model.
  static void LoadInto(Engine& engine) {
    for (const char* file : {"cities.jsonl", "cases.jsonl"}) {
      const std::string path = std::string(PEERMATCH_SOURCE_DIR) + "/data/demo/" + file;
      absl::Status s = cli::ForEachRecord(path, [&](int line, absl::StatusOr<v1::ImportRecord> r) {
        EXPECT_TRUE(r.ok()) << r.status();
        auto applied = engine.Apply(*r, Visibility::kDeferred);
        EXPECT_TRUE(applied.ok()) << applied.status();
        return absl::OkStatus();
      });
      EXPECT_TRUE(s.ok()) << s;
    }
    EXPECT_TRUE(engine.Refit().ok());
  }

  v1::Peermatch::Stub& stub() { return *stub_; }
  std::shared_ptr<grpc::Channel> channel() { return channel_; }
  const std::string& address() const { return address_; }
  Store& store() { return *opened_.store; }
  Engine& engine() { return *opened_.engine; }
  Server& server() { return *server_; }
  const std::string& backup_root() const { return backup_root_; }

 private:
  TempDir dir_;
  TestEngine opened_;
  std::unique_ptr<Server> server_;
  std::string address_;
  std::string backup_root_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Peermatch::Stub> stub_;
};

// Everything the store holds, rendered as one string (records, and the
// vectors of the current model), to compare states before and after.
inline std::string DumpStore(Store& store) {
  std::string out;
  bool more = false;
  auto cities = store.ListCities("", 100000, nullptr, &more);
  for (const auto& c : *cities) out += c.SerializeAsString() + "\n";
  const uint64_t version = *store.CurrentModelVersion();
  absl::Status s = store.ForEachCase([&](const v1::Case& c) {
    out += c.SerializeAsString() + "\n";
    auto v = store.GetVector(version, c.id());
    out += v.ok() ? *v : "no-vector";
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok());
  out += "model " + std::to_string(version);
  return out;
}

}  // namespace peermatch::testing

#endif  // PEERMATCH_TESTS_TESTING_TEST_SERVER_H_
