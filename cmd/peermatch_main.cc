// peermatch: the command-line tool for the peermatch service.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "clients/command.h"
#include "clients/offline/offline_commands.h"

namespace {

constexpr char kDefaultServer[] = "127.0.0.1:50051";

void PrintUsage(const std::vector<peermatch::cli::Command>& commands) {
  std::printf(
      "peermatch: find GNLC peer cities that have solved a given problem.\n"
      "\n"
      "Usage: peermatch [--server HOST:PORT] [--token T] [--tls-ca F] [--json] COMMAND [ARGS]\n"
      "\n"
      "Global flags (before the command):\n"
      "  --server HOST:PORT  the peermatch server (env PEERMATCH_SERVER; default %s)\n"
      "  --token T           bearer token for servers that require one (env PEERMATCH_TOKEN)\n"
      "  --tls-ca FILE       talk TLS, trusting the CA certificate(s) in this PEM file\n"
      "                      (env PEERMATCH_TLS_CA; peermatchd serves TLS with --tls-cert)\n"
      "  --tls-server-name N talk TLS, expecting N in the server's certificate instead of\n"
      "                      the host of --server (env PEERMATCH_TLS_SERVER_NAME); alone,\n"
      "                      it trusts the system's CAs\n"
      "  --json              machine-readable JSON instead of tables\n"
      "\n"
      "Commands:\n",
      kDefaultServer);
  for (const auto& c : commands) std::printf("  %-10s %s\n", c.name, c.summary);
  std::printf("\nRun `peermatch COMMAND --help` for a command's flags.\n");
}

// The global flags that take a value: where `flag` ("--server" or
// "--server=...") stores it, or null for any other flag.
std::string* GlobalValue(const std::string& flag, peermatch::cli::Context* ctx,
                         std::string* tls_ca) {
  const std::string name = flag.substr(0, flag.find('='));
  if (name == "--server") return &ctx->server;
  if (name == "--token") return &ctx->token;
  if (name == "--tls-ca") return tls_ca;
  if (name == "--tls-server-name") return &ctx->tls_server_name;
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  using peermatch::cli::Command;
  std::vector<Command> commands;
  peermatch::cli::AddMatchCommands(&commands);
  peermatch::cli::AddPairCommands(&commands);
  peermatch::cli::AddRoundCommands(&commands);
  peermatch::cli::AddExportCommands(&commands);
  peermatch::cli::AddImportCommands(&commands);
  peermatch::cli::AddDataCommands(&commands);
  peermatch::cli::AddFeedbackCommands(&commands);
  peermatch::cli::AddBackupCommands(&commands);
  peermatch::cli::AddEvalCommands(&commands);

  peermatch::cli::Context ctx;
  const char* env_server = std::getenv("PEERMATCH_SERVER");
  const char* env_token = std::getenv("PEERMATCH_TOKEN");
  ctx.server = env_server != nullptr ? env_server : kDefaultServer;
  ctx.token = env_token != nullptr ? env_token : "";
  const char* env_ca = std::getenv("PEERMATCH_TLS_CA");
  const char* env_name = std::getenv("PEERMATCH_TLS_SERVER_NAME");
  std::string tls_ca = env_ca != nullptr ? env_ca : "";
  ctx.tls_server_name = env_name != nullptr ? env_name : "";

  // Global flags come before the command.
  int i = 1;
  for (; i < argc && std::string(argv[i]).rfind("--", 0) == 0; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      PrintUsage(commands);
      return 0;
    } else if (flag == "--json") {
      ctx.json = true;
    } else if (std::string* value = GlobalValue(flag, &ctx, &tls_ca); value != nullptr) {
      if (flag.find('=') != std::string::npos) {
        *value = flag.substr(flag.find('=') + 1);
      } else if (i + 1 < argc) {
        *value = argv[++i];
      } else {
        std::fprintf(stderr, "peermatch: %s needs a value (see peermatch --help)\n", flag.c_str());
        return 2;
      }
    } else {
      std::fprintf(stderr, "peermatch: unknown global flag %s (see peermatch --help)\n",
                   flag.c_str());
      return 2;
    }
  }
  if (i >= argc) {
    PrintUsage(commands);
    return 2;
  }
  if (!tls_ca.empty()) {
    std::ifstream in(tls_ca, std::ios::binary);
    std::stringstream pem;
    pem << in.rdbuf();
    if (!in || pem.str().find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
      std::fprintf(stderr, "peermatch: --tls-ca: %s is not a readable PEM certificate file\n",
                   tls_ca.c_str());
      return 2;
    }
    ctx.tls_ca_pem = pem.str();
  }
  const std::string name = argv[i];
  const Command* command = nullptr;
  for (const auto& c : commands) {
    if (name == c.name) command = &c;
  }
  if (command == nullptr) {
    std::fprintf(stderr, "peermatch: unknown command \"%s\" (see peermatch --help)\n",
                 name.c_str());
    return 2;
  }
  std::set<std::string> booleans = command->boolean_flags;
  booleans.insert({"help", "json"});
  auto args = peermatch::cli::Args::Parse(argc, argv, i + 1, booleans);
  if (!args.ok()) {
    std::fprintf(stderr, "peermatch %s: %s\n", command->name,
                 std::string(args.status().message()).c_str());
    return 2;
  }
  if (args->Has("help")) {
    std::printf("%s", command->usage);
    return 0;
  }
  std::set<std::string> known = command->flags;
  known.insert({"help", "json"});
  if (auto s = args->CheckKnown(known); !s.ok()) {
    std::fprintf(stderr, "peermatch %s: %s\n%s", command->name,
                 std::string(s.message()).c_str(), command->usage);
    return 2;
  }
  if (args->Has("json")) ctx.json = true;
  ctx.args = *std::move(args);
  absl::Status status = command->run(ctx);
  if (!status.ok()) {
    std::fprintf(stderr, "peermatch %s: %s\n", command->name,
                 std::string(status.message()).c_str());
    return 1;
  }
  return 0;
}
