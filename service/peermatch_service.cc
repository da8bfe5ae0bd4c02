#include "service/peermatch_service.h"

#include <algorithm>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "records/limits.h"
#include "service/heavy_call.h"
#include "records/validate.h"
#include "service/page_token.h"
#include "service/request_mapping.h"
#include "service/feedback_mapping.h"
#include "service/status.h"

namespace peermatch {
namespace {

grpc::ServerUnaryReactor* Done(grpc::CallbackServerContext* ctx, const absl::Status& s) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(ToGrpc(s));
  return reactor;
}

absl::StatusOr<size_t> PageSize(int requested) {
  if (requested < 0 || requested > kMaxPageSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size: ", requested, " is outside 0-", kMaxPageSize));
  }
  return requested == 0 ? kDefaultPageSize : requested;
}

absl::Status RequireId(absl::string_view field, absl::string_view id) {
  return ValidateId(field, id);
}

bool Changed(PutResult r) { return r != PutResult::kUnchanged; }

// A listing filtered by city: an unknown city is NOT_FOUND, not an empty
// page (which would read as "this city has no cases"). OK for "" (no filter).
absl::Status RequireKnownCity(const Store& store, const std::string& city_id) {
  if (city_id.empty()) return absl::OkStatus();
  if (absl::Status s = ValidateId("city_id", city_id); !s.ok()) return s;
  absl::StatusOr<v1::City> city = store.GetCity(city_id);
  if (absl::IsNotFound(city.status())) {
    return absl::NotFoundError(absl::StrCat("city_id: no city with id \"", city_id, "\""));
  }
  return city.status();
}


// In a unary handler: finishes the call with the refusal when access is denied.
#define PEERMATCH_AUTHORIZE(ctx, needed)                                   \
  do {                                                                     \
    if (absl::Status s = Authorize(ctx, needed); !s.ok()) {        \
      return Done(ctx, s);                                                 \
    }                                                                      \
  } while (0)

// Adds one record's outcome to an import summary.
void CountImported(const v1::ImportRecord& record, int index,
                   const absl::StatusOr<PutResult>& result, v1::ImportSummary* summary) {
  if (!result.ok()) {
    v1::ImportError* e = summary->add_errors();
    e->set_index(index);
    e->set_id(record.has_city() ? record.city().id() : record.case_().id());
    e->set_code(absl::StatusCodeToString(result.status().code()));
    e->set_message(std::string(result.status().message()));
  } else if (!Changed(*result)) {
    summary->set_unchanged(summary->unchanged() + 1);
  } else if (record.has_city()) {
    summary->set_cities_written(summary->cities_written() + 1);
  } else {
    summary->set_cases_written(summary->cases_written() + 1);
  }
}

// Reads an import stream. By default each record is applied on its own so a
// bad record is reported and skipped, never aborting the stream; records
// are group-committed (engine/import_writer.h: one synced write per group
// of up to EngineOptions::import_group records), each counted in the
// summary only once the sync that holds it has returned, and they become
// visible to queries together, in one snapshot published when the stream
// ends, before the summary is sent (one index build, not one per record). A first message with ImportOptions asking for
// a dry run or all-or-nothing makes the reactor hold the records (up to
// kMaxImportBatchBytes) and hand them to Engine::ImportBatch at the end.
//
// The stream is read as raw messages and parsed here, so that a message
// that is not an ImportRecord (a string field that is not UTF-8, or other
// bytes) is reported like any bad record, naming its index, instead of
// ending the stream as if the client had closed it (which the typed reactor
// did: the rest of the stream was dropped and the call answered OK). Under
// a dry run or all-or-nothing such a message makes the import write nothing.
class ImportReactor final : public grpc::ServerReadReactor<grpc::ByteBuffer> {
 public:
  // Finishes at once with `refused` when it is not OK.
  ImportReactor(grpc::CallbackServerContext* ctx, Engine* engine, grpc::ByteBuffer* reply,
                const absl::Status& refused)
      : ctx_(ctx),
        engine_(engine),
        reply_(reply),
        summary_(&summary_storage_),
        writer_(engine, engine->import_group(),
                [this](int index, const v1::ImportRecord& record,
                       const absl::StatusOr<PutResult>& result) {
                  CountImported(record, index, result, summary_);
                }) {
    if (!refused.ok()) {
      Finish(ToGrpc(refused));
      return;
    }
    StartRead(&raw_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the client closed its side (or cancelled)
      const absl::Status s = Complete();
      if (s.ok()) {
        grpc::Slice slice(summary_->SerializeAsString());
        *reply_ = grpc::ByteBuffer(&slice, 1);
      }
      Finish(ToGrpc(s));
      return;
    }
    if (!Parse()) {
      v1::ImportError* e = summary_->add_errors();
      e->set_index(index_++);
      e->set_code(absl::StatusCodeToString(absl::StatusCode::kInvalidArgument));
      e->set_message(
          "record: the bytes do not parse as peermatch.v1.ImportRecord (is a string field not "
          "UTF-8?)");
      started_ = true;
      unparsable_ = true;
      raw_.Clear();
      StartRead(&raw_);
      return;
    }
    const bool first = !started_;
    started_ = true;
    if (first && record_.has_options()) {
      options_ = record_.options();
      summary_->set_dry_run(options_.dry_run());
    } else if (Held()) {
      held_bytes_ += record_.ByteSizeLong();
      if (held_bytes_ > kMaxImportBatchBytes) {
        Finish(ToGrpc(absl::ResourceExhaustedError(absl::StrCat(
            "import: record ", index_, " takes the stream over the ", kMaxImportBatchBytes >> 20,
            " MiB a dry run or an all-or-nothing import holds; nothing was written. Split the "
            "file, or import it without all_or_nothing"))));
        return;
      }
      held_.push_back(std::move(record_));
      held_index_.push_back(index_++);
    } else {
      writer_.Add(index_++, std::move(record_));
    }
    record_.Clear();
    raw_.Clear();
    StartRead(&raw_);
  }
  void OnDone() override { delete this; }

 private:
  bool Held() const { return options_.dry_run() || options_.all_or_nothing(); }

  // raw_ into record_; false when the bytes are not an ImportRecord.
  bool Parse() {
    record_.Clear();
    grpc::Slice slice;
    if (!raw_.DumpToSingleSlice(&slice).ok()) return false;
    return record_.ParseFromArray(slice.begin(), static_cast<int>(slice.size()));
  }

  // At the end of the stream: applies the held records, and publishes.
  absl::Status Complete() {
    if (Held()) {
      // A stream the client gave up on is not a whole batch: write none of it.
      if (ctx_->IsCancelled()) return absl::CancelledError("import: the client cancelled");
      if (unparsable_ && !options_.dry_run()) {
        // All or nothing, and a message was not a record: report every
        // problem, write nothing.
        auto outcome = engine_->ImportBatch(held_, /*dry_run=*/true, Visibility::kDeferred);
        if (!outcome.ok()) return outcome.status();
        for (size_t i = 0; i < held_.size(); ++i) {
          if (!outcome->results[i].ok()) {
            CountImported(held_[i], held_index_[i], outcome->results[i], summary_);
          }
        }
        SortErrors();
        return absl::OkStatus();
      }
      auto outcome = engine_->ImportBatch(held_, options_.dry_run(), Visibility::kDeferred);
      if (!outcome.ok()) return outcome.status();
      const bool counted = outcome->written || options_.dry_run();
      for (size_t i = 0; i < held_.size(); ++i) {
        if (outcome->results[i].ok() && !counted) continue;  // rolled back with the rest
        CountImported(held_[i], held_index_[i], outcome->results[i], summary_);
      }
    } else {
      // Also when the client cancelled: what was read is written, as each
      // record would have been on its own.
      writer_.Flush();
    }
    SortErrors();
    engine_->Publish();
    return absl::OkStatus();
  }

  // Errors in stream order (unparsable messages are reported as they come,
  // the held records' at the end).
  void SortErrors() {
    auto* errors = summary_->mutable_errors();
    std::stable_sort(errors->begin(), errors->end(),
                     [](const v1::ImportError& a, const v1::ImportError& b) {
                       return a.index() < b.index();
                     });
  }

  grpc::CallbackServerContext* const ctx_;
  Engine* engine_;
  grpc::ByteBuffer* const reply_;
  v1::ImportSummary summary_storage_;
  v1::ImportSummary* const summary_;
  grpc::ByteBuffer raw_;
  v1::ImportRecord record_;
  v1::ImportOptions options_;
  bool started_ = false;
  bool unparsable_ = false;  // a message that is not an ImportRecord was read
  int index_ = 0;  // of the next record, not counting the options
  ImportWriter writer_;  // the records not held, in groups
  std::vector<v1::ImportRecord> held_;
  std::vector<int> held_index_;  // each held record's index in the stream
  size_t held_bytes_ = 0;
};

// Checks a PairCities request and streams the pairing through `emit`:
// progress while it runs (each followed by the after_progress seam), then
// the pairs, then the summary; its outcome.
absl::Status StreamPairing(const Engine& engine, const v1::PairCitiesRequest& request,
                           const HeavyWork& heavy, const Cancellation& cancel,
                           const std::function<void(v1::PairCitiesResponse)>& emit) {
  const absl::StatusOr<PairingQuery> query = ToPairingQuery(request);
  if (!query.ok()) return query.status();
  auto result = engine.PairCities(
      *query,
      [&](const PairingProgress& p) {
        v1::PairCitiesResponse r;
        *r.mutable_progress() = ToPairingProgress(p);
        emit(std::move(r));
        if (heavy.after_progress) heavy.after_progress(cancel);
      },
      &cancel);
  if (!result.ok()) return result.status();
  for (PairedCities& pair : result->pairs) {
    v1::PairCitiesResponse r;
    *r.mutable_pair() = ToPair(std::move(pair));
    emit(std::move(r));
  }
  v1::PairCitiesResponse r;
  *r.mutable_summary() = ToPairingSummary(result->summary, *query);
  emit(std::move(r));
  return absl::OkStatus();
}

// A stable fingerprint of a request without its page token (FNV-1a over
// the deterministic serialization), so that a page token only continues the
// query that issued it, on any replica and across restarts.
template <typename Request>
std::string QueryFingerprint(const Request& req) {
  Request copy = req;
  copy.clear_page_token();
  std::string bytes;
  google::protobuf::io::StringOutputStream stream(&bytes);
  {
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    copy.SerializeToCodedStream(&coded);
  }
  uint64_t h = 1469598103934665603ull;
  for (unsigned char ch : bytes) h = (h ^ ch) * 1099511628211ull;
  return absl::StrCat(absl::Hex(h));
}

// Page tokens of ranked answers carry the query's fingerprint and the
// offset of the next result.
template <typename Request>
absl::StatusOr<int> DecodeOffset(absl::string_view listing, const Request& req) {
  auto raw = DecodePageToken(listing, req.page_token());
  if (!raw.ok()) return raw.status();
  if (raw->empty()) return 0;
  std::pair<std::string, std::string> parts = absl::StrSplit(*raw, absl::MaxSplits(':', 1));
  int offset = 0;
  if (!absl::SimpleAtoi(parts.second, &offset) || offset < 0) {
    return absl::InvalidArgumentError("page_token: not a token this call returned");
  }
  if (parts.first != QueryFingerprint(req)) {
    return absl::InvalidArgumentError(
        "page_token: it belongs to another query; send the same request with only the token "
        "changed");
  }
  return offset;
}

template <typename Request>
std::string EncodeOffset(absl::string_view listing, const Request& req, int offset) {
  return EncodePageToken(listing, absl::StrCat(QueryFingerprint(req), ":", offset));
}

// Work that cannot finish in time is not started.
absl::Status CheckDeadline(grpc::CallbackServerContext* ctx) {
  if (ctx->deadline() <= std::chrono::system_clock::now()) {
    return absl::DeadlineExceededError("the call's deadline had passed before it started");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status PeermatchService::Authorize(grpc::CallbackServerContext* ctx, Access needed) const {
  const auto& metadata = ctx->client_metadata();
  auto it = metadata.find("authorization");
  const absl::string_view value = it == metadata.end() ? absl::string_view()
                                                       : absl::string_view(it->second.data(),
                                                                           it->second.size());
  return auth_->Check(value, needed);
}

grpc::ServerWriteReactor<v1::PairCitiesResponse>* PeermatchService::PairCities(
    grpc::CallbackServerContext* ctx, const v1::PairCitiesRequest* req) {
  absl::Status refused = Authorize(ctx, Access::kRead);
  if (refused.ok()) refused = CheckDeadline(ctx);
  const Engine* engine = engine_;
  const HeavyWork* heavy = &heavy_;
  auto* reactor = new internal::HeavyStreamReactor<v1::PairCitiesResponse>(
      [engine, request = *req, heavy](
          const Cancellation& cancel,
          const internal::HeavyStreamReactor<v1::PairCitiesResponse>::Emit& emit) {
        return StreamPairing(*engine, request, *heavy, cancel, emit);
      });
  reactor->Start(refused, heavy->executor);
  return reactor;
}

grpc::ServerUnaryReactor* PeermatchService::PutCity(grpc::CallbackServerContext* ctx,
                                                    const v1::PutCityRequest* req,
                                                    v1::PutCityResponse* resp) {
  PEERMATCH_AUTHORIZE(ctx, Access::kWrite);
  if (!req->has_city()) return Done(ctx, absl::InvalidArgumentError("city: is required"));
  auto r = engine_->PutCity(req->city());
  if (r.ok()) resp->set_changed(Changed(*r));
  return Done(ctx, r.status());
}

grpc::ServerUnaryReactor* PeermatchService::GetCity(grpc::CallbackServerContext* ctx,
                                                    const v1::GetCityRequest* req,
                                                    v1::City* resp) {
  PEERMATCH_AUTHORIZE(ctx, Access::kRead);
  if (auto s = RequireId("id", req->id()); !s.ok()) return Done(ctx, s);
  auto city = engine_->store().GetCity(req->id());
  if (city.ok()) *resp = *std::move(city);
  return Done(ctx, city.status());
}

grpc::ServerUnaryReactor* PeermatchService::ListCities(grpc::CallbackServerContext* ctx,
                                                       const v1::ListCitiesRequest* req,
                                                       v1::ListCitiesResponse* resp) {
  PEERMATCH_AUTHORIZE(ctx, Access::kRead);
  auto size = PageSize(req->page_size());
  if (!size.ok()) return Done(ctx, size.status());
  if (!v1::Region_IsValid(req->region())) {
    return Done(ctx, absl::InvalidArgumentError("region: unknown value"));
  }
  auto after = DecodePageToken("cities", req->page_token());
  if (!after.ok()) return Done(ctx, after.status());
  const v1::Region region = req->region();
  bool more = false;
  auto cities = engine_->store().ListCities(
      *after, *size,
      [region](const v1::City& c) {
        return region == v1::REGION_UNSPECIFIED || c.region() == region;
      },
      &more);
  if (!cities.ok()) return Done(ctx, cities.status());
  for (auto& c : *cities) *resp->add_cities() = std::move(c);
  if (more) resp->set_next_page_token(EncodePageToken("cities", resp->cities().rbegin()->id()));
  return Done(ctx, absl::OkStatus());
}

grpc::ServerUnaryReactor* PeermatchService::DeleteCity(grpc::CallbackServerContext* ctx,
                                                       const v1::DeleteCityRequest* req,
                                                       v1::DeleteCityResponse* resp) {
  PEERMATCH_AUTHORIZE(ctx, Access::kWrite);
  if (auto s = RequireId("id", req->id()); !s.ok()) return Done(ctx, s);
  auto n = engine_->DeleteCity(req->id(), req->cascade());
  if (n.ok()) resp->set_deleted_cases(*n);
  return Done(ctx, n.status());
}

grpc::ServerUnaryReactor* PeermatchService::PutCase(grpc::CallbackServerContext* ctx,
                                                    const v1::PutCaseRequest* req,
                                                    v1::PutCaseResponse* resp) {
  PEERMATCH_AUTHORIZE(ctx, Access::kWrite);
  if (!req->has_case_()) return Done(ctx, absl::InvalidArgumentError("case: is required"));
  auto r = engine_->PutCase(req->case_());
  if (r.ok()) resp->set_changed(Changed(*r));
  return Done(ctx, r.status());
}

grpc::ServerUnaryReactor* PeermatchService::GetCase(grpc::CallbackServerContext* ctx,
                                                    const v1::GetCaseRequest* req,
                                                    v1::Case* resp) {
  PEERMATCH_AUTHORIZE(ctx, Access::kRead);
  if (auto s = RequireId("id", req->id()); !s.ok()) return Done(ctx, s);
  auto c = engine_->store().GetCase(req->id());
  if (c.ok()) *resp = *std::move(c);
  return Done(ctx, c.status());
}

grpc::ServerUnaryReactor* PeermatchService::ListCases(grpc::CallbackServerContext* ctx,
                                                      const v1::ListCasesRequest* req,
                                                      v1::ListCasesResponse* resp) {
  PEERMATCH_AUTHORIZE(ctx, Access::kRead);
  auto size = PageSize(req->page_size());
  if (!size.ok()) return Done(ctx, size.status());
  if (!v1::CaseKind_IsValid(req->kind())) {
    return Done(ctx, absl::InvalidArgumentError("kind: unknown value"));
  }
  if (!v1::Theme_IsValid(req->theme())) {
    return Done(ctx, absl::InvalidArgumentError("theme: unknown value"));
  }
  if (absl::Status s = RequireKnownCity(engine_->store(), req->city_id()); !s.ok()) {
    return Done(ctx, s);
  }
  auto after = DecodePageToken("cases", req->page_token());
  if (!after.ok()) return Done(ctx, after.status());
  const v1::CaseKind kind = req->kind();
  const v1::Theme theme = req->theme();
  bool more = false;
  auto cases = engine_->store().ListCases(
      req->city_id(), *after, *size,
      [kind, theme](const v1::Case& c) {
        if (kind != v1::CASE_KIND_UNSPECIFIED && c.kind() != kind) return false;
        if (theme == v1::THEME_UNSPECIFIED) return true;
        for (int t : c.themes()) {
          if (t == theme) return true;
        }
        return false;
      },
      &more);
  if (!cases.ok()) return Done(ctx, cases.status());
  for (auto& c : *cases) *resp->add_cases() = std::move(c);
  if (more) resp->set_next_page_token(EncodePageToken("cases", resp->cases().rbegin()->id()));
  return Done(ctx, absl::OkStatus());
}

grpc::ServerUnaryReactor* PeermatchService::DeleteCase(grpc::CallbackServerContext* ctx,
                                                       const v1::DeleteCaseRequest* req,
                                                       v1::DeleteCaseResponse* resp) {
  PEERMATCH_AUTHORIZE(ctx, Access::kWrite);
  if (auto s = RequireId("id", req->id()); !s.ok()) return Done(ctx, s);
  return Done(ctx, engine_->DeleteCase(req->id()));
}

grpc::ServerReadReactor<grpc::ByteBuffer>* PeermatchService::ImportRecords(
    grpc::CallbackServerContext* ctx, grpc::ByteBuffer* reply) {
  return new ImportReactor(ctx, engine_, reply, Authorize(ctx, Access::kWrite));
}

template <typename Request, typename Response>
absl::Status PeermatchService::Cached(
    grpc::CallbackServerContext* ctx, absl::string_view method, const grpc::ByteBuffer& request,
    absl::Status (PeermatchService::*answer)(const Request&, const QueryStop&, Response*) const,
    grpc::ByteBuffer* reply) {
  // The generation before answering: a reply computed on newer data than
  // its key says is never stale.
  const uint64_t generation = engine_->snapshot()->generation;
  const std::optional<std::string> maybe_key = ReplyCache::Key(method, request);
  if (!maybe_key.has_value()) {
    return absl::InvalidArgumentError("request: its bytes cannot be read");
  }
  const std::string& key = *maybe_key;
  if (std::optional<grpc::ByteBuffer> hit = replies_.Get(key, generation)) {
    *reply = *std::move(hit);
    return absl::OkStatus();
  }
  Request req;
  const absl::string_view bytes = absl::string_view(key).substr(method.size() + 1);
  if (!req.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::InvalidArgumentError(
        absl::StrCat("request: the bytes do not parse as ", req.GetTypeName(),
                     " (is a string field not UTF-8?)"));
  }
  QueryStop stop;
  stop.deadline = absl::FromChrono(ctx->deadline());
  stop.cancelled = [ctx] { return ctx->IsCancelled(); };
  Response resp;
  if (absl::Status s = (this->*answer)(req, stop, &resp); !s.ok()) return s;
  grpc::Slice slice(resp.SerializeAsString());
  *reply = grpc::ByteBuffer(&slice, 1);
  replies_.Put(key, generation, *reply);
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* PeermatchService::Match(grpc::CallbackServerContext* ctx,
                                                  const grpc::ByteBuffer* req,
                                                  grpc::ByteBuffer* resp) {
  PEERMATCH_AUTHORIZE(ctx, Access::kRead);
  if (auto s = CheckDeadline(ctx); !s.ok()) return Done(ctx, s);
  return Done(ctx, Cached(ctx, "match", *req, &PeermatchService::Match, resp));
}

absl::Status PeermatchService::Match(const v1::MatchRequest& req, const QueryStop& stop,
                                     v1::MatchResponse* resp) const {
  auto offset = DecodeOffset("match", req);
  if (!offset.ok()) return offset.status();
  auto query = ToMatchQuery(req, *offset);
  if (!query.ok()) return query.status();
  auto result = engine_->Match(*query, stop);
  if (!result.ok()) return result.status();
  const bool more = result->peers.more;
  *resp = ToMatchResponse(*std::move(result));
  if (resp->peers().empty()) resp->set_empty_reason(EmptyReason(req, *offset));
  if (more) resp->set_next_page_token(EncodeOffset("match", req, *offset + resp->peers_size()));
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* PeermatchService::SimilarCases(grpc::CallbackServerContext* ctx,
                                                         const grpc::ByteBuffer* req,
                                                         grpc::ByteBuffer* resp) {
  PEERMATCH_AUTHORIZE(ctx, Access::kRead);
  if (auto s = CheckDeadline(ctx); !s.ok()) return Done(ctx, s);
  return Done(ctx, Cached(ctx, "similar", *req, &PeermatchService::SimilarCases, resp));
}

absl::Status PeermatchService::SimilarCases(const v1::SimilarCasesRequest& req,
                                            const QueryStop& stop,
                                            v1::SimilarCasesResponse* resp) const {
  auto offset = DecodeOffset("similar", req);
  if (!offset.ok()) return offset.status();
  auto query = ToSimilarQuery(req, *offset);
  if (!query.ok()) return query.status();
  auto result = engine_->SimilarCases(*query, stop);
  if (!result.ok()) return result.status();
  const bool more = result->cases.more;
  *resp = ToSimilarCasesResponse(*std::move(result));
  if (resp->cases().empty()) resp->set_empty_reason(EmptyReason(req, *offset));
  if (more) {
    resp->set_next_page_token(EncodeOffset("similar", req, *offset + resp->cases_size()));
  }
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* PeermatchService::GetStats(grpc::CallbackServerContext* ctx,
                                                     const v1::GetStatsRequest* req,
                                                     v1::Stats* resp) {
  PEERMATCH_AUTHORIZE(ctx, Access::kRead);
  // From the published snapshot's counters: no scan of the store, and the
  // same view of the corpus as the queries answered now.
  auto snapshot = engine_->snapshot();
  resp->set_cities(snapshot->counts.cities);
  resp->set_cases(snapshot->counts.cases);
  resp->set_challenges(snapshot->counts.challenges);
  resp->set_solutions(snapshot->counts.solutions);
  resp->set_model_version(static_cast<int64_t>(snapshot->model->version()));
  resp->set_index_bytes(static_cast<int64_t>(snapshot->index->MemoryBytes()));
  *resp->mutable_fusion() = ToFusionStats(*engine_->fusion());
  return Done(ctx, absl::OkStatus());
}

}  // namespace peermatch
