// `peermatch match` and `peermatch similar`.
#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "clients/command.h"
#include "records/records.h"

namespace peermatch::cli {
namespace {

absl::StatusOr<int> ParseSdg(const std::string& value) {
  int sdg = 0;
  if (!absl::SimpleAtoi(value, &sdg) || sdg < 1 || sdg > 17) {
    return absl::InvalidArgumentError(absl::StrCat("--sdg: \"", value, "\" is not 1-17"));
  }
  return sdg;
}

// Flags shared by match and similar: the query's structure and the filters.
template <typename Request>
absl::Status FillCommon(const Args& args, Request* req) {
  const auto& words = args.positional();
  if (args.Has("case")) {
    if (!words.empty()) return absl::InvalidArgumentError("give either TEXT or --case ID, not both");
    req->set_case_id(args.Get("case"));
  } else if (!words.empty()) {
    req->set_text(absl::StrJoin(words, " "));
  } else {
    return absl::InvalidArgumentError("give the challenge as TEXT, or --case ID");
  }
  req->set_language(args.Get("language"));
  auto k = args.GetInt("k", 0);
  if (!k.ok()) return k.status();
  req->set_k(static_cast<int>(*k));
  req->set_page_token(args.Get("page-token"));
  for (const auto& t : args.GetAll("theme")) {
    auto theme = ParseEnum<v1::Theme>("theme", t);
    if (!theme.ok()) return theme.status();
    req->add_themes(*theme);
  }
  for (const auto& g : args.GetAll("sdg")) {
    auto sdg = ParseSdg(g);
    if (!sdg.ok()) return sdg.status();
    req->add_sdgs(*sdg);
  }
  for (const auto& g : args.GetAll("group")) req->add_target_groups(g);
  if (args.Has("min-score")) {
    auto min_score = args.GetDouble("min-score", 0);
    if (!min_score.ok()) return min_score.status();
    req->mutable_min_score()->set_value(*min_score);
  }

  v1::Filters* f = req->mutable_filters();
  for (const auto& t : args.GetAll("only-theme")) {
    auto theme = ParseEnum<v1::Theme>("only-theme", t);
    if (!theme.ok()) return theme.status();
    f->add_themes(*theme);
  }
  for (const auto& g : args.GetAll("only-sdg")) {
    auto sdg = ParseSdg(g);
    if (!sdg.ok()) return sdg.status();
    f->add_sdgs(*sdg);
  }
  for (const auto& r : args.GetAll("region")) {
    auto region = ParseEnum<v1::Region>("region", r);
    if (!region.ok()) return region.status();
    f->add_regions(*region);
  }
  for (const auto& c : args.GetAll("country")) f->add_countries(absl::AsciiStrToUpper(c));
  for (const auto& c : args.GetAll("exclude-country")) {
    f->add_exclude_countries(absl::AsciiStrToUpper(c));
  }
  for (const auto& l : args.GetAll("in-language")) f->add_languages(l);
  for (const auto& c : args.GetAll("exclude-city")) f->add_exclude_city_ids(c);
  auto year_min = args.GetInt("year-min", 0);
  auto year_max = args.GetInt("year-max", 0);
  if (!year_min.ok()) return year_min.status();
  if (!year_max.ok()) return year_max.status();
  f->set_year_min(static_cast<int>(*year_min));
  f->set_year_max(static_cast<int>(*year_max));
  return absl::OkStatus();
}

std::string Terms(const google::protobuf::RepeatedPtrField<v1::SharedTerm>& terms) {
  std::vector<std::string> out;
  for (const auto& t : terms) out.push_back(t.term());
  return absl::StrJoin(out, ", ");
}

// Issue 13: "alfabetización → literacy (FreeDict spa-eng)", one per
// translation, so that a match across languages shows why.
std::string Translations(const google::protobuf::RepeatedPtrField<v1::Translation>& ts) {
  std::vector<std::string> out;
  for (const auto& t : ts) {
    out.push_back(absl::StrCat(t.source_word(), " \u2192 ",
                               t.target_word().empty() ? "(romanised)" : t.target_word(), " (",
                               t.dictionary(), ")"));
  }
  return absl::StrJoin(out, "; ");
}

// Issue 13: the language the query was analyzed in and how it was chosen,
// "query language: es (detected, confidence 0.87)"; "" when the server did
// not say (an older server).
std::string QueryLanguageLine(const v1::QueryLanguage& q) {
  if (q.language().empty()) return "";
  std::string how;
  switch (q.source()) {
    case v1::LANGUAGE_SOURCE_STATED:
      how = "stated";
      break;
    case v1::LANGUAGE_SOURCE_DETECTED:
      how = absl::StrFormat("detected, confidence %.2f", q.confidence());
      break;
    case v1::LANGUAGE_SOURCE_DEFAULT:
      how = q.detected_language().empty()
                ? "default: nothing detected"
                : absl::StrFormat("default: detected %s at confidence %.2f, too low",
                                  q.detected_language(), q.confidence());
      break;
    default:
      break;
  }
  return absl::StrCat("query language: ", q.language(), how.empty() ? "" : " (", how,
                      how.empty() ? "" : ")", "\n");
}

std::string Parts(const v1::ScoreParts& p) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "words %.2f, subwords %.2f, meaning %.2f, themes %.2f",
                p.lexical(), p.subword(), p.semantic(), p.structure());
  return buf;
}

absl::Status RunMatch(Context& ctx) {
  v1::MatchRequest req;
  if (absl::Status s = FillCommon(ctx.args, &req); !s.ok()) return s;
  auto evidence = ctx.args.GetInt("evidence", 0);
  auto per_country = ctx.args.GetInt("max-per-country", 0);
  if (!evidence.ok()) return evidence.status();
  if (!per_country.ok()) return per_country.status();
  req.set_evidence_per_city(static_cast<int>(*evidence));
  req.set_max_per_country(static_cast<int>(*per_country));
  req.set_asking_city_id(ctx.args.Get("city"));
  v1::MatchResponse resp;
  grpc::ClientContext call;
  ctx.Prepare(&call, 10);
  if (auto s = FromGrpc(ctx.Stub().Match(&call, req, &resp), ctx.server); !s.ok()) return s;
  if (ctx.json) {
    std::printf("%s\n", ToJson(resp).c_str());
    return absl::OkStatus();
  }
  std::printf("%s", QueryLanguageLine(resp.query_language()).c_str());
  if (resp.peers().empty()) std::printf("%s\n", resp.empty_reason().c_str());
  for (const auto& p : resp.peers()) {
    std::printf("%2d. %s (%s)  score %.2f  [%s]\n", p.rank(), p.city().name().c_str(),
                p.city().country().c_str(), p.score(), Parts(p.parts()).c_str());
    for (const auto& e : p.evidence()) {
      std::printf("      - %s: %s\n", e.case_id().c_str(), e.title().c_str());
      if (!e.shared_terms().empty()) {
        std::printf("        shared: %s\n", Terms(e.shared_terms()).c_str());
      }
      if (!e.translations().empty()) {
        std::printf("        translated: %s\n", Translations(e.translations()).c_str());
      }
    }
  }
  if (!resp.next_page_token().empty()) {
    std::printf("more: --page-token %s\n", resp.next_page_token().c_str());
  }
  return absl::OkStatus();
}

absl::Status RunSimilar(Context& ctx) {
  v1::SimilarCasesRequest req;
  if (absl::Status s = FillCommon(ctx.args, &req); !s.ok()) return s;
  if (ctx.args.Has("kind")) {
    auto kind = ParseEnum<v1::CaseKind>("kind", ctx.args.Get("kind"));
    if (!kind.ok()) return kind.status();
    req.mutable_filters()->set_kind(*kind);
  }
  v1::SimilarCasesResponse resp;
  grpc::ClientContext call;
  ctx.Prepare(&call, 10);
  if (auto s = FromGrpc(ctx.Stub().SimilarCases(&call, req, &resp), ctx.server); !s.ok()) {
    return s;
  }
  if (ctx.json) {
    std::printf("%s\n", ToJson(resp).c_str());
    return absl::OkStatus();
  }
  std::printf("%s", QueryLanguageLine(resp.query_language()).c_str());
  if (resp.cases().empty()) std::printf("%s\n", resp.empty_reason().c_str());
  for (const auto& m : resp.cases()) {
    std::printf("%2d. %-40s %-18s %-9s score %.2f\n    %s\n", m.rank(), m.case_().id().c_str(),
                m.case_().city_id().c_str(),
                m.case_().kind() == v1::CASE_KIND_CHALLENGE ? "challenge" : "solution", m.score(),
                m.case_().title().c_str());
    if (!m.shared_terms().empty()) std::printf("    shared: %s\n", Terms(m.shared_terms()).c_str());
    if (!m.translations().empty()) {
      std::printf("    translated: %s\n", Translations(m.translations()).c_str());
    }
  }
  if (!resp.next_page_token().empty()) {
    std::printf("more: --page-token %s\n", resp.next_page_token().c_str());
  }
  return absl::OkStatus();
}

constexpr char kCommonFlags[] =
    "  --case ID             use a stored case as the query (its city is left out)\n"
    "  --language L          language of TEXT (ISO 639-1; default: detected, else en)\n"
    "  --k N                 results per page (1-100; default 10)\n"
    "  --page-token T        the next page, as printed after a full page\n"
    "  --min-score S         hide results scoring below S (the score shown; above about 2\n"
    "                        is strong); results without evidence are never shown\n"
    "  --theme T, --sdg N, --group G   the challenge's themes, SDGs and target groups:\n"
    "                        they add a structure score (repeatable)\n"
    "Filters (repeatable; a result must pass all):\n"
    "  --only-theme T        cases with one of these themes (e.g. workplace)\n"
    "  --only-sdg N          cases contributing to one of these SDGs\n"
    "  --region R            cities in these regions (africa, arab_states, asia_pacific,\n"
    "                        europe_north_america, latin_america_caribbean)\n"
    "  --country CC          cities in these countries; --exclude-country CC: not these\n"
    "  --in-language L       cases written in these languages\n"
    "  --year-min Y, --year-max Y      cases from these years\n"
    "  --exclude-city ID     never these cities\n";

const std::set<std::string> kCommonFlagNames = {
    "case", "language", "k", "page-token", "min-score", "theme", "sdg", "group", "only-theme", "only-sdg",
    "region", "country", "exclude-country", "in-language", "year-min", "year-max",
    "exclude-city"};

std::set<std::string> With(std::set<std::string> flags, std::initializer_list<const char*> more) {
  for (const char* f : more) flags.insert(f);
  return flags;
}

}  // namespace

void AddMatchCommands(std::vector<Command>* out) {
  static const std::string match_usage = absl::StrCat(
      "Usage: peermatch match TEXT... [flags]   or   peermatch match --case ID [flags]\n"
      "\n"
      "Peer cities that have solved a problem like TEXT (or like the stored challenge\n"
      "ID): one line per city with its score and its parts, then the solutions that\n"
      "matched and the words they share with the challenge.\n"
      "\n"
      "  --city ID             the asking city: never returned as its own peer\n"
      "  --evidence N          solutions shown per city (1-10; default 3)\n"
      "  --max-per-country N   at most N cities per country (diversity)\n",
      kCommonFlags,
      "\nExample:\n"
      "  peermatch match \"schools closed and pupils have no internet at home\" --k 5\n");
  static const std::string similar_usage = absl::StrCat(
      "Usage: peermatch similar TEXT... [flags]   or   peermatch similar --case ID [flags]\n"
      "\n"
      "Cases most like TEXT or like the stored case ID (\"more like this\"), of any city.\n"
      "\n"
      "  --kind K              only challenges or only solutions\n",
      kCommonFlags);
  out->push_back(Command{"match", "peer cities that solved a given challenge",
                         match_usage.c_str(),
                         With(kCommonFlagNames, {"city", "evidence", "max-per-country"}),
                         {},
                         RunMatch});
  out->push_back(Command{"similar", "cases similar to a text or a case", similar_usage.c_str(),
                         With(kCommonFlagNames, {"kind"}), {}, RunSimilar});
}

}  // namespace peermatch::cli
