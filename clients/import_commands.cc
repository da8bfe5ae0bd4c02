// `peermatch export`, and the online half of `peermatch import` with what
// both halves print (import_backup.h).
#include <unistd.h>

#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "clients/command.h"
#include "clients/import_backup.h"
#include "records/records.h"

namespace peermatch::cli {

ImportProgress::ImportProgress(int total)
    : total_(total), tty_(isatty(STDERR_FILENO)), start_(absl::Now()), last_line_(start_) {}

double ImportProgress::Seconds() const { return absl::ToDoubleSeconds(absl::Now() - start_); }

void ImportProgress::Update(int done, bool force) {
  const absl::Time now = absl::Now();
  if (tty_ ? !force && done % 50 != 0 : !force && now - last_line_ < absl::Seconds(10)) return;
  // In a log, only a long import says how far it is, and only at its end
  // when it has said so before.
  if (!tty_ && (total_ < kLongImport || (done == total_ && last_line_ == start_))) return;
  last_line_ = now;
  const double seconds = absl::ToDoubleSeconds(now - start_);
  const double rate = seconds > 0 ? done / seconds : 0;
  std::fprintf(stderr, "%simporting: %d/%d records (%.0f records/s)%s", tty_ ? "\r" : "", done,
               total_, rate, !tty_ || done == total_ ? "\n" : "");
}

namespace {

// " in 2.0 s: 500 cases/s" (the rate of cases written).
std::string Rate(int cases, double seconds) {
  return absl::StrFormat(" in %.1f s: %.0f cases/s", seconds, seconds > 0 ? cases / seconds : 0.0);
}

}  // namespace

absl::Status ReportImport(const Context& ctx, const ImportInput& input,
                          const v1::ImportOptions& options, v1::ImportSummary summary,
                          double seconds) {
  for (auto& e : *summary.mutable_errors()) {
    // The server's "holds neither" for a line that did not parse: say why.
    if (const std::string* why = input.ParseError(e.index())) e.set_message(*why);
  }
  const int rejected = summary.errors_size();
  const bool rolled_back = options.all_or_nothing() && !options.dry_run() && rejected > 0;
  if (ctx.json) {
    for (auto& e : *summary.mutable_errors()) {
      e.set_message(absl::StrCat(input.Where(e.index()), ": ", e.message()));
    }
    std::printf("%s\n", ToJson(summary).c_str());
  } else {
    if (options.dry_run()) {
      std::printf("dry run: would write %d cities and %d cases, %d unchanged, %d rejected; "
                  "nothing was written\n",
                  summary.cities_written(), summary.cases_written(), summary.unchanged(), rejected);
    } else if (rolled_back) {
      std::printf("imported: nothing written (--all-or-nothing): %d of %d records rejected\n",
                  rejected, input.size());
    } else {
      std::printf("imported: %d cities and %d cases written, %d unchanged, %d rejected%s\n",
                  summary.cities_written(), summary.cases_written(), summary.unchanged(), rejected,
                  Rate(summary.cases_written(), seconds).c_str());
    }
    for (const auto& e : summary.errors()) {
      std::printf("  %s: %s (%s%s)\n", input.Where(e.index()).c_str(), e.message().c_str(),
                  e.id().empty() ? "" : absl::StrCat(e.id(), ", ").c_str(), e.code().c_str());
    }
  }
  if (rejected == 0) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      rejected, rejected == 1 ? " record" : " records",
      options.dry_run() ? " would be rejected; nothing was written (--dry-run)"
      : rolled_back     ? " rejected; nothing was written (--all-or-nothing)"
                        : " rejected; the rest is written"));
}

// Online: one ImportRecords stream to a running server.
absl::Status ImportOnline(Context& ctx, const ImportInput& input,
                          const v1::ImportOptions& options) {
  ImportProgress progress(input.size());
  grpc::ClientContext call;
  ctx.Prepare(&call, /*timeout_seconds=*/0);
  v1::ImportSummary summary;
  auto writer = ctx.Stub().ImportRecords(&call, &summary);
  bool open = true;
  if (options.dry_run() || options.all_or_nothing()) {
    v1::ImportRecord first;
    *first.mutable_options() = options;
    open = writer->Write(first);
  }
  int sent = 0;
  if (open) {
    // A write fails only when the server has ended the call; Finish says why.
    (void)input.ForEach([&](int, v1::ImportRecord record) {
      if (!writer->Write(record)) return absl::UnavailableError("the server closed the stream");
      progress.Update(++sent);
      return absl::OkStatus();
    });
  }
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  if (!status.ok()) return FromGrpc(status, ctx.server);
  progress.Update(sent, true);
  return ReportImport(ctx, input, options, std::move(summary), progress.Seconds());
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
