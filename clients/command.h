// The shape shared by the `peermatch` tool's commands.
#ifndef PEERMATCH_CLIENTS_COMMAND_H_
#define PEERMATCH_CLIENTS_COMMAND_H_

#include <functional>
#include <memory>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "clients/args.h"
#include "grpcpp/channel.h"
#include "peermatch/v1/peermatch.grpc.pb.h"

namespace peermatch::cli {

// What every command gets: the global options and its own arguments.
struct Context {
  std::string server;  // --server / PEERMATCH_SERVER
  std::string token;   // --token / PEERMATCH_TOKEN
  bool json = false;   // --json: machine-readable output
  Args args;           // the command's own flags and words

  // The channel to `server`, made on first use, and a stub on it.
  std::shared_ptr<grpc::Channel> Channel();
  v1::Peermatch::Stub& Stub();
  // Attaches the token (when set) and a deadline to a call.
  void Prepare(grpc::ClientContext* ctx, int timeout_seconds = 30) const;

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Peermatch::Stub> stub_;
};

struct Command {
  const char* name;
  const char* summary;                    // one line, for `peermatch --help`
  const char* usage;                      // the command's --help text
  std::set<std::string> flags;            // flags it accepts
  std::set<std::string> boolean_flags;    // of which these take no value
  std::function<absl::Status(Context&)> run;
};

// Turns a failed gRPC call into a Status with a hint for the common cases.
absl::Status FromGrpc(const grpc::Status& s, const std::string& server);

// Commands, grouped by file.
void AddDataCommands(std::vector<Command>* out);    // data_commands.cc
void AddImportCommands(std::vector<Command>* out);  // import_commands.cc
void AddEvalCommands(std::vector<Command>* out);    // eval_command.cc
void AddMatchCommands(std::vector<Command>* out);   // match_commands.cc

}  // namespace peermatch::cli

#endif  // PEERMATCH_CLIENTS_COMMAND_H_
