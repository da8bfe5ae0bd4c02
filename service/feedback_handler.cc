// PeermatchService::RecordFeedback (issue 14): feedback on a Match result,
// stored as a judgement; the engine then refits its fusion weights.
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "records/limits.h"
#include "records/validate.h"
#include "service/feedback_mapping.h"
#include "service/peermatch_service.h"
#include "service/status.h"

namespace peermatch {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", what));
}

// NOT_FOUND naming `field` for an unknown case; the case otherwise.
absl::StatusOr<v1::Case> KnownCase(const Store& store, absl::string_view field,
                                   const std::string& id) {
  if (absl::Status s = ValidateId(field, id); !s.ok()) return s;
  absl::StatusOr<v1::Case> c = store.GetCase(id);
  if (absl::IsNotFound(c.status())) {
    return absl::NotFoundError(absl::StrCat(field, ": no case with id \"", id, "\""));
  }
  return c;
}

// The store names the judgement's fields; the caller sent the request's.
absl::Status InRequestTerms(const absl::Status& s) {
  std::string message(s.message());
  for (const auto& [from, to] : {std::pair<absl::string_view, absl::string_view>{
                                     "challenge_case_id", "query_case_id"},
                                 {"challenge_text", "query_text"}}) {
    if (absl::StartsWith(message, from)) message = absl::StrCat(to, message.substr(from.size()));
  }
  return absl::Status(s.code(), message);
}

}  // namespace

absl::StatusOr<v1::Judgement> ToJudgement(const v1::RecordFeedbackRequest& req, const Store& store) {
  if (req.query_case_id().empty() == req.query_text().empty()) {
    return Invalid("query_case_id", "set exactly one of query_case_id and query_text");
  }
  v1::Judgement j;
  if (!req.query_case_id().empty()) {
    if (auto c = KnownCase(store, "query_case_id", req.query_case_id()); !c.ok()) return c.status();
    j.set_challenge_case_id(req.query_case_id());
  } else {
    if (!IsValidUtf8(req.query_text())) return Invalid("query_text", "is not valid UTF-8");
    if (IsBlank(req.query_text())) return Invalid("query_text", "is only white space");
    if (req.query_text().size() > kMaxQueryBytes) {
      return Invalid("query_text",
                     absl::StrCat(req.query_text().size(), " bytes, at most ", kMaxQueryBytes));
    }
    j.set_challenge_text(req.query_text());
  }
  if (req.solution_case_id().empty()) return Invalid("solution_case_id", "is required");
  auto solution = KnownCase(store, "solution_case_id", req.solution_case_id());
  if (!solution.ok()) return solution.status();
  if (!req.city_id().empty()) {
    if (absl::Status s = ValidateId("city_id", req.city_id()); !s.ok()) return s;
    if (absl::StatusOr<v1::City> city = store.GetCity(req.city_id()); !city.ok()) {
      if (!absl::IsNotFound(city.status())) return city.status();
      return absl::NotFoundError(absl::StrCat("city_id: no city with id \"", req.city_id(), "\""));
    }
    if (solution->city_id() != req.city_id()) {
      return Invalid("city_id", absl::StrCat("solution \"", solution->id(), "\" is a case of \"",
                                             solution->city_id(), "\", not of \"", req.city_id(),
                                             "\""));
    }
  }
  j.set_solution_case_id(req.solution_case_id());
  j.set_relevant(req.useful());
  j.set_source(v1::Judgement::SOURCE_MATCH_FEEDBACK);
  return j;
}

v1::FusionStats ToFusionStats(const FusionFit& fit) {
  v1::FusionStats out;
  out.set_learned(fit.learned);
  out.mutable_weights()->set_lexical(fit.weights.lexical);
  out.mutable_weights()->set_subword(fit.weights.subword);
  out.mutable_weights()->set_semantic(fit.weights.semantic);
  out.mutable_weights()->set_structure(fit.weights.structure);
  out.mutable_weights()->set_accepted(fit.accepted_weight);
  out.mutable_weights()->set_declined(fit.declined_weight);
  out.set_model_version(static_cast<int64_t>(fit.model_version));
  out.set_judgements(fit.judgements);
  out.set_positives(fit.positives);
  out.set_negatives(fit.negatives);
  out.set_queries(fit.queries);
  out.set_heldout_default_ndcg(fit.heldout_default_ndcg);
  out.set_heldout_learned_ndcg(fit.heldout_learned_ndcg);
  out.set_reason(fit.reason);
  return out;
}

grpc::ServerUnaryReactor* PeermatchService::RecordFeedback(grpc::CallbackServerContext* ctx,
                                                           const v1::RecordFeedbackRequest* req,
                                                           v1::RecordFeedbackResponse* resp) {
  absl::Status s = Authorize(ctx, Access::kWrite);
  if (s.ok()) {
    absl::StatusOr<v1::Judgement> j = ToJudgement(*req, engine_->store());
    if (j.ok()) j = engine_->AddJudgement(*j);
    if (j.ok()) {
      *resp->mutable_judgement() = *std::move(j);
      *resp->mutable_fusion() = ToFusionStats(*engine_->fusion());
    } else {
      s = InRequestTerms(j.status());
    }
  }
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(ToGrpc(s));
  return reactor;
}

}  // namespace peermatch
