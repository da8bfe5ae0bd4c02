// matcher_bench: embedding throughput and query latency on a BEIR corpus
// (SciFact by default). A program, not a test: it prints one JSON object.
//
// Usage: matcher_bench [--corpus corpus.jsonl] [--queries queries.jsonl] [--quick]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "engine/engine.h"
#include "store/store.h"

namespace {

using Clock = std::chrono::steady_clock;
using peermatch::v1::Case;

double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::vector<google::protobuf::Struct> ReadJsonLines(const std::string& path, size_t limit) {
  std::vector<google::protobuf::Struct> out;
  std::ifstream in(path);
  std::string line;
  while (out.size() < limit && std::getline(in, line)) {
    google::protobuf::Struct s;
    if (google::protobuf::util::JsonStringToMessage(line, &s).ok()) out.push_back(s);
  }
  return out;
}

std::string Str(const google::protobuf::Struct& s, const std::string& key) {
  auto it = s.fields().find(key);
  return it == s.fields().end() ? "" : it->second.string_value();
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

}  // namespace

int main(int argc, char** argv) {
  std::string corpus = std::string(PEERMATCH_SOURCE_DIR) + "/../shared/datasets/scifact/corpus.jsonl";
  std::string queries = std::string(PEERMATCH_SOURCE_DIR) + "/../shared/datasets/scifact/queries.jsonl";
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--corpus" && i + 1 < argc) corpus = argv[++i];
    else if (a == "--queries" && i + 1 < argc) queries = argv[++i];
    else if (a == "--quick") quick = true;
    else {
      std::fprintf(stderr, "usage: matcher_bench [--corpus F] [--queries F] [--quick]\n");
      return 2;
    }
  }
  const auto docs = ReadJsonLines(corpus, quick ? 1000 : SIZE_MAX);
  const auto qs = ReadJsonLines(queries, quick ? 100 : 1000);
  if (docs.empty() || qs.empty()) {
    std::fprintf(stderr, "matcher_bench: cannot read %s or %s\n", corpus.c_str(), queries.c_str());
    return 1;
  }
  std::vector<Case> cases;
  size_t bytes = 0;
  for (size_t i = 0; i < docs.size(); ++i) {
    Case c;
    c.set_id("d" + std::to_string(i));
    c.set_city_id("bench");
    c.set_kind(peermatch::v1::CASE_KIND_SOLUTION);
    c.set_title(Str(docs[i], "title").empty() ? "-" : Str(docs[i], "title"));
    c.set_description(Str(docs[i], "text").empty() ? "-" : Str(docs[i], "text"));
    c.add_themes(peermatch::v1::THEME_QUALITY_EXCELLENCE);
    bytes += c.title().size() + c.description().size();
    cases.push_back(c);
  }
  std::vector<const Case*> pointers;
  for (const auto& c : cases) pointers.push_back(&c);

  // Fit (analysis of every case on two threads, vocabulary, randomized SVD).
  auto t = Clock::now();
  auto fitted = peermatch::Model::Fit(pointers, 1, peermatch::ModelOptions());
  const double fit_s = Since(t);

  // Embedding with a fitted model: one thread, then two.
  t = Clock::now();
  for (const auto& c : cases) fitted.model->Embed(c);
  const double embed1_s = Since(t);
  t = Clock::now();
  std::thread other([&] {
    for (size_t i = 1; i < cases.size(); i += 2) fitted.model->Embed(cases[i]);
  });
  for (size_t i = 0; i < cases.size(); i += 2) fitted.model->Embed(cases[i]);
  other.join();
  const double embed2_s = Since(t);

  // Queries through the engine over a real (unsynced, temporary) store.
  const std::string dir = (std::filesystem::temp_directory_path() / "peermatch-bench").string();
  std::filesystem::remove_all(dir);
  peermatch::StoreOptions so;
  so.sync = false;
  auto store = peermatch::Store::Open(dir, so);
  peermatch::EngineOptions eo;
  eo.background_refit = false;
  eo.refit_min_changes = 1 << 30;
  auto engine = peermatch::Engine::Open(store->get(), eo);
  peermatch::v1::City city;
  city.set_id("bench");
  city.set_name("Bench");
  city.set_country("FR");
  city.set_region(peermatch::v1::REGION_EUROPE_NORTH_AMERICA);
  (void)(*engine)->PutCity(city, peermatch::Visibility::kDeferred);
  t = Clock::now();
  for (const auto& c : cases) (void)(*engine)->PutCase(c, peermatch::Visibility::kDeferred);
  const double load_s = Since(t);
  (void)(*engine)->Refit();
  (*engine)->Publish();
  std::vector<double> similar_ms, match_ms;
  for (const auto& q : qs) {
    peermatch::SimilarQuery similar;
    similar.about.text = Str(q, "_id").empty() ? "x" : Str(q, "text");
    similar.k = 10;
    t = Clock::now();
    auto r = (*engine)->SimilarCases(similar);
    similar_ms.push_back(Since(t) * 1e3);
    peermatch::MatchQuery m;
    m.about.text = similar.about.text;
    t = Clock::now();
    auto mr = (*engine)->Match(m);
    match_ms.push_back(Since(t) * 1e3);
  }
  const size_t index_bytes = (*engine)->snapshot()->index->MemoryBytes();
  engine->reset();
  store->reset();
  std::filesystem::remove_all(dir);

  const double n = static_cast<double>(cases.size());
  std::printf(
      "{\"documents\": %zu, \"corpus_mb\": %.2f, \"queries\": %zu,\n"
      " \"fit_seconds\": %.2f, \"fit_docs_per_s\": %.0f,\n"
      " \"embed_docs_per_s_1_thread\": %.0f, \"embed_mb_per_s_1_thread\": %.2f,\n"
      " \"embed_docs_per_s_2_threads\": %.0f, \"embed_mb_per_s_2_threads\": %.2f,\n"
      " \"store_write_docs_per_s\": %.0f,\n"
      " \"similar_top10_p50_ms\": %.3f, \"similar_top10_p99_ms\": %.3f,\n"
      " \"match_p50_ms\": %.3f, \"match_p99_ms\": %.3f,\n"
      " \"index_mb\": %.1f, \"dense_dim\": %d}\n",
      cases.size(), bytes / 1e6, qs.size(), fit_s, n / fit_s, n / embed1_s, bytes / 1e6 / embed1_s,
      n / embed2_s, bytes / 1e6 / embed2_s, n / load_s, Percentile(similar_ms, 0.5),
      Percentile(similar_ms, 0.99), Percentile(match_ms, 0.5), Percentile(match_ms, 0.99),
      index_bytes / 1e6, fitted.model->dense_dim());
  return 0;
}
