// `peermatch import`: into a data directory through the engine (--data-dir),
// or to the server (clients/import_backup.h).
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "clients/command.h"
#include "clients/import_backup.h"
#include "clients/offline/offline_commands.h"
#include "engine/engine.h"
#include "records/records.h"
#include "store/store.h"

namespace peermatch::cli {
namespace {

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
  ImportProgress progress(total);
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
  return ReportImport(ctx, summary);
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

}  // namespace

void AddImportCommands(std::vector<Command>* out) {
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
