// TestServer: a real peermatch server (store, engine, gRPC) on a free
// loopback port over a temporary data directory, and a client stub to it.
#ifndef PEERMATCH_TESTS_TESTING_TEST_SERVER_H_
#define PEERMATCH_TESTS_TESTING_TEST_SERVER_H_

#include <memory>
#include <string>

#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "matcher/engine.h"
#include "service/server.h"
#include "store/store.h"
#include "tests/testing/temp_dir.h"

namespace peermatch::testing {

class TestServer {
 public:
  TestServer() {
    auto store = Store::Open(dir_.Sub("db"));
    EXPECT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    auto engine = Engine::Open(store_.get());
    EXPECT_TRUE(engine.ok()) << engine.status();
    engine_ = *std::move(engine);
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    auto server = Server::Start(engine_.get(), options);
    EXPECT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    address_ = "127.0.0.1:" + std::to_string(server_->port());
    channel_ = grpc::CreateChannel(address_, grpc::InsecureChannelCredentials());
    stub_ = v1::Peermatch::NewStub(channel_);
  }
  ~TestServer() {
    server_->Shutdown(std::chrono::milliseconds(100));
    server_.reset();
    engine_.reset();
    store_.reset();
  }

  v1::Peermatch::Stub& stub() { return *stub_; }
  std::shared_ptr<grpc::Channel> channel() { return channel_; }
  const std::string& address() const { return address_; }
  Store& store() { return *store_; }
  Server& server() { return *server_; }

 private:
  TempDir dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<Server> server_;
  std::string address_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Peermatch::Stub> stub_;
};

}  // namespace peermatch::testing

#endif  // PEERMATCH_TESTS_TESTING_TEST_SERVER_H_
