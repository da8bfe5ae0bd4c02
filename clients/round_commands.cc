// `peermatch round`: pairing rounds for staff (create, show, list, decide,
// rematch, export, close), over the rounds' RPCs.
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "clients/command.h"
#include "clients/pair_view.h"
#include "records/enums.h"
#include "records/records.h"

namespace peermatch::cli {
namespace {

using Cities = std::map<std::string, v1::City>;

std::string Short(v1::PairState s) { return EnumShortName(s); }
std::string Short(v1::DeclineReason r) { return EnumShortName(r); }

// "declined (not-relevant)", "accepted", "proposed".
std::string StateText(const v1::RoundPair& p) {
  std::string out = Short(p.state());
  if (p.state() == v1::PAIR_STATE_DECLINED && p.reason() != v1::DECLINE_REASON_UNSPECIFIED) {
    absl::StrAppend(&out, " (", Short(p.reason()), ")");
  }
  return out;
}

std::string Time(int64_t unix_seconds) {
  if (unix_seconds == 0) return "";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(unix_seconds),
                          absl::UTCTimeZone());
}

void PrintHeader(const v1::Round& r) {
  std::printf("round %s \"%s\": %s, %d pairs (%d proposed, %d accepted, %d declined), %d %s\n",
              r.id().c_str(), r.name().c_str(), EnumShortName(r.state()).c_str(), r.pairs_size(),
              r.proposed(), r.accepted(), r.declined(), r.rematches(),
              r.rematches() == 1 ? "rematch" : "rematches");
}

void PrintRound(const v1::Round& r, const Cities& cities) {
  PrintHeader(r);
  std::vector<v1::Pair> pairs;
  std::vector<std::string> states;
  for (const v1::RoundPair& p : r.pairs()) {
    pairs.push_back(p.pair());
    states.push_back(StateText(p));
  }
  PrintPairTable(stdout, pairs, cities, &states);
  const v1::PairingSummary& s = r.summary();
  std::printf("\nlatest solve: %d of %d asking cities matched (%d with all their peers)\n",
              s.matched_cities(), s.asking_cities(), s.fully_matched_cities());
  for (const v1::Unmatched& u : s.unmatched()) {
    std::printf("  %s no peer: %s\n", Fit(CityLabel(cities, u.city_id()), 28).c_str(),
                u.reason().c_str());
  }
  for (const v1::Unmatched& u : s.fewer_peers()) {  // issue 12
    std::printf("  %s %d of %d: %s\n", Fit(CityLabel(cities, u.city_id()), 28).c_str(), u.peers(),
                r.options().k() > 0 ? r.options().k() : 3, u.reason().c_str());
  }
}

// One unary round call, with the token; a long deadline for the solves.
template <typename Request, typename Reply>
absl::Status Call(Context& ctx,
                  grpc::Status (v1::Peermatch::Stub::*rpc)(grpc::ClientContext*, const Request&,
                                                          Reply*),
                  const Request& req, Reply* reply, int timeout_seconds = 30) {
  grpc::ClientContext call;
  ctx.Prepare(&call, timeout_seconds);
  return FromGrpc((ctx.Stub().*rpc)(&call, req, reply), ctx.server);
}

absl::Status Create(Context& ctx) {
  v1::CreateRoundRequest req;
  req.set_name(ctx.args.Get("name"));
  auto options = PairRequestFromFlags(ctx.args);
  if (!options.ok()) return options.status();
  *req.mutable_options() = *std::move(options);
  for (const std::string& list : ctx.args.GetAll("avoid-rounds")) {
    for (absl::string_view id : absl::StrSplit(list, ',', absl::SkipEmpty())) {
      req.add_avoid_round_ids(std::string(id));
    }
  }
  req.set_avoid_declined_only(ctx.args.Has("avoid-declined-only"));
  v1::Round round;
  if (auto s = Call(ctx, &v1::Peermatch::Stub::CreateRound, req, &round, 0); !s.ok()) return s;
  if (ctx.json) {
    std::printf("%s\n", ToJson(round).c_str());
    return absl::OkStatus();
  }
  auto cities = AllCities(ctx);
  if (!cities.ok()) return cities.status();
  PrintRound(round, *cities);
  std::printf("\nnext: peermatch round decide %s ASKING_CITY PEER_CITY --accept | --decline\n",
              round.id().c_str());
  return absl::OkStatus();
}

absl::Status Show(Context& ctx, const std::string& id) {
  v1::GetRoundRequest req;
  req.set_round_id(id);
  v1::Round round;
  if (auto s = Call(ctx, &v1::Peermatch::Stub::GetRound, req, &round); !s.ok()) return s;
  if (ctx.json) {
    std::printf("%s\n", ToJson(round).c_str());
    return absl::OkStatus();
  }
  auto cities = AllCities(ctx);
  if (!cities.ok()) return cities.status();
  PrintRound(round, *cities);
  return absl::OkStatus();
}

absl::Status List(Context& ctx) {
  v1::ListRoundsRequest req;
  req.set_page_size(1000);
  std::vector<v1::Round> rounds;
  do {
    v1::ListRoundsResponse resp;
    if (auto s = Call(ctx, &v1::Peermatch::Stub::ListRounds, req, &resp); !s.ok()) return s;
    for (const v1::Round& r : resp.rounds()) rounds.push_back(r);
    req.set_page_token(resp.next_page_token());
  } while (!req.page_token().empty());
  if (ctx.json) {
    for (const v1::Round& r : rounds) std::printf("%s\n", ToJson(r).c_str());
    return absl::OkStatus();
  }
  std::printf("%s %s %-6s %8s %8s %8s %9s  %s\n", Fit("ID", 24).c_str(), Fit("NAME", 24).c_str(),
              "STATE", "PROPOSED", "ACCEPTED", "DECLINED", "REMATCHES", "CREATED (UTC)");
  for (const v1::Round& r : rounds) {
    std::printf("%s %s %-6s %8d %8d %8d %9d  %s\n", Fit(r.id(), 24).c_str(),
                Fit(r.name(), 24).c_str(), EnumShortName(r.state()).c_str(), r.proposed(),
                r.accepted(), r.declined(), r.rematches(), Time(r.created_at()).c_str());
  }
  return absl::OkStatus();
}

absl::Status Decide(Context& ctx, const std::vector<std::string>& words) {
  if (words.size() != 4) {
    return absl::InvalidArgumentError(
        "usage: peermatch round decide ID ASKING_CITY PEER_CITY --accept | --decline "
        "[--reason R] [--comment TEXT]");
  }
  const bool accept = ctx.args.Has("accept");
  if (accept == ctx.args.Has("decline")) {
    return absl::InvalidArgumentError("give one of --accept and --decline");
  }
  v1::DecideRoundPairRequest req;
  req.set_round_id(words[1]);
  req.set_asking_city_id(words[2]);
  req.set_peer_city_id(words[3]);
  req.set_decision(accept ? v1::PAIR_STATE_ACCEPTED : v1::PAIR_STATE_DECLINED);
  if (ctx.args.Has("reason")) {
    if (accept) return absl::InvalidArgumentError("--reason: only a --decline takes a reason");
    auto reason = ParseEnum<v1::DeclineReason>("reason", ctx.args.Get("reason"));
    if (!reason.ok()) return reason.status();
    req.set_reason(*reason);
  }
  req.set_comment(ctx.args.Get("comment"));
  v1::DecideRoundPairResponse resp;
  if (auto s = Call(ctx, &v1::Peermatch::Stub::DecideRoundPair, req, &resp); !s.ok()) return s;
  if (ctx.json) {
    std::printf("%s\n", ToJson(resp).c_str());
    return absl::OkStatus();
  }
  std::printf("%s %s -> %s in round %s%s\n", StateText(resp.pair()).c_str(),
              resp.pair().pair().asking_city_id().c_str(),
              resp.pair().pair().peer_city_id().c_str(), req.round_id().c_str(),
              resp.changed() ? "" : " (unchanged: it already had this decision)");
  return absl::OkStatus();
}

absl::Status Rematch(Context& ctx, const std::string& id) {
  v1::RematchRoundRequest req;
  req.set_round_id(id);
  v1::RematchRoundResponse resp;
  if (auto s = Call(ctx, &v1::Peermatch::Stub::RematchRound, req, &resp, 0); !s.ok()) return s;
  if (ctx.json) {
    std::printf("%s\n", ToJson(resp).c_str());
    return absl::OkStatus();
  }
  auto cities = AllCities(ctx);
  if (!cities.ok()) return cities.status();
  const v1::Round& r = resp.round();
  std::printf("rematch %d of round %s: %d new %s proposed; accepted and proposed pairs kept, "
              "declined pairs not proposed again\n",
              r.rematches(), r.id().c_str(), resp.added_size(),
              resp.added_size() == 1 ? "pair" : "pairs");
  if (resp.added_size() > 0) {
    const std::vector<v1::Pair> added(resp.added().begin(), resp.added().end());
    const std::vector<std::string> states(added.size(), "proposed (new)");
    PrintPairTable(stdout, added, *cities, &states);
  }
  for (const v1::Unmatched& u : resp.fewer_peers()) {
    std::printf("  %s %s\n", Fit(CityLabel(*cities, u.city_id()), 28).c_str(),
                u.reason().c_str());
  }
  PrintHeader(r);
  return absl::OkStatus();
}

std::string Field(const Cities& cities, const std::string& id, bool name) {
  auto it = cities.find(id);
  if (it == cities.end()) return "";
  return name ? it->second.name() : it->second.country();
}

absl::Status Export(Context& ctx, const std::string& id) {
  const std::string format = ctx.args.Get("format", ctx.json ? "json" : "csv");
  if (format != "csv" && format != "json") return absl::InvalidArgumentError("--format: csv or json");
  v1::GetRoundRequest req;
  req.set_round_id(id);
  v1::Round round;
  if (auto s = Call(ctx, &v1::Peermatch::Stub::GetRound, req, &round); !s.ok()) return s;
  auto cities = AllCities(ctx);
  if (!cities.ok()) return cities.status();
  if (format == "csv") {
    std::printf("round_id,asking_city,asking_city_name,asking_country,peer_city,peer_city_name,"
                "peer_country,score,strength,state,reason,comment,decided_at,challenge_id,"
                "solution_id,challenge_title,solution_title,proposed_in\n");
  } else {
    std::printf("{\"round\": {\"id\": %s, \"name\": %s, \"state\": %s}, \"pairs\": [",
                JsonString(round.id()).c_str(), JsonString(round.name()).c_str(),
                JsonString(EnumShortName(round.state())).c_str());
  }
  for (int i = 0; i < round.pairs_size(); ++i) {
    const v1::RoundPair& rp = round.pairs(i);
    const v1::Pair& p = rp.pair();
    const std::string reason =
        rp.reason() == v1::DECLINE_REASON_UNSPECIFIED ? "" : Short(rp.reason());
    const std::string& a = p.asking_city_id();
    const std::string& b = p.peer_city_id();
    if (format == "csv") {
      std::printf("%s,%s,%s,%s,%s,%s,%s,%.4f,%s,%s,%s,%s,%s,%s,%s,%s,%s,%d\n",
                  round.id().c_str(), a.c_str(), Csv(Field(*cities, a, true)).c_str(),
                  Field(*cities, a, false).c_str(), b.c_str(),
                  Csv(Field(*cities, b, true)).c_str(), Field(*cities, b, false).c_str(),
                  p.score(), Strength(p.score()), Short(rp.state()).c_str(), reason.c_str(),
                  Csv(rp.comment()).c_str(), Time(rp.decided_at()).c_str(),
                  p.challenge_id().c_str(), p.solution_id().c_str(),
                  Csv(p.challenge_title()).c_str(), Csv(p.solution_title()).c_str(),
                  rp.proposed_in());
      continue;
    }
    std::printf(
        "%s\n  {\"askingCityId\": %s, \"askingCityName\": %s, \"askingCountry\": %s, "
        "\"peerCityId\": %s, \"peerCityName\": %s, \"peerCountry\": %s, \"score\": %.4f, "
        "\"strength\": %s, \"state\": %s, \"reason\": %s, \"comment\": %s, \"decidedAt\": %s, "
        "\"challengeId\": %s, \"solutionId\": %s, \"proposedIn\": %d}",
        i ? "," : "", JsonString(a).c_str(), JsonString(Field(*cities, a, true)).c_str(),
        JsonString(Field(*cities, a, false)).c_str(), JsonString(b).c_str(),
        JsonString(Field(*cities, b, true)).c_str(), JsonString(Field(*cities, b, false)).c_str(),
        p.score(), JsonString(Strength(p.score())).c_str(), JsonString(Short(rp.state())).c_str(),
        JsonString(reason).c_str(), JsonString(rp.comment()).c_str(),
        JsonString(Time(rp.decided_at())).c_str(), JsonString(p.challenge_id()).c_str(),
        JsonString(p.solution_id()).c_str(), rp.proposed_in());
  }
  if (format == "json") std::printf("\n]}\n");
  return absl::OkStatus();
}

absl::Status Close(Context& ctx, const std::string& id) {
  v1::CloseRoundRequest req;
  req.set_round_id(id);
  v1::Round round;
  if (auto s = Call(ctx, &v1::Peermatch::Stub::CloseRound, req, &round); !s.ok()) return s;
  if (ctx.json) {
    std::printf("%s\n", ToJson(round).c_str());
    return absl::OkStatus();
  }
  PrintHeader(round);
  return absl::OkStatus();
}

absl::Status RunRound(Context& ctx) {
  const std::vector<std::string>& words = ctx.args.positional();
  const std::string action = words.empty() ? "" : words[0];
  if (action == "create") {
    if (words.size() != 1) return absl::InvalidArgumentError("usage: peermatch round create --name N");
    return Create(ctx);
  }
  if (action == "list") return List(ctx);
  if (action == "decide") return Decide(ctx, words);
  for (const char* needs_id : {"show", "rematch", "export", "close"}) {
    if (action != needs_id) continue;
    if (words.size() != 2) {
      return absl::InvalidArgumentError(absl::StrCat("usage: peermatch round ", action, " ID"));
    }
    if (action == "show") return Show(ctx, words[1]);
    if (action == "rematch") return Rematch(ctx, words[1]);
    if (action == "export") return Export(ctx, words[1]);
    return Close(ctx, words[1]);
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown round action \"", action,
      "\": use create, show, list, decide, rematch, export or close (peermatch round --help)"));
}

}  // namespace

void AddRoundCommands(std::vector<Command>* out) {
  out->push_back(Command{
      "round", "pairing rounds: propose, collect decisions, re-match, export",
      "Usage: peermatch round create --name N [pairing flags] [--avoid-rounds ID,...]\n"
      "                              [--avoid-declined-only] [--json]\n"
      "       peermatch round show ID [--json]\n"
      "       peermatch round list\n"
      "       peermatch round decide ID ASKING_CITY PEER_CITY --accept | --decline\n"
      "                              [--reason R] [--comment TEXT]\n"
      "       peermatch round rematch ID\n"
      "       peermatch round export ID --format csv|json\n"
      "       peermatch round close ID\n"
      "\n"
      "A round is a pairing that is kept on the server: every pair is proposed, then\n"
      "accepted or declined by the cities, the places declines free are re-matched,\n"
      "and the round is closed when it is final.\n"
      "\n"
      "  create   solves a pairing (the flags of `peermatch pair`: --k, --capacity,\n"
      "           --exclude-same-country, --min-score, --avoid, --keep, --city, --region,\n"
      "           --theme, --mutual, --score-only, --candidates-per-city) and stores it as\n"
      "           a new round; its id is made from the name (\"2027 cohort\" -> 2027-cohort).\n"
      "           --avoid-rounds A,B proposes none of the pairs of rounds A and B (a new\n"
      "           wave); with --avoid-declined-only, only their declined pairs.\n"
      "  show     the round's pairs with their state, strength and the solution behind each\n"
      "  list     every round with its counts\n"
      "  decide   records a city's answer; --reason (declines only): not-relevant,\n"
      "           no-capacity, already-partners, language, other. The same decision again\n"
      "           changes nothing.\n"
      "  rematch  re-solves for the places declines freed: accepted and still-proposed\n"
      "           pairs are kept, declined pairs are never proposed again in this round,\n"
      "           capacities and exclusions still hold; prints the new pairs.\n"
      "  export   every pair with names, countries, state, reason, comment and time\n"
      "  close    ends the round: no more decisions or rematches\n"
      "\n"
      "Writes (create, decide, rematch, close) need a write token.\n"
      "Example:\n"
      "  peermatch round create --name \"2027 cohort\" --k 3 --capacity 3 --exclude-same-country\n"
      "  peermatch round decide 2027-cohort al-rayyan contagem --decline --reason no-capacity\n",
      WithPairingFlags({"name", "avoid-rounds", "avoid-declined-only", "accept", "decline",
                        "reason", "comment", "format"}),
      [] {
        std::set<std::string> b = PairingBooleanFlags();
        b.insert({"avoid-declined-only", "accept", "decline"});
        return b;
      }(),
      RunRound});
}

}  // namespace peermatch::cli
