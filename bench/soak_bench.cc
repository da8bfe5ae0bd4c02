// peermatch-soak: holds a fixed Match load on a real server over loopback
// for a long time (10 minutes by default) and reports p99 latency and
// resident memory at the start and at the end, to show that neither drifts.
// A program, not a test.
//
// Usage: peermatch-soak [--seconds 600] [--qps 200] [--cities 2000]

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "bench/bench_util.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "engine/engine.h"
#include "peermatch/v1/peermatch.grpc.pb.h"
#include "service/server.h"
#include "store/store.h"

namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

int main(int argc, char** argv) {
  peermatch::ConfigureProcessForServing();
  int seconds = 600, qps = 200, cities = 2000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    int* target = flag == "--seconds" ? &seconds : flag == "--qps" ? &qps
                  : flag == "--cities" ? &cities : nullptr;
    if (target == nullptr || !absl::SimpleAtoi(argv[i + 1], target) || *target <= 0) {
      std::fprintf(stderr, "usage: peermatch-soak [--seconds 600] [--qps 200] [--cities 2000]\n");
      return 2;
    }
  }
  if (argc % 2 == 0) {
    std::fprintf(stderr, "usage: peermatch-soak [--seconds 600] [--qps 200] [--cities 2000]\n");
    return 2;
  }
  const std::string dir = (std::filesystem::temp_directory_path() / "peermatch-soak").string();
  std::filesystem::remove_all(dir);
  peermatch::StoreOptions so;
  so.sync = false;
  auto store = *peermatch::Store::Open(dir, so);
  peermatch::EngineOptions eo;
  eo.background_refit = false;
  eo.refit_min_changes = 1 << 30;
  auto engine = *peermatch::Engine::Open(store.get(), eo);
  std::mt19937 rng(7);
  peermatch::bench::LoadTopicCorpus(*engine, cities, rng);
  peermatch::ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.call_log = nullptr;
  auto server = *peermatch::Server::Start(engine.get(), std::move(options));
  auto stub = peermatch::v1::Peermatch::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", server->port()), grpc::InsecureChannelCredentials()));
  std::fprintf(stderr, "peermatch-soak: %d cases, %d Match/s for %d s\n", cities * 5, qps, seconds);

  // A paced open loop: one call every 1/qps seconds, half of them repeated
  // questions (cached), half new ones.
  const auto start = Clock::now();
  const auto period = std::chrono::duration<double>(1.0 / qps);
  std::vector<double> first_minute, last_minute;
  uint64_t rss_start = 0, rss_end = 0;
  int64_t failures = 0, calls = 0;
  const double window = std::min(60.0, seconds / 3.0);
  for (int64_t i = 0;; ++i) {
    const auto due = start + std::chrono::duration_cast<Clock::duration>(period * i);
    std::this_thread::sleep_until(due);
    const double t = std::chrono::duration<double>(Clock::now() - start).count();
    if (t >= seconds) break;
    peermatch::v1::MatchRequest req;
    std::mt19937 q(static_cast<uint32_t>(i % 2 == 0 ? i % 500 : i));
    req.set_text(peermatch::bench::Sentence(q, static_cast<int>(q() % 10), 20));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    peermatch::v1::MatchResponse resp;
    const auto t0 = Clock::now();
    if (!stub->Match(&ctx, req, &resp).ok()) ++failures;
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    ++calls;
    if (t < window) first_minute.push_back(ms);
    if (t >= seconds - window) last_minute.push_back(ms);
    if (rss_start == 0 && t >= window) rss_start = peermatch::bench::ResidentBytes();
    if (i % 1000 == 0 && isatty(STDERR_FILENO)) {
      std::fprintf(stderr, "\r%.0f/%d s", t, seconds);
    }
  }
  rss_end = peermatch::bench::ResidentBytes();
  std::printf(
      "{\"seconds\": %d, \"target_qps\": %d, \"calls\": %lld, \"failed_calls\": %lld,\n"
      " \"p99_ms_first_window\": %.3f, \"p99_ms_last_window\": %.3f, \"window_seconds\": %.0f,\n"
      " \"rss_mb_after_first_window\": %.1f, \"rss_mb_at_end\": %.1f}\n",
      seconds, qps, static_cast<long long>(calls), static_cast<long long>(failures),
      peermatch::bench::Percentile(first_minute, 0.99),
      peermatch::bench::Percentile(last_minute, 0.99), window, rss_start / 1e6, rss_end / 1e6);
  server->Shutdown(std::chrono::milliseconds(100));
  server.reset();
  engine.reset();
  store.reset();
  std::filesystem::remove_all(dir);
  return failures == 0 ? 0 : 1;
}
