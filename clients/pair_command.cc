// `peermatch pair`: batch pairings for staff, as CSV or JSON.
#include <unistd.h>

#include <cstdio>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "clients/command.h"
#include "records/records.h"

namespace peermatch::cli {
namespace {

// RFC 4180: quote a field holding a comma, a quote or a line break.
std::string Csv(const std::string& field) {
  if (field.find_first_of(",\"\r\n") == std::string::npos) return field;
  std::string out = "\"";
  for (char ch : field) {
    if (ch == '"') out += '"';
    out += ch;
  }
  return out + "\"";
}

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

absl::Status RunPair(Context& ctx) {
  const std::string format = ctx.args.Get("format", ctx.json ? "json" : "csv");
  if (format != "csv" && format != "json") {
    return absl::InvalidArgumentError("--format: csv or json");
  }
  v1::PairCitiesRequest req;
  auto k = ctx.args.GetInt("k", 0);
  auto capacity = ctx.args.GetInt("capacity", 0);
  auto per_city = ctx.args.GetInt("candidates-per-city", 0);
  auto min_score = ctx.args.GetDouble("min-score", 0);
  for (const auto* s : {&k, &capacity, &per_city}) {
    if (!s->ok()) return s->status();
  }
  if (!min_score.ok()) return min_score.status();
  req.set_k(static_cast<int>(*k));
  req.set_capacity(static_cast<int>(*capacity));
  req.set_candidates_per_city(static_cast<int>(*per_city));
  req.set_min_score(*min_score);
  req.set_exclude_same_country(ctx.args.Has("exclude-same-country"));
  req.set_mutual(ctx.args.Has("mutual"));
  req.set_score_only(ctx.args.Has("score-only"));
  for (const auto& c : ctx.args.GetAll("city")) req.add_city_ids(c);
  for (const auto& r : ctx.args.GetAll("region")) {
    auto region = ParseEnum<v1::Region>("region", "REGION_", r, v1::Region_Parse);
    if (!region.ok()) return region.status();
    req.add_regions(*region);
  }
  for (const auto& t : ctx.args.GetAll("theme")) {
    auto theme = ParseEnum<v1::Theme>("theme", "THEME_", t, v1::Theme_Parse);
    if (!theme.ok()) return theme.status();
    req.add_themes(*theme);
  }
  if (auto s = ParsePairs(ctx.args, "avoid", req.mutable_avoid()); !s.ok()) return s;
  if (auto s = ParsePairs(ctx.args, "keep", req.mutable_keep()); !s.ok()) return s;

  const std::string path = ctx.args.Get("output");
  FILE* out = path.empty() || path == "-" ? stdout : std::fopen(path.c_str(), "w");
  if (out == nullptr) return absl::InvalidArgumentError(absl::StrCat("--output: cannot write ", path));
  const bool tty = isatty(STDERR_FILENO);

  grpc::ClientContext call;
  ctx.Prepare(&call, /*timeout_seconds=*/0);
  auto reader = ctx.Stub().PairCities(&call, req);
  v1::PairCitiesResponse msg;
  v1::PairingSummary summary;
  std::vector<v1::Pair> pairs;
  bool header = false;
  while (reader->Read(&msg)) {
    if (msg.has_progress()) {
      if (tty) {
        std::fprintf(stderr, "\r%s: %lld/%lld asking cities", msg.progress().stage().c_str(),
                     static_cast<long long>(msg.progress().done()),
                     static_cast<long long>(msg.progress().total()));
      }
    } else if (msg.has_pair()) {
      const v1::Pair& p = msg.pair();
      if (format == "json") {
        pairs.push_back(p);
        continue;
      }
      if (!header) {
        std::fprintf(out,
                     "asking_city,peer_city,score,challenge_id,solution_id,challenge_title,"
                     "solution_title,lexical,subword,semantic,structure,shared_terms,kept%s\n",
                     req.mutual() ? ",reverse_challenge_id,reverse_solution_id,reverse_score" : "");
        header = true;
      }
      std::vector<std::string> terms;
      for (const auto& t : p.shared_terms()) terms.push_back(t.term());
      std::fprintf(out, "%s,%s,%.4f,%s,%s,%s,%s,%.3f,%.3f,%.3f,%.3f,%s,%s", p.asking_city_id().c_str(),
                   p.peer_city_id().c_str(), p.score(), p.challenge_id().c_str(),
                   p.solution_id().c_str(), Csv(p.challenge_title()).c_str(),
                   Csv(p.solution_title()).c_str(), p.parts().lexical(), p.parts().subword(),
                   p.parts().semantic(), p.parts().structure(),
                   Csv(absl::StrJoin(terms, "; ")).c_str(), p.kept() ? "yes" : "no");
      if (req.mutual()) {
        std::fprintf(out, ",%s,%s,%.4f", p.reverse_challenge_id().c_str(),
                     p.reverse_solution_id().c_str(), p.reverse_score());
      }
      std::fprintf(out, "\n");
    } else if (msg.has_summary()) {
      summary = msg.summary();
    }
  }
  if (tty) std::fprintf(stderr, "\r%60s\r", "");
  grpc::Status status = reader->Finish();
  if (!status.ok()) {
    if (out != stdout) std::fclose(out);
    return FromGrpc(status, ctx.server);
  }
  if (format == "json") {
    std::string json = "{\"pairs\": [";
    for (size_t i = 0; i < pairs.size(); ++i) {
      absl::StrAppend(&json, i ? ",\n  " : "\n  ", ToJson(pairs[i]));
    }
    absl::StrAppend(&json, "\n], \"summary\": ", ToJson(summary), "}\n");
    std::fputs(json.c_str(), out);
  } else if (!header) {
    std::fprintf(out, "asking_city,peer_city,score\n");
  }
  if (out != stdout) std::fclose(out);
  // The summary, for people, on stderr (the JSON has it too).
  std::fprintf(stderr,
               "pairs %d, total score %.2f; %d of %d asking cities matched (%d with all their "
               "peers); %lld candidate pairs scored, %lld kept; scoring %.2f s, solving %.2f s\n",
               summary.pairs(), summary.total_score(), summary.matched_cities(),
               summary.asking_cities(), summary.fully_matched_cities(),
               static_cast<long long>(summary.candidate_pairs()),
               static_cast<long long>(summary.kept_candidates()), summary.scoring_seconds(),
               summary.solving_seconds());
  for (const auto& u : summary.unmatched()) {
    std::fprintf(stderr, "  unmatched %s: %s\n", u.city_id().c_str(), u.reason().c_str());
  }
  return absl::OkStatus();
}

}  // namespace

void AddPairCommands(std::vector<Command>* out) {
  out->push_back(Command{
      "pair", "pair cities for peer learning (optimal, constrained, explained)",
      "Usage: peermatch pair [--k 3] [--capacity 3] [--exclude-same-country] [--format csv|json]\n"
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
      "  --format csv|json       CSV (header asking_city,peer_city,score,...) or JSON\n"
      "  --output F              write there instead of standard output\n"
      "\n"
      "The summary (totals, and each city left out with the reason) goes to stderr.\n"
      "Example:\n"
      "  peermatch pair --k 3 --capacity 3 --exclude-same-country --format csv > pairs.csv\n",
      {"k", "capacity", "exclude-same-country", "min-score", "avoid", "keep", "city", "region",
       "theme", "mutual", "score-only", "candidates-per-city", "format", "output"},
      {"exclude-same-country", "mutual", "score-only"},
      RunPair});
}

}  // namespace peermatch::cli
