// `peermatch eval`: ranking quality on a BEIR-format collection, measured
// through the production code path (store, engine, model, index).
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <cstdio>
#include <fstream>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "clients/command.h"
#include "clients/offline/eval_metrics.h"
#include "clients/offline/offline_commands.h"
#include "records/records.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "engine/engine.h"
#include "store/store.h"
#include "records/validate.h"

namespace peermatch::cli {
namespace {

using Clock = std::chrono::steady_clock;

// A scratch directory under $TMPDIR, removed on destruction.
class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "peermatch-eval-XXXXXX").string();
    if (mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// The longest prefix of `s` of at most `max` bytes that ends on a UTF-8
// character boundary.
std::string Utf8Prefix(const std::string& s, size_t max) {
  if (s.size() <= max) return s;
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return s.substr(0, end);
}

std::string Field(const google::protobuf::Struct& obj, const std::string& name) {
  auto it = obj.fields().find(name);
  if (it == obj.fields().end()) return "";
  if (it->second.has_string_value()) return it->second.string_value();
  if (it->second.has_number_value()) return absl::StrCat(it->second.number_value());
  return "";
}

// Calls fn(line number, object) for each JSON object line of `path`.
absl::Status ForEachJsonLine(
    const std::string& path,
    const std::function<absl::Status(int, const google::protobuf::Struct&)>& fn) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    google::protobuf::Struct obj;
    if (!google::protobuf::util::JsonStringToMessage(line, &obj).ok()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ":", number, ": not a JSON object"));
    }
    if (absl::Status s = fn(number, obj); !s.ok()) return s;
  }
  return absl::OkStatus();
}

// qrels: "query-id<TAB>corpus-id<TAB>score" lines; a header line is skipped.
absl::StatusOr<std::map<std::string, Judgments>> ReadQrels(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("--qrels: cannot open ", path));
  std::map<std::string, Judgments> qrels;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::vector<std::string> cols = absl::StrSplit(line, absl::ByAnyChar("\t "), absl::SkipEmpty());
    if (cols.empty()) continue;
    int grade = 0;
    if (cols.size() != 3 || !absl::SimpleAtoi(cols[2], &grade)) {
      if (number == 1) continue;  // header
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", number, ": expected query-id, corpus-id, score"));
    }
    qrels[cols[0]][cols[1]] = grade;
  }
  return qrels;
}

void Progress(const char* what, size_t done, size_t total) {
  if (!isatty(STDERR_FILENO) || (done % 100 != 0 && done != total)) return;
  std::fprintf(stderr, "\r%s: %zu/%zu", what, done, total);
  if (done == total) std::fprintf(stderr, "\n");
}

absl::Status RunEval(Context& ctx) {
  const std::string corpus_path = ctx.args.Get("corpus");
  const std::string queries_path = ctx.args.Get("queries");
  const std::string qrels_path = ctx.args.Get("qrels");
  if (corpus_path.empty() || queries_path.empty() || qrels_path.empty()) {
    return absl::InvalidArgumentError("--corpus, --queries and --qrels are all required");
  }
  const std::string language = ctx.args.Get("language", "en");
  if (!IsIsoLanguage(language)) return absl::InvalidArgumentError("--language: an ISO 639-1 code");
  auto qrels = ReadQrels(qrels_path);
  if (!qrels.ok()) return qrels.status();

  // A temporary store: nothing here needs to survive a crash.
  ScratchDir dir;
  if (dir.path().empty()) return absl::InternalError("cannot create a temporary directory");
  StoreOptions store_options;
  store_options.sync = false;
  auto store = Store::Open(dir.path() + "/db", store_options);
  if (!store.ok()) return store.status();
  EngineOptions engine_options;
  engine_options.background_refit = false;
  engine_options.refit_at_open = false;
  engine_options.refit_min_changes = 1 << 30;  // one fit, after loading
  // Records without a "language" are detected; --language when not confidently.
  engine_options.default_language = language;
  auto engine = Engine::Open(store->get(), engine_options);
  if (!engine.ok()) return engine.status();

  v1::City city;
  city.set_id("eval-collection");
  city.set_name("Evaluation collection");
  city.set_country("FR");
  city.set_region(v1::REGION_EUROPE_NORTH_AMERICA);
  if (auto r = (*engine)->PutCity(city, Visibility::kDeferred); !r.ok()) return r.status();

  // Documents become solutions of one city; ids are mapped to slugs.
  const auto load_start = Clock::now();
  std::vector<std::string> doc_ids;
  size_t bytes = 0, truncated = 0;
  const int total_docs = CountLines(corpus_path);
  absl::Status s = ForEachJsonLine(corpus_path, [&](int line, const google::protobuf::Struct& o) {
    const std::string id = Field(o, "_id");
    if (id.empty()) return absl::InvalidArgumentError(absl::StrCat(corpus_path, ":", line, ": no _id"));
    std::string title = Field(o, "title"), text = Field(o, "text");
    bytes += title.size() + text.size();
    if (title.size() > kMaxTitleBytes || text.size() > kMaxDescriptionBytes) ++truncated;
    v1::Case c;
    c.set_id(absl::StrCat("d", doc_ids.size()));
    c.set_city_id(city.id());
    c.set_kind(v1::CASE_KIND_SOLUTION);
    c.set_title(title.empty() ? "-" : Utf8Prefix(title, kMaxTitleBytes));
    c.set_description(text.empty() ? "-" : Utf8Prefix(text, kMaxDescriptionBytes));
    c.add_themes(v1::THEME_QUALITY_EXCELLENCE);
    c.set_language(Field(o, "language"));  // empty: detected by the engine
    auto r = (*engine)->PutCase(c, Visibility::kDeferred);
    if (!r.ok()) {
      return absl::Status(r.status().code(),
                          absl::StrCat(corpus_path, ":", line, ": ", r.status().message()));
    }
    doc_ids.push_back(id);
    Progress("loading documents", doc_ids.size(), total_docs);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  const double load_seconds = Seconds(load_start);
  const auto fit_start = Clock::now();
  if (s = (*engine)->Refit(); !s.ok()) return s;
  const double fit_seconds = Seconds(fit_start);
  std::map<std::string, std::string> doc_of_case;
  for (size_t i = 0; i < doc_ids.size(); ++i) doc_of_case[absl::StrCat("d", i)] = doc_ids[i];

  // Judged queries only.
  struct Query {
    std::string id, text, language;
  };
  std::vector<Query> queries;
  s = ForEachJsonLine(queries_path, [&](int line, const google::protobuf::Struct& o) {
    const std::string id = Field(o, "_id");
    const std::string query_language = Field(o, "language");
    if (!query_language.empty() && !IsIsoLanguage(query_language)) {
      return absl::InvalidArgumentError(absl::StrCat(queries_path, ":", line, ": language: \"",
                                                     query_language, "\" is not an ISO 639-1 code"));
    }
    if (qrels->count(id) > 0) queries.push_back({id, Field(o, "text"), query_language});
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (queries.empty()) {
    return absl::InvalidArgumentError("no query of --queries has judgments in --qrels");
  }

  double ndcg = 0, recall = 0, mrr = 0;
  const auto query_start = Clock::now();
  for (size_t i = 0; i < queries.size(); ++i) {
    SimilarQuery query;
    query.about.text = Utf8Prefix(queries[i].text, kMaxQueryBytes);
    query.about.language = queries[i].language;  // empty: detected
    query.k = 100;
    auto result = (*engine)->SimilarCases(query);
    if (!result.ok()) {
      return absl::Status(result.status().code(), absl::StrCat("query ", queries[i].id, ": ",
                                                               result.status().message()));
    }
    std::vector<std::string> ranking;
    for (const auto& m : result->cases.items) ranking.push_back(doc_of_case[m.record.id()]);
    const Judgments& judged = (*qrels)[queries[i].id];
    ndcg += NdcgAt(ranking, judged, 10);
    recall += RecallAt(ranking, judged, 100);
    mrr += MrrAt(ranking, judged, 10);
    Progress("ranking queries", i + 1, queries.size());
  }
  const double query_seconds = Seconds(query_start);
  const double n = static_cast<double>(queries.size());
  if (ctx.json) {
    std::printf(
        "{\"ndcg_at_10\": %.4f, \"recall_at_100\": %.4f, \"mrr_at_10\": %.4f, "
        "\"documents\": %zu, \"queries\": %zu, \"truncated_documents\": %zu, "
        "\"load_seconds\": %.2f, \"fit_seconds\": %.2f, \"query_seconds\": %.2f, "
        "\"queries_per_second\": %.1f, \"corpus_mb\": %.1f}\n",
        ndcg / n, recall / n, mrr / n, doc_ids.size(), queries.size(), truncated, load_seconds,
        fit_seconds, query_seconds, n / query_seconds, bytes / 1e6);
  } else {
    std::printf("documents %zu (%.1f MB, %zu truncated to the case limits), judged queries %zu\n",
                doc_ids.size(), bytes / 1e6, truncated, queries.size());
    std::printf("nDCG@10    %.4f\nRecall@100 %.4f\nMRR@10     %.4f\n", ndcg / n, recall / n,
                mrr / n);
    std::printf("time: load %.2f s, fit %.2f s, queries %.2f s (%.1f queries/s)\n", load_seconds,
                fit_seconds, query_seconds, n / query_seconds);
  }
  return absl::OkStatus();
}

}  // namespace

void AddEvalCommands(std::vector<Command>* out) {
  out->push_back(Command{
      "eval", "measure ranking quality on labelled pairs (BEIR format)",
      "Usage: peermatch eval --corpus corpus.jsonl --queries queries.jsonl --qrels qrels.tsv\n"
      "                      [--language en] [--json]\n"
      "\n"
      "Loads the corpus into a temporary store through the same code the server\n"
      "uses (each document becomes a solution case), fits the model, ranks the top\n"
      "100 cases for every query that has judgments, and prints nDCG@10, Recall@100\n"
      "and MRR@10 with counts and timings. Runs offline; no server needed.\n"
      "\n"
      "  --corpus F    JSON Lines: {\"_id\": ..., \"title\": ..., \"text\": ...,\n"
      "                \"language\": ...} (language optional, ISO 639-1)\n"
      "  --queries F   JSON Lines: {\"_id\": ..., \"text\": ..., \"language\": ...}\n"
      "  --qrels F     TSV: query-id, corpus-id, score (> 0 is relevant); header allowed\n"
      "  --language L  for records without a \"language\": the language when detection\n"
      "                is not confident (ISO 639-1; default en). Detection (CLD2) runs\n"
      "                for every such record, as the server does for cases.\n"
      "\n"
      "Example (BEIR SciFact, test split):\n"
      "  peermatch eval --corpus ../shared/datasets/scifact/corpus.jsonl \\\n"
      "    --queries ../shared/datasets/scifact/queries_test.jsonl \\\n"
      "    --qrels ../shared/datasets/scifact/qrels/test.tsv\n",
      {"corpus", "queries", "qrels", "language"},
      {},
      RunEval});
}

}  // namespace peermatch::cli
