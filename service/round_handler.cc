// PeermatchService's pairing-round calls (service/rounds.h has what they
// mean): each reads and checks its request, calls the rounds' functions,
// the engine and the store, and maps the result back. CreateRound and
// RematchRound solve a pairing, so they run on the heavy-work executor.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/util/message_differencer.h"
#include "records/limits.h"
#include "records/validate.h"
#include "service/heavy_call.h"
#include "service/page_token.h"
#include "service/request_mapping.h"
#include "service/peermatch_service.h"
#include "service/rounds.h"
#include "service/status.h"

namespace peermatch {
namespace {

grpc::ServerUnaryReactor* Done(grpc::CallbackServerContext* ctx, const absl::Status& s) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(ToGrpc(s));
  return reactor;
}

int64_t Now() { return absl::ToUnixSeconds(absl::Now()); }

// A replica refuses writes before any work is done (the store would refuse
// the write only after the solve).
absl::Status RequireWriter(const Store& store) {
  if (store.read_only()) {
    return absl::FailedPreconditionError(
        "this server is a read replica: send writes to the writer");
  }
  return absl::OkStatus();
}

// The store's NOT_FOUND for a round, naming the request field.
absl::Status NameField(absl::string_view field, const absl::Status& s) {
  if (!absl::IsNotFound(s) || !absl::StartsWith(s.message(), "no round with id")) return s;
  return absl::NotFoundError(absl::StrCat(field, ": ", s.message()));
}

absl::StatusOr<v1::Round> ReadRound(const Store& store, absl::string_view field,
                                    const std::string& id) {
  if (absl::Status s = ValidateId(field, id); !s.ok()) return s;
  absl::StatusOr<v1::Round> round = store.GetRound(id);
  if (!round.ok()) return NameField(field, round.status());
  return round;
}

// The cities the engine pairs (those of its published snapshot, by id):
// the ones a cohort is made of and a rematch may name.
std::vector<v1::City> SnapshotCities(const Engine& engine) {
  std::vector<v1::City> out;
  for (const CityInfo& info : engine.snapshot()->index->cities()) {
    v1::City c;
    c.set_id(info.id);
    c.set_region(info.region);
    out.push_back(std::move(c));
  }
  std::sort(out.begin(), out.end(),
            [](const v1::City& a, const v1::City& b) { return a.id() < b.id(); });
  return out;
}

std::vector<std::string> Ids(const std::vector<v1::City>& cities) {
  std::vector<std::string> ids;
  for (const v1::City& c : cities) ids.push_back(c.id());
  return ids;
}

// The engine's errors about the request's options name them as fields of
// `options` (CreateRound's options.city_ids[0], options.keep[1]...).
absl::Status InOptions(const absl::Status& s) {
  if (s.ok() || absl::IsCancelled(s) || absl::IsResourceExhausted(s)) return s;
  return absl::Status(s.code(), absl::StrCat("options.", s.message()));
}

// CreateRound's job: the earlier rounds to avoid, the solve (reporting to
// `progress` when set), the record.
absl::Status CreateRoundJob(const Engine& engine, const v1::CreateRoundRequest& req,
                            PairingQuery query, const Cancellation& cancel, v1::Round* resp,
                            const std::function<void(const PairingProgress&)>& progress = nullptr) {
  Store& store = engine.store();
  std::vector<v1::Round> earlier;
  for (int i = 0; i < req.avoid_round_ids_size(); ++i) {
    auto round = ReadRound(store, absl::StrCat("avoid_round_ids[", i, "]"), req.avoid_round_ids(i));
    if (!round.ok()) return round.status();
    earlier.push_back(*std::move(round));
  }
  const std::vector<v1::City> cities = SnapshotCities(engine);
  const std::vector<std::string> known = Ids(cities);
  // Pairs of cities deleted since the earlier rounds cannot be made anyway.
  std::vector<v1::CityPair> avoided;
  for (v1::CityPair& p : PairsToAvoid(earlier, req.avoid_declined_only())) {
    if (std::binary_search(known.begin(), known.end(), p.asking_city_id()) &&
        std::binary_search(known.begin(), known.end(), p.peer_city_id())) {
      avoided.push_back(std::move(p));
    }
  }
  const size_t own_avoid = query.avoid.size();
  for (const v1::CityPair& p : avoided) query.avoid.push_back({p.asking_city_id(), p.peer_city_id()});
  absl::StatusOr<PairingResult> result = engine.PairCities(query, progress, &cancel);
  if (!result.ok()) return InOptions(result.status());
  std::vector<std::string> cohort = CohortOf(query, cities);
  query.avoid.resize(own_avoid);  // the summary's reasons are the request's
  absl::StatusOr<v1::Round> stored = store.CreateRound(
      NewRound(req, std::move(cohort), std::move(avoided), *std::move(result), query, Now()));
  if (!stored.ok()) return stored.status();
  *resp = *std::move(stored);
  return absl::OkStatus();
}

// RematchRound's job: the solve on the round as read, then the update,
// unless a decision changed the round meanwhile (ABORTED: run it again).
absl::Status RematchJob(const Engine& engine, const std::string& round_id,
                        const Cancellation& cancel, v1::RematchRoundResponse* resp) {
  Store& store = engine.store();
  absl::StatusOr<v1::Round> round = ReadRound(store, "round_id", round_id);
  if (!round.ok()) return round.status();
  absl::StatusOr<PairingQuery> query = RematchQuery(*round, Ids(SnapshotCities(engine)));
  if (!query.ok()) return query.status();
  absl::StatusOr<PairingResult> result = engine.PairCities(*query, nullptr, &cancel);
  if (!result.ok()) return result.status();
  std::vector<v1::Pair> added;
  absl::StatusOr<v1::Round> updated =
      store.UpdateRound(round_id, [&](v1::Round* stored) -> absl::StatusOr<bool> {
        if (!google::protobuf::util::MessageDifferencer::Equals(*stored, *round)) {
          return absl::AbortedError(
              "round_id: the round changed while it was being re-matched (a decision or "
              "another rematch came in); nothing was written, run the rematch again");
        }
        added = ApplyRematch(*std::move(result), *query, Now(), stored);
        return true;
      });
  if (!updated.ok()) return NameField("round_id", updated.status());
  for (v1::Unmatched& u : FewerPeers(*updated)) *resp->add_fewer_peers() = std::move(u);
  *resp->mutable_round() = *std::move(updated);
  for (v1::Pair& p : added) *resp->add_added() = std::move(p);
  return absl::OkStatus();
}

// CreateRound's (and CreateRoundWithProgress') checks after the token's
// (`*refused`, updated): a writer, and a valid request; its query when
// *refused stays OK.
PairingQuery CheckCreateCall(const Store& store, const v1::CreateRoundRequest& req,
                             absl::Status* refused) {
  if (refused->ok()) *refused = RequireWriter(store);
  if (!refused->ok()) return PairingQuery();
  absl::StatusOr<PairingQuery> query = CheckCreateRound(req);
  *refused = query.status();
  return query.value_or(PairingQuery());
}

}  // namespace

grpc::ServerUnaryReactor* PeermatchService::CreateRound(grpc::CallbackServerContext* ctx,
                                                        const v1::CreateRoundRequest* req,
                                                        v1::Round* resp) {
  absl::Status refused = Authorize(ctx, Access::kWrite);
  const PairingQuery query = CheckCreateCall(engine_->store(), *req, &refused);
  const Engine* engine = engine_;
  auto* reactor = new internal::HeavyUnaryReactor(
      [engine, req, query, resp](const Cancellation& cancel) {
        return CreateRoundJob(*engine, *req, query, cancel, resp);
      });
  reactor->Start(refused, heavy_.executor);
  return reactor;
}

grpc::ServerWriteReactor<v1::CreateRoundProgress>* PeermatchService::CreateRoundWithProgress(
    grpc::CallbackServerContext* ctx, const v1::CreateRoundRequest* req) {
  absl::Status refused = Authorize(ctx, Access::kWrite);
  const PairingQuery query = CheckCreateCall(engine_->store(), *req, &refused);
  const Engine* engine = engine_;
  const HeavyWork* heavy = &heavy_;
  using Reactor = internal::HeavyStreamReactor<v1::CreateRoundProgress>;
  auto* reactor = new Reactor([engine, heavy, req, query](
                                  const Cancellation& cancel, const Reactor::Emit& emit) {
    v1::CreateRoundProgress last;
    absl::Status s = CreateRoundJob(
        *engine, *req, query, cancel, last.mutable_round(),
        [&emit, &cancel, heavy](const PairingProgress& p) {
          v1::CreateRoundProgress m;
          *m.mutable_progress() = ToPairingProgress(p);
          emit(std::move(m));
          if (heavy->after_progress) heavy->after_progress(cancel);  // the testing seam
        });
    if (s.ok()) emit(std::move(last));
    return s;
  });
  reactor->Start(refused, heavy_.executor);
  return reactor;
}

grpc::ServerUnaryReactor* PeermatchService::GetRound(grpc::CallbackServerContext* ctx,
                                                     const v1::GetRoundRequest* req,
                                                     v1::Round* resp) {
  if (absl::Status s = Authorize(ctx, Access::kRead); !s.ok()) return Done(ctx, s);
  absl::StatusOr<v1::Round> round = ReadRound(engine_->store(), "round_id", req->round_id());
  if (round.ok()) *resp = *std::move(round);
  return Done(ctx, round.status());
}

grpc::ServerUnaryReactor* PeermatchService::ListRounds(grpc::CallbackServerContext* ctx,
                                                       const v1::ListRoundsRequest* req,
                                                       v1::ListRoundsResponse* resp) {
  if (absl::Status s = Authorize(ctx, Access::kRead); !s.ok()) return Done(ctx, s);
  if (req->page_size() < 0 || req->page_size() > kMaxPageSize) {
    return Done(ctx, absl::InvalidArgumentError(absl::StrCat(
                         "page_size: ", req->page_size(), " is outside 0-", kMaxPageSize)));
  }
  const size_t size = req->page_size() == 0 ? kDefaultPageSize : req->page_size();
  absl::StatusOr<std::string> after = DecodePageToken("rounds", req->page_token());
  if (!after.ok()) return Done(ctx, after.status());
  bool more = false;
  auto rounds = engine_->store().ListRounds(*after, size, &more);
  if (!rounds.ok()) return Done(ctx, rounds.status());
  for (v1::Round& r : *rounds) {
    r.clear_pairs();  // GetRound has them
    r.clear_cohort();
    r.clear_avoided();
    *resp->add_rounds() = std::move(r);
  }
  if (more) resp->set_next_page_token(EncodePageToken("rounds", resp->rounds().rbegin()->id()));
  return Done(ctx, absl::OkStatus());
}

grpc::ServerUnaryReactor* PeermatchService::DecideRoundPair(
    grpc::CallbackServerContext* ctx, const v1::DecideRoundPairRequest* req,
    v1::DecideRoundPairResponse* resp) {
  absl::Status s = Authorize(ctx, Access::kWrite);
  if (s.ok()) s = RequireWriter(engine_->store());
  if (s.ok()) s = CheckDecision(*req);
  if (!s.ok()) return Done(ctx, s);
  bool changed = false;
  absl::StatusOr<v1::Round> round = engine_->store().UpdateRound(
      req->round_id(), [&](v1::Round* stored) -> absl::StatusOr<bool> {
        absl::StatusOr<bool> c = ApplyDecision(*req, Now(), stored, resp->mutable_pair());
        if (c.ok()) changed = *c;
        return c;
      });
  if (!round.ok()) return Done(ctx, NameField("round_id", round.status()));
  resp->set_changed(changed);
  // The decision is stored; the learned fusion reads decisions as
  // judgements (Engine::RefitFusion). A failed fit keeps the previous
  // weights and is not this call's error.
  if (changed) engine_->RefitFusion().IgnoreError();
  return Done(ctx, absl::OkStatus());
}

grpc::ServerUnaryReactor* PeermatchService::RematchRound(grpc::CallbackServerContext* ctx,
                                                         const v1::RematchRoundRequest* req,
                                                         v1::RematchRoundResponse* resp) {
  absl::Status refused = Authorize(ctx, Access::kWrite);
  if (refused.ok()) refused = RequireWriter(engine_->store());
  if (refused.ok()) refused = ValidateId("round_id", req->round_id());
  const Engine* engine = engine_;
  auto* reactor = new internal::HeavyUnaryReactor(
      [engine, id = req->round_id(), resp](const Cancellation& cancel) {
        return RematchJob(*engine, id, cancel, resp);
      });
  reactor->Start(refused, heavy_.executor);
  return reactor;
}

grpc::ServerUnaryReactor* PeermatchService::CloseRound(grpc::CallbackServerContext* ctx,
                                                       const v1::CloseRoundRequest* req,
                                                       v1::Round* resp) {
  absl::Status s = Authorize(ctx, Access::kWrite);
  if (s.ok()) s = RequireWriter(engine_->store());
  if (s.ok()) s = ValidateId("round_id", req->round_id());
  if (!s.ok()) return Done(ctx, s);
  absl::StatusOr<v1::Round> round = engine_->store().UpdateRound(
      req->round_id(), [](v1::Round* stored) -> absl::StatusOr<bool> {
        return peermatch::CloseRound(Now(), stored);
      });
  if (round.ok()) *resp = *std::move(round);
  return Done(ctx, NameField("round_id", round.status()));
}

}  // namespace peermatch
