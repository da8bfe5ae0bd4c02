// Section `import` (issue 16): the rate of a streaming ImportRecords into a
// 100,000-case store (20,000 with --quick) over loopback gRPC, group-committed
// (the server's default, engine/import_writer.h) against one synced write per
// case (today's way before group commit), in the same run on the same store.
//
// The store is the `startup` section's (BuildServedStore), built first,
// untimed, with synced writes as peermatchd has them. Each pass opens it as a
// server does, streams new cases (SyntheticCase of ids past the store's, in
// its cities) and times from the first record sent to the reply, which comes
// after the last group is durable and the one index build that makes them
// matchable. No refit runs meanwhile (the drift rule is out of reach).
//
// PEERMATCH_IMPORT_GROUPS=1,16,64,256,1024 also measures those group sizes
// (keys import_cases_per_s_group_N), for choosing the default.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "bench/bench_util.h"
#include "bench/capacity.h"
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

struct Pass {
  double cases_per_s = 0;
  int64_t written = 0;
  int64_t errors = 0;
};

// Opens the store at `dir` (synced) with imports in groups of `group`
// records, and streams `count` new cases, ids from `first`, through a
// loopback server.
absl::StatusOr<Pass> ImportPass(const std::string& dir, size_t store_cases, int group,
                                size_t first, size_t count) {
  auto store = Store::Open(dir);
  if (!store.ok()) return store.status();
  EngineOptions eo;
  eo.refit_at_open = false;
  eo.background_refit = false;
  eo.refit_min_changes = 1 << 30;
  eo.import_group.max_records = group;
  auto engine = Engine::Open(store->get(), eo);
  if (!engine.ok()) return engine.status();
  (*engine)->snapshot();
  ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.call_log = nullptr;
  auto server = Server::Start(engine->get(), std::move(options));
  if (!server.ok()) return server.status();
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", (*server)->port()),
                                     grpc::InsecureChannelCredentials());
  auto stub = v1::Peermatch::NewStub(channel);

  std::vector<v1::ImportRecord> records(count);
  for (size_t i = 0; i < count; ++i) {
    v1::Case c = SyntheticCase(first + i);
    c.set_city_id(SyntheticCase((first + i) % store_cases).city_id());
    *records[i].mutable_case_() = std::move(c);
  }
  const double t0 = NowSeconds();
  grpc::ClientContext ctx;
  v1::ImportSummary summary;
  auto writer = stub->ImportRecords(&ctx, &summary);
  for (const auto& r : records) {
    if (!writer->Write(r)) break;
  }
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  const double seconds = NowSeconds() - t0;
  (*server)->Shutdown(std::chrono::milliseconds(100));
  if (!status.ok()) return absl::InternalError(status.error_message());
  Pass pass;
  pass.written = summary.cases_written();
  pass.errors = summary.errors_size();
  pass.cases_per_s = static_cast<double>(summary.cases_written()) / seconds;
  return pass;
}

}  // namespace

void RunImportBench(const BenchOptions& options, BenchResults* results) {
  const size_t n = options.quick ? 20000 : 100000;
  const std::string label = SizeLabel(n);
  const std::string dir =
      (std::filesystem::temp_directory_path() / "peermatch-import-bench").string();
  // PEERMATCH_IMPORT_STORE=DIR: start from a copy of a store BuildServedStore
  // made of the same size before (the `scale` section's kept store-N/store),
  // instead of building one (its model fit is most of the section's time on
  // a loaded machine). The copy is written to; DIR is only read. It must come
  // from the same code: Engine::Open re-embeds (one synced write a case) a
  // store whose lexicons changed since.
  if (const char* from = std::getenv("PEERMATCH_IMPORT_STORE")) {
    std::fprintf(stderr, "import: copying the store of %zu cases from %s\n", n, from);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    std::filesystem::copy(from, dir, std::filesystem::copy_options::recursive, ec);
    if (ec) {
      return results->SetString("import_error", absl::StrCat("copying ", from, ": ", ec.message()));
    }
    results->SetString("import_store_copied_from", from);
  } else {
    std::fprintf(stderr, "import: building a store of %zu cases\n", n);
    if (absl::Status s = BuildServedStore(dir, n, nullptr); !s.ok()) {
      return results->SetString("import_error", s.ToString());
    }
  }
  // The capacity plan's figures at this size (capacity_100k_*), before the
  // imports grow the store; PEERMATCH_CAPACITY_REFIT=1 also times a refit.
  CapacityOptions capacity;
  const char* refit = std::getenv("PEERMATCH_CAPACITY_REFIT");
  capacity.refit = refit != nullptr && std::string(refit) == "1";
  MeasureCapacity(dir, n, capacity, results);
  const size_t grouped_count = options.quick ? 2000 : 10000;
  const size_t single_count = options.quick ? 500 : 2000;
  size_t next = n;
  auto run = [&](int group, size_t count) -> absl::StatusOr<Pass> {
    auto pass = ImportPass(dir, n, group, next, count);
    next += count;
    if (pass.ok()) {
      std::fprintf(stderr, "import: groups of %d: %lld cases, %.0f cases/s\n", group,
                   static_cast<long long>(pass->written), pass->cases_per_s);
    }
    return pass;
  };
  auto grouped = run(ImportGroupOptions().max_records, grouped_count);
  auto single = run(1, single_count);
  if (!grouped.ok() || !single.ok()) {
    return results->SetString("import_error",
                              (grouped.ok() ? single.status() : grouped.status()).ToString());
  }
  results->SetNumber("import_cases_per_s", grouped->cases_per_s);
  results->SetNumber("import_cases_per_s_one_sync_per_case", single->cases_per_s);
  results->SetNumber("import_group_speedup", grouped->cases_per_s / single->cases_per_s);
  results->SetInt("import_store_cases", static_cast<int64_t>(n));
  results->SetInt("import_errors", grouped->errors + single->errors);
  results->SetString(
      "import_workload",
      absl::StrCat("ImportRecords over loopback gRPC into a synced store of ", label, " cases: ",
                   grouped_count, " new cases in groups of ", ImportGroupOptions().max_records,
                   " (", absl::FormatDuration(ImportGroupOptions().max_wait), " at most), then ",
                   single_count, " with one synced write per case; timed to the reply"));
  if (const char* env = std::getenv("PEERMATCH_IMPORT_GROUPS")) {
    for (absl::string_view part : absl::StrSplit(env, ',')) {
      int group = 0;
      if (!absl::SimpleAtoi(part, &group) || group < 1) continue;
      auto pass = run(group, group == 1 ? single_count : grouped_count);
      if (pass.ok()) {
        results->SetNumber(absl::StrCat("import_cases_per_s_group_", group), pass->cases_per_s);
      }
    }
  }
  std::filesystem::remove_all(dir);
}

}  // namespace peermatch::bench
