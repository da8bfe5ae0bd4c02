// peermatchd: the peermatch server.
#include <chrono>
#include <climits>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <thread>
#include <tuple>

#include "absl/strings/numbers.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/args.h"
#include "engine/engine.h"
#include "service/library_logs.h"
#include "service/server.h"
#include "store/data_dir.h"
#include "store/store.h"
#include "web/console_files.h"

namespace {

constexpr char kUsage[] =
    "peermatchd: the peermatch server. Recommends GNLC peer cities over gRPC.\n"
    "\n"
    "Usage: peermatchd [flags]\n"
    "\n"
    "Every flag has an environment variable that is used when the flag is absent.\n"
    "  --data-dir DIR         RocksDB data directory, created when missing; one process\n"
    "                         at a time (PEERMATCH_DATA_DIR; default var/peermatch)\n"
    "  --listen HOST:PORT     gRPC address (PEERMATCH_LISTEN; default 127.0.0.1:50051)\n"
    "  --http-listen H:P      HTTP/JSON gateway for the portal, or \"off\"\n"
    "                         (PEERMATCH_HTTP_LISTEN; default 127.0.0.1:8080)\n"
    "  --cors-origin ORIGIN   allow this browser origin (or *) on the HTTP gateway\n"
    "                         (PEERMATCH_CORS_ORIGIN)\n"
    "  --http-request-deadline-seconds N   a request's headers and body must arrive\n"
    "                         within N s of the connection opening or of the previous\n"
    "                         response, else 408 (PEERMATCH_HTTP_REQUEST_DEADLINE_SECONDS;\n"
    "                         default 10)\n"
    "  --http-idle-timeout-seconds N   close an HTTP connection silent for N s\n"
    "                         (PEERMATCH_HTTP_IDLE_TIMEOUT_SECONDS; default 5)\n"
    "  --http-max-connections N   open HTTP connections in all; more are closed at once\n"
    "                         (PEERMATCH_HTTP_MAX_CONNECTIONS; default 1024)\n"
    "  --http-max-connections-per-client N   the same, per client address, loopback\n"
    "                         included (PEERMATCH_HTTP_MAX_CONNECTIONS_PER_CLIENT; default 64)\n"
    "  --http-threads N       HTTP requests handled at once (PEERMATCH_HTTP_THREADS;\n"
    "                         default 16)\n"
    "  --http-queue N         complete HTTP requests that may wait for one of those\n"
    "                         threads; more get 503, retry later (PEERMATCH_HTTP_QUEUE;\n"
    "                         default 64)\n"
    "  --metrics-token-required   GET /metrics needs a read or write token\n"
    "                         (PEERMATCH_METRICS_TOKEN_REQUIRED=1); default: open\n"
    "                         HTTP bodies, like gRPC messages, are limited to 4 MiB.\n"
    "  --tokens-file F        bearer tokens, lines `read TOKEN` / `write TOKEN`\n"
    "                         (PEERMATCH_TOKENS_FILE)\n"
    "  --write-token T        a read-write token (PEERMATCH_WRITE_TOKEN)\n"
    "  --read-token T         a read-only token (PEERMATCH_READ_TOKEN)\n"
    "                         Every token has 16+ characters (make one with\n"
    "                         `openssl rand -hex 16`), and one token cannot be both\n"
    "                         read and write: the server refuses to start otherwise.\n"
    "  --backup-root DIR      CreateBackup (`peermatch backup --to`) writes only under\n"
    "                         DIR: a relative --to is taken under it, anything outside\n"
    "                         it is refused, and so is a directory holding files that\n"
    "                         are not peermatch backups (PEERMATCH_BACKUP_ROOT; default\n"
    "                         <data-dir>-backups, e.g. var/peermatch-backups)\n"
    "  --tls-cert F --tls-key F   serve gRPC over TLS with this PEM certificate and key\n"
    "                         (PEERMATCH_TLS_CERT, PEERMATCH_TLS_KEY)\n"
    "  --quiet                no per-call log lines on stderr, and none of gRPC's or\n"
    "                         protobuf's own; without it their lines are rate-limited\n"
    "                         (20 a minute, then one line saying how many were dropped)\n"
    "  --min-free-mb N        refuse to start with less free disk space than this\n"
    "                         (PEERMATCH_MIN_FREE_MB; default 64)\n"
    "  --reply-cache-mb N     memory for replies to repeated Match and SimilarCases\n"
    "                         questions, answered without searching again until the\n"
    "                         next write; 0 turns it off (PEERMATCH_REPLY_CACHE_MB;\n"
    "                         default 64)\n"
    "  --replica-of DIR       serve as a read replica of the writer whose data directory\n"
    "                         is DIR (shared volume); --data-dir then holds only the\n"
    "                         replica's own state (PEERMATCH_REPLICA_OF)\n"
    "  --replica-refresh-ms N how often a replica catches up with the writer\n"
    "                         (PEERMATCH_REPLICA_REFRESH_MS; default 500)\n"
    "  --heavy-threads N      heavy calls (PairCities, CreateBackup) that run at once;\n"
    "                         a pairing scores on two threads (PEERMATCH_HEAVY_THREADS;\n"
    "                         default 2)\n"
    "  --heavy-queue N        heavy calls that may wait for one of those threads; more\n"
    "                         are refused at once with RESOURCE_EXHAUSTED, \"busy, retry\n"
    "                         later\" (PEERMATCH_HEAVY_QUEUE; default 8)\n"
    "  --no-learned-fusion    rank with the default fusion weights even when enough\n"
    "                         judgements (feedback, round decisions) exist to fit them\n"
    "                         (PEERMATCH_NO_LEARNED_FUSION=1); `peermatch stats` says\n"
    "                         which weights are used and why\n"
    "  --shutdown-grace-seconds N   on SIGTERM/SIGINT, how long in-flight calls may take\n"
    "                         to finish (PEERMATCH_SHUTDOWN_GRACE_SECONDS; default 5)\n"
    "  --graph-from-cases N   an HNSW graph for the dense top of a base segment of N\n"
    "                         cases or more (built in the background; about 1.2 KB\n"
    "                         more memory a case; approximate); 0 turns it off\n"
    "                         (PEERMATCH_GRAPH_FROM_CASES; default 0: off)\n"
    "\n"
    "Without tokens every call is allowed, so the server then listens only on\n"
    "loopback. Stops cleanly on SIGTERM or SIGINT: heavy calls are cancelled at once\n"
    "(their clients get CANCELLED), other in-flight calls get the grace period to\n"
    "finish, the store is closed. Should that take more than the grace period plus\n"
    "5 seconds (a backup's copy cannot be cut short), it exits at once, status 1;\n"
    "RocksDB recovers on the next start.\n";

std::string FlagOrEnv(const peermatch::cli::Args& args, const char* flag, const char* env,
                      const char* fallback) {
  if (args.Has(flag)) return args.Get(flag);
  const char* value = std::getenv(env);
  return value != nullptr ? value : fallback;
}

// Reads an integer flag (or its environment variable) in [min, max]; on a
// bad value prints `flag: what` and returns false.
bool IntFlag(const peermatch::cli::Args& args, const char* flag, const char* env,
             const char* fallback, int64_t min, int64_t max, const char* what, int64_t* out) {
  if (absl::SimpleAtoi(FlagOrEnv(args, flag, env, fallback), out) && *out >= min && *out <= max) {
    return true;
  }
  std::fprintf(stderr, "peermatchd: --%s: %s\n", flag, what);
  return false;
}

// Ends the process if it has not stopped `limit` after a stop signal:
// whatever still runs then (a backup's copy, a refit) is cut short.
void ExitIfStillRunning(const absl::Notification& stopped, absl::Duration limit) {
  if (stopped.WaitForNotificationWithTimeout(limit)) return;
  std::fprintf(stderr, "peermatchd: not stopped %s after the signal; exiting now\n",
               absl::FormatDuration(limit).c_str());
  std::fflush(stderr);
  std::_Exit(1);
}

// The tokens (--tokens-file, --write-token, --read-token and their
// variables) and the backup root, checked before anything is opened; on a
// refusal prints why and returns false.
bool ReadAccessFlags(const peermatch::cli::Args& args, const std::string& data_dir,
                     peermatch::ServerOptions* options) {
  const std::string tokens_file = FlagOrEnv(args, "tokens-file", "PEERMATCH_TOKENS_FILE", "");
  if (!tokens_file.empty()) {
    auto auth = peermatch::Auth::FromFile(tokens_file);
    if (!auth.ok()) {
      std::fprintf(stderr, "peermatchd: %s\n", std::string(auth.status().message()).c_str());
      return false;
    }
    options->auth = *std::move(auth);
  }
  for (const auto& [flag, env, access] :
       {std::tuple("write-token", "PEERMATCH_WRITE_TOKEN", peermatch::Access::kWrite),
        std::tuple("read-token", "PEERMATCH_READ_TOKEN", peermatch::Access::kRead)}) {
    const std::string token = FlagOrEnv(args, flag, env, "");
    if (token.empty()) continue;
    const std::string source = args.Has(flag) ? std::string("--") + flag : std::string(env);
    if (absl::Status s = options->auth.AddToken(access, token, source); !s.ok()) {
      std::fprintf(stderr, "peermatchd: %s\n", std::string(s.message()).c_str());
      return false;
    }
  }
  namespace fs = std::filesystem;
  std::string root = FlagOrEnv(args, "backup-root", "PEERMATCH_BACKUP_ROOT", "");
  if (root.empty()) root = data_dir + "-backups";
  options->backup_root = fs::absolute(root).lexically_normal().string();
  const fs::path in_data =
      fs::path(options->backup_root).lexically_relative(fs::absolute(data_dir).lexically_normal());
  if (!in_data.empty() && *in_data.begin() != "..") {
    std::fprintf(stderr, "peermatchd: --backup-root: %s is inside the data directory %s; keep "
                 "backups elsewhere, ideally on another disk\n",
                 options->backup_root.c_str(), data_dir.c_str());
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  peermatch::ConfigureProcessForServing();
  auto args = peermatch::cli::Args::Parse(argc, argv, 1,
                                          {"help", "quiet", "metrics-token-required",
                                           "no-learned-fusion"});
  if (args.ok() && args->Has("help")) {
    std::printf("%s", kUsage);
    return 0;
  }
  absl::Status flags_ok =
      args.ok() ? args->CheckKnown({"data-dir", "listen", "help", "http-listen", "cors-origin",
                                    "tokens-file", "write-token", "read-token", "tls-cert",
                                    "tls-key", "quiet", "replica-of", "replica-refresh-ms",
                                    "min-free-mb", "reply-cache-mb", "heavy-threads",
                                    "heavy-queue", "shutdown-grace-seconds",
                                    "http-request-deadline-seconds", "http-idle-timeout-seconds",
                                    "http-max-connections", "http-max-connections-per-client",
                                    "http-threads", "http-queue", "metrics-token-required",
                                    "backup-root", "no-learned-fusion", "graph-from-cases"})
                : args.status();
  if (flags_ok.ok() && !args->positional().empty()) {
    flags_ok = absl::InvalidArgumentError("unexpected word " + args->positional()[0]);
  }
  if (!flags_ok.ok()) {
    std::fprintf(stderr, "peermatchd: %s\n\n%s", std::string(flags_ok.message()).c_str(), kUsage);
    return 2;
  }

  peermatch::LibraryLogOptions library_logs;
  library_logs.quiet = args->Has("quiet");
  peermatch::RouteLibraryLogs(library_logs);

  // Block SIGINT/SIGTERM in every thread; one thread waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  const std::string data_dir =
      FlagOrEnv(*args, "data-dir", "PEERMATCH_DATA_DIR", "var/peermatch");
  const std::string replica_of = FlagOrEnv(*args, "replica-of", "PEERMATCH_REPLICA_OF", "");
  constexpr int64_t kMax = int64_t{1} << 20;
  int64_t refresh_ms = 500, min_free_mb = 64, reply_cache_mb = 64;
  int64_t heavy_threads = 2, heavy_queue = 8, grace_seconds = 5, graph_from = 0;
  if (!IntFlag(*args, "replica-refresh-ms", "PEERMATCH_REPLICA_REFRESH_MS", "500", 1, INT32_MAX,
               "a positive number of milliseconds", &refresh_ms) ||
      !IntFlag(*args, "min-free-mb", "PEERMATCH_MIN_FREE_MB", "64", 0, INT64_MAX / (1 << 20),
               "a number of MiB", &min_free_mb) ||
      !IntFlag(*args, "reply-cache-mb", "PEERMATCH_REPLY_CACHE_MB", "64", 0, kMax,
               "a number of MiB (0 turns it off)", &reply_cache_mb) ||
      !IntFlag(*args, "heavy-threads", "PEERMATCH_HEAVY_THREADS", "2", 1, 256,
               "a number of threads, 1-256", &heavy_threads) ||
      !IntFlag(*args, "heavy-queue", "PEERMATCH_HEAVY_QUEUE", "8", 0, 100000,
               "a number of waiting calls, 0-100000", &heavy_queue) ||
      !IntFlag(*args, "shutdown-grace-seconds", "PEERMATCH_SHUTDOWN_GRACE_SECONDS", "5", 0, 3600,
               "a number of seconds, 0-3600", &grace_seconds) ||
      !IntFlag(*args, "graph-from-cases", "PEERMATCH_GRAPH_FROM_CASES", "0", 0, INT64_MAX,
               "a number of cases (0 turns the graph off)", &graph_from)) {
    return 2;
  }
  int64_t http_deadline = 10, http_idle = 5, http_connections = 1024, http_per_client = 64;
  int64_t http_threads = 16, http_queue = 64;
  if (!IntFlag(*args, "http-request-deadline-seconds", "PEERMATCH_HTTP_REQUEST_DEADLINE_SECONDS",
               "10", 1, 3600, "a number of seconds, 1-3600", &http_deadline) ||
      !IntFlag(*args, "http-idle-timeout-seconds", "PEERMATCH_HTTP_IDLE_TIMEOUT_SECONDS", "5", 1,
               3600, "a number of seconds, 1-3600", &http_idle) ||
      !IntFlag(*args, "http-max-connections", "PEERMATCH_HTTP_MAX_CONNECTIONS", "1024", 1, 1000000,
               "a number of connections, 1-1000000", &http_connections) ||
      !IntFlag(*args, "http-max-connections-per-client", "PEERMATCH_HTTP_MAX_CONNECTIONS_PER_CLIENT",
               "64", 1, 1000000, "a number of connections, 1-1000000", &http_per_client) ||
      !IntFlag(*args, "http-threads", "PEERMATCH_HTTP_THREADS", "16", 1, 1024,
               "a number of threads, 1-1024", &http_threads) ||
      !IntFlag(*args, "http-queue", "PEERMATCH_HTTP_QUEUE", "64", 0, 100000,
               "a number of waiting requests, 0-100000", &http_queue)) {
    return 2;
  }
  peermatch::ServerOptions options;
  if (!ReadAccessFlags(*args, data_dir, &options)) return 2;
  if (absl::Status s =
          peermatch::CheckDataDirectory(data_dir, static_cast<uint64_t>(min_free_mb) << 20);
      !s.ok()) {
    std::fprintf(stderr, "peermatchd: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  auto store = replica_of.empty() ? peermatch::Store::Open(data_dir)
                                  : peermatch::Store::OpenReplica(replica_of, data_dir);
  if (!store.ok()) {
    std::fprintf(stderr, "peermatchd: cannot open the data directory %s: %s\n", data_dir.c_str(),
                 std::string(store.status().message()).c_str());
    return 1;
  }
  peermatch::EngineOptions engine_options;
  if (!replica_of.empty()) engine_options.replica_refresh_ms = static_cast<int>(refresh_ms);
  if (graph_from > 0) engine_options.graph.min_cases = static_cast<size_t>(graph_from);
  const char* no_learned_env = std::getenv("PEERMATCH_NO_LEARNED_FUSION");
  if (args->Has("no-learned-fusion") ||
      (no_learned_env != nullptr && std::string(no_learned_env) == "1")) {
    engine_options.fusion.enabled = false;
  }
  auto engine = peermatch::Engine::Open(store->get(), engine_options);
  if (!engine.ok()) {
    std::fprintf(stderr, "peermatchd: %s\n", engine.status().ToString().c_str());
    return 1;
  }
  options.listen = FlagOrEnv(*args, "listen", "PEERMATCH_LISTEN", "127.0.0.1:50051");
  options.reply_cache_bytes = static_cast<size_t>(reply_cache_mb) << 20;
  options.heavy.threads = static_cast<int>(heavy_threads);
  options.heavy.queue_capacity = static_cast<int>(heavy_queue);
  options.http_listen = FlagOrEnv(*args, "http-listen", "PEERMATCH_HTTP_LISTEN", "127.0.0.1:8080");
  if (options.http_listen == "off") options.http_listen.clear();
  options.cors_origin = FlagOrEnv(*args, "cors-origin", "PEERMATCH_CORS_ORIGIN", "");
  options.console = peermatch::ConsoleFiles();  // the staff console at / (issue 15)
  options.http_limits.request_deadline_seconds = static_cast<int>(http_deadline);
  options.http_limits.idle_timeout_seconds = static_cast<int>(http_idle);
  options.http_limits.max_connections = static_cast<int>(http_connections);
  options.http_limits.max_connections_per_client = static_cast<int>(http_per_client);
  options.http_limits.worker_threads = static_cast<int>(http_threads);
  options.http_limits.worker_queue = static_cast<int>(http_queue);
  const char* metrics_token_env = std::getenv("PEERMATCH_METRICS_TOKEN_REQUIRED");
  options.metrics_token_required =
      args->Has("metrics-token-required") ||
      (metrics_token_env != nullptr && std::string(metrics_token_env) == "1");
  options.tls_cert_file = FlagOrEnv(*args, "tls-cert", "PEERMATCH_TLS_CERT", "");
  options.tls_key_file = FlagOrEnv(*args, "tls-key", "PEERMATCH_TLS_KEY", "");
  if (args->Has("quiet")) options.call_log = nullptr;
  const bool open = options.auth.open();
  const std::string http = options.http_listen;
  auto server = peermatch::Server::Start(engine->get(), std::move(options));
  if (!server.ok()) {
    std::fprintf(stderr, "peermatchd: %s\n", std::string(server.status().message()).c_str());
    return 1;
  }
  // The address actually bound (port 0 picks a free one).
  const std::string listen = FlagOrEnv(*args, "listen", "PEERMATCH_LISTEN", "127.0.0.1:50051");
  const std::string bound =
      listen.substr(0, listen.rfind(':') + 1) + std::to_string((*server)->port());
  std::printf("peermatchd: serving peermatch.v1.Peermatch on %s (data in %s)\n", bound.c_str(),
              replica_of.empty() ? data_dir.c_str() : replica_of.c_str());
  if (!replica_of.empty()) {
    std::printf("peermatchd: read replica of %s, catching up every %lld ms; writes are refused\n",
                replica_of.c_str(), static_cast<long long>(refresh_ms));
  }
  if (!http.empty()) {
    std::printf("peermatchd: HTTP/JSON on %s%d\n", http.substr(0, http.rfind(':') + 1).c_str(),
                (*server)->http_port());
  }
  if (open) {
    std::printf("peermatchd: no tokens configured: every call is allowed, on loopback only\n");
  }
  std::printf("  try: build/bin/peermatch --server %s match \"pupils without internet during "
              "school closures\"\n",
              bound.c_str());
  std::fflush(stdout);

  const auto grace = std::chrono::seconds(grace_seconds);
  absl::Notification signalled, stopped;
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    std::printf("peermatchd: %s received, cancelling heavy calls, finishing in-flight calls\n",
                sig == SIGTERM ? "SIGTERM" : "SIGINT");
    std::fflush(stdout);
    signalled.Notify();
    if (!(*server)->Shutdown(grace)) {
      std::printf("peermatchd: heavy work still running %llds after it was cancelled\n",
                  static_cast<long long>(grace_seconds));
      std::fflush(stdout);
    }
  });
  std::thread watchdog([&] {
    signalled.WaitForNotification();
    ExitIfStillRunning(stopped, absl::FromChrono(grace) + absl::Seconds(5));
  });
  (*server)->Wait();
  waiter.join();
  server->reset();
  engine->reset();
  store->reset();  // closes RocksDB cleanly
  stopped.Notify();
  watchdog.join();
  std::printf("peermatchd: stopped cleanly\n");
  return 0;
}
