// Section `delta` (issue 16, item 4: writes that never stall reads): what a
// write costs to publish on a 100,000-case store with the delta segment
// (engine/internal/snapshot_manager.h), against the whole rebuild every
// write paid before (one Index::Build over every case, timed in the same
// run); and Match's p99 over loopback gRPC, on new questions, while an
// import streams into the store, over its p99 on the idle store in the
// same run (bench/README.md).
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/bench_util.h"
#include "bench/sections.h"
#include "bench/startup_bench.h"
#include "engine/engine.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "peermatch/v1/peermatch.grpc.pb.h"
#include "service/server.h"
#include "store/store.h"

namespace peermatch::bench {
namespace {

constexpr size_t kCases = 100000;

// The pristine store: under PEERMATCH_SCALE_DIR (store-100000/store, as
// section `scale` keeps it; built once) or built in a temporary directory.
// The section writes into a copy of it, never into the kept one.
absl::Status PrepareStore(const std::string& work, BenchResults* results) {
  const char* kept_env = std::getenv("PEERMATCH_SCALE_DIR");
  const std::string kept = kept_env != nullptr ? kept_env : "";
  std::filesystem::remove_all(work);
  if (kept.empty()) {
    std::fprintf(stderr, "delta: building a store of %zu cases\n", kCases);
    return BuildServedStore(work, kCases, nullptr);
  }
  const std::string dir = absl::StrCat(kept, "/store-", kCases);
  if (!std::filesystem::exists(dir + "/store-complete")) {
    std::fprintf(stderr, "delta: building a store of %zu cases in %s\n", kCases, dir.c_str());
    double seconds = 0;
    if (absl::Status s = BuildServedStore(dir + "/store", kCases, &seconds); !s.ok()) return s;
    results->SetNumber("scale_store_build_100k_seconds", seconds);
    std::FILE* marker = std::fopen((dir + "/store-complete").c_str(), "w");
    if (marker != nullptr) std::fclose(marker);
  }
  std::filesystem::copy(dir + "/store", work, std::filesystem::copy_options::recursive);
  return absl::OkStatus();
}

// Case `i` of the import: a new synthetic case (ids past the store's).
v1::Case ImportedCase(size_t i) {
  v1::Case c = SyntheticCase(kCases + i);
  c.set_city_id(SyntheticCase(i % kCases).city_id());  // a city the store has
  return c;
}

// Match p99 (and p50) over `questions`, one call at a time.
struct Latency {
  double p50_ms = 0, p99_ms = 0;
  int64_t failures = 0;
};
Latency AskAll(v1::Peermatch::Stub* stub, const std::vector<std::string>& questions) {
  std::vector<double> ms;
  Latency out;
  for (const std::string& q : questions) {
    v1::MatchRequest req;
    req.set_text(q);
    v1::MatchResponse resp;
    grpc::ClientContext ctx;
    const double t0 = NowSeconds();
    if (!stub->Match(&ctx, req, &resp).ok()) ++out.failures;
    ms.push_back((NowSeconds() - t0) * 1e3);
  }
  out.p50_ms = Percentile(ms, 0.5);
  out.p99_ms = Percentile(ms, 0.99);
  return out;
}

}  // namespace

void RunDeltaBench(const BenchOptions& options, BenchResults* results) {
  const std::string work =
      (std::filesystem::temp_directory_path() / "peermatch-delta-bench").string();
  if (absl::Status s = PrepareStore(work, results); !s.ok()) {
    return results->SetString("delta_error", s.ToString());
  }
  StoreOptions so;
  so.sync = false;  // the index's cost, not the disk's
  auto store = Store::Open(work, so);
  if (!store.ok()) return results->SetString("delta_error", store.status().ToString());
  EngineOptions eo;
  // No refits during the section: it measures the index's publication
  // (refits are issue 16 item 3, measured apart).
  eo.background_refit = false;
  eo.refit_min_changes = 1 << 30;
  eo.quiet_refit_seconds = 0;
  eo.refit_at_open = false;
  auto engine = Engine::Open(store->get(), eo);
  if (!engine.ok()) return results->SetString("delta_error", engine.status().ToString());
  Engine& e = **engine;

  // 1. What publishing one write costs. The old way, every write: one
  // Index::Build over every case (what SnapshotManager::PublishUpTo did
  // before the delta segment), timed on the store's own entries and rows.
  {
    const std::shared_ptr<const Snapshot> snap = e.snapshot();
    const Index& base = *snap->index->base();
    std::vector<double> full_ms;
    for (int rep = 0; rep < (options.quick ? 1 : 3); ++rep) {
      std::vector<std::shared_ptr<const IndexEntry>> entries;
      std::vector<const float*> rows;
      uint32_t num_terms = 0;  // the dictionary's size, near enough
      for (uint32_t i = 0; i < base.size(); ++i) {
        entries.push_back(base.shared_entry(i));
        rows.push_back(base.dense_row(i));
        for (const auto& [t, w] : base.entry(i).words) num_terms = std::max(num_terms, t + 1);
        for (const auto& [t, w] : base.entry(i).grams) num_terms = std::max(num_terms, t + 1);
      }
      const double t0 = NowSeconds();
      auto rebuilt = Index::Build(std::move(entries), rows, base.cities(), num_terms,
                                  base.dense_dim());
      full_ms.push_back((NowSeconds() - t0) * 1e3);
    }
    results->SetNumber("write_publish_ms_100k_full_rebuild", Median(full_ms));
  }
  // Now: a write made durable (deferred), then published alone, timed.
  const int singles = options.quick ? 50 : 200;
  std::vector<double> publish_ms;
  size_t next = 0;
  for (int i = 0; i < singles; ++i) {
    if (absl::Status s = e.PutCase(ImportedCase(next++), Visibility::kDeferred).status();
        !s.ok()) {
      return results->SetString("delta_error", s.ToString());
    }
    const double t0 = NowSeconds();
    e.Publish();
    publish_ms.push_back((NowSeconds() - t0) * 1e3);
  }
  results->SetNumber("write_publish_ms_100k", Median(publish_ms));
  results->SetNumber("write_publish_ms_100k_p99", Percentile(publish_ms, 0.99));
  // The most a publish rebuilds: a delta just under the merge threshold
  // (max(1,000, 2% of the base): 2,000 cases here).
  {
    const size_t threshold = std::max<size_t>(eo.merge_min_changes,
                                              static_cast<size_t>(eo.merge_fraction * kCases));
    while (next + 1 < threshold) e.PutCase(ImportedCase(next++), Visibility::kDeferred).IgnoreError();
    e.Publish();
    std::vector<double> at_threshold;
    for (int rep = 0; rep < 5; ++rep) {
      // Replacing a delta case (a new title) keeps the delta's size.
      v1::Case c = ImportedCase(next - 1 - rep);
      c.set_title(c.title() + " revised");
      if (absl::Status s = e.PutCase(c, Visibility::kDeferred).status(); !s.ok()) {
        return results->SetString("delta_error", s.ToString());
      }
      const double t0 = NowSeconds();
      e.Publish();
      at_threshold.push_back((NowSeconds() - t0) * 1e3);
    }
    results->SetInt("write_publish_delta_at_threshold", static_cast<int64_t>(
                        e.snapshot()->index->num_positions() - e.snapshot()->index->base()->size()));
    results->SetNumber("write_publish_ms_100k_at_merge_threshold", Median(at_threshold));
    e.MergeNow();
  }
  std::fprintf(stderr, "delta: publish p50 %.3f ms (full rebuild %s ms)\n",
               Median(publish_ms), results->Raw("write_publish_ms_100k_full_rebuild").c_str());

  // 2. Match p99 over gRPC on the idle store and while an import streams
  // in: phases alternate (idle, import, idle, import) so that the machine's
  // own load weighs on both alike; each question is asked once.
  ServerOptions server_options;
  server_options.listen = "127.0.0.1:0";
  server_options.call_log = nullptr;
  auto server = Server::Start(&e, std::move(server_options));
  if (!server.ok()) return results->SetString("delta_error", server.status().ToString());
  const std::string address = absl::StrCat("127.0.0.1:", (*server)->port());
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto match_stub = v1::Peermatch::NewStub(
      grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args));
  auto import_stub = v1::Peermatch::NewStub(
      grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args));
  const int per_phase = options.quick ? 100 : 300;
  std::mt19937_64 rng(20261201);
  auto questions = [&] {
    std::vector<std::string> qs;
    for (int i = 0; i < per_phase; ++i) {
      qs.push_back(SyntheticText(rng, static_cast<int>(rng() % kSyntheticTopics),
                                 8 + static_cast<int>(rng() % 13)));
    }
    return qs;
  };
  // Warm-up (first-pass caches), not counted.
  AskAll(match_stub.get(), questions());

  // The import: streams of 250 records, back to back, each visible when it
  // ends (the import path publishes once per stream).
  constexpr int kPerStream = 250;
  // The base sizes the importer saw after each stream: how many merges the
  // import caused (the first is the base before it; a merged base holds
  // more cases).
  std::vector<size_t> bases{e.snapshot()->index->base()->size()};
  std::vector<double> idle_p99, import_p99, idle_p50, import_p50;
  int64_t imported = 0, failures = 0;
  double import_seconds = 0;
  for (int round = 0; round < 2; ++round) {
    Latency idle = AskAll(match_stub.get(), questions());
    idle_p99.push_back(idle.p99_ms);
    idle_p50.push_back(idle.p50_ms);
    failures += idle.failures;

    std::atomic<bool> stop{false};
    std::atomic<int64_t> written{0};
    const double t0 = NowSeconds();
    std::thread importer([&] {
      while (!stop.load()) {
        grpc::ClientContext ctx;
        v1::ImportSummary summary;
        auto writer = import_stub->ImportRecords(&ctx, &summary);
        for (int i = 0; i < kPerStream; ++i) {
          v1::ImportRecord record;
          *record.mutable_case_() = ImportedCase(next++);
          if (!writer->Write(record)) break;
        }
        writer->WritesDone();
        if (writer->Finish().ok()) written += summary.cases_written();
        const size_t base = e.snapshot()->index->base()->size();
        if (base != bases.back()) bases.push_back(base);
      }
    });
    Latency busy = AskAll(match_stub.get(), questions());
    stop = true;
    importer.join();
    import_seconds += NowSeconds() - t0;
    imported += written.load();
    import_p99.push_back(busy.p99_ms);
    import_p50.push_back(busy.p50_ms);
    failures += busy.failures;
    std::fprintf(stderr, "delta: round %d: idle p99 %.2f ms, during import p99 %.2f ms (%lld cases)\n",
                 round, idle.p99_ms, busy.p99_ms, static_cast<long long>(written.load()));
  }
  const double idle = std::max(idle_p99[0], idle_p99[1]);
  const double busy = std::max(import_p99[0], import_p99[1]);
  results->SetNumber("match_idle_100k_p99_ms", idle);
  results->SetNumber("match_idle_100k_p50_ms", Median(idle_p50));
  results->SetNumber("match_during_import_100k_p99_ms", busy);
  results->SetNumber("match_during_import_100k_p50_ms", Median(import_p50));
  results->SetNumber("match_p99_during_import_ratio", busy / idle);
  results->SetInt("match_during_import_questions", 2 * per_phase);
  results->SetInt("match_during_import_failures", failures);
  results->SetInt("import_during_match_cases", imported);
  results->SetNumber("import_during_match_cases_per_s", imported / import_seconds);
  results->SetInt("import_during_match_merges", static_cast<int64_t>(bases.size()) - 1);
  (*server)->Shutdown();
  server->reset();
  e.WaitForMerges();
  engine->reset();
  store->reset();
  std::filesystem::remove_all(work);
}

}  // namespace peermatch::bench
