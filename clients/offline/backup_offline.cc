// `peermatch backup`, `restore` and `backups`: RocksDB backups of a data
// directory (store/backup.h), taken offline here or online by the server
// (clients/import_backup.h).
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "clients/command.h"
#include "clients/import_backup.h"
#include "clients/offline/offline_commands.h"
#include "records/records.h"
#include "store/backup.h"
#include "store/store.h"

namespace peermatch::cli {
namespace {

v1::BackupInfo ToProto(const BackupInfo& info) {
  v1::BackupInfo out;
  out.set_backup_id(info.id);
  out.set_timestamp(info.timestamp);
  out.set_size_bytes(static_cast<int64_t>(info.size_bytes));
  out.set_backups_in_dir(info.backups_in_dir);
  return out;
}

absl::Status RunBackup(Context& ctx) {
  const std::string to = ctx.args.Get("to");
  if (to.empty()) return absl::InvalidArgumentError("--to: name the backup directory");
  auto keep_last = KeepLast(ctx);
  if (!keep_last.ok()) return keep_last.status();
  // Online: the server writes the backup, on its own machine.
  if (!ctx.args.Has("data-dir")) return BackupOnline(ctx, to, *keep_last);

  // Offline: this process opens the store.
  StoreOptions options;
  options.create_if_missing = false;
  auto store = Store::Open(ctx.args.Get("data-dir"), options);
  if (!store.ok()) return store.status();
  auto info = (*store)->Backup(to, *keep_last);
  if (!info.ok()) return info.status();
  PrintBackup(ctx, to, ToProto(*info));
  return absl::OkStatus();
}

absl::Status RunRestore(Context& ctx) {
  const std::string from = ctx.args.Get("from");
  const std::string data_dir = ctx.args.Get("data-dir");
  if (from.empty()) return absl::InvalidArgumentError("--from: name the backup directory");
  if (data_dir.empty()) {
    return absl::InvalidArgumentError(
        "--data-dir: name the data directory to restore into (restore works offline only)");
  }
  auto id = ctx.args.GetInt("backup-id", 0);
  if (!id.ok()) return id.status();
  if (*id < 0 || *id > UINT32_MAX) {
    return absl::InvalidArgumentError(
        absl::StrCat("--backup-id: ", *id, " is not a backup id (see peermatch backups)"));
  }
  // For the report: which backup "latest" is.
  auto backups = ListBackups(from);
  if (!backups.ok()) return backups.status();
  if (absl::Status s =
          RestoreBackup(from, data_dir, static_cast<uint32_t>(*id), ctx.args.Has("overwrite"));
      !s.ok()) {
    return s;
  }
  BackupInfo restored;
  for (const auto& b : *backups) {
    if (*id == 0 ? b.id > restored.id : b.id == *id) restored = b;
  }
  if (ctx.json) {
    std::printf("%s\n", ToJson(ToProto(restored)).c_str());
  } else {
    std::printf("restored backup %u of %s (taken %s) into %s\n", restored.id, from.c_str(),
                Utc(restored.timestamp).c_str(), data_dir.c_str());
  }
  return absl::OkStatus();
}

absl::Status RunBackups(Context& ctx) {
  std::string dir = ctx.args.Get("dir");
  if (dir.empty() && ctx.args.positional().size() == 1) dir = ctx.args.positional()[0];
  if (dir.empty()) return absl::InvalidArgumentError("--dir: name the backup directory");
  auto backups = ListBackups(dir);
  if (!backups.ok()) return backups.status();
  if (ctx.json) {
    for (const auto& b : *backups) std::printf("%s\n", ToJson(ToProto(b)).c_str());
    return absl::OkStatus();
  }
  if (backups->empty()) {
    std::printf("no backups in %s\n", dir.c_str());
    return absl::OkStatus();
  }
  std::printf("%6s  %-23s  %10s\n", "ID", "TAKEN", "SIZE");
  for (const auto& b : *backups) {
    std::printf("%6u  %-23s  %10s\n", b.id, Utc(b.timestamp).c_str(),
                HumanBytes(b.size_bytes).c_str());
  }
  return absl::OkStatus();
}

}  // namespace

void AddBackupCommands(std::vector<Command>* out) {
  out->push_back(Command{
      "backup", "take an incremental backup of the data (online or offline)",
      "Usage: peermatch backup --to DIR [--keep-last N] [--data-dir D]\n"
      "\n"
      "Copies the database into the backup directory DIR (created when missing). Backups\n"
      "are incremental: files already in DIR are not copied again. Every file is recorded\n"
      "with its checksum, checked again on restore.\n"
      "\n"
      "  --to DIR        the backup directory. Online it is on the server's machine,\n"
      "                  under its --backup-root (a relative DIR is taken under it);\n"
      "                  keep it on another disk than the data\n"
      "  --keep-last N   then delete all but the newest N backups in DIR (default 0:\n"
      "                  keep all)\n"
      "  --data-dir D    back up the data directory D directly (no server may be running\n"
      "                  on it); without it the running server (--server) takes the\n"
      "                  backup while it goes on serving, which needs a write token\n",
      {"to", "keep-last", "data-dir"},
      {},
      RunBackup});
  out->push_back(Command{
      "restore", "restore a backup into a data directory (offline)",
      "Usage: peermatch restore --from DIR --data-dir D [--backup-id N] [--overwrite]\n"
      "\n"
      "Checks every file of the backup (size and checksum), then writes the database\n"
      "into D. Stop the server first: a data directory in use is refused. Then start\n"
      "peermatchd --data-dir D.\n"
      "\n"
      "  --from DIR      the backup directory\n"
      "  --data-dir D    where to restore; must be empty or missing\n"
      "  --backup-id N   which backup (see `peermatch backups`); default the newest\n"
      "  --overwrite     replace the database in D. Files there that are not a\n"
      "                  database's are never deleted: such a directory is refused\n"
      "\n"
      "A damaged backup is reported (and nothing is written); restore an older one.\n",
      {"from", "data-dir", "backup-id", "overwrite"},
      {"overwrite"},
      RunRestore});
  out->push_back(Command{
      "backups", "list the backups in a backup directory",
      "Usage: peermatch backups --dir DIR\n"
      "\n"
      "One line per backup: its id (for restore --backup-id), when it was taken and its\n"
      "size (files shared with other backups included). Reads DIR directly.\n",
      {"dir"},
      {},
      RunBackups});
}

}  // namespace peermatch::cli
