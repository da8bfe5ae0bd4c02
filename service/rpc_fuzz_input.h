// The input format of rpc_fuzz (service/rpc_fuzz.cc), shared with the
// program that writes its seeds (rpc_fuzz_seeds.cc).
//
// An input is one call to the server:
//   byte 0      which method: an index into FuzzedMethods() (modulo its size)
//   byte 1      which credentials (Credentials, modulo 4)
//   bytes 2...  the request's wire bytes, sent as they are (the server
//               parses them). For a client-streaming method, a sequence of
//               messages, each a 2-byte little-endian length and that many
//               bytes (a truncated last one is sent truncated).
//
// The methods come from the generated descriptors, so an RPC added to the
// proto is fuzzed without changing this file.
//
// Thread-safety: pure functions over the immutable generated pool.
#ifndef PEERMATCH_SERVICE_RPC_FUZZ_INPUT_H_
#define PEERMATCH_SERVICE_RPC_FUZZ_INPUT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "grpc/health/v1/health.pb.h"
#include "peermatch/v1/peermatch.pb.h"

namespace peermatch::fuzz {

enum class Credentials : uint8_t { kWrite = 0, kRead = 1, kNone = 2, kWrong = 3 };

// Every method of peermatch.v1.Peermatch in declaration order, then the
// standard health check's Check (not Watch: it streams until cancelled).
// (Found through a message of each file, which also makes sure the linker
// keeps the file's descriptor.)
inline std::vector<const google::protobuf::MethodDescriptor*> FuzzedMethods() {
  std::vector<const google::protobuf::MethodDescriptor*> methods;
  const google::protobuf::ServiceDescriptor* service =
      v1::MatchRequest::descriptor()->file()->FindServiceByName("Peermatch");
  for (int i = 0; service != nullptr && i < service->method_count(); ++i) {
    methods.push_back(service->method(i));
  }
  const google::protobuf::ServiceDescriptor* health =
      grpc::health::v1::HealthCheckRequest::descriptor()->file()->FindServiceByName("Health");
  if (const auto* check = health == nullptr ? nullptr : health->FindMethodByName("Check")) {
    methods.push_back(check);
  }
  return methods;
}

// "/package.Service/Method", as gRPC names it on the wire.
inline std::string WireName(const google::protobuf::MethodDescriptor& method) {
  return "/" + method.service()->full_name() + "/" + method.name();
}

// Splits a client-streaming call's bytes into its messages.
inline std::vector<absl::string_view> SplitMessages(absl::string_view bytes) {
  std::vector<absl::string_view> out;
  while (bytes.size() >= 2) {
    const size_t n = static_cast<uint8_t>(bytes[0]) | static_cast<size_t>(static_cast<uint8_t>(bytes[1])) << 8;
    bytes.remove_prefix(2);
    out.push_back(bytes.substr(0, n));
    bytes.remove_prefix(out.back().size());
  }
  return out;
}

// The input that calls `method` (a name from FuzzedMethods(), e.g.
// "PutCity" or "Check") with `messages` (one unless client-streaming).
// Empty when there is no such method.
inline std::string EncodeInput(absl::string_view method, Credentials credentials,
                               const std::vector<std::string>& messages) {
  const auto methods = FuzzedMethods();
  for (size_t i = 0; i < methods.size(); ++i) {
    if (methods[i]->name() != method) continue;
    std::string out;
    out += static_cast<char>(i);
    out += static_cast<char>(credentials);
    if (!methods[i]->client_streaming()) return out + (messages.empty() ? "" : messages[0]);
    for (const std::string& m : messages) {
      out += static_cast<char>(m.size() & 0xff);
      out += static_cast<char>((m.size() >> 8) & 0xff);
      out += m;
    }
    return out;
  }
  return "";
}

}  // namespace peermatch::fuzz

#endif  // PEERMATCH_SERVICE_RPC_FUZZ_INPUT_H_
