#include "service/http_routes.h"

#include <chrono>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/json_util.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "peermatch/v1/peermatch.grpc.pb.h"
#include "records/enums.h"
#include "service/update_mapping.h"

namespace peermatch {
namespace {

using Stub = v1::Peermatch::Stub;
using Params = HttpRouter::Params;
constexpr auto kCallTime = std::chrono::seconds(10);
constexpr auto kPairingTime = std::chrono::minutes(10);
// An import body holds up to 1 MiB of records (a few hundred long cases),
// each embedded and synced: 10 s was met on a loaded machine (a 504 for an
// import whose records were being written).
constexpr auto kImportTime = std::chrono::minutes(2);

// Google's HTTP mapping of the canonical codes (google/rpc/code.proto).
int HttpStatus(grpc::StatusCode code) {
  switch (code) {
    case grpc::OK: return 200;
    case grpc::CANCELLED: return 499;
    case grpc::INVALID_ARGUMENT: return 400;
    case grpc::FAILED_PRECONDITION: return 400;
    case grpc::OUT_OF_RANGE: return 400;
    case grpc::DEADLINE_EXCEEDED: return 504;
    case grpc::NOT_FOUND: return 404;
    case grpc::ALREADY_EXISTS: return 409;
    case grpc::ABORTED: return 409;
    case grpc::PERMISSION_DENIED: return 403;
    case grpc::UNAUTHENTICATED: return 401;
    case grpc::RESOURCE_EXHAUSTED: return 429;
    case grpc::UNIMPLEMENTED: return 501;
    case grpc::UNAVAILABLE: return 503;
    default: return 500;
  }
}

HttpResponse FromGrpc(grpc::StatusCode code, absl::string_view message) {
  HttpResponse res;
  res.status = HttpStatus(code);
  res.body = ErrorBody(res.status, absl::StatusCodeToString(static_cast<absl::StatusCode>(code)),
                       message);
  return res;
}
HttpResponse FromStatus(const absl::Status& s) {
  return FromGrpc(static_cast<grpc::StatusCode>(s.code()), s.message());
}

std::string ToJson(const google::protobuf::Message& m) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  (void)google::protobuf::util::MessageToJsonString(m, &json, options);
  return json;
}

HttpResponse JsonResponse(std::string json) {
  HttpResponse res;
  res.body = std::move(json);
  res.body += "\n";
  return res;
}

// A gRPC call's context: token and client address as metadata, a deadline,
// and registration with `inflight` for as long as it lives.
class CallScope {
 public:
  CallScope(const HttpRequest& req, InflightCalls* inflight,
            std::chrono::system_clock::duration time = kCallTime)
      : inflight_(inflight) {
    const std::string& authorization = req.Header("authorization");
    if (!authorization.empty()) ctx_.AddMetadata("authorization", authorization);
    if (!req.peer.empty()) ctx_.AddMetadata("x-peermatch-http-peer", req.peer);
    ctx_.set_deadline(std::chrono::system_clock::now() + time);
    if (inflight_ != nullptr) inflight_->Add(&ctx_);
  }
  ~CallScope() {
    if (inflight_ != nullptr) inflight_->Remove(&ctx_);
  }
  grpc::ClientContext* get() { return &ctx_; }

 private:
  grpc::ClientContext ctx_;
  InflightCalls* inflight_;
};

// Decodes the JSON body into `message` (an empty body is {}).
absl::Status ParseBody(const HttpRequest& req, google::protobuf::Message* message) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const std::string& body = req.body.empty() ? std::string("{}") : req.body;
  auto status = google::protobuf::util::JsonStringToMessage(body, message, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("body: not a valid ",
                                                   message->GetDescriptor()->name(),
                                                   " in JSON: ", status.message().as_string()));
  }
  return absl::OkStatus();
}

// The canonical name of an enum value given in a query parameter, in any
// form the CLI accepts for its flags (records/enums.h, the one parser).
absl::StatusOr<std::string> EnumValueName(const google::protobuf::FieldDescriptor* field,
                                          const std::string& key, const std::string& value) {
  const google::protobuf::EnumDescriptor* type = field->enum_type();
  absl::StatusOr<int> number = ParseEnumNumber(*type, key, value);
  if (!number.ok()) return number.status();
  return type->FindValueByNumber(*number)->name();
}

// The PATCH routes' one query parameter, ?updateMask=; any other is
// refused (INVALID_ARGUMENT naming it), as ParseQuery refuses unknown ones.
absl::StatusOr<std::string> UpdateMaskParam(const HttpRequest& req) {
  std::string mask;
  for (const auto& [key, value] : req.query) {
    if (key != "updateMask" && key != "update_mask") {
      return absl::InvalidArgumentError(
          absl::StrCat(key, ": unknown parameter; PATCH takes only updateMask"));
    }
    mask = value;
  }
  return mask;
}

// Fills `message` from query parameters named as its fields (JSON or proto
// names); `skip` names parameters the route reads itself.
absl::Status ParseQuery(const HttpRequest& req, google::protobuf::Message* message,
                        absl::string_view skip = "") {
  std::string json = "{";
  const auto* d = message->GetDescriptor();
  for (const auto& [key, value] : req.query) {
    if (!skip.empty() && key == skip) continue;
    const auto* field = d->FindFieldByCamelcaseName(key);
    if (field == nullptr) field = d->FindFieldByName(key);
    if (field == nullptr || field->is_repeated() ||
        field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) {
      return absl::InvalidArgumentError(absl::StrCat(key, ": unknown parameter"));
    }
    std::string encoded;
    if (field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_ENUM) {
      auto name = EnumValueName(field, key, value);
      if (!name.ok()) return name.status();
      encoded = absl::StrCat("\"", *name, "\"");
    } else if (field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_STRING) {
      encoded = absl::StrCat("\"", JsonEscape(value), "\"");
    } else if (field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_BOOL) {
      if (value != "true" && value != "false") {
        return absl::InvalidArgumentError(absl::StrCat(key, ": \"", value, "\" is not true or false"));
      }
      encoded = value;
    } else {
      double number = 0;
      if (!absl::SimpleAtod(value, &number) || absl::StrContains(value, "n") ||
          absl::StrContains(value, "N")) {
        return absl::InvalidArgumentError(absl::StrCat(key, ": \"", value, "\" is not a number"));
      }
      encoded = value;
    }
    absl::StrAppend(&json, json.size() > 1 ? "," : "", "\"", field->json_name(), "\":", encoded);
  }
  json += "}";
  auto status = google::protobuf::util::JsonStringToMessage(json, message);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("query parameters: ", status.message().as_string()));
  }
  return absl::OkStatus();
}

template <typename Request, typename Reply>
using Rpc = grpc::Status (Stub::*)(grpc::ClientContext*, const Request&, Reply*);
// Builds the request from the HTTP request and the path's {…} values.
template <typename Request>
using Make = std::function<absl::Status(const HttpRequest&, const Params&, Request*)>;

// A route that makes one unary call, with a deadline of `time`.
template <typename Request, typename Reply>
HttpRouter::Handler Unary(std::shared_ptr<Stub> stub, std::shared_ptr<InflightCalls> inflight,
                          Rpc<Request, Reply> rpc, Make<Request> make,
                          std::chrono::system_clock::duration time = kCallTime) {
  return [stub, inflight, rpc, make, time](const HttpRequest& req, const Params& params) {
    Request request;
    if (absl::Status s = make(req, params, &request); !s.ok()) return FromStatus(s);
    Reply reply;
    CallScope ctx(req, inflight.get(), time);
    grpc::Status s = ((*stub).*rpc)(ctx.get(), request, &reply);
    return s.ok() ? JsonResponse(ToJson(reply)) : FromGrpc(s.error_code(), s.error_message());
  };
}

// The ways routes build their requests.
template <typename Request>
absl::Status FromBody(const HttpRequest& req, const Params&, Request* request) {
  return ParseBody(req, request);
}
template <typename Request>
absl::Status FromQuery(const HttpRequest& req, const Params&, Request* request) {
  return ParseQuery(req, request);
}
template <typename Request>
absl::Status FromPathId(const HttpRequest& req, const Params& params, Request* request) {
  if (!req.query.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(req.query[0].first, ": unknown parameter"));
  }
  request->set_id(params[0]);
  return absl::OkStatus();
}

// JSON Lines in, one ImportRecord a line; an unparsable line is sent as an
// empty record, so the summary reports it at its index.
HttpResponse Import(Stub& stub, InflightCalls* inflight, const HttpRequest& req) {
  CallScope ctx(req, inflight, kImportTime);
  v1::ImportSummary summary;
  auto writer = stub.ImportRecords(ctx.get(), &summary);
  std::map<int, std::string> unparsable;
  int index = 0;
  for (absl::string_view line : absl::StrSplit(req.body, '\n', absl::SkipWhitespace())) {
    v1::ImportRecord record;
    auto parsed = google::protobuf::util::JsonStringToMessage(
        google::protobuf::StringPiece(line.data(), line.size()), &record);
    if (!parsed.ok()) {
      unparsable[index] = absl::StrCat("line ", index + 1, ": not a valid record: ",
                                       parsed.message().as_string());
      record.Clear();
    }
    if (!writer->Write(record)) break;
    ++index;
  }
  writer->WritesDone();
  grpc::Status s = writer->Finish();
  if (!s.ok()) return FromGrpc(s.error_code(), s.error_message());
  for (auto& e : *summary.mutable_errors()) {
    auto it = unparsable.find(e.index());
    if (it != unparsable.end()) e.set_message(SanitizeUtf8(it->second));
  }
  return JsonResponse(ToJson(summary));
}

// Issue 15: whether the client asked for the answer as it comes
// (?stream=1 or ?stream=true). INVALID_ARGUMENT for another value; other
// parameters are left alone, as these routes always have.
absl::StatusOr<bool> WantsStream(const HttpRequest& req) {
  bool stream = false;
  for (const auto& [key, value] : req.query) {
    if (key != "stream") continue;
    if (value == "1" || value == "true") {
      stream = true;
    } else if (value == "0" || value == "false") {
      stream = false;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("stream: \"", value, "\" is not 1, 0, true or false"));
    }
  }
  return stream;
}

// A server-streaming call under way, and what it needs kept alive; the
// reader goes first (members are destroyed in reverse order).
template <typename Item>
struct StreamedCall {
  // A call whose stream never ran (a response built and dropped, as tests
  // and fuzzers do with HttpRouter::Handle) is cancelled and drained, as a
  // sync reader needs before it goes.
  ~StreamedCall() {
    if (reader == nullptr || finished) return;
    scope->get()->TryCancel();
    Item item;
    while (reader->Read(&item)) {
    }
    (void)reader->Finish();
  }
  std::shared_ptr<Stub> stub;
  std::unique_ptr<CallScope> scope;
  std::unique_ptr<grpc::ClientReader<Item>> reader;
  bool finished = false;  // Finish() has been called
};

// Issue 15: the call's messages as NDJSON (application/x-ndjson), one
// canonical-JSON message a line, each sent as it arrives. The first message
// is awaited here, so an error before it (a bad request, a refused token)
// is an ordinary error answer with its HTTP status; an error after it
// ends the stream with one more line, the error body ({"error": ...}). A
// client that goes away cancels the call.
template <typename Item>
HttpResponse NdjsonStream(std::shared_ptr<StreamedCall<Item>> call) {
  Item first;
  const bool any = call->reader->Read(&first);
  if (!any) {
    grpc::Status s = call->reader->Finish();
    call->finished = true;
    if (!s.ok()) return FromGrpc(s.error_code(), s.error_message());
  }
  HttpResponse res;
  res.content_type = "application/x-ndjson";
  res.headers.emplace_back("Cache-Control", "no-store");
  if (!any) return res;  // an empty stream: an empty body
  res.body = ToJson(first) + "\n";
  res.stream = [call](HttpBodyWriter& out) {
    Item item;
    bool client_gone = false;
    while (call->reader->Read(&item)) {
      if (client_gone) continue;  // drains what is under way after the cancel
      if (!out.Write(ToJson(item) + "\n")) {
        client_gone = true;
        call->scope->get()->TryCancel();
      }
    }
    grpc::Status s = call->reader->Finish();
    call->finished = true;
    if (!s.ok() && !client_gone) {
      const int status = HttpStatus(s.error_code());
      out.Write(ErrorBody(status, absl::StatusCodeToString(static_cast<absl::StatusCode>(s.error_code())),
                          s.error_message()));
    }
  };
  return res;
}

// The pairing stream, gathered: {"pairs": [...], "summary": {...}}; or,
// with ?stream=1, as it comes (NdjsonStream).
HttpResponse Pairs(std::shared_ptr<Stub> stub, InflightCalls* inflight, const HttpRequest& req) {
  v1::PairCitiesRequest request;
  if (absl::Status s = ParseBody(req, &request); !s.ok()) return FromStatus(s);
  absl::StatusOr<bool> stream = WantsStream(req);
  if (!stream.ok()) return FromStatus(stream.status());
  if (*stream) {
    auto call = std::make_shared<StreamedCall<v1::PairCitiesResponse>>();
    call->stub = stub;
    call->scope = std::make_unique<CallScope>(req, inflight, kPairingTime);
    call->reader = stub->PairCities(call->scope->get(), request);
    return NdjsonStream(std::move(call));
  }
  CallScope ctx(req, inflight, kPairingTime);
  auto reader = stub->PairCities(ctx.get(), request);
  std::string json = "{\"pairs\": [";
  std::string summary = "{}";
  v1::PairCitiesResponse item;
  bool first = true;
  while (reader->Read(&item)) {
    if (item.has_pair()) {
      absl::StrAppend(&json, first ? "" : ",", ToJson(item.pair()));
      first = false;
    } else if (item.has_summary()) {
      summary = ToJson(item.summary());
    }
  }
  grpc::Status s = reader->Finish();
  if (!s.ok()) return FromGrpc(s.error_code(), s.error_message());
  absl::StrAppend(&json, "], \"summary\": ", summary, "}");
  return JsonResponse(std::move(json));
}

HttpResponse TextResponse(int status, std::string body, std::string content_type) {
  HttpResponse res;
  res.status = status;
  res.body = std::move(body);
  res.content_type = std::move(content_type);
  return res;
}

void AddReadRoutes(HttpRouter& r, const std::shared_ptr<Stub>& stub,
                   const std::shared_ptr<InflightCalls>& in) {
  r.Add("POST", "/v1/match", Unary(stub, in, &Stub::Match, Make<v1::MatchRequest>(FromBody<v1::MatchRequest>)));
  r.Add("POST", "/v1/similar", Unary(stub, in, &Stub::SimilarCases,
                                     Make<v1::SimilarCasesRequest>(FromBody<v1::SimilarCasesRequest>)));
  r.Add("GET", "/v1/cities", Unary(stub, in, &Stub::ListCities,
                                   Make<v1::ListCitiesRequest>(FromQuery<v1::ListCitiesRequest>)));
  r.Add("GET", "/v1/cities/{id}", Unary(stub, in, &Stub::GetCity,
                                        Make<v1::GetCityRequest>(FromPathId<v1::GetCityRequest>)));
  r.Add("GET", "/v1/cases", Unary(stub, in, &Stub::ListCases,
                                  Make<v1::ListCasesRequest>(FromQuery<v1::ListCasesRequest>)));
  r.Add("GET", "/v1/cases/{id}", Unary(stub, in, &Stub::GetCase,
                                       Make<v1::GetCaseRequest>(FromPathId<v1::GetCaseRequest>)));
  r.Add("GET", "/v1/stats", Unary(stub, in, &Stub::GetStats,
                                  Make<v1::GetStatsRequest>(FromQuery<v1::GetStatsRequest>)));
}

// Writes: the same calls, the same write tokens.
void AddWriteRoutes(HttpRouter& r, const std::shared_ptr<Stub>& stub,
                    const std::shared_ptr<InflightCalls>& in) {
  r.Add("POST", "/v1/cities",
        Unary(stub, in, &Stub::PutCity,
              Make<v1::PutCityRequest>([](const HttpRequest& req, const Params&,
                                          v1::PutCityRequest* request) {
                return ParseBody(req, request->mutable_city());
              })));
  r.Add("DELETE", "/v1/cities/{id}",
        Unary(stub, in, &Stub::DeleteCity,
              Make<v1::DeleteCityRequest>([](const HttpRequest& req, const Params& params,
                                             v1::DeleteCityRequest* request) {
                absl::Status s = ParseQuery(req, request);  // ?cascade=true (clears first)
                request->set_id(params[0]);
                return s;
              })));
  r.Add("POST", "/v1/cases",
        Unary(stub, in, &Stub::PutCase,
              Make<v1::PutCaseRequest>([](const HttpRequest& req, const Params&,
                                          v1::PutCaseRequest* request) {
                return ParseBody(req, request->mutable_case_());
              })));
  r.Add("DELETE", "/v1/cases/{id}",
        Unary(stub, in, &Stub::DeleteCase,
              Make<v1::DeleteCaseRequest>(FromPathId<v1::DeleteCaseRequest>)));
  // PATCH: the body is the partial record; ?updateMask= names the fields,
  // or the body's keys do (update_mapping.h).
  r.Add("PATCH", "/v1/cities/{id}",
        Unary(stub, in, &Stub::UpdateCity,
              Make<v1::UpdateCityRequest>([](const HttpRequest& req, const Params& params,
                                             v1::UpdateCityRequest* request) {
                absl::StatusOr<std::string> mask = UpdateMaskParam(req);
                if (!mask.ok()) return mask.status();
                auto parsed = UpdateCityRequestFromJson(params[0], req.body, *mask);
                if (!parsed.ok()) return parsed.status();
                *request = *std::move(parsed);
                return absl::OkStatus();
              })));
  r.Add("PATCH", "/v1/cases/{id}",
        Unary(stub, in, &Stub::UpdateCase,
              Make<v1::UpdateCaseRequest>([](const HttpRequest& req, const Params& params,
                                             v1::UpdateCaseRequest* request) {
                absl::StatusOr<std::string> mask = UpdateMaskParam(req);
                if (!mask.ok()) return mask.status();
                auto parsed = UpdateCaseRequestFromJson(params[0], req.body, *mask);
                if (!parsed.ok()) return parsed.status();
                *request = *std::move(parsed);
                return absl::OkStatus();
              })));
  r.Add("POST", "/v1/import", [stub, in](const HttpRequest& req, const Params&) {
    return Import(*stub, in.get(), req);
  });
  r.Add("POST", "/v1/pairs", [stub, in](const HttpRequest& req, const Params&) {
    return Pairs(stub, in.get(), req);
  });
  // Issue 14: feedback on a Match result.
  r.Add("POST", "/v1/feedback",
        Unary(stub, in, &Stub::RecordFeedback,
              Make<v1::RecordFeedbackRequest>(FromBody<v1::RecordFeedbackRequest>)));
}

// Pairing rounds (issue 14): the round's id from the path, the rest from
// the body (a solve's deadline is a pairing's).
template <typename Request>
absl::Status RoundFromPath(const HttpRequest& req, const Params& params, Request* request) {
  if (absl::Status s = ParseBody(req, request); !s.ok()) return s;
  if (!request->round_id().empty() && request->round_id() != params[0]) {
    return absl::InvalidArgumentError(absl::StrCat(
        "round_id: the body names round \"", request->round_id(), "\" but the path names \"",
        params[0], "\""));
  }
  request->set_round_id(params[0]);
  return absl::OkStatus();
}

void AddRoundRoutes(HttpRouter& r, const std::shared_ptr<Stub>& stub,
                    const std::shared_ptr<InflightCalls>& in) {
  // With ?stream=1 (issue 15), CreateRoundWithProgress: its messages as NDJSON.
  auto create = Unary(stub, in, &Stub::CreateRound,
                      Make<v1::CreateRoundRequest>(FromBody<v1::CreateRoundRequest>), kPairingTime);
  r.Add("POST", "/v1/rounds", [stub, in, create](const HttpRequest& req, const Params& params) {
    absl::StatusOr<bool> stream = WantsStream(req);
    if (!stream.ok()) return FromStatus(stream.status());
    if (!*stream) return create(req, params);
    v1::CreateRoundRequest request;
    if (absl::Status s = ParseBody(req, &request); !s.ok()) return FromStatus(s);
    auto call = std::make_shared<StreamedCall<v1::CreateRoundProgress>>();
    call->stub = stub;
    call->scope = std::make_unique<CallScope>(req, in.get(), kPairingTime);
    call->reader = stub->CreateRoundWithProgress(call->scope->get(), request);
    return NdjsonStream(std::move(call));
  });
  r.Add("GET", "/v1/rounds", Unary(stub, in, &Stub::ListRounds,
                                   Make<v1::ListRoundsRequest>(FromQuery<v1::ListRoundsRequest>)));
  r.Add("GET", "/v1/rounds/{id}",
        Unary(stub, in, &Stub::GetRound,
              Make<v1::GetRoundRequest>([](const HttpRequest& req, const Params& params,
                                           v1::GetRoundRequest* request) {
                if (!req.query.empty()) {
                  return absl::InvalidArgumentError(
                      absl::StrCat(req.query[0].first, ": unknown parameter"));
                }
                request->set_round_id(params[0]);
                return absl::OkStatus();
              })));
  r.Add("POST", "/v1/rounds/{id}/decisions",
        Unary(stub, in, &Stub::DecideRoundPair,
              Make<v1::DecideRoundPairRequest>(RoundFromPath<v1::DecideRoundPairRequest>)));
  r.Add("POST", "/v1/rounds/{id}/rematch",
        Unary(stub, in, &Stub::RematchRound,
              Make<v1::RematchRoundRequest>(RoundFromPath<v1::RematchRoundRequest>),
              kPairingTime));
  r.Add("POST", "/v1/rounds/{id}/close",
        Unary(stub, in, &Stub::CloseRound,
              Make<v1::CloseRoundRequest>(RoundFromPath<v1::CloseRoundRequest>)));
}

void AddOperationsRoutes(HttpRouter& r, const ApiBackend& backend) {
  auto health = std::shared_ptr<grpc::health::v1::Health::Stub>(
      grpc::health::v1::Health::NewStub(backend.channel));
  auto inflight = backend.inflight;
  r.Add("GET", "/healthz", [health, inflight](const HttpRequest& req, const Params&) {
    CallScope ctx(req, inflight.get(), std::chrono::seconds(2));
    grpc::health::v1::HealthCheckResponse reply;
    grpc::Status s = health->Check(ctx.get(), grpc::health::v1::HealthCheckRequest(), &reply);
    const bool serving =
        s.ok() && reply.status() == grpc::health::v1::HealthCheckResponse::SERVING;
    return TextResponse(serving ? 200 : 503, serving ? "SERVING\n" : "NOT_SERVING\n",
                        "text/plain");
  });
  auto text = backend.metrics_text;
  auto authorize = backend.metrics_authorization;
  r.Add("GET", "/metrics", [text, authorize](const HttpRequest& req, const Params&) {
    if (!text) return ErrorResponse(404, "this server has no metrics");
    if (authorize) {
      if (absl::Status s = authorize(req.Header("authorization")); !s.ok()) {
        return FromStatus(absl::Status(s.code(), absl::StrCat("/metrics: ", s.message())));
      }
    }
    return TextResponse(200, text(), "text/plain; version=0.0.4");
  });
  r.Add("GET", "/openapi.json", [](const HttpRequest&, const Params&) {
    return TextResponse(200, std::string(OpenApiJson()), "application/json");
  });
}

}  // namespace

void InflightCalls::Add(grpc::ClientContext* ctx) {
  absl::MutexLock lock(&mu_);
  calls_.insert(ctx);
  if (cancelled_) ctx->TryCancel();
}

void InflightCalls::Remove(grpc::ClientContext* ctx) {
  absl::MutexLock lock(&mu_);
  calls_.erase(ctx);
}

void InflightCalls::CancelAll() {
  absl::MutexLock lock(&mu_);
  cancelled_ = true;
  for (grpc::ClientContext* ctx : calls_) ctx->TryCancel();
}

std::unique_ptr<HttpRouter> NewApiRouter(ApiBackend backend) {
  RouterOptions options;
  options.cors_origin = backend.cors_origin;
  auto router = std::make_unique<HttpRouter>(options);
  auto stub = std::shared_ptr<Stub>(v1::Peermatch::NewStub(backend.channel));
  AddReadRoutes(*router, stub, backend.inflight);
  AddWriteRoutes(*router, stub, backend.inflight);
  AddRoundRoutes(*router, stub, backend.inflight);
  AddOperationsRoutes(*router, backend);
  return router;
}

}  // namespace peermatch
