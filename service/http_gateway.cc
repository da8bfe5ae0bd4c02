#include "service/http_gateway.h"

#include <chrono>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/json_util.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "httplib.h"
#include "peermatch/v1/peermatch.grpc.pb.h"

namespace peermatch {
namespace {

constexpr int kCallSeconds = 10;

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

std::string Escape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    if (ch == '"' || ch == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (static_cast<unsigned char>(ch) < 0x20) {
      absl::StrAppend(&out, "\\u00", absl::Hex(static_cast<unsigned char>(ch), absl::kZeroPad2));
    } else {
      out.push_back(ch);
    }
  }
  return out;
}

// {"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": "..."}}
std::string ErrorJson(int http, absl::string_view status, const std::string& message) {
  return absl::StrCat("{\"error\": {\"code\": ", http, ", \"status\": \"", status,
                      "\", \"message\": \"", Escape(message), "\"}}\n");
}

void SendError(httplib::Response& res, grpc::StatusCode code, const std::string& message) {
  const int http = HttpStatus(code);
  res.status = http;
  res.set_content(
      ErrorJson(http, absl::StatusCodeToString(static_cast<absl::StatusCode>(code)), message),
      "application/json");
}

void SendMessage(httplib::Response& res, const google::protobuf::Message& m) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  (void)google::protobuf::util::MessageToJsonString(m, &json, options);
  res.status = 200;
  res.set_content(json + "\n", "application/json");
}

void PrepareCall(const httplib::Request& req, grpc::ClientContext* ctx) {
  if (req.has_header("Authorization")) {
    ctx->AddMetadata("authorization", req.get_header_value("Authorization"));
  }
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(kCallSeconds));
}

// Decodes the JSON body into `message`; on failure answers 400 and returns false.
bool ParseBody(const httplib::Request& req, httplib::Response& res,
               google::protobuf::Message* message) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const std::string body = req.body.empty() ? "{}" : req.body;
  auto status = google::protobuf::util::JsonStringToMessage(body, message, options);
  if (!status.ok()) {
    SendError(res, grpc::INVALID_ARGUMENT,
              absl::StrCat("body: not a valid ", message->GetDescriptor()->name(), " in JSON: ",
                           status.message().as_string()));
    return false;
  }
  return true;
}

// Fills `message` from query parameters named as its JSON fields.
bool ParseQuery(const httplib::Request& req, httplib::Response& res,
                google::protobuf::Message* message) {
  std::string json = "{";
  bool first = true;
  const auto* d = message->GetDescriptor();
  for (const auto& [key, value] : req.params) {
    const auto* field = d->FindFieldByCamelcaseName(key);
    if (field == nullptr) field = d->FindFieldByName(key);
    if (field == nullptr) {
      SendError(res, grpc::INVALID_ARGUMENT, absl::StrCat(key, ": unknown parameter"));
      return false;
    }
    const bool quoted = field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_STRING ||
                        field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_ENUM;
    double number = 0;
    if (!quoted && !absl::SimpleAtod(value, &number)) {
      SendError(res, grpc::INVALID_ARGUMENT, absl::StrCat(key, ": \"", value, "\" is not a number"));
      return false;
    }
    absl::StrAppend(&json, first ? "" : ",", "\"", field->json_name(), "\":",
                    quoted ? absl::StrCat("\"", Escape(value), "\"") : value);
    first = false;
  }
  json += "}";
  google::protobuf::util::JsonParseOptions options;
  auto status = google::protobuf::util::JsonStringToMessage(json, message, options);
  if (!status.ok()) {
    SendError(res, grpc::INVALID_ARGUMENT,
              absl::StrCat("query parameters: ", status.message().as_string()));
    return false;
  }
  return true;
}

using Stub = v1::Peermatch::Stub;
template <typename Request, typename Reply>
using Rpc = grpc::Status (Stub::*)(grpc::ClientContext*, const Request&, Reply*);

// Calls `rpc` with `request` and answers with its reply as JSON, or its error.
template <typename Request, typename Reply>
void Call(Stub& stub, Rpc<Request, Reply> rpc, const Request& request,
          const httplib::Request& req, httplib::Response& res) {
  Reply reply;
  grpc::ClientContext ctx;
  PrepareCall(req, &ctx);
  grpc::Status s = (stub.*rpc)(&ctx, request, &reply);
  s.ok() ? SendMessage(res, reply) : SendError(res, s.error_code(), s.error_message());
}

// A route whose request is built from the HTTP request by `make` (which
// answers 400 itself and returns false when it cannot).
template <typename Request, typename Reply, typename Make>
httplib::Server::Handler Route(std::shared_ptr<Stub> stub, Rpc<Request, Reply> rpc, Make make) {
  return [stub, rpc, make](const httplib::Request& req, httplib::Response& res) {
    Request request;
    if (!make(req, res, &request)) return;
    Call(*stub, rpc, request, req, res);
  };
}

// The request is the JSON body / the query parameters / the id in the path.
template <typename Request>
bool FromBody(const httplib::Request& req, httplib::Response& res, Request* request) {
  return ParseBody(req, res, request);
}
template <typename Request>
bool FromQuery(const httplib::Request& req, httplib::Response& res, Request* request) {
  return ParseQuery(req, res, request);
}
template <typename Request>
bool FromPathId(const httplib::Request& req, httplib::Response&, Request* request) {
  request->set_id(req.matches[1]);
  return true;
}

// Rejections the HTTP library makes itself (no route, a body over the
// limit) get the same JSON error body as the API's own errors.
void AddErrorBodies(httplib::Server& server, size_t max_body_bytes) {
  server.set_error_handler(httplib::Server::HandlerWithResponse(
      [max_body_bytes](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    std::string status = "UNKNOWN", message;
    if (res.status == 404) {
      status = "NOT_FOUND";
      message = absl::StrCat("no route ", req.method, " ", req.path,
                             "; the routes are listed in the README (\"The API\")");
    } else if (res.status == 413) {
      status = "INVALID_ARGUMENT";
      message = absl::StrCat("body: over the limit of ", max_body_bytes,
                             " bytes; send it in smaller parts");
    } else {
      message = absl::StrCat("HTTP ", res.status);
    }
    res.set_content(ErrorJson(res.status, status, message), "application/json");
    return httplib::Server::HandlerResponse::Handled;
  }));
}

void AddCors(httplib::Server& server, const std::string& cors) {
  server.set_post_routing_handler([cors](const httplib::Request& req, httplib::Response& res) {
    if (cors.empty()) return;
    const std::string origin = req.get_header_value("Origin");
    if (cors == "*" || origin == cors) {
      res.set_header("Access-Control-Allow-Origin", cors == "*" ? "*" : origin);
      res.set_header("Vary", "Origin");
    }
  });
  server.Options(R"(/v1/.*)", [cors](const httplib::Request& req, httplib::Response& res) {
    if (cors.empty()) {
      res.status = 404;
      return;
    }
    res.set_header("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS");
    res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type");
    res.set_header("Access-Control-Max-Age", "600");
    res.status = 204;
  });
}

void AddReadRoutes(httplib::Server& server, const std::shared_ptr<Stub>& stub) {
  server.Post("/v1/match", Route(stub, &Stub::Match, FromBody<v1::MatchRequest>));
  server.Post("/v1/similar", Route(stub, &Stub::SimilarCases, FromBody<v1::SimilarCasesRequest>));
  server.Get("/v1/cities", Route(stub, &Stub::ListCities, FromQuery<v1::ListCitiesRequest>));
  server.Get(R"(/v1/cities/([^/]+))", Route(stub, &Stub::GetCity, FromPathId<v1::GetCityRequest>));
  server.Get("/v1/cases", Route(stub, &Stub::ListCases, FromQuery<v1::ListCasesRequest>));
  server.Get(R"(/v1/cases/([^/]+))", Route(stub, &Stub::GetCase, FromPathId<v1::GetCaseRequest>));
  server.Get("/v1/stats", Route(stub, &Stub::GetStats,
                                [](const httplib::Request&, httplib::Response&,
                                   v1::GetStatsRequest*) { return true; }));
}

// Writes: the same calls, the same write tokens.
void AddWriteRoutes(httplib::Server& server, const std::shared_ptr<Stub>& stub) {
  server.Post("/v1/cities",
              Route(stub, &Stub::PutCity,
                    [](const httplib::Request& req, httplib::Response& res,
                       v1::PutCityRequest* request) {
                      return ParseBody(req, res, request->mutable_city());
                    }));
  server.Delete(R"(/v1/cities/([^/]+))",
                Route(stub, &Stub::DeleteCity,
                      [](const httplib::Request& req, httplib::Response& res,
                         v1::DeleteCityRequest* request) {
                        request->set_cascade(req.get_param_value("cascade") == "true");
                        return FromPathId(req, res, request);
                      }));
  server.Post("/v1/cases",
              Route(stub, &Stub::PutCase,
                    [](const httplib::Request& req, httplib::Response& res,
                       v1::PutCaseRequest* request) {
                      return ParseBody(req, res, request->mutable_case_());
                    }));
  server.Delete(R"(/v1/cases/([^/]+))",
                Route(stub, &Stub::DeleteCase, FromPathId<v1::DeleteCaseRequest>));
}

// JSON Lines in, one ImportRecord a line; an unparsable line is sent as an
// empty record, so the summary reports it at its index.
void Import(Stub& stub, const httplib::Request& req, httplib::Response& res) {
  grpc::ClientContext ctx;
  PrepareCall(req, &ctx);
  v1::ImportSummary summary;
  auto writer = stub.ImportRecords(&ctx, &summary);
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
  if (!s.ok()) return SendError(res, s.error_code(), s.error_message());
  for (auto& e : *summary.mutable_errors()) {
    auto it = unparsable.find(e.index());
    if (it != unparsable.end()) e.set_message(it->second);
  }
  SendMessage(res, summary);
}

// The pairing stream, gathered: {"pairs": [...], "summary": {...}}.
void Pairs(Stub& stub, const httplib::Request& req, httplib::Response& res) {
  v1::PairCitiesRequest request;
  if (!ParseBody(req, res, &request)) return;
  grpc::ClientContext ctx;
  if (req.has_header("Authorization")) {
    ctx.AddMetadata("authorization", req.get_header_value("Authorization"));
  }
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(10));
  auto reader = stub.PairCities(&ctx, request);
  std::string json = "{\"pairs\": [";
  std::string summary = "{}";
  v1::PairCitiesResponse item;
  bool first = true;
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  while (reader->Read(&item)) {
    std::string one;
    if (item.has_pair()) {
      (void)google::protobuf::util::MessageToJsonString(item.pair(), &one, options);
      absl::StrAppend(&json, first ? "" : ",", one);
      first = false;
    } else if (item.has_summary()) {
      summary.clear();  // MessageToJsonString appends to what it is given
      (void)google::protobuf::util::MessageToJsonString(item.summary(), &summary, options);
    }
  }
  grpc::Status s = reader->Finish();
  if (!s.ok()) return SendError(res, s.error_code(), s.error_message());
  absl::StrAppend(&json, "], \"summary\": ", summary, "}\n");
  res.status = 200;
  res.set_content(json, "application/json");
}

void AddStreamRoutes(httplib::Server& server, const std::shared_ptr<Stub>& stub) {
  server.Post("/v1/import", [stub](const httplib::Request& req, httplib::Response& res) {
    Import(*stub, req, res);
  });
  server.Post("/v1/pairs", [stub](const httplib::Request& req, httplib::Response& res) {
    Pairs(*stub, req, res);
  });
}

void AddOperationsRoutes(httplib::Server& server, std::shared_ptr<grpc::Channel> channel,
                         Metrics* metrics,
                         std::function<std::map<std::string, double>()> gauges) {
  auto health = std::shared_ptr<grpc::health::v1::Health::Stub>(
      grpc::health::v1::Health::NewStub(channel));
  server.Get("/healthz", [health](const httplib::Request&, httplib::Response& res) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    grpc::health::v1::HealthCheckResponse reply;
    grpc::Status s = health->Check(&ctx, grpc::health::v1::HealthCheckRequest(), &reply);
    const bool serving =
        s.ok() && reply.status() == grpc::health::v1::HealthCheckResponse::SERVING;
    res.status = serving ? 200 : 503;
    res.set_content(serving ? "SERVING\n" : "NOT_SERVING\n", "text/plain");
  });
  server.Get("/metrics", [metrics, gauges](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics->Render(gauges ? gauges() : std::map<std::string, double>()),
                    "text/plain; version=0.0.4");
  });
}

// Binds options.listen; returns the port.
absl::StatusOr<int> Bind(httplib::Server& server, const std::string& listen) {
  const size_t colon = listen.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(listen.substr(colon + 1), &port)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--http-listen: \"", listen, "\" is not HOST:PORT"));
  }
  const std::string host = listen.substr(0, colon);
  port = port == 0 ? server.bind_to_any_port(host) : (server.bind_to_port(host, port) ? port : -1);
  if (port <= 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen for HTTP on ", listen, " (is the port in use? choose another with --http-listen)"));
  }
  return port;
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpGateway>> HttpGateway::Start(
    std::shared_ptr<grpc::Channel> channel, Metrics* metrics,
    std::function<std::map<std::string, double>()> gauges, const HttpOptions& options) {
  auto gateway = std::unique_ptr<HttpGateway>(new HttpGateway());
  auto server = std::make_unique<httplib::Server>();
  auto stub = std::shared_ptr<Stub>(v1::Peermatch::NewStub(channel));
  server->set_payload_max_length(options.max_body_bytes);
  AddErrorBodies(*server, options.max_body_bytes);
  AddCors(*server, options.cors_origin);
  AddReadRoutes(*server, stub);
  AddWriteRoutes(*server, stub);
  AddStreamRoutes(*server, stub);
  AddOperationsRoutes(*server, channel, metrics, std::move(gauges));
  auto port = Bind(*server, options.listen);
  if (!port.ok()) return port.status();
  gateway->port_ = *port;
  httplib::Server* raw = server.get();
  gateway->server_ = std::move(server);
  gateway->thread_ = std::thread([raw] { raw->listen_after_bind(); });
  return gateway;
}

HttpGateway::~HttpGateway() { Stop(); }

void HttpGateway::Stop() {
  if (server_ != nullptr) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace peermatch
