// PeermatchService::CreateBackup: online backups (to be filled in).
#include "absl/status/status.h"
#include "service/peermatch_service.h"
#include "service/status.h"

namespace peermatch {

grpc::ServerUnaryReactor* PeermatchService::CreateBackup(grpc::CallbackServerContext* ctx,
                                                         const v1::CreateBackupRequest* req,
                                                         v1::BackupInfo* resp) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(ToGrpc(absl::UnimplementedError("CreateBackup: not built yet")));
  return reactor;
}

}  // namespace peermatch
