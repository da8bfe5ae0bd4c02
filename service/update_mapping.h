// Update mapping: the wire's UpdateCity and UpdateCase requests (partial
// updates with a field mask, AIP-134) checked and turned into the change the
// engine applies to the stored record; and the same requests made from an
// HTTP PATCH (a partial JSON body and an optional ?updateMask=).
//
//   absl::StatusOr<CityUpdate> update = ToCityUpdate(request);
//   if (!update.ok()) return update.status();
//   auto city = engine.UpdateCity(update->id, [&](v1::City* stored) {
//     ApplyUpdate(*update, stored);
//     return absl::OkStatus();
//   });
//
// Paths are proto field names ("joined_year") or their JSON names
// ("joinedYear"); "*" names every updatable field. An unknown path, a
// nested one ("name.first") or an immutable one ("id") is INVALID_ARGUMENT
// naming it and listing the updatable fields:
//   update_mask.paths[0]: "nmae" is not a field of City; updatable fields:
//   name, country, region, population, languages, joined_year
// Without paths, the fields the request sets (non-empty, non-zero) are
// updated (AIP-134); INVALID_ARGUMENT when it sets none.
//
// Thread-safety: pure functions.
#ifndef PEERMATCH_SERVICE_UPDATE_MAPPING_H_
#define PEERMATCH_SERVICE_UPDATE_MAPPING_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "peermatch/v1/model.pb.h"
#include "peermatch/v1/peermatch.pb.h"

namespace peermatch {

// A checked update: the record to change, the new values, and the fields
// (proto names, each once, in field order) to take from them.
template <typename Record>
struct RecordUpdate {
  std::string id;
  Record values;
  std::vector<std::string> fields;
};
using CityUpdate = RecordUpdate<v1::City>;
using CaseUpdate = RecordUpdate<v1::Case>;

absl::StatusOr<CityUpdate> ToCityUpdate(const v1::UpdateCityRequest& request);
absl::StatusOr<CaseUpdate> ToCaseUpdate(const v1::UpdateCaseRequest& request);

// Sets each field of `update.fields` of `stored` to its value in
// update.values (clearing it when that is empty or 0; a repeated field is
// replaced whole). Other fields are left as they are.
void ApplyUpdate(const CityUpdate& update, v1::City* stored);
void ApplyUpdate(const CaseUpdate& update, v1::Case* stored);

// For PATCH /v1/cities/{id} and /v1/cases/{id}: the request made of the
// path's `id`, the `body` (a JSON object in the record's canonical JSON
// form, with only the fields to change) and `update_mask` (the ?updateMask=
// query value: comma-separated paths, JSON or proto names). An empty
// update_mask means the keys present in the body (a key set to null
// clears its field). A body "id" must equal the path's. INVALID_ARGUMENT
// naming what is wrong ("body: ...", "updateMask: ...", "id: ...").
absl::StatusOr<v1::UpdateCityRequest> UpdateCityRequestFromJson(absl::string_view id,
                                                                absl::string_view body,
                                                                absl::string_view update_mask);
absl::StatusOr<v1::UpdateCaseRequest> UpdateCaseRequestFromJson(absl::string_view id,
                                                                absl::string_view body,
                                                                absl::string_view update_mask);

}  // namespace peermatch

#endif  // PEERMATCH_SERVICE_UPDATE_MAPPING_H_
