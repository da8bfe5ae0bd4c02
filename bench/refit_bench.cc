// Section `refit` (issue 16): what a refit changes, and what it costs.
//
// 1. Drift against ranking change, on SciFact (../shared/datasets/scifact):
//    for each drift d (1% .. 40% of the corpus), the model is fitted on the
//    other cases, the held-out d are written afterwards (embedded with that
//    stale model, as a write between refits is), the 300 test queries are
//    ranked (SimilarCases, top 10), and then after a refit on the same data
//    again. Keys refit_drift_D_overlap_at_10 (share of the fresh top 10 the
//    stale model also put in its top 10), refit_drift_D_ndcg_stale /
//    _ndcg_fresh (nDCG@10 on the test qrels), refit_drift_D_vocabulary
//    (share of the fresh model's vocabulary the stale one lacks).
// 2. Resident memory over 10 refits of a 10,000-case store (5,000 with
//    --quick), each variant in a fresh process (this program re-executed
//    with --refit-child): refit_rss_growth_ratio is RSS after the 10th refit
//    over after the 1st, with the engine's defaults (malloc_trim after each
//    refit); refit_rss_growth_ratio_no_trim without it (glibc as before);
//    _jemalloc with Debian's libjemalloc2 preloaded (when installed).
// 3. Match p99 during a background refit over Match p99 idle, same process,
//    same store: match_p99_during_refit_ratio with the default refit
//    priority (nice 19), _normal_priority at nice 0.
#include <malloc.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "bench/bench_util.h"
#include "bench/capacity.h"
#include "bench/sections.h"
#include "bench/startup_bench.h"
#include "engine/engine.h"
#include "records/limits.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "store/store.h"

namespace peermatch::bench {
namespace {

std::string SciFact(const std::string& file) {
  return std::string(PEERMATCH_SOURCE_DIR) + "/../shared/datasets/scifact/" + file;
}

// Each JSON line of `path` as a Struct.
std::vector<google::protobuf::Struct> JsonLines(const std::string& path) {
  std::vector<google::protobuf::Struct> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    google::protobuf::Struct doc;
    if (google::protobuf::util::JsonStringToMessage(line, &doc).ok()) out.push_back(doc);
  }
  return out;
}

std::string Str(const google::protobuf::Struct& s, const std::string& key) {
  auto it = s.fields().find(key);
  return it == s.fields().end() ? "" : it->second.string_value();
}

// The longest prefix of `s` of at most `max` bytes ending on a UTF-8
// character boundary ("-" for an empty one), as `peermatch eval` cuts.
std::string Cut(const std::string& s, size_t max) {
  if (s.empty()) return "-";
  size_t end = std::min(max, s.size());
  while (end < s.size() && end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return s.substr(0, end);
}

struct Ranked {
  std::vector<std::vector<std::string>> top;  // per query, ids best first
  double ndcg = 0;
};

Ranked Rank(const Engine& engine, const std::vector<std::pair<std::string, std::string>>& queries,
            const std::map<std::string, std::set<std::string>>& qrels) {
  Ranked out;
  for (const auto& [qid, text] : queries) {
    SimilarQuery q;
    q.about.text = text;
    q.k = 10;
    auto r = engine.SimilarCases(q);
    std::vector<std::string> ids;
    if (r.ok()) {
      for (const SimilarCase& c : r->cases.items) ids.push_back(c.record.id());
    }
    const auto rel = qrels.find(qid);
    double dcg = 0, ideal = 0;
    const size_t relevant = rel == qrels.end() ? 0 : rel->second.size();
    for (size_t i = 0; i < ids.size(); ++i) {
      if (rel != qrels.end() && rel->second.count(ids[i]) > 0) dcg += 1 / std::log2(i + 2.0);
    }
    for (size_t i = 0; i < std::min<size_t>(relevant, 10); ++i) ideal += 1 / std::log2(i + 2.0);
    out.ndcg += ideal > 0 ? dcg / ideal : 0;
    out.top.push_back(std::move(ids));
  }
  out.ndcg /= std::max<size_t>(queries.size(), 1);
  return out;
}

double Overlap(const Ranked& a, const Ranked& b) {
  double sum = 0;
  for (size_t q = 0; q < a.top.size(); ++q) {
    std::set<std::string> fresh(b.top[q].begin(), b.top[q].end());
    int shared = 0;
    for (const auto& id : a.top[q]) shared += fresh.count(id) > 0;
    sum += fresh.empty() ? 1.0 : static_cast<double>(shared) / fresh.size();
  }
  return sum / std::max<size_t>(a.top.size(), 1);
}

std::string DriftLabel(double d) {
  std::string s = absl::StrCat(d * 100);
  for (char& c : s) c = c == '.' ? '_' : c;
  return s + "pct";
}

void RunDrift(bool quick, BenchResults* results) {
  const auto docs = JsonLines(SciFact("corpus.jsonl"));
  const auto query_lines = JsonLines(SciFact("queries_test.jsonl"));
  if (docs.empty() || query_lines.empty()) {
    return results->SetString("refit_drift_note", "no SciFact beside the checkout: skipped");
  }
  std::vector<std::pair<std::string, std::string>> queries;
  for (const auto& q : query_lines) queries.emplace_back(Str(q, "_id"), Str(q, "text"));
  std::map<std::string, std::set<std::string>> qrels;
  {
    std::ifstream in(SciFact("qrels/test.tsv"));
    std::string line;
    while (std::getline(in, line)) {
      std::vector<std::string> f = absl::StrSplit(line, '\t');
      int score = 0;
      if (f.size() >= 3 && absl::SimpleAtoi(f[2], &score) && score > 0) qrels[f[0]].insert(f[1]);
    }
  }
  std::vector<v1::ImportRecord> cases;
  for (const auto& d : docs) {
    v1::ImportRecord r;
    v1::Case* c = r.mutable_case_();
    c->set_id(absl::StrCat("d", Str(d, "_id")));
    c->set_city_id("scifact");
    c->set_kind(v1::CASE_KIND_SOLUTION);
    c->set_title(Cut(Str(d, "title"), kMaxTitleBytes));
    c->set_description(Cut(Str(d, "text"), kMaxDescriptionBytes));
    c->add_themes(v1::THEME_LEARNING_TECHNOLOGIES);
    cases.push_back(std::move(r));
  }
  // Qrels name corpus ids; the cases carry them with a "d" prefix.
  std::map<std::string, std::set<std::string>> prefixed;
  for (const auto& [q, ids] : qrels) {
    for (const auto& id : ids) prefixed[q].insert("d" + id);
  }
  const std::vector<double> drifts =
      quick ? std::vector<double>{0.01, 0.2} : std::vector<double>{0.01, 0.02, 0.05, 0.1, 0.2, 0.4};
  std::string table;
  for (double drift : drifts) {
    const std::string dir = (std::filesystem::temp_directory_path() /
                             absl::StrCat("peermatch-refit-drift-", DriftLabel(drift))).string();
    std::filesystem::remove_all(dir);
    StoreOptions so;
    so.sync = false;
    auto store = Store::Open(dir, so);
    if (!store.ok()) return results->SetString("refit_error", store.status().ToString());
    EngineOptions eo;
    eo.background_refit = false;
    eo.refit_at_open = false;
    eo.refit_min_changes = 1 << 30;
    auto engine = Engine::Open(store->get(), eo);
    if (!engine.ok()) return results->SetString("refit_error", engine.status().ToString());
    v1::City city;
    city.set_id("scifact");
    city.set_name("SciFact");
    city.set_country("IT");
    city.set_region(v1::REGION_EUROPE_NORTH_AMERICA);
    (void)(*engine)->PutCity(city);
    // Held out: an evenly spread share `drift` of the cases (fixed seed).
    std::mt19937_64 rng(20261201);
    std::vector<v1::ImportRecord> base, late;
    for (const auto& r : cases) {
      (std::uniform_real_distribution<double>(0, 1)(rng) < drift ? late : base).push_back(r);
    }
    (void)(*engine)->ImportEach(base, Visibility::kDeferred);
    if (absl::Status s = (*engine)->Refit(); !s.ok()) {
      return results->SetString("refit_error", s.ToString());
    }
    const size_t stale_vocabulary = (*engine)->snapshot()->model->vocabulary_size();
    for (size_t i = 0; i < late.size(); i += 256) {
      std::vector<v1::ImportRecord> group(late.begin() + i,
                                          late.begin() + std::min(late.size(), i + 256));
      (void)(*engine)->ImportEach(group, Visibility::kDeferred);
    }
    (*engine)->Publish();
    const Ranked stale = Rank(**engine, queries, prefixed);
    if (absl::Status s = (*engine)->Refit(); !s.ok()) {
      return results->SetString("refit_error", s.ToString());
    }
    const size_t fresh_vocabulary = (*engine)->snapshot()->model->vocabulary_size();
    const Ranked fresh = Rank(**engine, queries, prefixed);
    const std::string key = absl::StrCat("refit_drift_", DriftLabel(drift));
    const double overlap = Overlap(stale, fresh);
    const double vocabulary =
        1.0 - static_cast<double>(stale_vocabulary) / std::max<size_t>(fresh_vocabulary, 1);
    results->SetNumber(key + "_overlap_at_10", overlap);
    results->SetNumber(key + "_ndcg_stale", stale.ndcg);
    results->SetNumber(key + "_ndcg_fresh", fresh.ndcg);
    results->SetNumber(key + "_vocabulary", vocabulary);
    std::fprintf(stderr,
                 "refit: drift %.1f%% (%zu late cases): overlap@10 %.4f, nDCG@10 stale %.4f fresh "
                 "%.4f, vocabulary %.4f\n",
                 drift * 100, late.size(), overlap, stale.ndcg, fresh.ndcg, vocabulary);
    engine->reset();
    store->reset();
    std::filesystem::remove_all(dir);
  }
}

// The child's "key value" lines, run with `env` before the command.
absl::StatusOr<std::map<std::string, double>> Child(const std::string& env,
                                                    const std::string& mode,
                                                    const std::string& dir) {
  return RunSelf(env, absl::StrCat("--refit-child ", mode, " '", dir, "'"),
                 absl::StrCat("the refit child (", mode, ")"));
}

// Engine options of a child: a served store, no refit at open.
EngineOptions ChildOptions() {
  EngineOptions eo;
  eo.refit_at_open = false;
  eo.quiet_refit_seconds = 0;
  const char* trim = std::getenv("PEERMATCH_REFIT_TRIM");
  eo.trim_memory_after_refit = trim == nullptr || std::string(trim) != "0";
  const char* nice = std::getenv("PEERMATCH_REFIT_NICE");
  if (nice != nullptr) eo.refit_nice = std::atoi(nice);
  return eo;
}

// A "Name:  N kB" line of /proc/self/status, in kB (0 when absent).
double StatusKb(const std::string& name) {
  std::ifstream in("/proc/self/status");
  std::string key;
  double kb = 0;
  while (in >> key) {
    if (key == name && in >> kb) return kb;
    in.ignore(1 << 10, '\n');
  }
  return 0;
}

// A child's error on stderr (the parent reads only stdout); exit status 1.
int ChildFailed(const char* child, const std::string& what) {
  std::fprintf(stderr, "refit %s child: %s\n", child, what.c_str());
  return 1;
}

int MemoryChild(const std::string& dir) {
  auto store = Store::Open(dir);
  if (!store.ok()) return ChildFailed("memory", store.status().ToString());
  EngineOptions eo = ChildOptions();
  eo.background_refit = false;
  auto engine = Engine::Open(store->get(), eo);
  if (!engine.ok()) return ChildFailed("memory", engine.status().ToString());
  (*engine)->snapshot();
  std::printf("rss_open %llu\n", static_cast<unsigned long long>(ResidentBytes()));
  // PEERMATCH_REFIT_COUNT: more refits than 10, to follow a slow creep.
  const char* count_env = std::getenv("PEERMATCH_REFIT_COUNT");
  const int count = count_env != nullptr ? std::max(10, std::atoi(count_env)) : 10;
  std::vector<double> seconds;
  for (int i = 1; i <= count; ++i) {
    const double t = NowSeconds();
    if (absl::Status s = (*engine)->Refit(); !s.ok()) {
      return ChildFailed("memory", absl::StrCat("refit ", i, ": ", s.ToString()));
    }
    seconds.push_back(NowSeconds() - t);
    const uint64_t rss = ResidentBytes();
    // glibc's count of the heap bytes allocated and not freed (meaningless
    // under a preloaded jemalloc): growing with RSS, something is kept.
    const struct mallinfo2 heap = mallinfo2();
    std::fprintf(stderr,
                 "refit child: refit %d: %.1f s, RSS %.1f MB (anonymous %.1f, files %.1f), heap in "
                 "use %.1f MB\n",
                 i, seconds.back(), rss / 1e6, StatusKb("RssAnon:") / 1e3,
                 StatusKb("RssFile:") / 1e3, (heap.uordblks + heap.hblkhd) / 1e6);
    std::printf("rss_after_%d %llu\n", i, static_cast<unsigned long long>(rss));
  }
  std::printf("refit_seconds %.3f\n", Median(seconds));
  return 0;
}

// At most `capacity` latencies: past that, a uniform sample of all of them
// (reservoir sampling, fixed seed), so a long wait cannot grow without bound
// and the percentiles stay those of the whole run.
class LatencySample {
 public:
  explicit LatencySample(size_t capacity) : capacity_(capacity) { kept_.reserve(capacity); }
  void Add(double ms) {
    ++seen_;
    if (kept_.size() < capacity_) return kept_.push_back(ms);
    const uint64_t slot = std::uniform_int_distribution<uint64_t>(0, seen_ - 1)(rng_);
    if (slot < capacity_) kept_[slot] = ms;
  }
  const std::vector<double>& kept() const { return kept_; }
  uint64_t seen() const { return seen_; }

 private:
  const size_t capacity_;
  std::vector<double> kept_;
  uint64_t seen_ = 0;
  std::mt19937_64 rng_{20261203};
};

// How long the latency child waits for the background refit one write
// starts (PEERMATCH_REFIT_WAIT_SECONDS; a refit of 10,000 cases takes
// seconds, 20 s on a loaded machine).
// The 1, 5 and 15 minute load averages, as "1.02 0.98 1.10".
std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return absl::StrCat(one, " ", five, " ", fifteen);
}

double ProcessCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
}

double RefitWaitSeconds() {
  const char* env = std::getenv("PEERMATCH_REFIT_WAIT_SECONDS");
  double seconds = 0;
  return env != nullptr && absl::SimpleAtod(env, &seconds) && seconds > 0 ? seconds : 300;
}

int LatencyChild(const std::string& dir) {
  auto fail = [](const std::string& what) { return ChildFailed("latency", what); };
  auto store = Store::Open(dir);
  if (!store.ok()) return fail(store.status().ToString());
  EngineOptions eo = ChildOptions();
  eo.background_refit = true;
  eo.refit_min_changes = 1;
  eo.refit_fraction = 0;
  auto engine = Engine::Open(store->get(), eo);
  if (!engine.ok()) return fail(engine.status().ToString());
  (*engine)->snapshot();
  std::mt19937_64 rng(20261202);
  // Each Match's wall time (the figure) and the asking thread's CPU time
  // (beside it: a wall p99 that grows while the CPU p99 does not is waiting
  // for a core, not work or locks).
  struct Window {
    LatencySample wall{200000}, cpu{200000};
  };
  auto ask = [&](Window* w) {
    MatchQuery q;
    q.about.text = SyntheticText(rng, static_cast<int>(rng() % kSyntheticTopics), 12);
    const double t = NowSeconds(), c = ThreadCpuSeconds();
    (void)(*engine)->Match(q);
    w->cpu.Add((ThreadCpuSeconds() - c) * 1e3);
    w->wall.Add((NowSeconds() - t) * 1e3);
  };
  Window idle, during, after;
  for (int i = 0; i < 2000; ++i) ask(&idle);
  const uint64_t version = (*engine)->snapshot()->model->version();
  // One write: the drift rule (1 change) starts a background refit. It must
  // change the stored case: a write identical to it (as the second child's
  // was when both wrote the same " again" title) is kUnchanged, counts as no
  // change, and starts no refit (the wait that never ended, issue 16).
  v1::Case c = SyntheticCase(0);
  c.set_title(absl::StrCat(c.title(), " rewritten ", static_cast<uint64_t>(NowSeconds() * 1e6)));
  const double process_cpu0 = ProcessCpuSeconds(), asking_cpu0 = ThreadCpuSeconds();
  auto put = (*engine)->PutCase(c);
  if (!put.ok()) return fail(absl::StrCat("PutCase: ", put.status().ToString()));
  if (*put == PutResult::kUnchanged) {
    return fail("PutCase wrote nothing (the case was already stored so): no refit would start");
  }
  const double t0 = NowSeconds(), wait = RefitWaitSeconds();
  while ((*engine)->snapshot()->model->version() == version) {
    if (NowSeconds() - t0 > wait) {
      return fail(absl::StrFormat(
          "waited %g s for the background refit one PutCase should start (the snapshot's "
          "model version still %d, %d Matches asked meanwhile); it never published",
          wait, version, during.wall.seen()));
    }
    ask(&during);
  }
  const double refit_s = NowSeconds() - t0;
  // CPU the other threads (the refit's) had while this one asked.
  const double refit_cpu_s =
      (ProcessCpuSeconds() - process_cpu0) - (ThreadCpuSeconds() - asking_cpu0);
  for (int i = 0; i < 2000; ++i) ask(&after);
  for (const auto& [name, w] : {std::pair<const char*, const Window*>{"idle", &idle},
                                {"during", &during},
                                {"after", &after}}) {
    std::printf("%s_p99_ms %.4f\n%s_p50_ms %.4f\n%s_cpu_p99_ms %.4f\n", name,
                Percentile(w->wall.kept(), 0.99), name, Median(w->wall.kept()), name,
                Percentile(w->cpu.kept(), 0.99));
  }
  std::printf("during_queries %llu\nrefit_seconds %.3f\nrefit_cpu_seconds %.3f\n",
              static_cast<unsigned long long>(during.wall.seen()), refit_s, refit_cpu_s);
  return 0;
}

}  // namespace

int RunRefitChild(const std::string& mode, const std::string& dir) {
  return mode == "memory" ? MemoryChild(dir) : mode == "latency" ? LatencyChild(dir) : 2;
}

void RunRefitBench(const BenchOptions& options, BenchResults* results) {
  // PEERMATCH_REFIT_DRIFT=0 skips part 1 (SciFact, a few minutes).
  const char* drift = std::getenv("PEERMATCH_REFIT_DRIFT");
  if (drift == nullptr || std::string(drift) != "0") RunDrift(options.quick, results);
  const size_t n = options.quick ? 5000 : 10000;
  // PEERMATCH_REFIT_STORE=DIR: the store is kept there (built when DIR does
  // not exist), to measure again on the same one.
  const char* kept = std::getenv("PEERMATCH_REFIT_STORE");
  const std::string dir =
      kept != nullptr
          ? std::string(kept)
          : (std::filesystem::temp_directory_path() / "peermatch-refit-bench").string();
  if (kept == nullptr || !std::filesystem::exists(dir)) {
    std::fprintf(stderr, "refit: building a store of %zu cases\n", n);
    if (absl::Status s = BuildServedStore(dir, n, nullptr); !s.ok()) {
      return results->SetString("refit_error", s.ToString());
    }
  }
  results->SetInt("refit_store_cases", static_cast<int64_t>(n));
  MeasureCapacity(dir, n, CapacityOptions(), results);  // capacity_10k_*
  struct Variant {
    const char* suffix;
    std::string env;
  };
  std::vector<Variant> memory = {{"", ""}, {"_no_trim", "PEERMATCH_REFIT_TRIM=0"}};
  const char* jemalloc = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2";
  if (std::filesystem::exists(jemalloc)) {
    memory.push_back({"_jemalloc", absl::StrCat("PEERMATCH_REFIT_TRIM=0 LD_PRELOAD=", jemalloc)});
  }
  // A child that fails is named (refit_error_memory<suffix>, on stderr too)
  // and the others still run and report.
  auto failed = [results](const std::string& key, const absl::Status& s) {
    std::fprintf(stderr, "refit: %s: %s\n", key.c_str(), s.ToString().c_str());
    results->SetString(key, s.ToString());
  };
  for (const Variant& v : memory) {
    auto values = Child(v.env, "memory", dir);
    if (!values.ok()) {
      failed(absl::StrCat("refit_error_memory", v.suffix), values.status());
      continue;
    }
    const double first = (*values)["rss_after_1"], last = (*values)["rss_after_10"];
    results->SetNumber(absl::StrCat("refit_rss_growth_ratio", v.suffix), last / first);
    results->SetNumber(absl::StrCat("refit_rss_after_1_mb", v.suffix), first / 1e6);
    results->SetNumber(absl::StrCat("refit_rss_after_10_mb", v.suffix), last / 1e6);
    results->SetNumber(absl::StrCat("refit_rss_open_mb", v.suffix), (*values)["rss_open"] / 1e6);
    if (v.suffix[0] == '\0') results->SetNumber("refit_seconds", (*values)["refit_seconds"]);
  }
  for (const Variant& v : std::vector<Variant>{{"", ""},
                                               {"_normal_priority", "PEERMATCH_REFIT_NICE=0"}}) {
    const std::string load = LoadAverage();  // the machine's, as the child starts
    auto values = Child(v.env, "latency", dir);
    if (!values.ok()) {
      failed(absl::StrCat("refit_error_latency", v.suffix), values.status());
      continue;
    }
    results->SetNumber(absl::StrCat("match_p99_during_refit_ratio", v.suffix),
                       (*values)["during_p99_ms"] / (*values)["idle_p99_ms"]);
    // (result key, the child's key)
    static constexpr std::pair<const char*, const char*> kCopied[] = {
        {"match_p99_idle_ms", "idle_p99_ms"},
        {"match_p99_during_refit_ms", "during_p99_ms"},
        {"match_p99_after_refit_ms", "after_p99_ms"},
        {"match_cpu_p99_idle_ms", "idle_cpu_p99_ms"},
        {"match_cpu_p99_during_refit_ms", "during_cpu_p99_ms"},
        {"match_during_refit_queries", "during_queries"},
        {"match_during_refit_seconds", "refit_seconds"},
        {"match_during_refit_refit_cpu_seconds", "refit_cpu_seconds"},
    };
    for (const auto& [key, child_key] : kCopied) {
      results->SetNumber(absl::StrCat(key, v.suffix), (*values)[child_key]);
    }
    results->SetString(absl::StrCat("match_during_refit_load_average", v.suffix), load);
  }
  if (kept == nullptr) std::filesystem::remove_all(dir);
}

}  // namespace peermatch::bench
