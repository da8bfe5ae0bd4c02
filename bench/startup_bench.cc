#include "bench/startup_bench.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "engine/engine.h"
#include "embed/model.h"
#include "peermatch/internal/matcher_data.pb.h"
#include "peermatch/v1/model.pb.h"
#include "store/store.h"

namespace peermatch::bench {
namespace {

constexpr size_t kCasesPerCity = 5;
constexpr uint64_t kSeed = 20261201;
constexpr uint64_t kModelVersion = 1;
// The model is fitted on at most this many cases (Model::Fit holds every
// case's term counts and vectors in memory at once, about 15 KB a case).
constexpr size_t kMaxFitSample = 100000;
// Cases prepared (generated, embedded, encoded) per batch while the
// previous batch is written.
constexpr size_t kBatch = 20000;

// "1m" for 1,000,000, else SizeLabel's "100k", "20k".
std::string Label(size_t n) {
  if (n >= 1000000 && n % 1000000 == 0) return absl::StrCat(n / 1000000, "m");
  return SizeLabel(n);
}

// A "Field:   123 kB" line of /proc/self/status (or /proc/meminfo), in bytes.
uint64_t KbField(const char* file, absl::string_view field) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (absl::string_view(line).substr(0, field.size()) == field) {
      return std::strtoull(line.c_str() + field.size(), nullptr, 10) * 1024;
    }
  }
  return 0;
}

std::string CityId(size_t c) { return absl::StrFormat("city-%06d", c); }

v1::City MakeCity(size_t c) {
  static const char* const kCountries[] = {"FR", "IT", "CN", "BR", "CO", "KR", "IR", "EG",
                                           "NG", "MX", "DE", "IN", "KE", "JP", "MA"};
  static const v1::Region kRegions[] = {
      v1::REGION_EUROPE_NORTH_AMERICA, v1::REGION_EUROPE_NORTH_AMERICA,
      v1::REGION_ASIA_PACIFIC,         v1::REGION_LATIN_AMERICA_CARIBBEAN,
      v1::REGION_LATIN_AMERICA_CARIBBEAN, v1::REGION_ASIA_PACIFIC,
      v1::REGION_ASIA_PACIFIC,         v1::REGION_ARAB_STATES,
      v1::REGION_AFRICA,               v1::REGION_LATIN_AMERICA_CARIBBEAN,
      v1::REGION_EUROPE_NORTH_AMERICA, v1::REGION_ASIA_PACIFIC,
      v1::REGION_AFRICA,               v1::REGION_ASIA_PACIFIC,
      v1::REGION_ARAB_STATES};
  v1::City city;
  city.set_id(CityId(c));
  city.set_name(absl::StrCat("City ", c));
  city.set_country(kCountries[c % 15]);
  city.set_region(kRegions[c % 15]);
  city.set_population(static_cast<int64_t>(50000 + (c * 7919) % 5000000));
  city.add_languages("en");
  return city;
}

// Case i: deterministic, whatever order cases are made in.
v1::Case MakeCase(size_t i) {
  static const char* const kGroups[] = {"teachers",   "parents",      "older adults",
                                        "migrants",   "young people", "women",
                                        "job seekers", "children",    "librarians"};
  std::mt19937_64 rng(kSeed ^ (0x9E3779B97F4A7C15ull * (i + 1)));
  const size_t city = i / kCasesPerCity, k = i % kCasesPerCity;
  const int topic = static_cast<int>(rng() % kSyntheticTopics);
  v1::Case c;
  c.set_id(absl::StrCat(CityId(city), "-case-", k));
  c.set_city_id(CityId(city));
  c.set_kind(k < 2 ? v1::CASE_KIND_CHALLENGE : v1::CASE_KIND_SOLUTION);
  std::string title = SyntheticText(rng, topic, 5 + static_cast<int>(rng() % 5));
  if (!title.empty() && title.back() == '.') title.pop_back();
  c.set_title(title);
  c.set_description(SyntheticText(rng, topic, 20 + static_cast<int>(rng() % 21)));
  const int theme = 1 + topic % 6;
  c.add_themes(static_cast<v1::Theme>(theme));
  if (rng() % 3 == 0) c.add_themes(static_cast<v1::Theme>(1 + theme % 6));
  c.add_sdgs(4);
  static const int kOtherSdgs[] = {1, 5, 8, 10, 11, 13};
  if (rng() % 2 == 0) c.add_sdgs(kOtherSdgs[rng() % 6]);
  c.add_target_groups(kGroups[rng() % 9]);
  c.set_year(2015 + static_cast<int>(rng() % 10));
  c.set_language("en");
  return c;
}

// The prepared records of one batch: cases and their vectors.
using Batch = std::vector<std::pair<v1::Case, CaseVector>>;

Batch Prepare(const Model& model, size_t begin, size_t end) {
  Batch out(end - begin);
  auto work = [&](size_t first) {
    for (size_t i = begin + first; i < end; i += 2) {
      auto& [c, vec] = out[i - begin];
      c = MakeCase(i);
      vec.model_version = model.version();
      vec.blob = model.EncodeVector(model.Embed(c));
    }
  };
  std::thread other(work, 1);
  work(0);
  other.join();
  return out;
}

struct Built {
  double seconds = 0, fit_seconds = 0;
  size_t fit_cases = 0;
  uint64_t model_bytes = 0;
  size_t vocabulary = 0;
  int dense_dim = 0;
};

// Builds a store of `n` cases at `dir` that looks served (see the header).
absl::Status BuildStore(const std::string& dir, size_t n, Built* built) {
  const double start = NowSeconds();
  std::filesystem::remove_all(dir);
  StoreOptions so;
  so.sync = false;
  auto opened = Store::Open(dir, so);
  if (!opened.ok()) return opened.status();
  std::unique_ptr<Store> store = *std::move(opened);

  const size_t cities = (n + kCasesPerCity - 1) / kCasesPerCity;
  for (size_t c = 0; c < cities; ++c) {
    auto r = store->PutCity(MakeCity(c));
    if (!r.ok()) return r.status();
  }

  // The model: fitted on every case, or on an evenly spaced sample.
  const size_t sample = std::min(n, kMaxFitSample);
  std::fprintf(stderr, "startup: fitting the model on %zu of %zu cases\n", sample, n);
  double t = NowSeconds();
  std::string blob;
  {
    std::vector<v1::Case> cases(sample);
    std::vector<const v1::Case*> pointers(sample);
    for (size_t j = 0; j < sample; ++j) {
      cases[j] = MakeCase(j * n / sample);
      pointers[j] = &cases[j];
    }
    Model::Fitted fitted = Model::Fit(pointers, kModelVersion, ModelOptions(),
                                      static_cast<int64_t>(std::time(nullptr)));
    blob = fitted.model->Serialize();
  }
  built->fit_seconds = NowSeconds() - t;
  built->fit_cases = sample;
  if (sample < n) {
    // A store that peermatchd has been serving has a model fitted on (at
    // least 5/6 of) its cases: the drift rule refits when the case count
    // differs from the model's by 20 % of it. Scale the sample's document
    // counts to n, as a fit on n cases drawn the same way would have them
    // (up to the rare words the sample missed), so that opening sees a
    // current model.
    internal::ModelData data;
    if (!data.ParseFromString(blob)) return absl::InternalError("the fitted model does not parse");
    const double scale = static_cast<double>(n) / static_cast<double>(sample);
    data.set_num_docs(static_cast<uint32_t>(n));
    for (int i = 0; i < data.df_size(); ++i) {
      const double df = std::round(data.df(i) * scale);
      data.set_df(i, static_cast<uint32_t>(std::clamp(df, 1.0, static_cast<double>(n))));
    }
    blob = data.SerializeAsString();
  }
  auto parsed = Model::Parse(blob);
  if (!parsed.ok()) return parsed.status();
  const std::shared_ptr<const Model> model = *std::move(parsed);
  built->model_bytes = blob.size();
  built->vocabulary = model->vocabulary_size();
  built->dense_dim = model->dense_dim();
  if (absl::Status s = store->CommitModel(kModelVersion, blob); !s.ok()) return s;

  // Every case with its vector: the next batch is prepared on both cores
  // while this one is written.
  std::future<Batch> next =
      std::async(std::launch::async, Prepare, std::cref(*model), 0, std::min(n, kBatch));
  for (size_t begin = 0; begin < n; begin += kBatch) {
    Batch batch = next.get();
    const size_t after = begin + kBatch;
    if (after < n) {
      next = std::async(std::launch::async, Prepare, std::cref(*model), after,
                        std::min(n, after + kBatch));
    }
    for (const auto& [c, vec] : batch) {
      auto r = store->PutCase(c, &vec);
      if (!r.ok()) return r.status();
    }
    std::fprintf(stderr, "startup: writing cases %zu/%zu\n", std::min(n, after), n);
  }
  // Leave nothing in memtables for the next open to replay from the log.
  if (absl::Status s = store->Flush(); !s.ok()) return s;
  store.reset();
  built->seconds = NowSeconds() - start;
  return absl::OkStatus();
}

}  // namespace

uint64_t DirectoryBytes(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir, ec)) {
    if (e.is_regular_file(ec)) total += e.file_size(ec);
  }
  return total;
}

absl::Status BuildServedStore(const std::string& dir, size_t n, double* seconds) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(dir).parent_path(), ec);
  Built built;
  absl::Status s = BuildStore(dir, n, &built);
  if (seconds != nullptr) *seconds = built.seconds;
  return s;
}

v1::Case SyntheticCase(size_t i) { return MakeCase(i); }

namespace {

// Runs the child on `dir`; its "key value" lines, or an error.
absl::StatusOr<std::map<std::string, double>> MeasureInChild(const std::string& dir, size_t n) {
  return RunSelf("", absl::StrCat("--startup-child '", dir, "' ", n), "the start-up process");
}

}  // namespace

int RunStartupChild(const std::string& dir, size_t cases) {
  const uint64_t rss_before = ResidentBytes();
  const double t0 = NowSeconds();
  // As peermatchd: the store with its default options; the engine with its
  // defaults (refit_at_open included) but no background refit thread.
  auto store = Store::Open(dir);
  if (!store.ok()) {
    std::fprintf(stderr, "startup child: %s\n", store.status().ToString().c_str());
    return 1;
  }
  const double t1 = NowSeconds();
  EngineOptions options;
  options.background_refit = false;
  auto engine = Engine::Open(store->get(), options);
  if (!engine.ok()) {
    std::fprintf(stderr, "startup child: %s\n", engine.status().ToString().c_str());
    return 1;
  }
  const double t2 = NowSeconds();
  const std::shared_ptr<const Snapshot> snapshot = (*engine)->snapshot();
  const double t3 = NowSeconds();
  const uint64_t rss_after = ResidentBytes();
  std::printf("store_open_seconds %.6f\n", t1 - t0);
  std::printf("engine_open_seconds %.6f\n", t2 - t1);
  std::printf("index_seconds %.6f\n", t3 - t2);
  std::printf("rss_before_bytes %llu\n", static_cast<unsigned long long>(rss_before));
  std::printf("rss_after_bytes %llu\n", static_cast<unsigned long long>(rss_after));
  std::printf("peak_rss_bytes %llu\n",
              static_cast<unsigned long long>(KbField("/proc/self/status", "VmHWM:")));
  std::printf("model_version %llu\n", static_cast<unsigned long long>(snapshot->model->version()));
  std::printf("model_num_docs %u\n", snapshot->model->num_docs());
  std::printf("index_cases %zu\n", snapshot->index->num_cases());
  std::printf("index_vector_bytes %zu\n", snapshot->index->MemoryBytes());
  std::printf("expected_cases %zu\n", cases);
  std::fflush(stdout);
  return 0;
}

void RunStartupBench(const BenchOptions& options, BenchResults* results) {
  const std::vector<size_t> sizes =
      options.quick ? std::vector<size_t>{20000} : std::vector<size_t>{100000, 1000000};
  const std::string dir =
      (std::filesystem::temp_directory_path() / "peermatch-startup-bench").string();
  size_t largest = 0;
  double last_seconds = 0, last_peak_per_case = 0;
  size_t last_n = 0;
  for (size_t n : sizes) {
    const std::string label = Label(n);
    // Stop before a size that would not fit in memory or open in 15 minutes,
    // by the last size's figures (growing linearly, with a margin).
    if (last_n > 0) {
      const double grow = static_cast<double>(n) / static_cast<double>(last_n);
      const double need = last_peak_per_case * n * 1.3;
      const double available = static_cast<double>(KbField("/proc/meminfo", "MemAvailable:"));
      std::string why;
      if (need > 0.85 * available) {
        why = absl::StrFormat("projected peak %.1f GB > 85%% of the %.1f GB available",
                              need / 1e9, available / 1e9);
      } else if (last_seconds * grow * 1.5 > 900) {
        why = absl::StrFormat("projected start-up %.0f s > 15 min", last_seconds * grow * 1.5);
      }
      if (!why.empty()) {
        results->SetString(absl::StrCat("startup_", label, "_skipped"), why);
        std::fprintf(stderr, "startup: skipping %zu cases: %s\n", n, why.c_str());
        break;
      }
    }
    Built built;
    if (absl::Status s = BuildStore(dir, n, &built); !s.ok()) {
      results->SetString(absl::StrCat("startup_", label, "_error"),
                         absl::StrCat("building the store: ", s.ToString()));
      std::filesystem::remove_all(dir);
      break;
    }
    const uint64_t store_bytes = DirectoryBytes(dir);
    std::fprintf(stderr, "startup: store of %zu cases built in %.1f s (%.2f GB); opening it\n",
                 n, built.seconds, store_bytes / 1e9);
    auto measured = MeasureInChild(dir, n);
    // PEERMATCH_STARTUP_KEEP=1 keeps the last store, to profile the start-up
    // by hand: peermatch-bench --startup-child DIR N (under perf record).
    const char* keep = std::getenv("PEERMATCH_STARTUP_KEEP");
    const bool last = n == sizes.back();
    if (keep != nullptr && std::string(keep) == "1" && last && measured.ok()) {
      std::fprintf(stderr, "startup: kept the store of %zu cases in %s\n", n, dir.c_str());
    } else {
      std::filesystem::remove_all(dir);
    }
    if (!measured.ok()) {
      results->SetString(absl::StrCat("startup_", label, "_error"),
                         std::string(measured.status().message()));
      break;
    }
    std::map<std::string, double>& m = *measured;
    const double seconds = m["store_open_seconds"] + m["engine_open_seconds"] + m["index_seconds"];
    const double dn = static_cast<double>(n);
    const double per_case = (m["rss_after_bytes"] - m["rss_before_bytes"]) / dn;
    const double peak_per_case = (m["peak_rss_bytes"] - m["rss_before_bytes"]) / dn;
    const std::string p = absl::StrCat("startup_", label);
    results->SetNumber(absl::StrCat(p, "_seconds"), seconds);
    results->SetNumber(absl::StrCat("memory_per_case_bytes_", label), std::round(per_case));
    results->SetInt(absl::StrCat("startup_store_bytes_", label), static_cast<int64_t>(store_bytes));
    results->SetNumber(absl::StrCat(p, "_store_open_seconds"), m["store_open_seconds"]);
    results->SetNumber(absl::StrCat(p, "_engine_open_seconds"), m["engine_open_seconds"]);
    results->SetNumber(absl::StrCat(p, "_index_build_seconds"), m["index_seconds"]);
    results->SetNumber(absl::StrCat(p, "_peak_memory_per_case_bytes"), std::round(peak_per_case));
    results->SetNumber(absl::StrCat(p, "_index_vector_bytes_per_case"),
                       std::round(m["index_vector_bytes"] / dn));
    results->SetInt(absl::StrCat(p, "_resident_bytes"),
                    static_cast<int64_t>(m["rss_after_bytes"]));
    // A refit at open commits a new model version; re-embedding would show
    // as cases missing from the index.
    const bool refitted = m["model_version"] != static_cast<double>(kModelVersion);
    results->SetBool(absl::StrCat(p, "_refit_at_open"), refitted);
    if (m["index_cases"] != dn) {
      results->SetString(absl::StrCat(p, "_error"),
                         absl::StrCat("the index holds ", m["index_cases"], " cases, not ", n));
    }
    results->SetInt(absl::StrCat(p, "_model_fit_cases"), static_cast<int64_t>(built.fit_cases));
    results->SetInt(absl::StrCat(p, "_model_bytes"), static_cast<int64_t>(built.model_bytes));
    results->SetInt(absl::StrCat(p, "_model_vocabulary"), static_cast<int64_t>(built.vocabulary));
    results->SetInt(absl::StrCat(p, "_model_dense_dim"), built.dense_dim);
    results->SetNumber(absl::StrCat(p, "_model_fit_seconds"), built.fit_seconds);
    results->SetNumber(absl::StrCat(p, "_build_seconds"), built.seconds);
    std::fprintf(stderr, "startup: %zu cases open in %.2f s, %.0f bytes a case\n", n, seconds,
                 per_case);
    largest = n;
    last_n = n;
    last_seconds = seconds;
    last_peak_per_case = peak_per_case;
  }
  results->SetInt("startup_cases", static_cast<int64_t>(largest));
  results->SetString(
      "startup_corpus_note",
      absl::StrCat(
          "synthetic English cases, 5 per city (N/5 cities, Store::PutCity): title 5-9 words, "
          "description 20-40 words (SyntheticText: 20 topics of 10 words, ~280 common words "
          "by a Zipf law, 4% made-up proper names), one target group, 1-2 themes and SDGs; "
          "every case stored with its vector under one committed model; the model is fitted on all cases up to ",
          kMaxFitSample,
          ", above that on an evenly spaced sample of ", kMaxFitSample,
          " with its document counts scaled to N, so that the drift rule sees a current model; "
          "timed in a fresh process: Store::Open (default options) + Engine::Open "
          "(defaults, refit_at_open on, background_refit off) + the first snapshot (index "
          "build); memory = resident set after minus before; the store files are in the page "
          "cache (just written), so this is a warm start, not one after a reboot"));
}

}  // namespace peermatch::bench
