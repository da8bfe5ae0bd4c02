// `peermatch cities`, `cases`, `stats` and `health`: reading and deleting data.
#include <unistd.h>

#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "clients/command.h"
#include "clients/record_view.h"
#include "records/records.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace peermatch::cli {
namespace {

std::string RegionName(v1::Region r) {
  switch (r) {
    case v1::REGION_AFRICA: return "Africa";
    case v1::REGION_ARAB_STATES: return "Arab States";
    case v1::REGION_ASIA_PACIFIC: return "Asia-Pacific";
    case v1::REGION_EUROPE_NORTH_AMERICA: return "Europe/N. America";
    case v1::REGION_LATIN_AMERICA_CARIBBEAN: return "Latin America/Caribbean";
    default: return "-";
  }
}

absl::StatusOr<v1::City> FetchCity(Context& ctx, const std::string& id) {
  v1::GetCityRequest req;
  req.set_id(id);
  v1::City city;
  grpc::ClientContext call;
  ctx.Prepare(&call);
  if (auto s = FromGrpc(ctx.Stub().GetCity(&call, req, &city), ctx.server); !s.ok()) return s;
  return city;
}

// Before `cities delete ID --cascade` without --yes: counts the cases the
// cascade would delete; when there are any, asks on a terminal and refuses
// otherwise. OK to go on; FAILED_PRECONDITION or CANCELLED, with nothing
// deleted, not to.
absl::Status ConfirmCascade(Context& ctx, const std::string& id) {
  auto city = FetchCity(ctx, id);
  if (!city.ok()) return city.status();
  int cases = 0;
  v1::ListCasesRequest req;
  req.set_city_id(id);
  req.set_page_size(1000);
  do {
    v1::ListCasesResponse resp;
    grpc::ClientContext call;
    ctx.Prepare(&call);
    if (auto s = FromGrpc(ctx.Stub().ListCases(&call, req, &resp), ctx.server); !s.ok()) return s;
    cases += resp.cases_size();
    req.set_page_token(resp.next_page_token());
  } while (!req.page_token().empty());
  if (cases == 0) return absl::OkStatus();
  const std::string what =
      absl::StrCat("city ", city->name(), " (", city->country(), ") [", id, "] and its ", cases,
                   cases == 1 ? " case" : " cases");
  if (!isatty(STDIN_FILENO)) {
    return absl::FailedPreconditionError(
        absl::StrCat("--cascade would delete ", what,
                     "; nothing deleted. Add --yes to confirm (standard input is not a terminal, "
                     "so peermatch cannot ask)"));
  }
  std::fprintf(stderr, "Delete %s? This cannot be undone. [y/N] ", what.c_str());
  std::fflush(stderr);
  char answer[16] = {0};
  if (std::fgets(answer, sizeof answer, stdin) == nullptr ||
      (absl::AsciiStrToLower(absl::StripAsciiWhitespace(answer)) != "y" &&
       absl::AsciiStrToLower(absl::StripAsciiWhitespace(answer)) != "yes")) {
    return absl::CancelledError("nothing deleted");
  }
  return absl::OkStatus();
}

absl::Status RunCities(Context& ctx) {
  const auto& words = ctx.args.positional();
  if (!words.empty() && words[0] == "get") {
    if (words.size() != 2) return absl::InvalidArgumentError("usage: peermatch cities get ID");
    v1::GetCityRequest req;
    req.set_id(words[1]);
    v1::City city;
    grpc::ClientContext call;
    ctx.Prepare(&call);
    if (auto s = FromGrpc(ctx.Stub().GetCity(&call, req, &city), ctx.server); !s.ok()) return s;
    std::printf("%s%s", ctx.json ? CityRecordJson(city).c_str() : CityView(city).c_str(),
                ctx.json ? "\n" : "");
    return absl::OkStatus();
  }
  if (!words.empty() && words[0] == "delete") {
    if (words.size() != 2) {
      return absl::InvalidArgumentError("usage: peermatch cities delete ID [--cascade [--yes]]");
    }
    if (ctx.args.Has("cascade") && !ctx.args.Has("yes")) {
      if (absl::Status s = ConfirmCascade(ctx, words[1]); !s.ok()) return s;
    }
    v1::DeleteCityRequest req;
    req.set_id(words[1]);
    req.set_cascade(ctx.args.Has("cascade"));
    v1::DeleteCityResponse resp;
    grpc::ClientContext call;
    ctx.Prepare(&call);
    if (auto s = FromGrpc(ctx.Stub().DeleteCity(&call, req, &resp), ctx.server); !s.ok()) {
      return s;
    }
    std::printf("deleted city %s and %d cases\n", words[1].c_str(), resp.deleted_cases());
    return absl::OkStatus();
  }
  if (!words.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("unknown cities action \"", words[0],
                                                   "\" (list, get ID, delete ID)"));
  }
  v1::ListCitiesRequest req;
  req.set_page_size(1000);
  if (ctx.args.Has("region")) {
    auto region = ParseEnum<v1::Region>("region", ctx.args.Get("region"));
    if (!region.ok()) return region.status();
    req.set_region(*region);
  }
  bool header = !ctx.json;
  do {
    v1::ListCitiesResponse resp;
    grpc::ClientContext call;
    ctx.Prepare(&call);
    if (auto s = FromGrpc(ctx.Stub().ListCities(&call, req, &resp), ctx.server); !s.ok()) {
      return s;
    }
    if (header) {
      std::printf("%-24s %-28s %-3s %-24s %12s\n", "ID", "NAME", "CC", "REGION", "POPULATION");
      header = false;
    }
    for (const auto& c : resp.cities()) {
      if (ctx.json) {
        std::printf("%s\n", ToJson(c).c_str());
      } else {
        std::printf("%-24s %-28s %-3s %-24s %12lld\n", c.id().c_str(), c.name().c_str(),
                    c.country().c_str(), RegionName(c.region()).c_str(),
                    static_cast<long long>(c.population()));
      }
    }
    req.set_page_token(resp.next_page_token());
  } while (!req.page_token().empty());
  return absl::OkStatus();
}

absl::Status RunCases(Context& ctx) {
  const auto& words = ctx.args.positional();
  if (!words.empty() && words[0] == "get") {
    if (words.size() != 2) return absl::InvalidArgumentError("usage: peermatch cases get ID");
    v1::GetCaseRequest req;
    req.set_id(words[1]);
    v1::Case c;
    grpc::ClientContext call;
    ctx.Prepare(&call);
    if (auto s = FromGrpc(ctx.Stub().GetCase(&call, req, &c), ctx.server); !s.ok()) return s;
    if (ctx.json) {
      std::printf("%s\n", CaseRecordJson(c).c_str());
      return absl::OkStatus();
    }
    auto city = FetchCity(ctx, c.city_id());
    std::printf("%s", CaseView(c, city.ok() ? absl::StrCat(city->name(), " (", city->country(), ")")
                                            : "").c_str());
    return absl::OkStatus();
  }
  if (!words.empty() && words[0] == "delete") {
    if (words.size() != 2) return absl::InvalidArgumentError("usage: peermatch cases delete ID");
    v1::DeleteCaseRequest req;
    req.set_id(words[1]);
    v1::DeleteCaseResponse resp;
    grpc::ClientContext call;
    ctx.Prepare(&call);
    if (auto s = FromGrpc(ctx.Stub().DeleteCase(&call, req, &resp), ctx.server); !s.ok()) {
      return s;
    }
    std::printf("deleted case %s\n", words[1].c_str());
    return absl::OkStatus();
  }
  if (!words.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("unknown cases action \"", words[0],
                                                   "\" (list, get ID, delete ID)"));
  }
  v1::ListCasesRequest req;
  req.set_page_size(1000);
  req.set_city_id(ctx.args.Get("city"));
  // An unknown city is an error, not an empty list, whichever way the
  // server answers ListCases for it.
  if (ctx.args.Has("city")) {
    if (auto city = FetchCity(ctx, req.city_id()); !city.ok()) {
      if (!absl::IsNotFound(city.status())) return city.status();
      return absl::NotFoundError(absl::StrCat("--city: no city with id \"", req.city_id(),
                                              "\" (NOT_FOUND); `peermatch cities` lists them"));
    }
  }
  if (ctx.args.Has("kind")) {
    auto kind = ParseEnum<v1::CaseKind>("kind", ctx.args.Get("kind"));
    if (!kind.ok()) return kind.status();
    req.set_kind(*kind);
  }
  if (ctx.args.Has("theme")) {
    auto theme = ParseEnum<v1::Theme>("theme", ctx.args.Get("theme"));
    if (!theme.ok()) return theme.status();
    req.set_theme(*theme);
  }
  bool header = !ctx.json;
  do {
    v1::ListCasesResponse resp;
    grpc::ClientContext call;
    ctx.Prepare(&call);
    if (auto s = FromGrpc(ctx.Stub().ListCases(&call, req, &resp), ctx.server); !s.ok()) {
      return s;
    }
    if (header) {
      std::printf("%-40s %-20s %-9s %s\n", "ID", "CITY", "KIND", "TITLE");
      header = false;
    }
    for (const auto& c : resp.cases()) {
      if (ctx.json) {
        std::printf("%s\n", ToJson(c).c_str());
      } else {
        std::printf("%-40s %-20s %-9s %s\n", c.id().c_str(), c.city_id().c_str(),
                    c.kind() == v1::CASE_KIND_CHALLENGE ? "challenge" : "solution",
                    c.title().c_str());
      }
    }
    req.set_page_token(resp.next_page_token());
  } while (!req.page_token().empty());
  return absl::OkStatus();
}

absl::Status RunStats(Context& ctx) {
  v1::Stats stats;
  grpc::ClientContext call;
  ctx.Prepare(&call);
  if (auto s = FromGrpc(ctx.Stub().GetStats(&call, v1::GetStatsRequest(), &stats), ctx.server);
      !s.ok()) {
    return s;
  }
  if (ctx.json) {
    std::printf("%s\n", ToJson(stats).c_str());
  } else {
    std::printf("cities %lld, cases %lld (%lld challenges, %lld solutions), model version %lld\n",
                static_cast<long long>(stats.cities()), static_cast<long long>(stats.cases()),
                static_cast<long long>(stats.challenges()),
                static_cast<long long>(stats.solutions()),
                static_cast<long long>(stats.model_version()));
    const v1::FusionStats& f = stats.fusion();
    std::printf(
        "fusion %s: lexical %.3f, subword %.3f, semantic %.3f, structure %.3f, accepted %.3f, "
        "declined %.3f; %s\n",
        f.learned() ? "learned" : "default", f.weights().lexical(), f.weights().subword(),
        f.weights().semantic(), f.weights().structure(), f.weights().accepted(),
        f.weights().declined(), f.reason().c_str());
  }
  return absl::OkStatus();
}

absl::Status RunHealth(Context& ctx) {
  auto stub = grpc::health::v1::Health::NewStub(ctx.Channel());
  grpc::health::v1::HealthCheckRequest req;
  grpc::health::v1::HealthCheckResponse resp;
  grpc::ClientContext call;
  ctx.Prepare(&call, 5);
  if (auto s = FromGrpc(stub->Check(&call, req, &resp), ctx.server); !s.ok()) return s;
  const std::string status = grpc::health::v1::HealthCheckResponse::ServingStatus_Name(resp.status());
  std::printf("%s\n", status.c_str());
  return resp.status() == grpc::health::v1::HealthCheckResponse::SERVING
             ? absl::OkStatus()
             : absl::UnavailableError("the server is not serving");
}

}  // namespace

void AddDataCommands(std::vector<Command>* out) {
  out->push_back(Command{
      "cities", "list, show or delete cities",
      "Usage: peermatch cities [--region africa]           list cities (regions: africa,\n"
      "                                                   arab_states, asia_pacific,\n"
      "                                                   europe_north_america,\n"
      "                                                   latin_america_caribbean)\n"
      "       peermatch cities get ID                    show one city\n"
      "       peermatch cities delete ID [--cascade [--yes]]\n"
      "                                                  delete a city (and its cases)\n"
      "\n"
      "  get ID          the city as key: value lines; with --json, one line that\n"
      "                  `peermatch import --file` loads back as is ({\"city\": {...}})\n"
      "  --cascade       delete the city's cases too (without it, a city that has\n"
      "                  cases is not deleted). When that deletes cases, peermatch\n"
      "                  says how many and asks first on a terminal; elsewhere\n"
      "                  (scripts, pipes) it refuses unless --yes is given\n"
      "  --yes           delete without asking\n",
      {"region", "cascade", "yes"}, {"cascade", "yes"}, RunCities});
  out->push_back(Command{
      "cases", "list, show or delete cases",
      "Usage: peermatch cases [--city ID] [--kind challenge|solution] [--theme workplace]\n"
      "       peermatch cases get ID\n"
      "       peermatch cases delete ID\n"
      "\n"
      "  --city ID       only this city's cases; an unknown city is an error (NOT_FOUND)\n"
      "  get ID          the case as key: value lines; with --json, one line that\n"
      "                  `peermatch import --file` loads back as is ({\"case\": {...}})\n",
      {"city", "kind", "theme"}, {}, RunCases});
  out->push_back(Command{"stats", "counts and model version",
                         "Usage: peermatch stats\n", {}, {}, RunStats});
  out->push_back(Command{"health", "ask the server's grpc.health.v1 health service",
                         "Usage: peermatch health\nPrints SERVING and exits 0 when the server is up.\n",
                         {}, {}, RunHealth});
}

}  // namespace peermatch::cli
