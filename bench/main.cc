// peermatch-bench: performance figures of peermatch, each measured side by
// side with its anchors (a reference library, a hardware floor) in the same
// run, printed as one JSON object on stdout. Progress goes to stderr.
//
// Usage: peermatch-bench [--quick] [--only SECTION[,SECTION...]] [--help]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "bench/ann_bench.h"
#include "bench/bench_util.h"
#include "bench/grpc_bench.h"
#include "bench/embed_bench.h"
#include "bench/sections.h"
#include "bench/startup_bench.h"
#include "service/server.h"

namespace {

using peermatch::bench::BenchOptions;
using peermatch::bench::BenchResults;

using KeyValues = std::vector<std::pair<std::string, std::string>>;

// Adapts a section that reports (key, value text) pairs.
template <void (*kRun)(bool, KeyValues*)>
void FromKeyValues(const BenchOptions& options, BenchResults* results) {
  KeyValues keys;
  kRun(options.quick, &keys);
  for (const auto& [key, value] : keys) results->SetJsonOrString(key, value);
}

struct Section {
  const char* name;
  const char* what;
  void (*run)(const BenchOptions&, BenchResults*);
};

constexpr Section kSections[] = {
    {"exact",
     "exact top-10 over 100,000 x 256 unit vectors: DenseScanner vs FAISS IndexFlatIP and "
     "the memory-bandwidth floor; single queries and a batch of 1,000",
     peermatch::bench::RunExactBench},
    {"grpc",
     "Match over loopback gRPC on 10,000 cases (repeated questions, and every question new) "
     "against an empty RPC on the same server; memory per case, start-up time",
     FromKeyValues<peermatch::bench::RunGrpcBench>},
    {"embed",
     "embedding throughput on SciFact: peermatch's full case embedding on 2 threads (steady "
     "state, and a first pass with cold caches) against scikit-learn's TfidfVectorizer on the "
     "same texts",
     FromKeyValues<peermatch::bench::RunEmbedBench>},
    {"ann",
     "AnnIndex (HNSW) over 1,000,000 x 256 vectors against exact search: build time, memory, "
     "recall, latency (about 3.5 minutes, 2.3 GB peak)",
     FromKeyValues<peermatch::bench::RunAnnBench>},
    {"startup",
     "server start-up (Store::Open + Engine::Open + first index) and resident memory per "
     "case on 100,000 and 1,000,000 synthetic cases (builds each store first: about 3 "
     "minutes, 3 GB of disk, 5.3 GB resident at 1M)",
     peermatch::bench::RunStartupBench},
    {"scale",
     "uncached Match on 100,000 and 1,000,000 synthetic cases beside Xapian's BM25 on the same "
     "texts and questions (first pass and steady state), and the pruned retrieval's recall "
     "against the exhaustive ranking (builds each store and Xapian database first)",
     peermatch::bench::RunScaleBench},
    {"import",
     "a streaming ImportRecords into a 100,000-case synced store over loopback gRPC: group "
     "commit against one synced write per case, in the same run (builds the store first)",
     peermatch::bench::RunImportBench},
    {"refit",
     "refits: ranking change against drift on SciFact, resident memory over 10 refits of "
     "10,000 cases (malloc_trim, glibc alone, jemalloc), Match p99 during a background refit "
     "over idle (nice 19 and nice 0); each in a fresh process",
     peermatch::bench::RunRefitBench},
    {"delta",
     "writes that never stall reads, on 100,000 synthetic cases: one write's publication (the "
     "delta segment) against the whole rebuild every write paid before, and Match's p99 over "
     "gRPC on new questions while an import streams in against the idle store (builds the "
     "store first)",
     peermatch::bench::RunDeltaBench},
};

void PrintHelp() {
  std::printf(
      "Usage: peermatch-bench [--quick] [--only SECTION[,SECTION...]]\n"
      "\n"
      "Prints one JSON object of performance figures, each measured beside its\n"
      "anchors in the same run (see bench/README.md for every key).\n"
      "\n"
      "  --quick   smaller sizes and fewer repetitions (a smoke run); keys are\n"
      "            named after the sizes measured (exact_20k_ms, not exact_100k_ms)\n"
      "  --only    run only these sections\n"
      "  --help    this text\n"
      "\n"
      "Sections:\n");
  for (const Section& s : kSections) std::printf("  %-7s %s\n", s.name, s.what);
}

// The first line of `path` that starts with `prefix`, after the prefix; "" if none.
std::string ReadLine(const char* path, std::string_view prefix) {
  FILE* f = std::fopen(path, "r");
  if (f == nullptr) return "";
  char line[512];
  std::string found;
  while (std::fgets(line, sizeof(line), f) != nullptr) {
    std::string_view l(line);
    if (l.substr(0, prefix.size()) == prefix) {
      l.remove_prefix(prefix.size());
      while (!l.empty() && (l.back() == '\n' || l.back() == ' ')) l.remove_suffix(1);
      found = std::string(l);
      break;
    }
  }
  std::fclose(f);
  return found;
}

bool Selected(std::string_view only, std::string_view name) {
  if (only.empty()) return true;
  size_t start = 0;
  while (start <= only.size()) {
    const size_t comma = std::min(only.find(',', start), only.size());
    if (only.substr(start, comma - start) == name) return true;
    start = comma + 1;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  peermatch::ConfigureProcessForServing();
  // Internal: the timed part of section `startup`, in a fresh process.
  if (argc == 4 && std::string_view(argv[1]) == "--startup-child") {
    return peermatch::bench::RunStartupChild(argv[2], std::strtoull(argv[3], nullptr, 10));
  }
  if (argc == 4 && std::string_view(argv[1]) == "--refit-child") {
    return peermatch::bench::RunRefitChild(argv[2], argv[3]);
  }
  BenchOptions options;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      PrintHelp();
      return 0;
    } else if (arg == "--quick") {
      options.quick = true;
    } else if (arg == "--only" && i + 1 < argc) {
      only = argv[++i];
    } else {
      std::fprintf(stderr, "peermatch-bench: unknown argument %s (try --help)\n", argv[i]);
      return 2;
    }
  }
  if (!only.empty()) {
    bool any = false;
    for (const Section& s : kSections) any = any || Selected(only, s.name);
    if (!any) {
      std::fprintf(stderr, "peermatch-bench: no section in --only %s (try --help)\n",
                   only.c_str());
      return 2;
    }
  }

  BenchResults results;
  results.SetString("program", "peermatch-bench");
  results.SetBool("quick", options.quick);
  results.SetInt("hardware_threads", std::thread::hardware_concurrency());
  results.SetString("cpu", ReadLine("/proc/cpuinfo", "model name\t: "));
  // Other work on the machine when the run started (1, 5, 15 minutes): a
  // busy machine inflates medians more than best-of floors.
  std::string load = ReadLine("/proc/loadavg", "");
  for (int spaces = 0, i = 0; i < static_cast<int>(load.size()); ++i) {
    if (load[i] == ' ' && ++spaces == 3) load.resize(i);  // drop "running/total last-pid"
  }
  results.SetString("load_average_at_start", load);
  for (const Section& s : kSections) {
    if (!Selected(only, s.name)) continue;
    std::fprintf(stderr, "peermatch-bench: %s ...\n", s.name);
    BenchResults section;
    s.run(options, &section);
    results.Merge(section);
  }
  std::printf("%s\n", results.ToJson().c_str());
  return 0;
}
