// `peermatch export`, and the online half of `peermatch import` with what
// both halves print (import_backup.h).
#include <unistd.h>

#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "clients/command.h"
#include "clients/import_backup.h"
#include "records/records.h"

namespace peermatch::cli {

ImportProgress::ImportProgress(int total) : total_(total), tty_(isatty(STDERR_FILENO)) {}

void ImportProgress::Update(int done, bool force) {
  if (!tty_ || (!force && done % 50 != 0)) return;
  std::fprintf(stderr, "\rimporting: %d/%d records", done, total_);
  if (done == total_) std::fprintf(stderr, "\n");
}

absl::Status ReportImport(const Context& ctx, const v1::ImportSummary& summary) {
  if (ctx.json) {
    std::printf("%s\n", ToJson(summary).c_str());
  } else {
    std::printf("imported: %d cities and %d cases written, %d unchanged, %d rejected\n",
                summary.cities_written(), summary.cases_written(), summary.unchanged(),
                summary.errors_size());
    for (const auto& e : summary.errors()) {
      std::printf("  record %d%s: %s %s\n", e.index(),
                  e.id().empty() ? "" : absl::StrCat(" (", e.id(), ")").c_str(),
                  e.code().c_str(), e.message().c_str());
    }
  }
  return summary.errors_size() == 0
             ? absl::OkStatus()
             : absl::InvalidArgumentError(absl::StrCat(summary.errors_size(),
                                                       " records rejected; the rest is written"));
}

// Online: one ImportRecords stream to a running server.
absl::Status ImportOnline(Context& ctx, const std::vector<std::string>& files) {
  int total = 0;
  for (const auto& f : files) total += CountLines(f);
  ImportProgress progress(total);
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
  return ReportImport(ctx, summary);
}

namespace {

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

void AddExportCommands(std::vector<Command>* out) {
  out->push_back(Command{
      "export", "write all cities and cases as JSON Lines (the import format)",
      "Usage: peermatch export [--file out.jsonl]\n"
      "\n"
      "Writes every city, then every case, one import record per line, to --file or to\n"
      "standard output. `peermatch import --file out.jsonl` loads it back.\n",
      {"file"},
      {},
      RunExport});
}

}  // namespace peermatch::cli
