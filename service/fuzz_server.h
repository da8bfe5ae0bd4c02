// FuzzServer: the real server the fuzz targets that drive it share (rpc_fuzz,
// and the HTTP router's): a store over RocksDB in a fresh temporary
// directory (under $TMPDIR; removed at exit), an engine loaded with a third
// of the demo data and fitted once (a 16-dimension LSA), and Server::Start on a loopback port with a write
// and a read token. Refits are off, so that every execution is cheap and
// the model does not change under the fuzzer.
//
// Failures while starting abort (a fuzz target has no other way to fail).
// Thread-safety: construct once (a function-local static); the server is
// then used from the fuzzer's thread, its handlers run on gRPC's threads.
#ifndef PEERMATCH_SERVICE_FUZZ_SERVER_H_
#define PEERMATCH_SERVICE_FUZZ_SERVER_H_

#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

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
    StoreOptions store_options;
    store_options.sync = false;
    store_ = OrDie(Store::Open(dir_ + "/db", store_options), "Store::Open");
    EngineOptions engine_options;
    engine_options.background_refit = false;
    engine_options.refit_min_changes = INT_MAX;
    engine_options.refit_fraction = 1e9;
    // A small LSA model: the same code paths (every case has a dense
    // vector), but the fit takes ~2 s under the sanitizers instead of ~22.
    engine_options.model.dense_dim = 16;
    engine_options.model.svd_power_iters = 1;
    engine_ = OrDie(Engine::Open(store_.get(), engine_options), "Engine::Open");
    LoadDemo();
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.call_log = nullptr;
    options.auth.AddToken(Access::kWrite, kWriteToken);
    options.auth.AddToken(Access::kRead, kReadToken);
    server_ = OrDie(Server::Start(engine_.get(), std::move(options)), "Server::Start");
  }
  FuzzServer(const FuzzServer&) = delete;
  FuzzServer& operator=(const FuzzServer&) = delete;

  Server& server() { return *server_; }

  // Puts the data back as LoadDemo() left it: removes every city and case
  // the fuzzed calls created and re-applies the loaded records over any they
  // changed or deleted, through the engine (so the index follows). A target
  // whose writes would otherwise grow the store without bound (every
  // visible write rebuilds the index: the cost of an execution grows with
  // it) calls this every few hundred executions.
  void Restore() {
    absl::flat_hash_set<std::string> city_ids, case_ids;
    for (const v1::ImportRecord& r : loaded_) {
      if (r.has_city()) city_ids.insert(r.city().id());
      if (r.has_case_()) case_ids.insert(r.case_().id());
    }
    std::vector<std::string> extra_cases, extra_cities;
    bool more = false;
    auto cases = OrDie(store_->ListCases("", "", SIZE_MAX, nullptr, &more), "ListCases");
    for (const v1::Case& c : cases) {
      if (!case_ids.contains(c.id())) extra_cases.push_back(c.id());
    }
    auto cities = OrDie(store_->ListCities("", SIZE_MAX, nullptr, &more), "ListCities");
    for (const v1::City& c : cities) {
      if (!city_ids.contains(c.id())) extra_cities.push_back(c.id());
    }
    for (const std::string& id : extra_cases) {
      if (absl::Status s = engine_->DeleteCase(id); !s.ok()) Fail("DeleteCase: " + s.ToString());
    }
    for (const std::string& id : extra_cities) {
      if (auto n = engine_->DeleteCity(id, /*cascade=*/true); !n.ok()) {
        Fail("DeleteCity: " + n.status().ToString());
      }
    }
    for (const v1::ImportRecord& r : loaded_) {
      if (auto put = engine_->Apply(r, Visibility::kDeferred); !put.ok()) {
        Fail("Apply: " + put.status().ToString());
      }
    }
    engine_->Publish();
  }
  // The temporary directory (the store is in its db/).
  const std::string& dir() const { return dir_; }

 private:
  // A third of the demo's cities (every third line) and their cases: the
  // same kinds of data, at a third of the cost of a pairing or a scan.
  void LoadDemo() {
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
            loaded_.push_back(*r);
            return engine_->Apply(*r, Visibility::kDeferred).status();
          });
      if (!s.ok()) Fail("loading " + path + ": " + s.ToString());
    }
    if (absl::Status s = engine_->Refit(); !s.ok()) Fail("Refit: " + s.ToString());
  }

  const int city_every_;
  std::vector<v1::ImportRecord> loaded_;  // what LoadDemo() applied, in order
  std::string dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<Server> server_;
};

}  // namespace peermatch::fuzz

#endif  // PEERMATCH_SERVICE_FUZZ_SERVER_H_
