#include "matcher/engine.h"

namespace peermatch {

absl::StatusOr<std::unique_ptr<Engine>> Engine::Open(Store* store) {
  return std::unique_ptr<Engine>(new Engine(store));
}

absl::StatusOr<PutResult> Engine::PutCity(const v1::City& city) { return store_->PutCity(city); }

absl::StatusOr<PutResult> Engine::PutCase(const v1::Case& c) { return store_->PutCase(c); }

absl::StatusOr<int> Engine::DeleteCity(absl::string_view id, bool cascade) {
  return store_->DeleteCity(id, cascade);
}

absl::Status Engine::DeleteCase(absl::string_view id) { return store_->DeleteCase(id); }

absl::StatusOr<PutResult> Engine::Apply(const v1::ImportRecord& record) {
  switch (record.record_case()) {
    case v1::ImportRecord::kCity:
      return PutCity(record.city());
    case v1::ImportRecord::kCase:
      return PutCase(record.case_());
    default:
      return absl::InvalidArgumentError("record: holds neither a city nor a case");
  }
}

}  // namespace peermatch
