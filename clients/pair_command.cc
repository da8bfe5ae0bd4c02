// `peermatch pair`: batch pairings for staff, as a table, CSV or JSON.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "clients/command.h"
#include "clients/pair_view.h"
#include "records/records.h"

namespace peermatch::cli {

std::string Csv(const std::string& field) {
  if (field.find_first_of(",\"\r\n") == std::string::npos) return field;
  std::string out = "\"";
  for (char ch : field) {
    if (ch == '"') out += '"';
    out += ch;
  }
  return out + "\"";
}

namespace {

absl::Status ParsePairs(const Args& args, const std::string& flag,
                        google::protobuf::RepeatedPtrField<v1::CityPair>* out) {
  for (const std::string& value : args.GetAll(flag)) {
    std::vector<std::string> ids = absl::StrSplit(value, ':');
    if (ids.size() != 2 || ids[0].empty() || ids[1].empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", flag, ": \"", value, "\" is not ASKING_CITY:PEER_CITY"));
    }
    v1::CityPair* p = out->Add();
    p->set_asking_city_id(ids[0]);
    p->set_peer_city_id(ids[1]);
  }
  return absl::OkStatus();
}

// An asking city that got fewer peers than asked, and why.
struct Shortfall {
  std::string city_id;
  int peers = 0;
  std::string reason;
};

// Every asking city with fewer than k peers, by id, each with the reason
// the server gives (PairingSummary: `unmatched` for those with none,
// `fewer_peers` for the others).
std::vector<Shortfall> Shortfalls(const v1::PairingSummary& summary) {
  std::map<std::string, Shortfall> out;
  for (const auto& u : summary.unmatched()) out[u.city_id()] = Shortfall{u.city_id(), 0, u.reason()};
  for (const auto& u : summary.fewer_peers()) {
    out[u.city_id()] = Shortfall{u.city_id(), u.peers(), u.reason()};
  }
  std::vector<Shortfall> list;
  for (auto& [id, s] : out) list.push_back(std::move(s));
  return list;
}

void PrintCsv(FILE* out, const std::vector<v1::Pair>& pairs, bool mutual,
              const std::map<std::string, v1::City>& cities) {
  std::fprintf(out,
               "asking_city,peer_city,score,challenge_id,solution_id,challenge_title,"
               "solution_title,lexical,subword,semantic,structure,shared_terms,kept%s,"
               "asking_city_name,asking_country,peer_city_name,peer_country,strength\n",
               mutual ? ",reverse_challenge_id,reverse_solution_id,reverse_score" : "");
  auto name_and_country = [&](const std::string& id) {
    auto it = cities.find(id);
    if (it == cities.end()) return std::string(",");
    return absl::StrCat(Csv(it->second.name()), ",", it->second.country());
  };
  for (const v1::Pair& p : pairs) {
    std::vector<std::string> terms;
    for (const auto& t : p.shared_terms()) terms.push_back(t.term());
    std::fprintf(out, "%s,%s,%.4f,%s,%s,%s,%s,%.3f,%.3f,%.3f,%.3f,%s,%s", p.asking_city_id().c_str(),
                 p.peer_city_id().c_str(), p.score(), p.challenge_id().c_str(),
                 p.solution_id().c_str(), Csv(p.challenge_title()).c_str(),
                 Csv(p.solution_title()).c_str(), p.parts().lexical(), p.parts().subword(),
                 p.parts().semantic(), p.parts().structure(),
                 Csv(absl::StrJoin(terms, "; ")).c_str(), p.kept() ? "yes" : "no");
    if (mutual) {
      std::fprintf(out, ",%s,%s,%.4f", p.reverse_challenge_id().c_str(),
                   p.reverse_solution_id().c_str(), p.reverse_score());
    }
    std::fprintf(out, ",%s,%s,%s\n", name_and_country(p.asking_city_id()).c_str(),
                 name_and_country(p.peer_city_id()).c_str(), Strength(p.score()));
  }
}

void PrintJson(FILE* out, const std::vector<v1::Pair>& pairs, const v1::PairingSummary& summary,
               const std::vector<Shortfall>& shortfalls,
               const std::map<std::string, v1::City>& cities) {
  // ,"askingCityName":..,"askingCountry":.. (prefix "asking"), or
  // ,"cityName":..,"country":.. (no prefix).
  auto city = [&](const std::string& prefix, const std::string& id) {
    auto it = cities.find(id);
    return absl::StrCat(",\"", prefix, prefix.empty() ? "cityName" : "CityName", "\":",
                        JsonString(it == cities.end() ? "" : it->second.name()), ",\"", prefix,
                        prefix.empty() ? "country" : "Country", "\":",
                        JsonString(it == cities.end() ? "" : it->second.country()));
  };
  std::string json = "{\"pairs\": [";
  for (size_t i = 0; i < pairs.size(); ++i) {
    std::string pair = ToJson(pairs[i]);
    pair.pop_back();  // the closing brace: the labels go inside
    absl::StrAppend(&json, i ? ",\n  " : "\n  ", pair, city("asking", pairs[i].asking_city_id()),
                    city("peer", pairs[i].peer_city_id()), ",\"strength\":",
                    JsonString(Strength(pairs[i].score())), "}");
  }
  absl::StrAppend(&json, "\n], \"summary\": ", ToJson(summary), ", \"fewerPeers\": [");
  for (size_t i = 0; i < shortfalls.size(); ++i) {
    const Shortfall& s = shortfalls[i];
    std::string entry = absl::StrCat("{\"cityId\":", JsonString(s.city_id), city("", s.city_id));
    absl::StrAppend(&json, i ? ",\n  " : "\n  ", entry, ",\"peers\":", s.peers,
                    ",\"reason\":", JsonString(s.reason), "}");
  }
  absl::StrAppend(&json, shortfalls.empty() ? "]}\n" : "\n]}\n");
  std::fputs(json.c_str(), out);
}

}  // namespace

void PrintPairTable(FILE* out, const std::vector<v1::Pair>& pairs,
                    const std::map<std::string, v1::City>& cities,
                    const std::vector<std::string>* states) {
  std::fprintf(out, "%s %s %6s  %-8s %s%s\n", Fit("ASKING CITY", 28).c_str(),
               Fit("PEER CITY", 28).c_str(), "SCORE", "STRENGTH",
               states != nullptr ? Fit("STATE", 24).c_str() : "", "WHAT THE PEER DID");
  std::string last;
  for (size_t i = 0; i < pairs.size(); ++i) {
    const v1::Pair& p = pairs[i];
    const bool first = p.asking_city_id() != last;
    last = p.asking_city_id();
    std::fprintf(out, "%s %s %6.2f  %-8s %s%s\n",
                 Fit(first ? CityLabel(cities, p.asking_city_id()) : "", 28).c_str(),
                 Fit(CityLabel(cities, p.peer_city_id()), 28).c_str(), p.score(),
                 Strength(p.score()),
                 states != nullptr ? Fit((*states)[i], 24).c_str() : "",
                 std::string(absl::StripTrailingAsciiWhitespace(Fit(p.solution_title(), 56))).c_str());
  }
}

absl::StatusOr<v1::PairCitiesRequest> PairRequestFromFlags(const Args& args) {
  v1::PairCitiesRequest req;
  auto k = args.GetInt("k", 0);
  auto capacity = args.GetInt("capacity", 0);
  auto per_city = args.GetInt("candidates-per-city", 0);
  auto min_score = args.GetDouble("min-score", 0);
  for (const auto* s : {&k, &capacity, &per_city}) {
    if (!s->ok()) return s->status();
  }
  if (!min_score.ok()) return min_score.status();
  req.set_k(static_cast<int>(*k));
  req.set_capacity(static_cast<int>(*capacity));
  req.set_candidates_per_city(static_cast<int>(*per_city));
  req.set_min_score(*min_score);
  req.set_exclude_same_country(args.Has("exclude-same-country"));
  req.set_mutual(args.Has("mutual"));
  req.set_score_only(args.Has("score-only"));
  for (const auto& c : args.GetAll("city")) req.add_city_ids(c);
  for (const auto& r : args.GetAll("region")) {
    auto region = ParseEnum<v1::Region>("region", r);
    if (!region.ok()) return region.status();
    req.add_regions(*region);
  }
  for (const auto& t : args.GetAll("theme")) {
    auto theme = ParseEnum<v1::Theme>("theme", t);
    if (!theme.ok()) return theme.status();
    req.add_themes(*theme);
  }
  if (auto s = ParsePairs(args, "avoid", req.mutable_avoid()); !s.ok()) return s;
  if (auto s = ParsePairs(args, "keep", req.mutable_keep()); !s.ok()) return s;
  return req;
}

const std::set<std::string>& PairingFlags() {
  static const auto* flags = new std::set<std::string>{
      "k", "capacity", "exclude-same-country", "min-score", "avoid", "keep", "city", "region",
      "theme", "mutual", "score-only", "candidates-per-city"};
  return *flags;
}

const std::set<std::string>& PairingBooleanFlags() {
  static const auto* flags =
      new std::set<std::string>{"exclude-same-country", "mutual", "score-only"};
  return *flags;
}

namespace {

void PrintSummary(FILE* out, const v1::PairingSummary& summary,
                  const std::vector<Shortfall>& shortfalls, int k,
                  const std::map<std::string, v1::City>& cities) {
  std::fprintf(out,
               "pairs %d, total score %.2f; %d of %d asking cities matched (%d with all their "
               "peers); %lld candidate pairs scored, %lld kept; scoring %.2f s, solving %.2f s\n",
               summary.pairs(), summary.total_score(), summary.matched_cities(),
               summary.asking_cities(), summary.fully_matched_cities(),
               static_cast<long long>(summary.candidate_pairs()),
               static_cast<long long>(summary.kept_candidates()), summary.scoring_seconds(),
               summary.solving_seconds());
  if (shortfalls.empty()) return;
  std::fprintf(out, "%zu %s fewer than %d peers:\n", shortfalls.size(),
               shortfalls.size() == 1 ? "city got" : "cities got", k);
  for (const Shortfall& s : shortfalls) {
    std::fprintf(out, "  %s %d of %d: %s\n", Fit(CityLabel(cities, s.city_id), 28).c_str(),
                 s.peers, k, s.reason.c_str());
  }
}

absl::Status RunPair(Context& ctx) {
  const std::string path = ctx.args.Get("output");
  const bool to_terminal = (path.empty() || path == "-") && isatty(STDOUT_FILENO);
  const std::string format =
      ctx.args.Get("format", ctx.json ? "json" : to_terminal ? "table" : "csv");
  if (format != "csv" && format != "json" && format != "table") {
    return absl::InvalidArgumentError("--format: table, csv or json");
  }
  absl::StatusOr<v1::PairCitiesRequest> parsed = PairRequestFromFlags(ctx.args);
  if (!parsed.ok()) return parsed.status();
  const v1::PairCitiesRequest& req = *parsed;
  // The request's defaults (PairCitiesRequest): 0 means 3; mutual pairs 1:1.
  const int want = req.mutual() ? 1 : req.k() > 0 ? req.k() : 3;

  // Names and countries for every output.
  auto cities = AllCities(ctx);
  if (!cities.ok()) return cities.status();

  const bool tty = isatty(STDERR_FILENO);
  grpc::ClientContext call;
  ctx.Prepare(&call, /*timeout_seconds=*/0);
  auto reader = ctx.Stub().PairCities(&call, req);
  v1::PairCitiesResponse msg;
  v1::PairingSummary summary;
  std::vector<v1::Pair> pairs;
  while (reader->Read(&msg)) {
    if (msg.has_progress()) {
      if (tty) {
        std::fprintf(stderr, "\r%s: %lld/%lld asking cities", msg.progress().stage().c_str(),
                     static_cast<long long>(msg.progress().done()),
                     static_cast<long long>(msg.progress().total()));
      }
    } else if (msg.has_pair()) {
      pairs.push_back(msg.pair());
    } else if (msg.has_summary()) {
      summary = msg.summary();
    }
  }
  if (tty) std::fprintf(stderr, "\r%60s\r", "");
  grpc::Status status = reader->Finish();
  if (!status.ok()) return FromGrpc(status, ctx.server);

  FILE* out = path.empty() || path == "-" ? stdout : std::fopen(path.c_str(), "w");
  if (out == nullptr) return absl::InvalidArgumentError(absl::StrCat("--output: cannot write ", path));
  const std::vector<Shortfall> shortfalls = Shortfalls(summary);
  if (format == "table") {
    PrintPairTable(out, pairs, *cities);
    std::fprintf(out, "\n");
    PrintSummary(out, summary, shortfalls, want, *cities);
  } else {
    if (format == "json") {
      PrintJson(out, pairs, summary, shortfalls, *cities);
    } else {
      PrintCsv(out, pairs, req.mutual(), *cities);
    }
    // The summary, for people, on stderr (the JSON has it too).
    PrintSummary(stderr, summary, shortfalls, want, *cities);
  }
  if (out != stdout) std::fclose(out);
  return absl::OkStatus();
}

}  // namespace

std::set<std::string> WithPairingFlags(std::set<std::string> own) {
  own.insert(PairingFlags().begin(), PairingFlags().end());
  return own;
}

void AddPairCommands(std::vector<Command>* out) {
  out->push_back(Command{
      "pair", "pair cities for peer learning (optimal, constrained, explained)",
      "Usage: peermatch pair [--k 3] [--capacity 3] [--exclude-same-country] [--format table|csv|json]\n"
      "                      [--output F] [flags]\n"
      "\n"
      "Pairs every city that has a challenge with up to k peer cities whose solutions\n"
      "match it best, no peer serving more than `capacity` cities. The pairing covers\n"
      "as many cities as possible first, then takes the largest total score; it is\n"
      "solved exactly (a min-cost flow), not greedily. Each pair names the challenge\n"
      "and the solution behind it. The same data and flags give the same pairs.\n"
      "\n"
      "  --k N                   peers per asking city (1-20; default 3)\n"
      "  --capacity N            asking cities per peer (1-1000; default 3)\n"
      "  --exclude-same-country  never pair two cities of one country\n"
      "  --min-score X           never make a pair scoring below X (default 0)\n"
      "  --avoid A:B             never pair asking city A with peer B (repeatable)\n"
      "  --keep A:B              keep this pair, e.g. from an earlier round (repeatable)\n"
      "  --city ID               the cohort: only these cities (repeatable; default all)\n"
      "  --region R              the cohort: only these regions (repeatable)\n"
      "  --theme T               only challenges and solutions with these themes\n"
      "  --mutual                1:1 twinning: each city in one pair, scored both ways\n"
      "  --score-only            largest total score, without covering cities first\n"
      "  --candidates-per-city N peers considered per city (default max(10k, 40))\n"
      "  --format table|csv|json a table (the default on a terminal), CSV (the default\n"
      "                          otherwise) or JSON\n"
      "  --output F              write there instead of standard output\n"
      "\n"
      "Every pair is labelled by strength: strong (score 4 or more), good (2 to 4) or\n"
      "weak (below 2); scores are in standard deviations above a challenge's candidates.\n"
      "The table names the cities with their countries and the solution behind each\n"
      "pair, then the totals and every city that got fewer than k peers, with the reason.\n"
      "CSV columns: asking_city,peer_city,score,challenge_id,solution_id,challenge_title,\n"
      "solution_title,lexical,subword,semantic,structure,shared_terms,kept (--mutual adds\n"
      "reverse_challenge_id,reverse_solution_id,reverse_score), then asking_city_name,\n"
      "asking_country,peer_city_name,peer_country,strength: new columns only ever go at\n"
      "the end. JSON: {\"pairs\": [...], \"summary\": {...}, \"fewerPeers\": [...]}, each\n"
      "pair with askingCityName, askingCountry, peerCityName, peerCountry and strength.\n"
      "With CSV or JSON, the totals and the cities with fewer peers go to stderr.\n"
      "Example:\n"
      "  peermatch pair --k 3 --capacity 3 --exclude-same-country --format csv > pairs.csv\n",
      WithPairingFlags({"format", "output"}), PairingBooleanFlags(), RunPair});
}

}  // namespace peermatch::cli
