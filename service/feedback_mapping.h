// RecordFeedback (issue 14): the request checked and turned into a
// Judgement, and the engine's fusion as the wire's FusionStats.
//
// Thread-safety: pure functions.
#ifndef PEERMATCH_SERVICE_FEEDBACK_MAPPING_H_
#define PEERMATCH_SERVICE_FEEDBACK_MAPPING_H_

#include "absl/status/statusor.h"
#include "engine/learned_fusion.h"
#include "peermatch/v1/model.pb.h"
#include "peermatch/v1/peermatch.pb.h"
#include "store/store.h"

namespace peermatch {

// The judgement `req` records, checked against `store` (read only).
// INVALID_ARGUMENT naming the field: not exactly one of query_case_id and
// query_text ("query_case_id: set exactly one of query_case_id and
// query_text"), a text blank, not UTF-8 or over kMaxQueryBytes, a malformed
// id, a city_id that is not the solution's city; NOT_FOUND naming the field
// for an unknown query_case_id, solution_case_id or city_id. The kind of the
// solution is checked by Store::AddJudgement.
absl::StatusOr<v1::Judgement> ToJudgement(const v1::RecordFeedbackRequest& req, const Store& store);

// `fit` as the wire reports it.
v1::FusionStats ToFusionStats(const FusionFit& fit);

}  // namespace peermatch

#endif  // PEERMATCH_SERVICE_FEEDBACK_MAPPING_H_
