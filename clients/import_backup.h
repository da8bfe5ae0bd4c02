// The online halves of `peermatch import` and `peermatch backup`, and the
// output they share with their offline halves (--data-dir). The two commands
// are registered by clients/offline/offline_commands.h, which chooses the
// mode, so that this library never opens a data directory itself.
//
// Thread-safety: for the tool's one thread; the functions print to stdout and
// stderr.
#ifndef PEERMATCH_CLIENTS_IMPORT_BACKUP_H_
#define PEERMATCH_CLIENTS_IMPORT_BACKUP_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "clients/command.h"
#include "clients/import_input.h"
#include "peermatch/v1/peermatch.pb.h"

namespace peermatch::cli {

// Import progress on stderr: on a terminal "importing: 50/120 records
// (800 records/s)", rewritten in place every 50 records; otherwise (a log),
// for imports of kLongImport records or more, one such line every 10
// seconds, so a long import shows it is alive.
// Also the import's clock, for the rate ReportImport prints.
class ImportProgress {
 public:
  static constexpr int kLongImport = 10000;
  explicit ImportProgress(int total);
  // `done` records handled so far; `force` prints between steps too.
  void Update(int done, bool force = false);
  // Seconds since construction.
  double Seconds() const;

 private:
  int total_;
  bool tty_;
  absl::Time start_;
  absl::Time last_line_;
};

// Prints `summary` of an import of `input` made with `options`: one line of
// counts, then each rejected record as "file:line: message (id, CODE)"; or
// the summary's JSON with --json, each error's message starting with
// "file:line: ". Returns what the command exits with: OK when no record was
// rejected, else INVALID_ARGUMENT saying how many were and what was written
// ("the rest is written", "nothing was written").
// Unless a dry run, the counts are followed by the rate over `seconds`
// ("... rejected in 2.0 s: 500 cases/s"; not in the JSON).
absl::Status ReportImport(const Context& ctx, const ImportInput& input,
                          const v1::ImportOptions& options, v1::ImportSummary summary,
                          double seconds);

// Sends the records of `input` to ctx.server in one ImportRecords stream
// (led by `options` when it asks for a dry run or all-or-nothing), then
// reports as ReportImport. A failed call is returned as FromGrpc made it,
// with nothing printed.
absl::Status ImportOnline(Context& ctx, const ImportInput& input,
                          const v1::ImportOptions& options);

// --keep-last: 0 (the default, keep every backup) to 1000000; INVALID_ARGUMENT
// naming the flag otherwise.
absl::StatusOr<int> KeepLast(const Context& ctx);

// "2026-01-31 12:00:00 UTC".
std::string Utc(int64_t unix_seconds);

// "512 B", "1.5 KiB", "3.2 MiB", "1.25 GiB".
std::string HumanBytes(uint64_t bytes);

// One line about backup `info` in the backup directory `dir`, or its JSON
// with --json.
void PrintBackup(const Context& ctx, const std::string& dir, const v1::BackupInfo& info);

// Has ctx.server back up its data into `to`, then delete all but the newest
// `keep_last` backups there (0: none), and prints the backup. `to` names a
// directory under the server's backup root (relative: taken under it); the
// server refuses any other. A failed call is returned as FromGrpc made it.
absl::Status BackupOnline(Context& ctx, const std::string& to, int keep_last);

}  // namespace peermatch::cli

#endif  // PEERMATCH_CLIENTS_IMPORT_BACKUP_H_
