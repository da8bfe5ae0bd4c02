// PeermatchService::CreateBackup: an online backup of the server's store
// into a directory on the server's machine (store/backup.h).
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "service/peermatch_service.h"
#include "service/status.h"

namespace peermatch {
namespace {

// Runs one backup on its own thread, so that no gRPC thread waits for the
// copy, and finishes the call when it is done. Server shutdown waits for
// the call, hence for the backup: the store outlives it.
class BackupReactor final : public grpc::ServerUnaryReactor {
 public:
  // Finishes at once with `refused` when it is not OK.
  BackupReactor(Store* store, const v1::CreateBackupRequest& req, v1::BackupInfo* resp,
                const absl::Status& refused) {
    if (!refused.ok()) {
      Finish(ToGrpc(refused));
      return;
    }
    worker_ = std::thread([this, store, to_dir = req.to_dir(), keep_last = req.keep_last(),
                           resp] {
      auto info = store->Backup(to_dir, keep_last);
      if (info.ok()) {
        resp->set_backup_id(info->id);
        resp->set_timestamp(info->timestamp);
        resp->set_size_bytes(static_cast<int64_t>(info->size_bytes));
        resp->set_backups_in_dir(info->backups_in_dir);
      }
      // OnDone, which follows Finish, reads worker_: it must be assigned.
      assigned_.WaitForNotification();
      Finish(ToGrpc(info.status()));
    });
    assigned_.Notify();
  }
  void OnDone() override {
    // OnDone follows Finish, the worker's last act; it normally runs on a
    // gRPC thread, but must not join itself should it run on the worker.
    if (worker_.joinable()) {
      if (worker_.get_id() == std::this_thread::get_id()) {
        worker_.detach();
      } else {
        worker_.join();
      }
    }
    delete this;
  }

 private:
  absl::Notification assigned_;
  std::thread worker_;
};

// The request's shape; the store checks the rest (inside the data
// directory, cannot be created).
absl::Status ValidateBackupRequest(const v1::CreateBackupRequest& req) {
  if (req.to_dir().empty()) {
    return absl::InvalidArgumentError("to_dir: is required (a directory on the server's machine)");
  }
  if (!std::filesystem::path(req.to_dir()).is_absolute()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "to_dir: \"", req.to_dir(), "\" is not an absolute path (it names a directory on the "
        "server's machine)"));
  }
  if (req.keep_last() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("keep_last: ", req.keep_last(), " is negative (0 keeps every backup)"));
  }
  return absl::OkStatus();
}

// As in peermatch_service.cc: the token in the call's metadata.
}  // namespace

grpc::ServerUnaryReactor* PeermatchService::CreateBackup(grpc::CallbackServerContext* ctx,
                                                         const v1::CreateBackupRequest* req,
                                                         v1::BackupInfo* resp) {
  absl::Status refused = Authorize(ctx, Access::kWrite);
  if (refused.ok()) refused = ValidateBackupRequest(*req);
  return new BackupReactor(&engine_->store(), *req, resp, refused);
}

}  // namespace peermatch
