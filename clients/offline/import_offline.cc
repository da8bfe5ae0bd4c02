// `peermatch import`: into a data directory through the engine (--data-dir),
// or to the server (clients/import_backup.h).
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "clients/command.h"
#include "clients/import_backup.h"
#include "clients/import_input.h"
#include "clients/offline/offline_commands.h"
#include "engine/engine.h"
#include "engine/import_writer.h"
#include "records/validate.h"
#include "store/store.h"

namespace peermatch::cli {
namespace {

// Adds one record's outcome to the summary, as the server's import does.
void Count(const v1::ImportRecord& record, int index, const absl::StatusOr<PutResult>& r,
           v1::ImportSummary* summary) {
  if (!r.ok()) {
    v1::ImportError* e = summary->add_errors();
    e->set_index(index);
    e->set_id(record.has_city() ? record.city().id() : record.case_().id());
    e->set_code(absl::StatusCodeToString(r.status().code()));
    e->set_message(std::string(r.status().message()));
  } else if (*r == PutResult::kUnchanged) {
    summary->set_unchanged(summary->unchanged() + 1);
  } else if (record.has_city()) {
    summary->set_cities_written(summary->cities_written() + 1);
  } else {
    summary->set_cases_written(summary->cases_written() + 1);
  }
}

// A test hook: PEERMATCH_IMPORT_PAUSE_AFTER=N makes an offline import stop
// after its Nth record, say so on stderr and wait for a signal, so that a
// test can interrupt a load at a known point. 0 (unset) never pauses.
int PauseAfter() {
  int n = 0;
  const char* env = std::getenv("PEERMATCH_IMPORT_PAUSE_AFTER");
  return env != nullptr && absl::SimpleAtoi(env, &n) ? n : 0;
}

void MaybePause(int done, int pause_after) {
  if (done != pause_after) return;
  std::fprintf(stderr, "import: paused after %d records (PEERMATCH_IMPORT_PAUSE_AFTER)\n", done);
  std::fflush(stderr);
  for (;;) pause();
}

std::string MarkerValue(const v1::ImportSummary& s, int records) {
  char when[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&now));
  return absl::StrCat("loaded ", when, ": ", records, " records (", s.cities_written(),
                      " cities and ", s.cases_written(), " cases written in the last run)");
}

// Offline: straight into a data directory through the engine.
absl::Status ImportOffline(Context& ctx, const ImportInput& input,
                           const v1::ImportOptions& options) {
  const std::string dir = ctx.args.Get("data-dir");
  const std::string marker = ctx.args.Get("load-marker");
  auto store = Store::Open(dir);
  if (!store.ok()) return store.status();
  if (!marker.empty()) {
    auto loaded = (*store)->GetLoadMarker(marker);
    if (loaded.ok()) {
      std::printf("import: %s already holds the load \"%s\" (%s); nothing imported\n",
                  dir.c_str(), marker.c_str(), loaded->c_str());
      return absl::OkStatus();
    }
    if (!absl::IsNotFound(loaded.status())) return loaded.status();
    auto counts = (*store)->Count();
    if (!counts.ok()) return counts.status();
    if (counts->cities + counts->cases > 0) {
      std::printf("import: resuming the load \"%s\" into %s, which holds %lld cities and %lld "
                  "cases (records already there and unchanged are skipped)\n",
                  marker.c_str(), dir.c_str(), static_cast<long long>(counts->cities),
                  static_cast<long long>(counts->cases));
    }
  }
  // Fit once at the end rather than as the corpus grows.
  EngineOptions engine_options;
  engine_options.background_refit = false;
  engine_options.refit_at_open = false;
  engine_options.refit_min_changes = 1 << 30;
  auto engine = Engine::Open(store->get(), engine_options);
  if (!engine.ok()) return engine.status();
  ImportProgress progress(input.size());
  v1::ImportSummary summary;
  summary.set_dry_run(options.dry_run());
  if (options.dry_run() || options.all_or_nothing()) {
    std::vector<v1::ImportRecord> records;
    records.reserve(input.size());
    (void)input.ForEach([&](int, v1::ImportRecord r) {
      records.push_back(std::move(r));
      return absl::OkStatus();
    });
    auto outcome = (*engine)->ImportBatch(records, options.dry_run(), Visibility::kDeferred);
    if (!outcome.ok()) return outcome.status();
    for (size_t i = 0; i < records.size(); ++i) {
      if (outcome->results[i].ok() && !outcome->written && !options.dry_run()) continue;
      Count(records[i], static_cast<int>(i), outcome->results[i], &summary);
    }
    progress.Update(input.size(), true);
  } else {
    // Group-committed (engine/import_writer.h); progress counts records
    // acknowledged, each durable once counted.
    const int pause_after = PauseAfter();
    ImportWriter writer(engine->get(), (*engine)->import_group(),
                        [&](int index, const v1::ImportRecord& r, const absl::StatusOr<PutResult>& result) {
                          Count(r, index, result, &summary);
                          progress.Update(index + 1);
                        });
    absl::Status s = input.ForEach([&](int index, v1::ImportRecord r) {
      writer.Add(index, std::move(r));
      if (index + 1 == pause_after) {
        writer.Flush();  // what the pause reports is durable
        MaybePause(index + 1, pause_after);
      }
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    writer.Flush();
    progress.Update(input.size(), true);
  }
  if (summary.cases_written() > 0 && !options.dry_run()) {
    if (absl::Status s = (*engine)->Refit(); !s.ok()) return s;
  }
  (*engine)->Publish();
  absl::Status reported = ReportImport(ctx, input, options, summary, progress.Seconds());
  // The marker goes last, once every record is durable (each write is
  // synced) and the model is fitted: an interrupted load has none, and the
  // next run completes it.
  if (!marker.empty() && reported.ok() && !options.dry_run()) {
    if (absl::Status s = (*store)->PutLoadMarker(marker, MarkerValue(summary, input.size()));
        !s.ok()) {
      return s;
    }
    std::printf("import: the load \"%s\" is complete; later runs with --load-marker %s import "
                "nothing\n", marker.c_str(), marker.c_str());
  }
  return reported;
}

absl::Status RunImport(Context& ctx) {
  std::vector<std::string> files = ctx.args.GetAll("file");
  for (const auto& p : ctx.args.positional()) files.push_back(p);
  if (ctx.args.Has("if-empty")) {
    return absl::InvalidArgumentError(
        "--if-empty: replaced by --load-marker NAME, which also completes a load that was "
        "interrupted (`make serve` uses --load-marker demo)");
  }
  if (files.empty()) return absl::InvalidArgumentError("--file: name at least one JSON Lines file");
  v1::ImportOptions options;
  options.set_dry_run(ctx.args.Has("dry-run"));
  options.set_all_or_nothing(ctx.args.Has("all-or-nothing"));
  if (ctx.args.Has("load-marker")) {
    if (!ctx.args.Has("data-dir")) {
      return absl::InvalidArgumentError("--load-marker: only with --data-dir");
    }
    if (absl::Status s = ValidateId("--load-marker", ctx.args.Get("load-marker")); !s.ok()) {
      return s;
    }
  }
  // Every file is read and checked before anything is sent or written.
  auto input = ImportInput::Check(files);
  if (!input.ok()) return input.status();
  if (ctx.args.Has("data-dir")) return ImportOffline(ctx, *input, options);
  return ImportOnline(ctx, *input, options);
}

}  // namespace

void AddImportCommands(std::vector<Command>* out) {
  out->push_back(Command{
      "import", "load cities and cases from JSON Lines files",
      "Usage: peermatch import --file F.jsonl [--file G.jsonl ...] [--dry-run | --all-or-nothing]\n"
      "                        [--data-dir DIR [--load-marker NAME]]\n"
      "\n"
      "Each line is one record in protobuf JSON: {\"city\": {...}} or {\"case\": {...}}\n"
      "(see proto/peermatch/v1/model.proto and data/demo/ for examples). Records are\n"
      "upserts by id: importing the same file twice changes nothing. Every file is read\n"
      "first: if any non-blank line is not a JSON object (say, a README), nothing is\n"
      "imported. A bad record is reported as FILE:LINE: what is wrong, naming the field;\n"
      "by default it is skipped and the others are written.\n"
      "\n"
      "  --file F            a file to import (repeatable; cities before their cases)\n"
      "  --dry-run           check every record as the import would (fields, and that a\n"
      "                      case's city is stored or comes earlier in the import), print\n"
      "                      what would be written, write nothing\n"
      "  --all-or-nothing    write every record in one atomic batch, or nothing at all\n"
      "                      when any is rejected (up to 64 MiB of records)\n"
      "  --data-dir D        write into the data directory D directly (the server must\n"
      "                      not be running on it); without it, records go to --server\n"
      "  --load-marker NAME  with --data-dir: a load that completes only once. When D\n"
      "                      holds marker NAME, nothing is imported; otherwise every\n"
      "                      record is imported (those already there are unchanged) and\n"
      "                      NAME is written once the last one is durable, so a load\n"
      "                      that was interrupted is completed by the next run.\n"
      "                      `make serve` uses --load-marker demo.\n"
      "\n"
      "Exit status: 0 when every record was accepted, 1 otherwise (2 for a bad flag).\n",
      {"file", "data-dir", "if-empty", "load-marker", "dry-run", "all-or-nothing"},
      {"if-empty", "dry-run", "all-or-nothing"},
      RunImport});
}

}  // namespace peermatch::cli
