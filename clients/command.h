// The shape shared by the `peermatch` tool's commands.
#ifndef PEERMATCH_CLIENTS_COMMAND_H_
#define PEERMATCH_CLIENTS_COMMAND_H_

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/args.h"
#include "grpcpp/channel.h"
#include "peermatch/v1/peermatch.grpc.pb.h"
#include "records/enums.h"

namespace peermatch::cli {

// What every command gets: the global options and its own arguments.
struct Context {
  std::string server;  // --server / PEERMATCH_SERVER
  std::string token;   // --token / PEERMATCH_TOKEN
  bool json = false;   // --json: machine-readable output
  // TLS: used when either is set. tls_ca_pem holds the PEM of the CA that
  // signed the server's certificate (--tls-ca FILE / PEERMATCH_TLS_CA;
  // empty: the system's roots); tls_server_name is the name to expect in
  // that certificate instead of the host in `server` (--tls-server-name /
  // PEERMATCH_TLS_SERVER_NAME).
  std::string tls_ca_pem;
  std::string tls_server_name;
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

// An enum value from a flag, in the short forms of records/enums.h
// ("workplace", "learning-technologies", "THEME_WORKPLACE"). INVALID_ARGUMENT
// naming the flag and listing the valid values otherwise.
template <typename Enum>
absl::StatusOr<Enum> ParseEnum(const std::string& flag, const std::string& value) {
  return ParseEnumValue<Enum>("--" + flag, value);
}

// How strong a pair (or a match) is, from its score, in standard deviations
// above the query's candidates (see ScoreParts in peermatch.proto): "strong"
// from kStrongScore, "good" from kGoodScore, "weak" below, the score rounded
// to two decimals first (as every output prints it). On the demo data
// (`pair --k 3 --capacity 3 --exclude-same-country`) 122 of the 243 pairs
// are strong, 101 good and 20 weak. Every output that labels a score uses it.
inline constexpr double kStrongScore = 4.0;
inline constexpr double kGoodScore = 2.0;
const char* Strength(double score);

// Every city the server holds, by id (ListCities, every page). A failed
// call as FromGrpc made it.
absl::StatusOr<std::map<std::string, v1::City>> AllCities(Context& ctx);

// "Name (CC)" of city `id`, or the id itself when `cities` lacks it.
std::string CityLabel(const std::map<std::string, v1::City>& cities, const std::string& id);

// `s` fitted to `width` characters (UTF-8 code points): cut with "..." when
// longer, padded with spaces when shorter. For aligned tables.
std::string Fit(absl::string_view s, size_t width);

// `s` as a JSON string literal, quotes included.
std::string JsonString(absl::string_view s);

// Turns a failed gRPC call into a Status with a hint for the common cases.
absl::Status FromGrpc(const grpc::Status& s, const std::string& server);

// The commands that only talk to a server, grouped by file. Those that can
// open a data directory in this process (import, backup, restore, backups,
// eval) are in clients/offline/offline_commands.h.
void AddDataCommands(std::vector<Command>* out);    // data_commands.cc
void AddFeedbackCommands(std::vector<Command>* out);  // feedback_command.cc (issue 14)
void AddExportCommands(std::vector<Command>* out);  // import_commands.cc
void AddMatchCommands(std::vector<Command>* out);   // match_commands.cc
void AddPairCommands(std::vector<Command>* out);    // pair_command.cc
void AddRoundCommands(std::vector<Command>* out);   // round_commands.cc

}  // namespace peermatch::cli

#endif  // PEERMATCH_CLIENTS_COMMAND_H_
