// FuzzServer: the real server the fuzz targets that drive it share (rpc_fuzz,
// and the HTTP router's): a store over RocksDB in a fresh temporary
// directory (under $TMPDIR; removed at exit), an engine loaded with part of
// the demo data and fitted once (a 16-dimension LSA), and Server::Start on a
// loopback port with a write and a read token and a backup root. Refits are
// off, so that every execution is cheap and the model does not change under
// the fuzzer.
//
// Reset() puts every table back (cities, cases, rounds, judgements, load
// markers, the model) by restarting the server over a fresh copy of the
// store as it was right after loading: a fuzzer's writes would otherwise
// grow the store, and every execution's cost with it, over a long run.
//
// Failures while starting abort (a fuzz target has no other way to fail).
// Thread-safety: construct once (a function-local static); the server is
// then used and reset from the fuzzer's thread, its handlers run on gRPC's
// threads.
#ifndef PEERMATCH_SERVICE_FUZZ_SERVER_H_
#define PEERMATCH_SERVICE_FUZZ_SERVER_H_

#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "engine/engine.h"
#include "google/protobuf/stubs/logging.h"
#include "grpc/support/log.h"
#include "records/records.h"
#include "service/auth.h"
#include "service/server.h"
#include "store/store.h"

#ifndef PEERMATCH_SOURCE_DIR
#error "PEERMATCH_SOURCE_DIR must name the source tree (for data/demo)"
#endif

namespace peermatch::fuzz {

inline constexpr char kWriteToken[] = "fuzz-write-token-0123456789abcdef";
inline constexpr char kReadToken[] = "fuzz-read-token-0123456789abcdef";

[[noreturn]] inline void Fail(const std::string& what) {
  std::fprintf(stderr, "fuzz: %s\n", what.c_str());
  std::abort();
}

template <typename T>
T OrDie(absl::StatusOr<T> v, const char* what) {
  if (!v.ok()) Fail(std::string(what) + ": " + v.status().ToString());
  return *std::move(v);
}

// The pairing budget of the two server targets: a pairing costs many times
// any other call under the sanitizers and the fuzzer learns to reach one, so
// at most one pairing call in `every` goes through as made (the first
// always, so an input replayed alone reproduces); the others are sent with
// a wrong token instead. `now` is the target's count of calls made.
class PairingBudget {
 public:
  explicit PairingBudget(int64_t every) : every_(every) {}
  // Whether the pairing call at `now` may go through with its token.
  bool Allow(int64_t now) {
    if (last_ >= 0 && now - last_ < every_) {
      ++refused_;
      return false;
    }
    last_ = now;
    ++made_;
    return true;
  }
  // "N pairing calls made with their token, M sent with a wrong token (at
  // most one pairing every K calls)", for the target's line at exit.
  std::string Summary(const char* calls) const {
    return std::to_string(made_) + " pairing " + calls + " made with their token, " +
           std::to_string(refused_) + " sent with a wrong token (at most one pairing every " +
           std::to_string(every_) + " " + calls + ")";
  }

 private:
  const int64_t every_;
  int64_t last_ = -1;  // the call count at the last pairing let through
  int64_t made_ = 0;
  int64_t refused_ = 0;
};

class FuzzServer {
 public:
  // Loads every `city_every`-th demo city (and its cases): 3 for rpc_fuzz;
  // the HTTP router's target takes fewer, as its subject is the HTTP layer
  // and each visible write rebuilds the index.
  explicit FuzzServer(int city_every = 3) : city_every_(city_every) {
    ConfigureProcessForServing();
    google::protobuf::SetLogHandler(nullptr);  // one line per malformed request otherwise
    gpr_set_log_verbosity(GPR_LOG_SEVERITY_ERROR);
    std::string tmpl = (std::filesystem::temp_directory_path() / "peermatch-fuzz-XXXXXX");
    if (mkdtemp(tmpl.data()) == nullptr) Fail("mkdtemp failed");
    dir_ = tmpl;
    static std::string* removed_at_exit = new std::string(dir_);
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(*removed_at_exit, ec);
    });
    // The pristine store: loaded and fitted once, then closed; Reset()
    // copies it.
    {
      auto store = OrDie(Store::Open(dir_ + "/pristine", StoreOptionsForFuzzing()), "Store::Open");
      auto engine = OrDie(Engine::Open(store.get(), EngineOptionsForFuzzing()), "Engine::Open");
      LoadDemo(engine.get());
    }
    Reset();
  }
  FuzzServer(const FuzzServer&) = delete;
  FuzzServer& operator=(const FuzzServer&) = delete;

  // The running server. Reset() replaces it: take its InProcessChannel()
  // again after each Reset().
  Server& server() { return *server_; }

  // Stops the server (no call may be in flight), replaces the store with a
  // copy of the pristine one (and empties the backup root), and starts a
  // new server over it. Costs a store and engine open and a server start:
  // ~0.1 s under the sanitizers, so call it every few thousand executions.
  void Reset() {
    Close();
    std::error_code ec;
    std::filesystem::remove_all(dir_ + "/db", ec);
    std::filesystem::remove_all(backup_root(), ec);
    std::filesystem::copy(dir_ + "/pristine", dir_ + "/db", std::filesystem::copy_options::recursive,
                          ec);
    if (ec) Fail("copying the pristine store: " + ec.message());
    std::filesystem::create_directories(backup_root(), ec);
    store_ = OrDie(Store::Open(dir_ + "/db", StoreOptionsForFuzzing()), "Store::Open");
    engine_ = OrDie(Engine::Open(store_.get(), EngineOptionsForFuzzing()), "Engine::Open");
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.call_log = nullptr;
    options.auth.AddToken(Access::kWrite, kWriteToken);
    options.auth.AddToken(Access::kRead, kReadToken);
    options.backup_root = backup_root();
    server_ = OrDie(Server::Start(engine_.get(), std::move(options)), "Server::Start");
  }
  // Stops the server and closes the engine and the store (the fuzz
  // targets call it at exit, so that LeakSanitizer's whole-run check runs
  // with no server thread left and sees what a clean shutdown frees). No
  // call may be in flight; nothing may be used after it but Reset().
  void Stop() { Close(); }
  // The server's backup root: CreateBackup writes only under it.
  std::string backup_root() const { return dir_ + "/backups"; }
  // The temporary directory (the store is in its db/).
  const std::string& dir() const { return dir_; }

 private:
  // A third of the demo's cities (every third line) and their cases: the
  // same kinds of data, at a third of the cost of a pairing or a scan.
  void Close() {
    server_.reset();
    engine_.reset();
    store_.reset();
  }

  static StoreOptions StoreOptionsForFuzzing() {
    StoreOptions options;
    options.sync = false;  // the store is thrown away: no fsync per write
    return options;
  }
  static EngineOptions EngineOptionsForFuzzing() {
    EngineOptions options;
    options.background_refit = false;
    options.refit_min_changes = INT_MAX;
    options.refit_fraction = 1e9;
    // A small LSA model: the same code paths (every case has a dense
    // vector), but the fit takes ~2 s under the sanitizers instead of ~22.
    options.model.dense_dim = 16;
    options.model.svd_power_iters = 1;
    return options;
  }

  void LoadDemo(Engine* engine) {
    absl::flat_hash_set<std::string> cities;
    for (const char* file : {"cities.jsonl", "cases.jsonl"}) {
      const std::string path = std::string(PEERMATCH_SOURCE_DIR) + "/data/demo/" + file;
      const absl::Status s =
          cli::ForEachRecord(path, [&](int line, absl::StatusOr<v1::ImportRecord> r) {
            if (!r.ok()) return r.status();
            if (r->has_city()) {
              if (line % city_every_ != 1) return absl::OkStatus();
              cities.insert(r->city().id());
            } else if (!cities.contains(r->case_().city_id())) {
              return absl::OkStatus();
            }
            return engine->Apply(*r, Visibility::kDeferred).status();
          });
      if (!s.ok()) Fail("loading " + path + ": " + s.ToString());
    }
    if (absl::Status s = engine->Refit(); !s.ok()) Fail("Refit: " + s.ToString());
  }

  const int city_every_;
  std::string dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<Server> server_;
};

}  // namespace peermatch::fuzz

#endif  // PEERMATCH_SERVICE_FUZZ_SERVER_H_
