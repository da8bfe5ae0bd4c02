// PeermatchService::CreateBackup: an online backup of the server's store
// into a directory under the server's backup root (store/backup.h).
#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "service/heavy_call.h"
#include "service/peermatch_service.h"
#include "service/status.h"

namespace peermatch {
namespace {

namespace fs = std::filesystem;

// What BackupEngine keeps at the top of a backup directory. A directory
// holding anything else is not peermatch's: BackupEngine's clean-up could
// delete files there that it did not write, so no backup goes into it.
bool IsBackupEngineEntry(const std::string& name) {
  return name == "meta" || name == "private" || name == "shared" || name == "shared_checksum";
}

// OK when `dir` is missing, empty, or holds only BackupEngine's entries;
// FAILED_PRECONDITION naming the first other entry.
absl::Status CheckBackupDirIsOurs(const fs::path& dir) {
  std::error_code ec;
  const fs::file_status st = fs::symlink_status(dir, ec);
  if (!fs::exists(st)) return absl::OkStatus();
  if (!fs::is_directory(st)) {
    return absl::FailedPreconditionError(
        absl::StrCat("to_dir: ", dir.string(), " exists and is not a directory"));
  }
  std::vector<std::string> foreign;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (!IsBackupEngineEntry(name) || !entry.is_directory()) foreign.push_back(name);
  }
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("to_dir: cannot read ", dir.string(), ": ", ec.message()));
  }
  if (foreign.empty()) return absl::OkStatus();
  std::sort(foreign.begin(), foreign.end());
  return absl::FailedPreconditionError(absl::StrCat(
      "to_dir: ", dir.string(), " holds \"", foreign.front(),
      "\", which is not a peermatch backup file; back up into a new or empty directory, or "
      "one that holds only peermatch backups (nothing there was changed)"));
}

}  // namespace

absl::StatusOr<std::string> ResolveBackupDir(const std::string& backup_root,
                                             const std::string& to_dir) {
  if (backup_root.empty()) {
    return absl::FailedPreconditionError(
        "to_dir: this server takes no backups: it was started without a backup root "
        "(peermatchd --backup-root DIR)");
  }
  if (to_dir.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "to_dir: is required (a directory under the server's backup root ", backup_root, ")"));
  }
  // Symbolic links are resolved as far as the paths exist, so a link under
  // the root that points elsewhere is outside it.
  std::error_code ec;
  const fs::path root = fs::weakly_canonical(fs::absolute(backup_root), ec);
  if (ec) {
    return absl::FailedPreconditionError(absl::StrCat(
        "to_dir: the backup root ", backup_root, " cannot be resolved: ", ec.message()));
  }
  const fs::path asked = fs::path(to_dir).is_absolute() ? fs::path(to_dir) : root / to_dir;
  const fs::path target = fs::weakly_canonical(asked, ec).lexically_normal();
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("to_dir: \"", to_dir, "\" cannot be resolved: ", ec.message()));
  }
  const fs::path inside = target.lexically_relative(root);
  if (inside.empty() || inside == "." || *inside.begin() == "..") {
    return absl::PermissionDeniedError(absl::StrCat(
        "to_dir: \"", to_dir, "\" is ", inside == "." ? "the backup root itself" : "outside",
        " the server's backup root ", root.string(), inside == "." ? "" : " (after resolving .. "
        "and symbolic links)", "; name a directory under it, e.g. \"nightly\""));
  }
  if (absl::Status s = CheckBackupDirIsOurs(target); !s.ok()) return s;
  return target.string();
}

namespace {

// The request's shape and where it may write.
absl::StatusOr<std::string> CheckBackupRequest(const v1::CreateBackupRequest& req,
                                               const std::string& backup_root) {
  if (req.keep_last() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("keep_last: ", req.keep_last(), " is negative (0 keeps every backup)"));
  }
  return ResolveBackupDir(backup_root, req.to_dir());
}

}  // namespace

grpc::ServerUnaryReactor* PeermatchService::CreateBackup(grpc::CallbackServerContext* ctx,
                                                         const v1::CreateBackupRequest* req,
                                                         v1::BackupInfo* resp) {
  absl::Status refused = Authorize(ctx, Access::kWrite);
  absl::StatusOr<std::string> to_dir = std::string();
  if (refused.ok()) to_dir = CheckBackupRequest(*req, heavy_.backup_root);
  if (refused.ok()) refused = to_dir.status();
  // The backup runs as a job on the heavy-work executor, so that no gRPC
  // thread waits for the copy. Cancelled before it starts (client gone,
  // deadline passed, server stopping), it is not made; once started, the
  // copy runs to its end. Server shutdown waits for the call, hence for the
  // backup: the store outlives it.
  Store* store = &engine_->store();
  auto* reactor = new internal::HeavyUnaryReactor(
      [store, dir = to_dir.value_or(""), keep_last = req->keep_last(),
       resp](const Cancellation&) -> absl::Status {
        auto info = store->Backup(dir, keep_last);
        if (!info.ok()) return info.status();
        resp->set_backup_id(info->id);
        resp->set_timestamp(info->timestamp);
        resp->set_size_bytes(static_cast<int64_t>(info->size_bytes));
        resp->set_backups_in_dir(info->backups_in_dir);
        return absl::OkStatus();
      });
  reactor->Start(refused, heavy_.executor);
  return reactor;
}

}  // namespace peermatch
