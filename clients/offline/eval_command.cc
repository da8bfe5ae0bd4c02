// `peermatch eval`: ranking quality on a BEIR-format collection, measured
// through the production code path (store, engine, model, index).
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
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
absl::StatusOr<std::map<std::string, Judgments>> ReadQrels(const std::string& path,
                                                           absl::string_view flag = "--qrels") {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(flag, ": cannot open ", path));
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

// Mean figures of a ranking of the judged queries.
struct Figures {
  double ndcg = 0, recall = 0, mrr = 0;
  double seconds = 0;
};

struct Query {
  std::string id, text;
  std::string language;  // "": detected by the engine (--language when not confident)
};
using Queries = std::vector<Query>;

// The judged queries of `path` (those `qrels` has), in file order.
absl::StatusOr<Queries> ReadQueries(const std::string& path,
                                    const std::map<std::string, Judgments>& qrels) {
  Queries queries;
  absl::Status s = ForEachJsonLine(path, [&](int line, const google::protobuf::Struct& o) {
    const std::string id = Field(o, "_id");
    const std::string language = Field(o, "language");
    if (!language.empty() && !IsIsoLanguage(language)) {
      return absl::InvalidArgumentError(absl::StrCat(path, ":", line, ": language: \"", language,
                                                     "\" is not an ISO 639-1 code"));
    }
    if (qrels.count(id) > 0) queries.push_back({id, Field(o, "text"), language});
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return queries;
}

// The top `k` documents (corpus ids) for a query's text.
absl::StatusOr<std::vector<std::string>> TopDocuments(
    const Engine& engine, const Query& query,
    const std::map<std::string, std::string>& doc_of_case, int k) {
  SimilarQuery q;
  q.about.text = Utf8Prefix(query.text, kMaxQueryBytes);
  q.about.language = query.language;  // empty: detected
  q.k = k;
  auto result = engine.SimilarCases(q);
  if (!result.ok()) {
    return absl::Status(result.status().code(),
                        absl::StrCat("query ", query.id, ": ", result.status().message()));
  }
  std::vector<std::string> ranking;
  for (const auto& m : result->cases.items) ranking.push_back(doc_of_case.at(m.record.id()));
  return ranking;
}

absl::StatusOr<Figures> Rank(const Engine& engine, const Queries& queries,
                             const std::map<std::string, Judgments>& qrels,
                             const std::map<std::string, std::string>& doc_of_case) {
  Figures f;
  const auto start = Clock::now();
  for (size_t i = 0; i < queries.size(); ++i) {
    auto ranking = TopDocuments(engine, queries[i], doc_of_case, 100);
    if (!ranking.ok()) return ranking.status();
    const Judgments& judged = qrels.at(queries[i].id);
    f.ndcg += NdcgAt(*ranking, judged, 10);
    f.recall += RecallAt(*ranking, judged, 100);
    f.mrr += MrrAt(*ranking, judged, 10);
    Progress("ranking queries", i + 1, queries.size());
  }
  const double n = static_cast<double>(queries.size());
  f.ndcg /= n, f.recall /= n, f.mrr /= n;
  f.seconds = Seconds(start);
  return f;
}

// How many of a feedback query's top-ranked documents, when not relevant,
// count as declined: the page a staff member reads.
constexpr int kDeclinedFromTop = 10;

// `peermatch eval --feedback`: the feedback qrels as simulated decisions on
// the engine's own (baseline) answers, written as judgements: relevant ->
// accepted, judged non-relevant (grade 0) or non-relevant in the top
// kDeclinedFromTop -> declined. Returns how many were written.
// INVALID_ARGUMENT when a feedback query is also a test query (fitting on
// the test queries would measure nothing) or none has a text.
absl::StatusOr<int64_t> SimulateDecisions(Engine& engine, const std::string& queries_path,
                                          const std::string& feedback_path,
                                          const std::map<std::string, Judgments>& test_qrels,
                                          const std::map<std::string, std::string>& doc_of_case) {
  auto feedback = ReadQrels(feedback_path, "--feedback");
  if (!feedback.ok()) return feedback.status();
  for (const auto& [id, judged] : *feedback) {
    if (test_qrels.count(id) > 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--feedback: query ", id, " is also judged in --qrels; fit on other queries than "
          "the ones measured (e.g. the train split)"));
    }
  }
  auto queries = ReadQueries(queries_path, *feedback);
  if (!queries.ok()) return queries.status();
  if (queries->empty() && !feedback->empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--feedback-queries: ", queries_path, " has the text of no query of --feedback"));
  }
  std::map<std::string, std::string> case_of_doc;
  for (const auto& [c, d] : doc_of_case) case_of_doc[d] = c;
  int64_t written = 0;
  for (size_t i = 0; i < queries->size(); ++i) {
    const Query& query = (*queries)[i];
    const Judgments& judged = feedback->at(query.id);
    std::map<std::string, bool> decisions;  // corpus id -> accepted
    for (const auto& [doc, grade] : judged) decisions[doc] = grade > 0;
    auto top = TopDocuments(engine, query, doc_of_case, kDeclinedFromTop);
    if (!top.ok()) return top.status();
    for (const std::string& doc : *top) decisions.emplace(doc, false);
    for (const auto& [doc, accepted] : decisions) {
      auto c = case_of_doc.find(doc);
      if (c == case_of_doc.end()) continue;  // judged but not in the corpus
      v1::Judgement j;
      j.set_challenge_text(Utf8Prefix(query.text, kMaxQueryBytes));
      j.set_language(query.language);
      j.set_solution_case_id(c->second);
      j.set_relevant(accepted);
      j.set_source(v1::Judgement::SOURCE_EVALUATION);
      if (auto r = engine.store().AddJudgement(j); !r.ok()) return r.status();
      ++written;
    }
    Progress("simulating decisions", i + 1, queries->size());
  }
  return written;
}

void Print(bool json, const Figures& base, const std::optional<Figures>& learned,
           const FusionFit* fusion, int64_t decisions, size_t documents, size_t queries,
           size_t truncated, double load_seconds, double fit_seconds, size_t bytes) {
  const double n = static_cast<double>(queries);
  if (json) {
    std::string extra;
    if (learned.has_value()) {
      const ScoreWeights& w = fusion->weights;
      extra = absl::StrFormat(
          ", \"learned\": {\"ndcg_at_10\": %.4f, \"recall_at_100\": %.4f, \"mrr_at_10\": %.4f, "
          "\"fusion_learned\": %s, \"decisions\": %d, \"weights\": {\"lexical\": %.4f, "
          "\"subword\": %.4f, \"semantic\": %.4f, \"structure\": %.4f, \"accepted\": %.4f, "
          "\"declined\": %.4f}, "
          "\"heldout_default_ndcg\": %.4f, \"heldout_learned_ndcg\": %.4f, \"reason\": \"%s\"}",
          learned->ndcg, learned->recall, learned->mrr, fusion->learned ? "true" : "false",
          decisions, w.lexical, w.subword, w.semantic, w.structure, fusion->accepted_weight,
          fusion->declined_weight, fusion->heldout_default_ndcg,
          fusion->heldout_learned_ndcg, absl::CEscape(fusion->reason));
    }
    std::printf(
        "{\"ndcg_at_10\": %.4f, \"recall_at_100\": %.4f, \"mrr_at_10\": %.4f, "
        "\"documents\": %zu, \"queries\": %zu, \"truncated_documents\": %zu, "
        "\"load_seconds\": %.2f, \"fit_seconds\": %.2f, \"query_seconds\": %.2f, "
        "\"queries_per_second\": %.1f, \"corpus_mb\": %.1f%s}\n",
        base.ndcg, base.recall, base.mrr, documents, queries, truncated, load_seconds, fit_seconds,
        base.seconds, n / base.seconds, bytes / 1e6, extra.c_str());
    return;
  }
  std::printf("documents %zu (%.1f MB, %zu truncated to the case limits), judged queries %zu\n",
              documents, bytes / 1e6, truncated, queries);
  if (!learned.has_value()) {
    std::printf("nDCG@10    %.4f\nRecall@100 %.4f\nMRR@10     %.4f\n", base.ndcg, base.recall,
                base.mrr);
  } else {
    std::printf("             default  learned\n");
    std::printf("nDCG@10      %.4f   %.4f  (%+.4f)\n", base.ndcg, learned->ndcg,
                learned->ndcg - base.ndcg);
    std::printf("Recall@100   %.4f   %.4f  (%+.4f)\n", base.recall, learned->recall,
                learned->recall - base.recall);
    std::printf("MRR@10       %.4f   %.4f  (%+.4f)\n", base.mrr, learned->mrr,
                learned->mrr - base.mrr);
    const ScoreWeights& w = fusion->weights;
    std::printf(
        "fusion: %s, weights lexical %.4f, subword %.4f, semantic %.4f, structure %.4f, "
        "accepted %.4f, declined %.4f\n",
        fusion->learned ? "learned" : "default", w.lexical, w.subword, w.semantic, w.structure,
        fusion->accepted_weight, fusion->declined_weight);
    std::printf("  %lld simulated decisions: %s\n", static_cast<long long>(decisions),
                fusion->reason.c_str());
  }
  std::printf("time: load %.2f s, fit %.2f s, queries %.2f s (%.1f queries/s)\n", load_seconds,
              fit_seconds, base.seconds, n / base.seconds);
}

absl::Status RunEval(Context& ctx) {
  const std::string corpus_path = ctx.args.Get("corpus");
  const std::string queries_path = ctx.args.Get("queries");
  const std::string qrels_path = ctx.args.Get("qrels");
  const std::string feedback_path = ctx.args.Get("feedback");
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
  auto queries = ReadQueries(queries_path, *qrels);
  if (!queries.ok()) return queries.status();
  if (queries->empty()) {
    return absl::InvalidArgumentError("no query of --queries has judgments in --qrels");
  }

  auto baseline = Rank(**engine, *queries, *qrels, doc_of_case);
  if (!baseline.ok()) return baseline.status();
  std::optional<Figures> learned;
  std::shared_ptr<const FusionFit> fusion;
  int64_t decisions = 0;
  if (!feedback_path.empty()) {
    auto d = SimulateDecisions(**engine, ctx.args.Get("feedback-queries", queries_path),
                               feedback_path, *qrels, doc_of_case);
    if (!d.ok()) return d.status();
    decisions = *d;
    if (s = (*engine)->RefitFusion(); !s.ok()) return s;
    fusion = (*engine)->fusion();
    auto after = Rank(**engine, *queries, *qrels, doc_of_case);
    if (!after.ok()) return after.status();
    learned = *after;
  }
  Print(ctx.json, *baseline, learned, fusion.get(), decisions, doc_ids.size(), queries->size(),
        truncated, load_seconds, fit_seconds, bytes);
  return absl::OkStatus();
}

}  // namespace

void AddEvalCommands(std::vector<Command>* out) {
  out->push_back(Command{
      "eval", "measure ranking quality on labelled pairs (BEIR format)",
      "Usage: peermatch eval --corpus corpus.jsonl --queries queries.jsonl --qrels qrels.tsv\n"
      "                      [--feedback train-qrels.tsv [--feedback-queries F]]\n"
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
      "  --feedback F  qrels used as simulated decisions (relevant: accepted; judged\n"
      "                non-relevant, or non-relevant in the engine's top 10: declined),\n"
      "                written as judgements; the learned fusion is fitted to them and\n"
      "                --qrels is measured with the default and the learned weights.\n"
      "                Its queries must not be judged in --qrels.\n"
      "  --feedback-queries F  the texts of --feedback's queries; default --queries\n"
      "\n"
      "Example (BEIR SciFact, test split):\n"
      "  peermatch eval --corpus ../shared/datasets/scifact/corpus.jsonl \\\n"
      "    --queries ../shared/datasets/scifact/queries_test.jsonl \\\n"
      "    --qrels ../shared/datasets/scifact/qrels/test.tsv \\\n"
      "    --feedback ../shared/datasets/scifact/qrels/train.tsv \\\n"
      "    --feedback-queries ../shared/datasets/scifact/queries.jsonl\n",
      {"corpus", "queries", "qrels", "language", "feedback", "feedback-queries"},
      {},
      RunEval});
}

}  // namespace peermatch::cli
