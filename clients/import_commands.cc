// `peermatch import` and `peermatch export`.
#include <unistd.h>

#include <cstdio>
#include <memory>

#include "absl/strings/str_cat.h"
#include "clients/command.h"
#include "records/records.h"
#include "engine/engine.h"
#include "store/store.h"

namespace peermatch::cli {
namespace {

// Progress on a terminal only, rewritten in place.
class Progress {
 public:
  explicit Progress(int total) : total_(total), tty_(isatty(STDERR_FILENO)) {}
  void Update(int done, bool force = false) {
    if (!tty_ || (!force && done % 50 != 0)) return;
    std::fprintf(stderr, "\rimporting: %d/%d records", done, total_);
    if (done == total_) std::fprintf(stderr, "\n");
  }

 private:
  int total_;
  bool tty_;
};

void PrintSummary(const Context& ctx, const v1::ImportSummary& summary) {
  if (ctx.json) {
    std::printf("%s\n", ToJson(summary).c_str());
    return;
  }
  std::printf("imported: %d cities and %d cases written, %d unchanged, %d rejected\n",
              summary.cities_written(), summary.cases_written(), summary.unchanged(),
              summary.errors_size());
  for (const auto& e : summary.errors()) {
    std::printf("  record %d%s: %s %s\n", e.index(),
                e.id().empty() ? "" : absl::StrCat(" (", e.id(), ")").c_str(), e.code().c_str(),
                e.message().c_str());
  }
}

void Count(const v1::ImportRecord& record, PutResult r, v1::ImportSummary* summary) {
  if (r == PutResult::kUnchanged) {
    summary->set_unchanged(summary->unchanged() + 1);
  } else if (record.has_city()) {
    summary->set_cities_written(summary->cities_written() + 1);
  } else {
    summary->set_cases_written(summary->cases_written() + 1);
  }
}

void AddError(int index, const std::string& id, const absl::Status& s,
              v1::ImportSummary* summary) {
  v1::ImportError* e = summary->add_errors();
  e->set_index(index);
  e->set_id(id);
  e->set_code(absl::StatusCodeToString(s.code()));
  e->set_message(std::string(s.message()));
}

std::string RecordId(const v1::ImportRecord& r) {
  return r.has_city() ? r.city().id() : r.case_().id();
}

// Offline: straight into a data directory through the engine.
absl::Status ImportOffline(Context& ctx, const std::vector<std::string>& files) {
  const std::string dir = ctx.args.Get("data-dir");
  auto store = Store::Open(dir);
  if (!store.ok()) return store.status();
  if (ctx.args.Has("if-empty")) {
    auto counts = (*store)->Count();
    if (!counts.ok()) return counts.status();
    if (counts->cities > 0) {
      std::printf("import: %s already holds %lld cities; nothing imported (--if-empty)\n",
                  dir.c_str(), static_cast<long long>(counts->cities));
      return absl::OkStatus();
    }
  }
  // Fit once at the end rather than as the corpus grows.
  EngineOptions engine_options;
  engine_options.background_refit = false;
  engine_options.refit_at_open = false;
  engine_options.refit_min_changes = 1 << 30;
  auto engine = Engine::Open(store->get(), engine_options);
  if (!engine.ok()) return engine.status();
  int total = 0;
  for (const auto& f : files) total += CountLines(f);
  Progress progress(total);
  v1::ImportSummary summary;
  int index = 0;
  for (const auto& file : files) {
    absl::Status s = ForEachRecord(file, [&](int line, absl::StatusOr<v1::ImportRecord> rec) {
      if (!rec.ok()) {
        AddError(index, "", absl::Status(rec.status().code(),
                                         absl::StrCat(file, ":", line, ": ", rec.status().message())),
                 &summary);
      } else {
        auto r = (*engine)->Apply(*rec, Visibility::kDeferred);
        if (r.ok()) {
          Count(*rec, *r, &summary);
        } else {
          AddError(index, RecordId(*rec),
                   absl::Status(r.status().code(),
                                absl::StrCat(file, ":", line, ": ", r.status().message())),
                   &summary);
        }
      }
      progress.Update(++index);
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
  }
  progress.Update(index, true);
  if (summary.cases_written() > 0) {
    if (absl::Status s = (*engine)->Refit(); !s.ok()) return s;
  }
  (*engine)->Publish();
  PrintSummary(ctx, summary);
  return summary.errors_size() == 0
             ? absl::OkStatus()
             : absl::InvalidArgumentError(absl::StrCat(summary.errors_size(),
                                                       " records rejected; the rest is written"));
}

// Online: one ImportRecords stream to a running server.
absl::Status ImportOnline(Context& ctx, const std::vector<std::string>& files) {
  int total = 0;
  for (const auto& f : files) total += CountLines(f);
  Progress progress(total);
  grpc::ClientContext call;
  ctx.Prepare(&call, /*timeout_seconds=*/0);
  v1::ImportSummary summary;
  auto writer = ctx.Stub().ImportRecords(&call, &summary);
  std::vector<std::pair<int, std::string>> parse_errors;  // stream index, message
  int index = 0;
  for (const auto& file : files) {
    absl::Status s = ForEachRecord(file, [&](int line, absl::StatusOr<v1::ImportRecord> rec) {
      if (!rec.ok()) {
        // Sent as an empty record so the server's indices stay line-aligned.
        parse_errors.emplace_back(index, absl::StrCat(file, ":", line, ": ",
                                                      rec.status().message()));
        rec = v1::ImportRecord();
      }
      if (!writer->Write(*rec)) return absl::UnavailableError("the server closed the stream");
      progress.Update(++index);
      return absl::OkStatus();
    });
    if (!s.ok()) break;
  }
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  if (!status.ok()) return FromGrpc(status, ctx.server);
  progress.Update(index, true);
  // Replace the server's "holds neither" for unparsable lines with the reason.
  for (auto& e : *summary.mutable_errors()) {
    for (const auto& [i, msg] : parse_errors) {
      if (i == e.index()) e.set_message(msg);
    }
  }
  PrintSummary(ctx, summary);
  return summary.errors_size() == 0
             ? absl::OkStatus()
             : absl::InvalidArgumentError(absl::StrCat(summary.errors_size(),
                                                       " records rejected; the rest is written"));
}

absl::Status RunImport(Context& ctx) {
  std::vector<std::string> files = ctx.args.GetAll("file");
  for (const auto& p : ctx.args.positional()) files.push_back(p);
  if (files.empty()) return absl::InvalidArgumentError("--file: name at least one JSON Lines file");
  for (const auto& f : files) {
    if (access(f.c_str(), R_OK) != 0) {
      return absl::NotFoundError(absl::StrCat("--file: cannot read ", f));
    }
  }
  if (ctx.args.Has("data-dir")) return ImportOffline(ctx, files);
  if (ctx.args.Has("if-empty")) {
    return absl::InvalidArgumentError("--if-empty: only with --data-dir");
  }
  return ImportOnline(ctx, files);
}

// Writes every city, then every case, as import records (JSON Lines).
absl::Status RunExport(Context& ctx) {
  const std::string path = ctx.args.Get("file");
  FILE* out = path.empty() || path == "-" ? stdout : std::fopen(path.c_str(), "w");
  if (out == nullptr) return absl::InvalidArgumentError(absl::StrCat("--file: cannot write ", path));
  size_t cities = 0, cases = 0;
  absl::Status status;
  v1::ListCitiesRequest creq;
  creq.set_page_size(1000);
  do {
    v1::ListCitiesResponse resp;
    grpc::ClientContext call;
    ctx.Prepare(&call);
    status = FromGrpc(ctx.Stub().ListCities(&call, creq, &resp), ctx.server);
    if (!status.ok()) break;
    for (const auto& c : resp.cities()) {
      v1::ImportRecord r;
      *r.mutable_city() = c;
      std::fprintf(out, "%s\n", ToJson(r).c_str());
      ++cities;
    }
    creq.set_page_token(resp.next_page_token());
  } while (!creq.page_token().empty());
  v1::ListCasesRequest req;
  req.set_page_size(1000);
  while (status.ok()) {
    v1::ListCasesResponse resp;
    grpc::ClientContext call;
    ctx.Prepare(&call);
    status = FromGrpc(ctx.Stub().ListCases(&call, req, &resp), ctx.server);
    if (!status.ok()) break;
    for (const auto& c : resp.cases()) {
      v1::ImportRecord r;
      *r.mutable_case_() = c;
      std::fprintf(out, "%s\n", ToJson(r).c_str());
      ++cases;
    }
    req.set_page_token(resp.next_page_token());
    if (req.page_token().empty()) break;
  }
  if (out != stdout) std::fclose(out);
  if (!status.ok()) return status;
  std::fprintf(stderr, "exported %zu cities and %zu cases\n", cities, cases);
  return absl::OkStatus();
}

}  // namespace

void AddImportCommands(std::vector<Command>* out) {
  out->push_back(Command{
      "export", "write all cities and cases as JSON Lines (the import format)",
      "Usage: peermatch export [--file out.jsonl]\n"
      "\n"
      "Writes every city, then every case, one import record per line, to --file or to\n"
      "standard output. `peermatch import --file out.jsonl` loads it back.\n",
      {"file"},
      {},
      RunExport});
  out->push_back(Command{
      "import", "load cities and cases from JSON Lines files",
      "Usage: peermatch import --file F.jsonl [--file G.jsonl ...] [--data-dir DIR [--if-empty]]\n"
      "\n"
      "Each line is one record in protobuf JSON: {\"city\": {...}} or {\"case\": {...}}\n"
      "(see proto/peermatch/v1/model.proto and data/demo/ for examples). Records are\n"
      "upserts by id: importing the same file twice changes nothing. A bad record is\n"
      "reported with its line and field and skipped; the others are written.\n"
      "\n"
      "  --file F       a file to import (repeatable; cities before their cases)\n"
      "  --data-dir D   write into the data directory D directly (the server must not\n"
      "                 be running on it); without it, records go to --server\n"
      "  --if-empty     with --data-dir: import only when the store has no cities yet\n"
      "\n"
      "Exit status: 0 when every record was accepted, 1 otherwise.\n",
      {"file", "data-dir", "if-empty"},
      {"if-empty"},
      RunImport});
}

}  // namespace peermatch::cli
