// Section `scale`: an uncached Match at 100,000 and 1,000,000 cases beside
// Xapian answering the same new questions on the same texts, and the pruned
// retrieval's recall against the exhaustive ranking (bench/README.md).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <time.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "bench/bench_util.h"
#include "bench/sections.h"
#include "bench/startup_bench.h"
#include "bench/xapian_anchor.h"
#include "engine/engine.h"
#include "index/ann_index.h"
#include "index/index.h"
#include "store/store.h"

namespace peermatch::bench {
namespace {

constexpr size_t kXapianMaxCases = 100000;

std::string Label(size_t n) { return n >= 1000000 ? absl::StrCat(n / 1000000, "m") : SizeLabel(n); }

struct Pass {
  std::vector<double> ours_ms, xapian_ms;
  // The same calls in CPU time of the calling thread (both sides run on it
  // alone): on a loaded machine wall time also counts the waits for a core.
  std::vector<double> ours_cpu_ms, xapian_cpu_ms;
};

// PEERMATCH_SCALE_DIR: where the stores are kept between runs (store-N,
// built once, reused after); unset: a temporary directory, removed after.
std::string KeptDir() {
  const char* dir = std::getenv("PEERMATCH_SCALE_DIR");
  return dir != nullptr ? dir : "";
}

// The file a previous run saved the base's HNSW graph to (index.h
// "Approximate dense top"), with PEERMATCH_SCALE_DIR: the store and so the
// base's row order are the same.
std::string GraphFile(const std::string& dir) { return dir + "/graph.hnsw"; }

// The base's graph, for a base the policy wants one for: loaded from the
// saved file when there is one of the base's size (the engine was then
// opened without a graph policy, so that it built none), else the one the
// engine started building in the background at open, waited for and then
// saved (with PEERMATCH_SCALE_DIR). False (scale_error set) when it fails.
bool PrepareGraph(const Index& base, const GraphPolicy& policy, const std::string& kept,
                  const std::string& dir, const std::string& label, BenchResults* results) {
  if (!policy.Wants(base.size()) || base.dense_dim() <= 0) return true;
  const uint64_t before = ResidentBytes();
  const std::string file = GraphFile(dir);
  if (!kept.empty() && std::filesystem::exists(file) && !base.graph_build_info().started) {
    double t = NowSeconds();
    absl::StatusOr<std::unique_ptr<AnnIndex>> loaded =
        AnnIndex::Load(file, static_cast<size_t>(base.dense_dim()), policy.options);
    if (loaded.ok() && (*loaded)->size() == base.size()) {
      base.AttachGraph(std::move(*loaded));
      results->SetNumber(absl::StrCat("graph_", label, "_load_seconds"), NowSeconds() - t);
      std::fprintf(stderr, "scale: graph loaded from %s\n", file.c_str());
    } else {
      base.StartGraphBuild(policy.options);  // of another size: built anew
    }
  }
  if (base.graph() == nullptr) {
    std::fprintf(stderr, "scale: waiting for the graph's background build\n");
    base.WaitForGraph();
    const internal::GraphSlot::BuildInfo info = base.graph_build_info();
    if (!info.status.ok() || base.graph() == nullptr) {
      results->SetString("scale_error", absl::StrCat("graph build: ", info.status.ToString()));
      return false;
    }
    results->SetNumber(absl::StrCat("graph_", label, "_build_seconds"), info.seconds);
    std::fprintf(stderr, "scale: graph built in %.1f s\n", info.seconds);
    if (!kept.empty()) base.graph()->Save(file).IgnoreError();
  }
  if (std::filesystem::exists(file)) {
    results->SetNumber(absl::StrCat("graph_", label, "_file_bytes"),
                       static_cast<double>(std::filesystem::file_size(file)));
  }
  results->SetNumber(absl::StrCat("graph_", label, "_resident_bytes_added"),
                     static_cast<double>(ResidentBytes()) - static_cast<double>(before));
  results->SetInt(absl::StrCat("graph_", label, "_min_cases"),
                  static_cast<int64_t>(policy.min_cases));
  results->SetInt(absl::StrCat("graph_", label, "_builds_started"),
                  static_cast<int64_t>(internal::GraphSlot::BuildsStarted()));
  return true;
}

void MeasureSize(size_t n, int num_queries, const GraphPolicy& graph, BenchResults* results) {
  const std::string label = Label(n);
  const std::string kept = KeptDir();
  const std::string dir =
      kept.empty() ? (std::filesystem::temp_directory_path() / "peermatch-scale-bench").string()
                   : absl::StrCat(kept, "/store-", n);
  const std::string built_marker = dir + "/store-complete";
  if (kept.empty() || !std::filesystem::exists(built_marker)) {
    std::fprintf(stderr, "scale: building a store of %zu cases\n", n);
    double build_seconds = 0;
    if (absl::Status s = BuildServedStore(dir + "/store", n, &build_seconds); !s.ok()) {
      results->SetString("scale_error", s.ToString());
      return;
    }
    results->SetNumber(absl::StrCat("scale_store_build_", label, "_seconds"), build_seconds);
    std::FILE* marker = std::fopen(built_marker.c_str(), "w");
    if (marker != nullptr) std::fclose(marker);
  } else {
    std::fprintf(stderr, "scale: reusing the store of %zu cases in %s\n", n, dir.c_str());
  }

  // Xapian over the same texts (up to kXapianMaxCases: indexing 1,000,000
  // cases with it takes longer than the rest of the run here).
  // PEERMATCH_SCALE_NO_XAPIAN=1: ours alone (for profiling Match).
  const bool with_xapian = n <= kXapianMaxCases && std::getenv("PEERMATCH_SCALE_NO_XAPIAN") == nullptr;
  std::fprintf(stderr, "scale: indexing %zu cases with Xapian\n", with_xapian ? n : 0);
  double t = NowSeconds();
  auto xapian = XapianAnchor::Create(dir + "/xapian");
  if (!xapian.ok()) return results->SetString("scale_error", xapian.status().ToString());
  for (size_t i = 0; i < (with_xapian ? n : 0); ++i) {
    const v1::Case c = SyntheticCase(i);
    if (absl::Status s = (*xapian)->Add(c.title(), c.description()); !s.ok()) {
      return results->SetString("scale_error", s.ToString());
    }
  }
  if (absl::Status s = (*xapian)->Finish(); !s.ok()) {
    return results->SetString("scale_error", s.ToString());
  }
  if (with_xapian) {
    results->SetNumber(absl::StrCat("xapian_index_", label, "_seconds"), NowSeconds() - t);
  }

  StoreOptions so;
  so.sync = false;
  auto store = Store::Open(dir + "/store", so);
  if (!store.ok()) return results->SetString("scale_error", store.status().ToString());
  EngineOptions eo;
  eo.background_refit = false;
  // A saved graph is loaded instead of built: the engine then builds none.
  if (kept.empty() || !std::filesystem::exists(GraphFile(dir))) eo.graph = graph;
  const uint64_t resident_before_open = ResidentBytes();
  auto engine = Engine::Open(store->get(), eo);
  if (!engine.ok()) return results->SetString("scale_error", engine.status().ToString());
  results->SetNumber(absl::StrCat("memory_resident_", label, "_after_open_bytes"),
                     static_cast<double>(ResidentBytes()));
  results->SetNumber(absl::StrCat("memory_resident_", label, "_open_added_bytes"),
                     static_cast<double>(ResidentBytes()) -
                         static_cast<double>(resident_before_open));
  if (!PrepareGraph(*(*engine)->snapshot()->index->base(), graph, kept, dir, label, results)) {
    return;
  }

  // New questions, as a city would type them: 8-20 words of one topic.
  std::mt19937_64 rng(20261201 + n);
  std::vector<std::string> questions;
  for (int i = 0; i < num_queries; ++i) {
    questions.push_back(SyntheticText(rng, static_cast<int>(rng() % kSyntheticTopics),
                                      8 + static_cast<int>(rng() % 13)));
  }
  // Two passes over the same questions, each question timed on both sides
  // back to back (Xapian first, then ours): the first pass with cold caches,
  // the second in steady state.
  Pass passes[2];
  int64_t failures = 0;
  for (Pass& pass : passes) {
    for (const std::string& q : questions) {
      double t0 = NowSeconds();
      double c0 = ThreadCpuSeconds();
      if (with_xapian) {
        if (!(*xapian)->Search(q, 10).ok()) ++failures;
        pass.xapian_ms.push_back((NowSeconds() - t0) * 1e3);
        pass.xapian_cpu_ms.push_back((ThreadCpuSeconds() - c0) * 1e3);
      }
      MatchQuery query;
      query.about.text = q;
      t0 = NowSeconds();
      c0 = ThreadCpuSeconds();
      if (!(*engine)->Match(query).ok()) ++failures;
      pass.ours_ms.push_back((NowSeconds() - t0) * 1e3);
      pass.ours_cpu_ms.push_back((ThreadCpuSeconds() - c0) * 1e3);
    }
  }
  const double ours = Median(passes[1].ours_ms);
  results->SetInt(absl::StrCat("scale_", label, "_queries"), num_queries);
  results->SetNumber(absl::StrCat("match_uncached_", label, "_p50_ms"), ours);
  results->SetNumber(absl::StrCat("match_uncached_", label, "_p99_ms"),
                     Percentile(passes[1].ours_ms, 0.99));
  results->SetNumber(absl::StrCat("match_uncached_", label, "_first_pass_p50_ms"),
                     Median(passes[0].ours_ms));
  results->SetNumber(absl::StrCat("match_uncached_", label, "_cpu_p50_ms"),
                     Median(passes[1].ours_cpu_ms));
  if (with_xapian) {
    const double theirs = Median(passes[1].xapian_ms);
    results->SetNumber(absl::StrCat("xapian_", label, "_p50_ms"), theirs);
    results->SetNumber(absl::StrCat("xapian_", label, "_p99_ms"),
                       Percentile(passes[1].xapian_ms, 0.99));
    results->SetNumber(absl::StrCat("xapian_", label, "_first_pass_p50_ms"),
                       Median(passes[0].xapian_ms));
    results->SetNumber(absl::StrCat("match_uncached_", label, "_vs_xapian"), ours / theirs);
    const double their_cpu = Median(passes[1].xapian_cpu_ms);
    results->SetNumber(absl::StrCat("xapian_", label, "_cpu_p50_ms"), their_cpu);
    results->SetNumber(absl::StrCat("match_uncached_", label, "_cpu_vs_xapian"),
                       Median(passes[1].ours_cpu_ms) / their_cpu);
  }
  std::fprintf(stderr, "scale: %s cases: ours p50 %.3f ms (first pass %.3f, cpu %.3f)%s\n",
               label.c_str(), ours, Median(passes[0].ours_ms), Median(passes[1].ours_cpu_ms),
               with_xapian ? absl::StrCat(", xapian p50 ", Median(passes[1].xapian_ms), " ms").c_str()
                           : "");
  results->SetInt(absl::StrCat("scale_", label, "_failures"), failures);

  // Recall@10 of the index's retrieval as Match runs it (solutions only)
  // against scoring every case, on the same questions.
  const std::shared_ptr<const Snapshot> snap = (*engine)->snapshot();
  // Freshly opened: the whole corpus is the base segment.
  const Index& index = *snap->index->base();
  std::vector<bool> solutions(index.size());
  for (uint32_t d = 0; d < index.size(); ++d) {
    solutions[d] = index.attributes(d).kind == v1::CASE_KIND_SOLUTION;
  }
  size_t found = 0, wanted = 0, identical = 0;
  const int recall_queries = std::min(num_queries, 50);
  for (int i = 0; i < recall_queries; ++i) {
    const QueryVector qv = snap->model->EmbedQuery(questions[i], "en");
    const IndexQuery iq = (*engine)->ToIndexQueryForBench(qv);
    const std::vector<Hit> pruned = index.Search(iq, {}, solutions, ScoreWeights(), 10);
    const std::vector<Hit> exact = index.SearchExhaustive(iq, {}, solutions, ScoreWeights(), 10);
    bool same = pruned.size() == exact.size();
    for (size_t r = 0; r < exact.size(); ++r) {
      ++wanted;
      same = same && pruned[r].doc == exact[r].doc && pruned[r].score == exact[r].score;
      for (const Hit& h : pruned) found += h.doc == exact[r].doc ? 1 : 0;
    }
    identical += same ? 1 : 0;
  }
  results->SetNumber(absl::StrCat("match_", label, "_recall_at_10"),
                     wanted == 0 ? 0.0 : static_cast<double>(found) / wanted);
  results->SetInt(absl::StrCat("match_", label, "_identical_to_exhaustive"),
                  static_cast<int64_t>(identical));
  results->SetInt(absl::StrCat("match_", label, "_recall_queries"), recall_queries);
  std::fprintf(stderr, "scale: %s recall@10 %.4f, identical %zu of %d\n", label.c_str(),
               wanted == 0 ? 0.0 : static_cast<double>(found) / wanted, identical, recall_queries);
  results->SetNumber(absl::StrCat("memory_resident_", label, "_bytes_per_case"),
                     static_cast<double>(ResidentBytes()) / n);
  results->SetNumber(absl::StrCat("memory_resident_", label, "_bytes"),
                     static_cast<double>(ResidentBytes()));
  results->SetInt(absl::StrCat("match_", label, "_approximate"), index.graph() != nullptr);

  engine->reset();
  store->reset();
  xapian->reset();
  if (kept.empty()) {
    std::filesystem::remove_all(dir);
  } else {
    std::filesystem::remove_all(dir + "/xapian");
  }
}

}  // namespace

void RunScaleBench(const BenchOptions& options, BenchResults* results) {
  results->SetString("xapian_version", XapianAnchor::Version());
  results->SetString(
      "scale_workload",
      "synthetic cases (bench/startup_bench.cc SyntheticCase: Zipf-distributed English words "
      "of 20 topics and shared common words, names from syllables; 5 cases a city, 3 of them "
      "solutions); new questions of 8-20 words; Engine::Match in-process, k 10, one query at "
      "a time on one thread; Xapian 1.4 BM25 top 10 of the same texts (title twice), OR "
      "query, one thread");
  std::vector<size_t> sizes =
      options.quick ? std::vector<size_t>{20000} : std::vector<size_t>{100000, 1000000};
  // PEERMATCH_SCALE_SIZES: other sizes, comma-separated (e.g. 100000).
  if (const char* only = std::getenv("PEERMATCH_SCALE_SIZES"); only != nullptr) {
    sizes.clear();
    for (absl::string_view part : absl::StrSplit(only, ',', absl::SkipEmpty())) {
      size_t v = 0;
      if (absl::SimpleAtoi(part, &v) && v > 0) sizes.push_back(v);
    }
  }
  // PEERMATCH_SCALE_GRAPH_FROM: the HNSW graph from that many cases
  // (EngineOptions::graph; off by default).
  GraphPolicy graph;
  if (const char* from = std::getenv("PEERMATCH_SCALE_GRAPH_FROM"); from != nullptr) {
    size_t n = 0;
    if (absl::SimpleAtoi(from, &n) && n > 0) graph.min_cases = n;
  }
  // PEERMATCH_SCALE_GRAPH_EF_CONSTRUCTION: another ef_construction for the
  // graph the engine builds (a faster, coarser build; the figures then say so).
  if (const char* ef = std::getenv("PEERMATCH_SCALE_GRAPH_EF_CONSTRUCTION"); ef != nullptr) {
    int v = 0;
    if (absl::SimpleAtoi(ef, &v) && v > 0) graph.options.ef_construction = v;
  }
  results->SetInt("graph_ef_construction", graph.options.ef_construction);
  int queries = options.quick ? 50 : 200;
  // PEERMATCH_SCALE_QUERIES: another number of new questions per size.
  if (const char* q = std::getenv("PEERMATCH_SCALE_QUERIES"); q != nullptr) {
    int v = 0;
    if (absl::SimpleAtoi(q, &v) && v > 0) queries = v;
  }
  for (size_t n : sizes) MeasureSize(n, queries, graph, results);
}

}  // namespace peermatch::bench
