// The online half of `peermatch backup` (the server takes the backup) and
// what the backup commands print (import_backup.h).
#include <cstdio>
#include <ctime>
#include <string>

#include "absl/strings/str_cat.h"
#include "clients/command.h"
#include "clients/import_backup.h"
#include "records/records.h"

namespace peermatch::cli {

std::string Utc(int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::string HumanBytes(uint64_t bytes) {
  if (bytes < 1024) return absl::StrCat(bytes, " B");
  char buf[32];
  if (bytes < (1 << 20)) {
    std::snprintf(buf, sizeof buf, "%.1f KiB", bytes / 1024.0);
  } else if (bytes < (1ull << 30)) {
    std::snprintf(buf, sizeof buf, "%.1f MiB", bytes / 1048576.0);
  } else {
    std::snprintf(buf, sizeof buf, "%.2f GiB", bytes / 1073741824.0);
  }
  return buf;
}

void PrintBackup(const Context& ctx, const std::string& dir, const v1::BackupInfo& info) {
  if (ctx.json) {
    std::printf("%s\n", ToJson(info).c_str());
    return;
  }
  std::printf("backup %u in %s: %s, taken %s; %d backup%s in the directory\n", info.backup_id(),
              dir.c_str(), HumanBytes(info.size_bytes()).c_str(), Utc(info.timestamp()).c_str(),
              info.backups_in_dir(), info.backups_in_dir() == 1 ? "" : "s");
}

absl::StatusOr<int> KeepLast(const Context& ctx) {
  auto keep = ctx.args.GetInt("keep-last", 0);
  if (!keep.ok()) return keep.status();
  if (*keep < 0 || *keep > 1000000) {
    return absl::InvalidArgumentError(
        absl::StrCat("--keep-last: ", *keep, " is outside 0-1000000 (0 keeps every backup)"));
  }
  return static_cast<int>(*keep);
}

absl::Status BackupOnline(Context& ctx, const std::string& to, int keep_last) {
  // The server resolves `to` under its backup root (peermatchd --backup-root)
  // and refuses anything outside it.
  v1::CreateBackupRequest req;
  req.set_to_dir(to);
  req.set_keep_last(keep_last);
  v1::BackupInfo info;
  grpc::ClientContext call;
  ctx.Prepare(&call, /*timeout_seconds=*/0);  // as long as the copy takes
  if (auto s = FromGrpc(ctx.Stub().CreateBackup(&call, req, &info), ctx.server); !s.ok()) {
    return s;
  }
  PrintBackup(ctx, to, info);
  return absl::OkStatus();
}

}  // namespace peermatch::cli
