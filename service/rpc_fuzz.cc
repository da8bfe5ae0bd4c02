// libFuzzer target: every gRPC method of the server, with arbitrary request
// bytes, through the real handlers.
//
// Once per process: a real server (fuzz_server.h: store over RocksDB in a
// temporary directory, engine, service, health check) with a write and a
// read token, loaded with the demo data. Each input (rpc_fuzz_input.h) is
// one call over the server's in-process channel, made with a generic stub so
// that the server parses the bytes itself. A call may fail with any status;
// the target checks that the server neither crashes nor trips a sanitizer,
// nor hangs, and that it still answers a health check (every 64 calls).
//
// To keep each execution cheap and the machine safe: refits are off (see
// fuzz_server.h), a method that pairs runs a pairing at most once every 32
// calls (sent with a wrong token in between), a CreateBackup's directory is replaced by one of four
// under the server's backup root (an empty one is kept, to reach its check),
// and the server is reset to the demo data every kResetEvery calls, so that
// the fuzzed writes (cities, cases, rounds, judgements, backups) do not grow
// the store and the cost of each call with it.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/notification.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/support/byte_buffer.h"
#include "peermatch/v1/peermatch.pb.h"
#include "service/fuzz_server.h"
#include "service/rpc_fuzz_input.h"

namespace peermatch::fuzz {
namespace {

class RpcFuzzer {
 public:
  RpcFuzzer() {
    Connect();

    methods_ = FuzzedMethods();
    for (const auto* m : methods_) {
      if (m->name() == "Check") health_ = m;
    }
    if (health_ == nullptr) Fail("no health check method");
  }

  // Makes the call `data` describes; aborts when the server stops answering.
  void Call(const uint8_t* data, size_t size) {
    if (size < 2) return;
    const auto& method = *methods_[data[0] % methods_.size()];
    auto credentials = static_cast<Credentials>(data[1] % 4);
    const absl::string_view payload(reinterpret_cast<const char*>(data + 2), size - 2);
    std::vector<std::string> messages;
    if (method.client_streaming()) {
      // Up to the first message that does not parse, included: the server
      // ends the call there, and a client that went on writing would wait
      // for its deadline (gRPC holds the Write).
      const google::protobuf::Message* prototype =
          google::protobuf::MessageFactory::generated_factory()->GetPrototype(
              method.input_type());
      std::unique_ptr<google::protobuf::Message> parsed(prototype->New());
      for (absl::string_view m : SplitMessages(payload)) {
        messages.emplace_back(m);
        if (!parsed->ParseFromArray(m.data(), static_cast<int>(m.size()))) break;
      }
    } else {
      messages.emplace_back(payload);
    }
    if (method.name() == "CreateBackup") messages[0] = ConfineBackup(messages[0]);
    // A pairing costs many times any other call under the sanitizers, and
    // the fuzzer learns to reach one (the rate of a long run fell from 650
    // to under 200 calls a second as its corpus grew): a call of a method
    // that pairs, with a token that would let it, goes through as made at
    // most once every 32 calls; in between it is sent with a
    // wrong token (the server parses and refuses it). The first always goes
    // through, so an input replayed alone reproduces.
    if (Pairs(method.name()) &&
        (credentials == Credentials::kWrite || credentials == Credentials::kRead)) {
      if (!pairings_.Allow(calls_)) credentials = Credentials::kWrong;
    }
    if (calls_ > 0 && calls_ % ResetEvery() == 0) {
      stub_.reset();
      channel_.reset();
      server_.Reset();
      Connect();
    }
    Invoke(method, credentials, messages);

    // The server must go on answering. (Every call, checked each time,
    // would double the cost of the cheap ones; a call that hangs is caught
    // by libFuzzer's -timeout.)
    if (++calls_ % kHealthEvery == 0) {
      const grpc::Status health = Invoke(*health_, Credentials::kRead, {""});
      if (!health.ok()) Fail("the health check failed: " + health.error_message());
    }
  }

  // Closes the client side, then stops the server (at exit), and says how
  // many pairing calls went through.
  void Stop() {
    std::fprintf(stderr, "rpc_fuzz: %lld calls; %s\n", static_cast<long long>(calls_),
                 pairings_.Summary("calls").c_str());
    stub_.reset();
    channel_.reset();
    server_.Stop();
  }

 private:
  void Connect() {
    channel_ = server_.server().InProcessChannel();
    stub_ = std::make_unique<grpc::GenericStub>(channel_);
  }

  // A backup goes to one of four directories under the server's backup
  // root, whatever it names.
  std::string ConfineBackup(const std::string& bytes) {
    v1::CreateBackupRequest request;
    if (!request.ParseFromString(bytes) || request.to_dir().empty()) return bytes;
    request.set_to_dir(server_.backup_root() + "/" +
                       std::to_string(static_cast<uint8_t>(request.to_dir()[0]) % 4));
    return request.SerializeAsString();
  }

  // One call, as a generic stream (which serves unary and streaming methods
  // alike): the messages, half-close, every reply, the status.
  grpc::Status Invoke(const google::protobuf::MethodDescriptor& method,
                      Credentials credentials, const std::vector<std::string>& messages) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    switch (credentials) {
      case Credentials::kWrite:
        ctx.AddMetadata("authorization", std::string("Bearer ") + kWriteToken);
        break;
      case Credentials::kRead:
        ctx.AddMetadata("authorization", std::string("Bearer ") + kReadToken);
        break;
      case Credentials::kWrong:
        ctx.AddMetadata("authorization", "Bearer not-a-token-of-this-server");
        break;
      case Credentials::kNone:
        break;
    }
    if (!method.client_streaming() && !method.server_streaming()) {
      return InvokeUnary(&ctx, method, messages.empty() ? "" : messages[0]);
    }
    grpc::CompletionQueue cq;
    auto call = stub_->PrepareCall(&ctx, WireName(method), &cq);
    call->StartCall(Tag(1));
    bool ok = Wait(&cq);
    for (size_t i = 0; ok && i < messages.size(); ++i) {
      grpc::Slice slice(messages[i]);
      grpc::ByteBuffer buffer(&slice, 1);
      if (i + 1 < messages.size()) {
        call->Write(buffer, Tag(2));
      } else {
        call->WriteLast(buffer, grpc::WriteOptions(), Tag(2));  // and half-close
      }
      ok = Wait(&cq);
    }
    if (ok && messages.empty()) {
      call->WritesDone(Tag(3));
      ok = Wait(&cq);
    }
    // Replies, until the server ends the stream (or the call failed).
    for (grpc::ByteBuffer reply; ok;) {
      call->Read(&reply, Tag(4));
      ok = Wait(&cq);
    }
    grpc::Status status;
    call->Finish(&status, Tag(5));
    Wait(&cq);
    cq.Shutdown();
    void* tag;
    while (cq.Next(&tag, &ok)) {
    }
    return status;
  }

  // A unary call, on the generic stub's callback API.
  grpc::Status InvokeUnary(grpc::ClientContext* ctx,
                           const google::protobuf::MethodDescriptor& method,
                           const std::string& message) {
    grpc::Slice slice(message);
    grpc::ByteBuffer request(&slice, 1), reply;
    absl::Notification done;
    grpc::Status status;
    stub_->UnaryCall(ctx, WireName(method), grpc::StubOptions(), &request, &reply,
                     [&](grpc::Status s) {
                       status = std::move(s);
                       done.Notify();
                     });
    done.WaitForNotification();
    return status;
  }

  static void* Tag(intptr_t n) { return reinterpret_cast<void*>(n); }
  static bool Wait(grpc::CompletionQueue* cq) {
    void* tag = nullptr;
    bool ok = false;
    if (!cq->Next(&tag, &ok)) Fail("the completion queue shut down");
    return ok;
  }

  static constexpr int kHealthEvery = 64;
  static bool Pairs(const std::string& method) {
    return method == "PairCities" || method == "CreateRound" ||
           method == "CreateRoundWithProgress" || method == "RematchRound";
  }
  PairingBudget pairings_{32};
  static constexpr int kResetEvery = 2000;
  // PEERMATCH_FUZZ_RESET_EVERY overrides kResetEvery (to test the restarts).
  static int64_t ResetEvery() {
    static const int64_t every = [] {
      const char* env = std::getenv("PEERMATCH_FUZZ_RESET_EVERY");
      const long long n = env == nullptr ? 0 : std::atoll(env);
      return n > 0 ? static_cast<int64_t>(n) : int64_t{kResetEvery};
    }();
    return every;
  }
  FuzzServer server_;
  std::shared_ptr<grpc::Channel> channel_;
  int64_t calls_ = 0;
  std::unique_ptr<grpc::GenericStub> stub_;
  std::vector<const google::protobuf::MethodDescriptor*> methods_;
  const google::protobuf::MethodDescriptor* health_ = nullptr;
};

}  // namespace
}  // namespace peermatch::fuzz

namespace {
peermatch::fuzz::RpcFuzzer* fuzzer = nullptr;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (fuzzer == nullptr) {
    fuzzer = new peermatch::fuzz::RpcFuzzer();
    // Stopped at exit rather than left running, so that the whole-run leak
    // check sees a server that has shut down. Registered once the server has
    // started, so that it runs before the destructors of the statics that
    // the start created (RocksDB's, gRPC's).
    std::atexit([] { fuzzer->Stop(); });
  }
  fuzzer->Call(data, size);
  return 0;
}
