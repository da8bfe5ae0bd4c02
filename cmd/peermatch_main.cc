// peermatch: the command-line tool for the peermatch service.
#include <cstdio>
#include <cstdlib>
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
      "Usage: peermatch [--server HOST:PORT] [--token T] [--json] COMMAND [ARGS]\n"
      "\n"
      "Global flags (before the command):\n"
      "  --server HOST:PORT  the peermatch server (env PEERMATCH_SERVER; default %s)\n"
      "  --token T           bearer token for servers that require one (env PEERMATCH_TOKEN)\n"
      "  --json              machine-readable JSON instead of tables\n"
      "\n"
      "Commands:\n",
      kDefaultServer);
  for (const auto& c : commands) std::printf("  %-10s %s\n", c.name, c.summary);
  std::printf("\nRun `peermatch COMMAND --help` for a command's flags.\n");
}

}  // namespace

int main(int argc, char** argv) {
  using peermatch::cli::Command;
  std::vector<Command> commands;
  peermatch::cli::AddMatchCommands(&commands);
  peermatch::cli::AddPairCommands(&commands);
  peermatch::cli::AddExportCommands(&commands);
  peermatch::cli::AddImportCommands(&commands);
  peermatch::cli::AddDataCommands(&commands);
  peermatch::cli::AddBackupCommands(&commands);
  peermatch::cli::AddEvalCommands(&commands);

  peermatch::cli::Context ctx;
  const char* env_server = std::getenv("PEERMATCH_SERVER");
  const char* env_token = std::getenv("PEERMATCH_TOKEN");
  ctx.server = env_server != nullptr ? env_server : kDefaultServer;
  ctx.token = env_token != nullptr ? env_token : "";

  // Global flags come before the command.
  int i = 1;
  for (; i < argc && std::string(argv[i]).rfind("--", 0) == 0; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      PrintUsage(commands);
      return 0;
    } else if (flag == "--json") {
      ctx.json = true;
    } else if ((flag == "--server" || flag == "--token") && i + 1 < argc) {
      (flag == "--server" ? ctx.server : ctx.token) = argv[++i];
    } else if (flag.rfind("--server=", 0) == 0) {
      ctx.server = flag.substr(9);
    } else if (flag.rfind("--token=", 0) == 0) {
      ctx.token = flag.substr(8);
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
