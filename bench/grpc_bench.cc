#include "bench/grpc_bench.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/bench_util.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "engine/engine.h"
#include "engine/query.h"
#include "peermatch/v1/peermatch.grpc.pb.h"
#include "service/server.h"
#include "store/store.h"

namespace peermatch::bench {
namespace {

using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

struct Load_ {
  double qps = 0, p50_ms = 0, p99_ms = 0;
  int64_t calls = 0, failures = 0;
};

// Runs `call` from `threads` client threads for `seconds`.
template <typename Call>
Load_ Drive(int threads, double seconds, Call call) {
  std::atomic<bool> stop{false};
  std::vector<std::vector<double>> latencies(threads);
  std::atomic<int64_t> failures{0};
  std::vector<std::thread> workers;
  const auto start = Clock::now();
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int64_t i = 0; !stop.load(); ++i) {
        const auto t0 = Clock::now();
        if (!call(t, i)) ++failures;
        latencies[t].push_back(Since(t0) * 1e3);
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& w : workers) w.join();
  const double elapsed = Since(start);
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  Load_ r;
  r.calls = static_cast<int64_t>(all.size());
  r.failures = failures.load();
  r.qps = all.size() / elapsed;
  if (!all.empty()) {
    r.p50_ms = Percentile(all, 0.5);
    r.p99_ms = Percentile(all, 0.99);
  }
  return r;
}

std::string F(double v, int decimals = 3) { return absl::StrFormat("%.*f", decimals, v); }

}  // namespace

void RunGrpcBench(bool quick, std::vector<std::pair<std::string, std::string>>* keys) {
  const int cities = 2000;  // 10,000 cases
  const double seconds = quick ? 2.0 : 8.0;
  const int client_threads = 2;
  std::mt19937 rng(20261125);
  const std::string dir =
      (std::filesystem::temp_directory_path() / "peermatch-grpc-bench").string();
  std::filesystem::remove_all(dir);

  const uint64_t rss_before = ResidentBytes();
  StoreOptions so;
  so.sync = false;
  auto store = *Store::Open(dir, so);
  EngineOptions eo;
  eo.background_refit = false;
  eo.refit_min_changes = 1 << 30;
  auto engine = *Engine::Open(store.get(), eo);
  LoadTopicCorpus(*engine, cities, rng);
  engine->snapshot();
  const uint64_t rss_loaded = ResidentBytes();
  const double index_bytes = static_cast<double>(engine->snapshot()->index->MemoryBytes());

  // Start-up: reopen the store and the engine from disk (what peermatchd
  // does before it serves), timed.
  engine.reset();
  store.reset();
  auto t = Clock::now();
  store = *Store::Open(dir, so);
  EngineOptions serve;
  serve.background_refit = false;
  engine = *Engine::Open(store.get(), serve);
  engine->snapshot();
  const double startup_s = Since(t);

  ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.call_log = nullptr;
  auto server = *Server::Start(engine.get(), std::move(options));
  const std::string address = absl::StrCat("127.0.0.1:", server->port());
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  std::vector<std::unique_ptr<v1::Peermatch::Stub>> stubs;
  std::vector<std::unique_ptr<grpc::health::v1::Health::Stub>> health;
  for (int i = 0; i < client_threads; ++i) {
    auto channel = grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
    stubs.push_back(v1::Peermatch::NewStub(channel));
    health.push_back(grpc::health::v1::Health::NewStub(channel));
  }
  // Queries: 1,000 distinct challenges, as the portal's city pages ask them.
  std::vector<std::string> queries;
  for (int i = 0; i < 1000; ++i) queries.push_back(Sentence(rng, static_cast<int>(rng() % 10), 25));

  auto empty = Drive(client_threads, seconds, [&](int t, int64_t) {
    grpc::ClientContext ctx;
    grpc::health::v1::HealthCheckResponse resp;
    return health[t]->Check(&ctx, grpc::health::v1::HealthCheckRequest(), &resp).ok();
  });
  // Every call a question not asked before: the cache never helps.
  std::atomic<int64_t> fresh{0};
  auto uncached = Drive(client_threads, seconds, [&](int t, int64_t) {
    grpc::ClientContext ctx;
    v1::MatchRequest req;
    req.set_text(absl::StrCat(queries[fresh % queries.size()], " variant ", fresh++));
    v1::MatchResponse resp;
    return stubs[t]->Match(&ctx, req, &resp).ok();
  });
  // The portal's pattern: the same 1,000 questions over and over.
  auto repeated = Drive(client_threads, seconds, [&](int t, int64_t i) {
    grpc::ClientContext ctx;
    v1::MatchRequest req;
    req.set_text(queries[(i * client_threads + t) % queries.size()]);
    v1::MatchResponse resp;
    return stubs[t]->Match(&ctx, req, &resp).ok();
  });
  server->Shutdown(std::chrono::milliseconds(100));
  server.reset();

  // The same kind of new questions asked of the engine in this process, one
  // thread, no gRPC: the CPU an uncached Match costs beyond the RPC. Beside
  // it, the most that engine work may cost for match_uncached_qps_fraction_
  // of_empty to reach 0.5 on these cores: an uncached call costs what a
  // cached one does (the reply cache's lookup and the same reply sent and
  // parsed) plus the engine's work, and the cores are shared by the clients
  // and the server alike.
  std::vector<double> engine_ms;
  int64_t engine_failures = 0;
  for (int i = 0; i < 400; ++i) {
    MatchQuery q;
    q.about.text = absl::StrCat(queries[fresh % queries.size()], " variant ", fresh++);
    const double t0 = ThreadCpuSeconds();
    const bool ok = engine->Match(q).ok();
    engine_ms.push_back((ThreadCpuSeconds() - t0) * 1e3);
    if (!ok) ++engine_failures;
  }
  const double cores = std::thread::hardware_concurrency();
  const double budget_ms = 1e3 * (2 * cores / empty.qps - cores / repeated.qps);

  engine.reset();
  store.reset();
  std::filesystem::remove_all(dir);

  keys->emplace_back("grpc_corpus_cases", absl::StrCat(cities * 5));
  keys->emplace_back("grpc_client_threads", absl::StrCat(client_threads));
  keys->emplace_back("empty_rpc_qps", F(empty.qps, 0));
  keys->emplace_back("empty_rpc_p50_ms", F(empty.p50_ms));
  keys->emplace_back("match_qps", F(repeated.qps, 0));
  keys->emplace_back("match_p50_ms", F(repeated.p50_ms));
  keys->emplace_back("match_p99_ms", F(repeated.p99_ms));
  keys->emplace_back("match_qps_fraction_of_empty", F(repeated.qps / empty.qps));
  keys->emplace_back("match_workload",
                     "\"1,000 distinct challenges asked repeatedly (the portal's pattern), "
                     "answered from the reply cache (serialized replies, per index generation) after the first time\"");
  keys->emplace_back("match_uncached_qps", F(uncached.qps, 0));
  keys->emplace_back("match_uncached_p50_ms", F(uncached.p50_ms));
  keys->emplace_back("match_uncached_p99_ms", F(uncached.p99_ms));
  keys->emplace_back("match_uncached_qps_fraction_of_empty", F(uncached.qps / empty.qps));
  keys->emplace_back("match_uncached_engine_cpu_p50_ms", F(Percentile(engine_ms, 0.5)));
  keys->emplace_back("match_uncached_engine_budget_ms_for_half_of_empty", F(budget_ms));
  keys->emplace_back("match_uncached_engine_failed_calls", absl::StrCat(engine_failures));
  keys->emplace_back("grpc_failed_calls",
                     absl::StrCat(empty.failures + uncached.failures + repeated.failures));
  keys->emplace_back("memory_per_case_bytes",
                     F(static_cast<double>(rss_loaded - rss_before) / (cities * 5), 0));
  keys->emplace_back("index_bytes_per_case", F(index_bytes / (cities * 5), 0));
  keys->emplace_back("startup_10k_seconds", F(startup_s));
}

}  // namespace peermatch::bench
