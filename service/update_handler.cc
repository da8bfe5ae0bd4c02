// PeermatchService::UpdateCity and UpdateCase: partial updates with a field
// mask. The request is checked and mapped (service/update_mapping.h); the
// engine reads, merges, validates and writes under its write lock.
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "service/peermatch_service.h"
#include "service/status.h"
#include "service/update_mapping.h"

namespace peermatch {
namespace {

grpc::ServerUnaryReactor* Finish(grpc::CallbackServerContext* ctx, const absl::Status& s) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(ToGrpc(s));
  return reactor;
}

// Maps, applies and answers one update: `update` is the checked request
// (or its error), `engine_update` the engine's UpdateCity or UpdateCase.
// NOT_FOUND for the record itself names the field that holds its id.
template <typename Record, typename Update, typename EngineUpdate>
absl::Status Run(const absl::StatusOr<Update>& update, absl::string_view id_field,
                 EngineUpdate engine_update, Record* resp) {
  if (!update.ok()) return update.status();
  bool found = false;
  absl::StatusOr<Record> record = engine_update(update->id, [&](Record* stored) {
    found = true;
    ApplyUpdate(*update, stored);
    return absl::OkStatus();
  });
  if (!record.ok()) {
    if (found || !absl::IsNotFound(record.status())) return record.status();
    return absl::NotFoundError(absl::StrCat(id_field, ": ", record.status().message()));
  }
  *resp = *std::move(record);
  return absl::OkStatus();
}

}  // namespace

grpc::ServerUnaryReactor* PeermatchService::UpdateCity(grpc::CallbackServerContext* ctx,
                                                       const v1::UpdateCityRequest* req,
                                                       v1::City* resp) {
  absl::Status s = Authorize(ctx, Access::kWrite);
  if (s.ok()) {
    s = Run(ToCityUpdate(*req), "city.id",
            [this](absl::string_view id, absl::FunctionRef<absl::Status(v1::City*)> change) {
              return engine_->UpdateCity(id, change);
            },
            resp);
  }
  return Finish(ctx, s);
}

grpc::ServerUnaryReactor* PeermatchService::UpdateCase(grpc::CallbackServerContext* ctx,
                                                       const v1::UpdateCaseRequest* req,
                                                       v1::Case* resp) {
  absl::Status s = Authorize(ctx, Access::kWrite);
  if (s.ok()) {
    s = Run(ToCaseUpdate(*req), "case.id",
            [this](absl::string_view id, absl::FunctionRef<absl::Status(v1::Case*)> change) {
              return engine_->UpdateCase(id, change);
            },
            resp);
  }
  return Finish(ctx, s);
}

}  // namespace peermatch
