// PeermatchService::CreateBackup: an online backup of the server's store
// into a directory on the server's machine (store/backup.h).
#include <filesystem>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "service/heavy_call.h"
#include "service/peermatch_service.h"
#include "service/status.h"

namespace peermatch {
namespace {

// Runs one backup as a job on the heavy-work executor, so that no gRPC
// thread waits for the copy, and finishes the call when it is done. A
// backup cancelled (client gone, deadline passed, server stopping) before
// it starts is not made; once started, the copy runs to its end. Server
// shutdown waits for the call, hence for the backup: the store outlives it.
class BackupReactor final : public grpc::ServerUnaryReactor {
 public:
  BackupReactor(Store* store, const v1::CreateBackupRequest& req, v1::BackupInfo* resp)
      : store_(store), to_dir_(req.to_dir()), keep_last_(req.keep_last()), resp_(resp) {}

  // Submits the backup, or finishes the call with `refused` or with
  // RESOURCE_EXHAUSTED when the executor is full. Called once, right after
  // construction, before the reactor is returned to gRPC.
  void Start(const absl::Status& refused, Executor* executor) {
    std::shared_ptr<Cancellation> cancel = internal::SubmitOrFinish(
        this, refused, executor, [this](const Cancellation& c) { return Run(c); });
    absl::MutexLock lock(&mu_);
    cancel_ = std::move(cancel);
  }
  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    if (cancel_ != nullptr) cancel_->Cancel();
  }
  void OnDone() override { delete this; }

 private:
  // The job. Finish is its last use of the reactor.
  absl::Status Run(const Cancellation& cancel) {
    if (cancel.cancelled()) {
      const absl::Status cancelled =
          absl::CancelledError("the backup was cancelled before it started");
      Finish(ToGrpc(cancelled));
      return cancelled;
    }
    auto info = store_->Backup(to_dir_, keep_last_);
    if (info.ok()) {
      resp_->set_backup_id(info->id);
      resp_->set_timestamp(info->timestamp);
      resp_->set_size_bytes(static_cast<int64_t>(info->size_bytes));
      resp_->set_backups_in_dir(info->backups_in_dir);
    }
    const absl::Status outcome = info.status();
    Finish(ToGrpc(outcome));
    return outcome;
  }

  Store* const store_;
  const std::string to_dir_;
  const int keep_last_;
  v1::BackupInfo* const resp_;
  absl::Mutex mu_;
  std::shared_ptr<Cancellation> cancel_ ABSL_GUARDED_BY(mu_);  // null until submitted
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
  auto* reactor = new BackupReactor(&engine_->store(), *req, resp);
  reactor->Start(refused, heavy_.executor);
  return reactor;
}

}  // namespace peermatch
