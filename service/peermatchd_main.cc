// peermatchd: the peermatch server.
#include <csignal>
#include <cstdlib>
#include <cstdio>
#include <thread>

#include "clients/args.h"
#include "matcher/engine.h"
#include "service/server.h"
#include "store/store.h"

namespace {

constexpr char kUsage[] =
    "peermatchd: the peermatch server. Recommends GNLC peer cities over gRPC.\n"
    "\n"
    "Usage: peermatchd [--data-dir DIR] [--listen HOST:PORT]\n"
    "\n"
    "  --data-dir DIR      RocksDB data directory, created when missing; one process\n"
    "                      at a time (default var/peermatch; env PEERMATCH_DATA_DIR)\n"
    "  --listen HOST:PORT  gRPC address (default 127.0.0.1:50051; env PEERMATCH_LISTEN)\n"
    "\n"
    "Stops cleanly on SIGTERM or SIGINT: in-flight calls finish, the store is closed.\n";

std::string FlagOrEnv(const peermatch::cli::Args& args, const char* flag, const char* env,
                      const char* fallback) {
  if (args.Has(flag)) return args.Get(flag);
  const char* value = std::getenv(env);
  return value != nullptr ? value : fallback;
}

}  // namespace

int main(int argc, char** argv) {
  auto args = peermatch::cli::Args::Parse(argc, argv, 1, {"help"});
  if (args.ok() && args->Has("help")) {
    std::printf("%s", kUsage);
    return 0;
  }
  absl::Status flags_ok = args.ok() ? args->CheckKnown({"data-dir", "listen", "help"})
                                    : args.status();
  if (flags_ok.ok() && !args->positional().empty()) {
    flags_ok = absl::InvalidArgumentError("unexpected word " + args->positional()[0]);
  }
  if (!flags_ok.ok()) {
    std::fprintf(stderr, "peermatchd: %s\n\n%s", std::string(flags_ok.message()).c_str(), kUsage);
    return 2;
  }

  // Block SIGINT/SIGTERM in every thread; one thread waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  const std::string data_dir =
      FlagOrEnv(*args, "data-dir", "PEERMATCH_DATA_DIR", "var/peermatch");
  auto store = peermatch::Store::Open(data_dir);
  if (!store.ok()) {
    std::fprintf(stderr, "peermatchd: cannot open the data directory %s: %s\n", data_dir.c_str(),
                 std::string(store.status().message()).c_str());
    return 1;
  }
  auto engine = peermatch::Engine::Open(store->get());
  if (!engine.ok()) {
    std::fprintf(stderr, "peermatchd: %s\n", engine.status().ToString().c_str());
    return 1;
  }
  peermatch::ServerOptions options;
  options.listen = FlagOrEnv(*args, "listen", "PEERMATCH_LISTEN", "127.0.0.1:50051");
  auto server = peermatch::Server::Start(engine->get(), options);
  if (!server.ok()) {
    std::fprintf(stderr, "peermatchd: %s\n", std::string(server.status().message()).c_str());
    return 1;
  }
  // The address actually bound (port 0 picks a free one).
  const std::string bound =
      options.listen.substr(0, options.listen.rfind(':') + 1) + std::to_string((*server)->port());
  std::printf("peermatchd: serving peermatch.v1.Peermatch on %s (data in %s)\n", bound.c_str(),
              data_dir.c_str());
  std::printf("  try: build/bin/peermatch --server %s cities\n", bound.c_str());
  std::fflush(stdout);

  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    std::printf("peermatchd: %s received, finishing in-flight calls\n",
                sig == SIGTERM ? "SIGTERM" : "SIGINT");
    std::fflush(stdout);
    (*server)->Shutdown();
  });
  (*server)->Wait();
  waiter.join();
  server->reset();
  engine->reset();
  store->reset();  // closes RocksDB cleanly
  std::printf("peermatchd: stopped cleanly\n");
  return 0;
}
