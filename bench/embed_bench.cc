#include "bench/embed_bench.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "matcher/model.h"

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

// Best of three fit_transform runs of TfidfVectorizer, in documents per
// second; 0 when Python or scikit-learn is not there.
double SklearnDocsPerSecond(const std::string& path, size_t limit) {
  const std::string script = absl::StrCat(
      "import json,time\n"
      "from sklearn.feature_extraction.text import TfidfVectorizer\n"
      "docs=[]\n"
      "for line in open('", path, "'):\n"
      "    d=json.loads(line); docs.append(d['title']+' '+d['text'])\n"
      "    if len(docs)>=", limit, ": break\n"
      "best=1e9\n"
      "for _ in range(3):\n"
      "    t=time.perf_counter(); TfidfVectorizer().fit_transform(docs); "
      "best=min(best,time.perf_counter()-t)\n"
      "print(len(docs)/best)\n");
  const std::string file = "/tmp/peermatch-bench-sklearn.py";
  std::ofstream(file) << script;
  FILE* p = popen(("/usr/bin/python3 " + file + " 2>/dev/null").c_str(), "r");
  if (p == nullptr) return 0;
  char buf[128] = {0};
  const bool got = fgets(buf, sizeof buf, p) != nullptr;
  pclose(p);
  unlink(file.c_str());
  double rate = 0;
  return got && absl::SimpleAtod(absl::StripAsciiWhitespace(buf), &rate) ? rate : 0;
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
  double best = 1e30;
  for (int rep = 0; rep < 3; ++rep) {
    // Cold every time, like a first import: a model freshly loaded (its
    // per-thread word caches empty) and two new threads (the analyzer's
    // per-thread stem caches empty).
    const std::shared_ptr<const Model> model = *Model::Parse(fitted);
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
  const double ours = static_cast<double>(cases.size()) / best;
  const double sklearn = SklearnDocsPerSecond(Corpus(), cases.size());
  keys->emplace_back("embed_documents", absl::StrCat(cases.size()));
  keys->emplace_back("embed_docs_per_s", absl::StrFormat("%.0f", ours));
  keys->emplace_back("embed_mb_per_s", absl::StrFormat("%.2f", bytes / 1e6 / best));
  keys->emplace_back("sklearn_tfidf_docs_per_s", absl::StrFormat("%.0f", sklearn));
  keys->emplace_back("embed_speedup_vs_sklearn",
                     sklearn > 0 ? absl::StrFormat("%.3f", ours / sklearn) : "null");
  keys->emplace_back("embed_pipeline",
                     "\"ours: Model::Embed = words as ICU segments them (ASCII without ICU, same "
                     "words), Snowball stemming, character 4-grams, two BM25 vectors and the LSA "
                     "projection, on 2 new threads with a freshly loaded model (caches cold); "
                     "scikit-learn: TfidfVectorizer().fit_transform (regex words, one thread); "
                     "best of 3 each\"");
}

}  // namespace peermatch::bench
