#include "bench/embed_bench.h"

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "bench/bench_util.h"
#include "embed/model.h"

namespace peermatch::bench {
namespace {

using Clock = std::chrono::steady_clock;

std::string Corpus() {
  return std::string(PEERMATCH_SOURCE_DIR) + "/../shared/datasets/scifact/corpus.jsonl";
}

// The same texts scikit-learn gets: title and text of each document.
std::vector<v1::Case> ReadCases(const std::string& path, size_t limit, size_t* bytes) {
  std::vector<v1::Case> cases;
  std::ifstream in(path);
  std::string line;
  while (cases.size() < limit && std::getline(in, line)) {
    google::protobuf::Struct doc;
    if (!google::protobuf::util::JsonStringToMessage(line, &doc).ok()) continue;
    v1::Case c;
    c.set_title(doc.fields().at("title").string_value());
    c.set_description(doc.fields().at("text").string_value());
    *bytes += c.title().size() + c.description().size();
    cases.push_back(std::move(c));
  }
  return cases;
}

// Issue 13: a mixed-language corpus, the eight Tatoeba pairs' queries (fr
// es pt de zh ar ru ko, 1,000 each) and their English sentences, each case
// with its record's language, so that every non-English case is translated.
std::vector<v1::Case> ReadMixedCases(size_t limit_per_file, size_t* bytes) {
  std::vector<v1::Case> cases;
  for (const char* pair : {"fra", "spa", "por", "deu", "cmn", "ara", "rus", "kor"}) {
    const std::string dir =
        absl::StrCat(PEERMATCH_SOURCE_DIR, "/../shared/datasets/tatoeba/", pair, "-eng/");
    for (const char* file : {"queries_test.jsonl", "corpus.jsonl"}) {
      std::ifstream in(dir + file);
      std::string line;
      for (size_t n = 0; n < limit_per_file && std::getline(in, line); ++n) {
        google::protobuf::Struct doc;
        if (!google::protobuf::util::JsonStringToMessage(line, &doc).ok()) continue;
        v1::Case c;
        c.set_title("-");
        c.set_description(doc.fields().at("text").string_value());
        auto lang = doc.fields().find("language");
        if (lang != doc.fields().end()) c.set_language(lang->second.string_value());
        *bytes += c.description().size();
        cases.push_back(std::move(c));
      }
    }
  }
  return cases;
}

// Best of three fit_transform runs of TfidfVectorizer, in documents per
// second of wall time and (in *per_cpu_second) of the process's CPU time;
// 0 when Python or scikit-learn is not there.
double SklearnDocsPerSecond(const std::string& path, size_t limit, double* per_cpu_second) {
  const std::string script = absl::StrCat(
      "import json,time\n"
      "from sklearn.feature_extraction.text import TfidfVectorizer\n"
      "docs=[]\n"
      "for line in open('", path, "'):\n"
      "    d=json.loads(line); docs.append(d['title']+' '+d['text'])\n"
      "    if len(docs)>=", limit, ": break\n"
      "best=1e9\n"
      "cpu=1e9\n"
      "for _ in range(3):\n"
      "    t=time.perf_counter(); c=time.process_time(); TfidfVectorizer().fit_transform(docs); "
      "best=min(best,time.perf_counter()-t); cpu=min(cpu,time.process_time()-c)\n"
      "print(len(docs)/best, len(docs)/cpu)\n");
  const std::string file = "/tmp/peermatch-bench-sklearn.py";
  std::ofstream(file) << script;
  FILE* p = popen(("/usr/bin/python3 " + file + " 2>/dev/null").c_str(), "r");
  if (p == nullptr) return 0;
  char buf[128] = {0};
  const bool got = fgets(buf, sizeof buf, p) != nullptr;
  pclose(p);
  unlink(file.c_str());
  const std::vector<absl::string_view> parts =
      absl::StrSplit(absl::StripAsciiWhitespace(buf), ' ', absl::SkipEmpty());
  double rate = 0;
  *per_cpu_second = 0;
  if (!got || parts.size() != 2 || !absl::SimpleAtod(parts[0], &rate) ||
      !absl::SimpleAtod(parts[1], per_cpu_second)) {
    *per_cpu_second = 0;
    return 0;
  }
  return rate;
}


// Seconds for two threads to embed every case (even and odd positions),
// cold: a freshly loaded model and new threads each time; best of 3.
double ColdSeconds(const std::string& model_bytes, const std::vector<v1::Case>& cases) {
  double best = 1e30;
  for (int rep = 0; rep < 3; ++rep) {
    const std::shared_ptr<const Model> model = *Model::Parse(model_bytes);
    const auto t = Clock::now();
    std::thread threads[2];
    for (int k = 0; k < 2; ++k) {
      threads[k] = std::thread([&, k] {
        for (size_t i = k; i < cases.size(); i += 2) model->Embed(cases[i]);
      });
    }
    for (std::thread& th : threads) th.join();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t).count());
  }
  return best;
}

// The same in steady state: `threads` threads (1 or 2) that keep the model,
// after one untimed pass; each timed pass starts them together. Best of 3.
// *cpu_seconds (may be null): the best pass's CPU time, summed over the
// threads.
double SteadySeconds(const std::string& model_bytes, const std::vector<v1::Case>& cases,
                     const ModelOptions& options = {}, int threads = 2,
                     double* cpu_seconds = nullptr) {
  const std::shared_ptr<const Model> model = *Model::Parse(model_bytes, options);
  constexpr int kPasses = 4;  // the first is the warm-up
  std::atomic<int> arrived{0};
  std::atomic<int> started{-1};
  std::vector<Clock::time_point> starts(kPasses), ends[2];
  std::vector<double> cpu[2];
  std::vector<std::thread> workers;
  for (int k = 0; k < threads; ++k) {
    workers.emplace_back([&, k] {
      for (int pass = 0; pass < kPasses; ++pass) {
        ++arrived;
        while (started.load() < pass) std::this_thread::yield();
        const double cpu_start = ThreadCpuSeconds();
        for (size_t i = k; i < cases.size(); i += threads) model->Embed(cases[i]);
        ends[k].push_back(Clock::now());
        cpu[k].push_back(ThreadCpuSeconds() - cpu_start);
      }
    });
  }
  for (int pass = 0; pass < kPasses; ++pass) {
    while (arrived.load() < threads * (pass + 1)) std::this_thread::yield();
    starts[pass] = Clock::now();
    started = pass;
  }
  for (std::thread& th : workers) th.join();
  double best = 1e30;
  for (int pass = 1; pass < kPasses; ++pass) {
    auto end = ends[0][pass];
    for (int k = 1; k < threads; ++k) end = std::max(end, ends[k][pass]);
    best = std::min(best, std::chrono::duration<double>(end - starts[pass]).count());
    double pass_cpu = 0;
    for (int k = 0; k < threads; ++k) pass_cpu += cpu[k][pass];
    if (cpu_seconds != nullptr && (pass == 1 || pass_cpu < *cpu_seconds)) *cpu_seconds = pass_cpu;
  }
  return best;
}

}  // namespace

void RunEmbedBench(bool quick, std::vector<std::pair<std::string, std::string>>* keys) {
  const size_t limit = quick ? 1000 : SIZE_MAX;
  size_t bytes = 0;
  const std::vector<v1::Case> cases = ReadCases(Corpus(), limit, &bytes);
  if (cases.empty()) {
    keys->emplace_back("embed_error", absl::StrCat("\"cannot read ", Corpus(), "\""));
    return;
  }
  std::vector<const v1::Case*> pointers;
  for (const auto& c : cases) pointers.push_back(&c);
  // A model fitted on the corpus, as the server has after its first fit.
  const std::string fitted = Model::Fit(pointers, 1, ModelOptions()).model->Serialize();
  const double steady = SteadySeconds(fitted, cases);
  // Per core: one thread against scikit-learn's one.
  double cpu_one = 0;
  const double steady_one = SteadySeconds(fitted, cases, ModelOptions(), 1, &cpu_one);
  const double cold = ColdSeconds(fitted, cases);
  double sklearn_per_cpu = 0;
  const double sklearn = SklearnDocsPerSecond(Corpus(), cases.size(), &sklearn_per_cpu);
  const double n = static_cast<double>(cases.size());
  auto ratio = [&](double seconds) {
    return sklearn > 0 ? absl::StrFormat("%.3f", n / seconds / sklearn) : std::string("null");
  };
  keys->emplace_back("embed_documents", absl::StrCat(cases.size()));
  keys->emplace_back("embed_docs_per_s", absl::StrFormat("%.0f", n / steady));
  keys->emplace_back("embed_mb_per_s", absl::StrFormat("%.2f", bytes / 1e6 / steady));
  keys->emplace_back("embed_cold_docs_per_s", absl::StrFormat("%.0f", n / cold));
  keys->emplace_back("embed_1thread_docs_per_s", absl::StrFormat("%.0f", n / steady_one));
  keys->emplace_back("sklearn_tfidf_docs_per_s", absl::StrFormat("%.0f", sklearn));
  keys->emplace_back("embed_speedup_vs_sklearn", ratio(steady));
  keys->emplace_back("embed_cold_speedup_vs_sklearn", ratio(cold));
  keys->emplace_back("embed_1thread_speedup_vs_sklearn", ratio(steady_one));
  // Per CPU second (thread CPU time here, process CPU time there): less
  // moved by other programs on the machine than wall time.
  keys->emplace_back("embed_cpu_docs_per_s", absl::StrFormat("%.0f", n / cpu_one));
  keys->emplace_back("sklearn_tfidf_cpu_docs_per_s", absl::StrFormat("%.0f", sklearn_per_cpu));
  keys->emplace_back("embed_cpu_speedup_vs_sklearn",
                     sklearn_per_cpu > 0
                         ? absl::StrFormat("%.3f", n / cpu_one / sklearn_per_cpu)
                         : std::string("null"));
  // Issue 13: the same steady-state figure on a mixed-language corpus,
  // where every non-English case also counts its words' translations.
  size_t mixed_bytes = 0;
  const std::vector<v1::Case> mixed = ReadMixedCases(quick ? 200 : SIZE_MAX, &mixed_bytes);
  if (!mixed.empty()) {
    std::vector<const v1::Case*> mixed_pointers;
    for (const auto& c : mixed) mixed_pointers.push_back(&c);
    const std::string mixed_model = Model::Fit(mixed_pointers, 1, ModelOptions()).model->Serialize();
    double mixed_cpu = 0, plain_cpu = 0;
    const double mixed_steady = SteadySeconds(mixed_model, mixed, ModelOptions(), 2, &mixed_cpu);
    ModelOptions untranslated;
    untranslated.translate_cases = false;
    const double plain_steady = SteadySeconds(
        Model::Fit(mixed_pointers, 1, untranslated).model->Serialize(), mixed, untranslated, 2,
        &plain_cpu);
    keys->emplace_back("embed_mixed_documents", absl::StrCat(mixed.size()));
    keys->emplace_back("embed_mixed_docs_per_s",
                       absl::StrFormat("%.0f", mixed.size() / mixed_steady));
    keys->emplace_back("embed_mixed_untranslated_docs_per_s",
                       absl::StrFormat("%.0f", mixed.size() / plain_steady));
    // Per CPU second of both threads together.
    keys->emplace_back("embed_mixed_cpu_docs_per_s",
                       absl::StrFormat("%.0f", mixed.size() / mixed_cpu));
    keys->emplace_back("embed_mixed_untranslated_cpu_docs_per_s",
                       absl::StrFormat("%.0f", mixed.size() / plain_cpu));
  }
  keys->emplace_back(
      "embed_pipeline",
      "\"ours: Model::Embed = words as ICU segments them (ASCII without ICU, same words), "
      "Snowball stemming, character 4-grams, two BM25 vectors and the LSA projection, on 2 "
      "threads. embed_docs_per_s: steady state (the same threads and model after one untimed "
      "pass over the corpus, as in a running server), best of 3 passes; embed_1thread_docs_per_s: "
      "the same on one thread (per core, against scikit-learn's one); embed_cold_docs_per_s: "
      "a first pass (freshly loaded model, new threads: every per-thread word cache empty), best "
      "of 3. scikit-learn: TfidfVectorizer().fit_transform (regex words, one thread), best of 3\"");
}

}  // namespace peermatch::bench
