#include "service/request_mapping.h"

#include <limits>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "records/limits.h"
#include "tests/testing/status_matchers.h"

namespace peermatch {
namespace {

using ::testing::ElementsAre;
using testing::StatusIs;

v1::MatchRequest MatchText(const std::string& text) {
  v1::MatchRequest req;
  req.set_text(text);
  return req;
}

// The exact INVALID_ARGUMENT a Match request with `edit` applied gets.
std::string MatchError(void (*edit)(v1::MatchRequest*), int offset = 0) {
  v1::MatchRequest req = MatchText("radio lessons");
  edit(&req);
  const absl::StatusOr<MatchQuery> q = ToMatchQuery(req, offset);
  EXPECT_THAT(q, StatusIs(absl::StatusCode::kInvalidArgument));
  return std::string(q.status().message());
}

TEST(RequestMapping, MatchErrorsNameTheWireField) {
  EXPECT_EQ(MatchError([](auto* r) { r->clear_query(); }), "query: set text or case_id");
  EXPECT_EQ(MatchError([](auto* r) { r->set_text(""); }), "text: is empty");
  EXPECT_EQ(MatchError([](auto* r) { r->set_text(std::string(kMaxQueryBytes + 1, 'a')); }),
            "text: is 16385 bytes; the limit is 16384");
  EXPECT_EQ(MatchError([](auto* r) { r->set_text("caf\xc3\x28"); }),
            "text: is not valid UTF-8");
  EXPECT_EQ(MatchError([](auto* r) { r->set_case_id("../etc"); }),
            "case_id: may contain only a-z, 0-9 and '-' (a slug like \"sao-paulo\")");
  EXPECT_EQ(MatchError([](auto* r) { r->set_k(101); }), "k: 101 is outside 0-100");
  EXPECT_EQ(MatchError([](auto* r) { r->set_k(-1); }), "k: -1 is outside 0-100");
  EXPECT_EQ(MatchError([](auto*) {}, kMaxOffset + 1), "page_token: pages end after 10000 results");
  EXPECT_EQ(MatchError([](auto* r) { r->set_evidence_per_city(11); }),
            "evidence_per_city: 11 is outside 0-10");
  EXPECT_EQ(MatchError([](auto* r) { r->set_max_per_country(-3); }),
            "max_per_country: must not be negative");
  EXPECT_EQ(MatchError([](auto* r) { r->mutable_filters()->set_kind(v1::CASE_KIND_CHALLENGE); }),
            "filters.kind: Match returns solutions; use SimilarCases to find challenges");
  EXPECT_EQ(MatchError([](auto* r) { r->set_asking_city_id("UPPER"); }),
            "asking_city_id: may contain only a-z, 0-9 and '-' (a slug like \"sao-paulo\")");
  EXPECT_EQ(MatchError([](auto* r) { r->add_themes(v1::THEME_UNSPECIFIED); }),
            "themes[0]: unknown theme");
  EXPECT_EQ(MatchError([](auto* r) { r->add_sdgs(4), r->add_sdgs(0); }),
            "sdgs[1]: 0 is outside 1-17");
  EXPECT_EQ(MatchError([](auto* r) {
              for (int i = 0; i < 17; ++i) r->add_target_groups("g");
            }),
            "target_groups: 17 values, at most 16");
  EXPECT_EQ(MatchError([](auto* r) { r->add_target_groups(std::string(101, 'g')); }),
            "target_groups[0]: too long or not UTF-8");
  EXPECT_EQ(MatchError([](auto* r) { r->set_language("zz-ZZ"); }),
            "language: not an ISO 639-1 code such as \"en\"");
}

TEST(RequestMapping, MatchFilterErrorsNameTheWireField) {
  EXPECT_EQ(MatchError([](auto* r) { r->mutable_filters()->add_themes(static_cast<v1::Theme>(42)); }),
            "filters.themes[0]: unknown theme");
  EXPECT_EQ(MatchError([](auto* r) { r->mutable_filters()->add_sdgs(18); }),
            "filters.sdgs[0]: 18 is outside 1-17");
  EXPECT_EQ(MatchError([](auto* r) {
              r->mutable_filters()->add_regions(v1::REGION_AFRICA);
              r->mutable_filters()->add_regions(static_cast<v1::Region>(99));
            }),
            "filters.regions[1]: unknown region");
  EXPECT_EQ(MatchError([](auto* r) { r->mutable_filters()->add_countries("usa"); }),
            "filters.countries[0]: not an ISO 3166-1 alpha-2 code");
  EXPECT_EQ(MatchError([](auto* r) { r->mutable_filters()->add_exclude_countries("XX"); }),
            "filters.exclude_countries[0]: not an ISO 3166-1 alpha-2 code");
  EXPECT_EQ(MatchError([](auto* r) { r->mutable_filters()->add_languages("english"); }),
            "filters.languages[0]: not an ISO 639-1 code");
  EXPECT_EQ(MatchError([](auto* r) {
              r->mutable_filters()->set_year_min(2022);
              r->mutable_filters()->set_year_max(2001);
            }),
            "filters.year_min: must be 0 or at most filters.year_max");
  EXPECT_EQ(MatchError([](auto* r) { r->mutable_filters()->add_exclude_city_ids("Not A Slug"); }),
            "filters.exclude_city_ids[0]: may contain only a-z, 0-9 and '-' (a slug like "
            "\"sao-paulo\")");
}

// Every list of a Match or SimilarCases request has a count limit, checked
// before its values; sets refuse a value given twice.
TEST(RequestMapping, EveryListHasACountLimitAndSetsNoRepeats) {
  EXPECT_EQ(MatchError([](auto* r) {
              for (int i = 0; i < 100000; ++i) r->mutable_filters()->add_languages("en");
            }),
            "filters.languages: 100000 values, at most 64");
  EXPECT_EQ(MatchError([](auto* r) {
              for (int i = 0; i < 65; ++i) r->mutable_filters()->add_countries("BR");
            }),
            "filters.countries: 65 values, at most 64");
  EXPECT_EQ(MatchError([](auto* r) {
              for (int i = 0; i < 65; ++i) r->mutable_filters()->add_exclude_countries("BR");
            }),
            "filters.exclude_countries: 65 values, at most 64");
  EXPECT_EQ(MatchError([](auto* r) {
              for (int i = 0; i < 257; ++i) r->mutable_filters()->add_exclude_city_ids("x");
            }),
            "filters.exclude_city_ids: 257 values, at most 256");
  EXPECT_EQ(MatchError([](auto* r) {
              for (int i = 0; i < 18; ++i) r->mutable_filters()->add_sdgs(1 + i % 17);
            }),
            "filters.sdgs: 18 values, at most 17");
  EXPECT_EQ(MatchError([](auto* r) {
              for (int i = 0; i < 7; ++i) r->mutable_filters()->add_themes(v1::THEME_WORKPLACE);
            }),
            "filters.themes: 7 values, at most 6");
  EXPECT_EQ(MatchError([](auto* r) {
              for (int i = 0; i < 6; ++i) r->mutable_filters()->add_regions(v1::REGION_AFRICA);
            }),
            "filters.regions: 6 values, at most 5");
  EXPECT_EQ(MatchError([](auto* r) {
              for (int i = 0; i < 18; ++i) r->add_sdgs(4);
            }),
            "sdgs: 18 values, at most 17");
  EXPECT_EQ(MatchError([](auto* r) { r->add_sdgs(4), r->add_sdgs(5), r->add_sdgs(4); }),
            "sdgs[2]: 4 is given twice (also sdgs[0])");
  EXPECT_EQ(MatchError([](auto* r) {
              r->mutable_filters()->add_regions(v1::REGION_AFRICA);
              r->mutable_filters()->add_regions(v1::REGION_AFRICA);
            }),
            "filters.regions[1]: 1 is given twice (also filters.regions[0])");
  v1::SimilarCasesRequest similar;
  similar.set_text("radio lessons");
  for (int i = 0; i < 7; ++i) similar.add_themes(v1::THEME_WORKPLACE);
  EXPECT_THAT(ToSimilarQuery(similar, 0),
              StatusIs(absl::StatusCode::kInvalidArgument, "themes: 7 values, at most 6"));
}

// Checks run in a fixed order: the first broken rule is the one reported.
TEST(RequestMapping, TheFirstBrokenRuleIsReported) {
  v1::MatchRequest req;  // no query either
  req.set_k(500);
  req.add_sdgs(18);
  EXPECT_THAT(ToMatchQuery(req, 0),
              StatusIs(absl::StatusCode::kInvalidArgument, "k: 500 is outside 0-100"));
  req.set_k(0);
  EXPECT_THAT(ToMatchQuery(req, 0),
              StatusIs(absl::StatusCode::kInvalidArgument, "sdgs[0]: 18 is outside 1-17"));
}

TEST(RequestMapping, MatchRequestBecomesAQueryWithTheWireDefaults) {
  v1::MatchRequest req = MatchText("radio lessons");
  req.set_language("es");
  req.add_themes(v1::THEME_INCLUSIVE_EDUCATION);
  req.add_sdgs(4);
  req.add_target_groups("Pupils");
  req.set_max_per_country(2);
  req.set_asking_city_id("fermo");
  v1::Filters* f = req.mutable_filters();
  f->add_themes(v1::THEME_FAMILIES_COMMUNITIES);
  f->add_sdgs(10);
  f->add_regions(v1::REGION_AFRICA);
  f->add_countries("IT");
  f->add_exclude_countries("CN");
  f->add_languages("en");
  f->set_year_min(2019);
  f->set_year_max(2021);
  f->add_exclude_city_ids("wuhan");
  const absl::StatusOr<MatchQuery> q = ToMatchQuery(req, 20);
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->about.text, "radio lessons");
  EXPECT_EQ(q->about.case_id, "");
  EXPECT_EQ(q->about.language, "es");
  EXPECT_THAT(q->about.themes, ElementsAre(v1::THEME_INCLUSIVE_EDUCATION));
  EXPECT_THAT(q->about.sdgs, ElementsAre(4));
  EXPECT_THAT(q->about.target_groups, ElementsAre("Pupils"));
  EXPECT_THAT(q->filters.themes, ElementsAre(v1::THEME_FAMILIES_COMMUNITIES));
  EXPECT_THAT(q->filters.sdgs, ElementsAre(10));
  EXPECT_THAT(q->filters.regions, ElementsAre(v1::REGION_AFRICA));
  EXPECT_THAT(q->filters.countries, ElementsAre("IT"));
  EXPECT_THAT(q->filters.exclude_countries, ElementsAre("CN"));
  EXPECT_THAT(q->filters.languages, ElementsAre("en"));
  EXPECT_EQ(q->filters.year_min, 2019);
  EXPECT_EQ(q->filters.year_max, 2021);
  EXPECT_THAT(q->filters.exclude_city_ids, ElementsAre("wuhan"));
  EXPECT_EQ(q->k, kDefaultK);
  EXPECT_EQ(q->evidence_per_city, kDefaultEvidence);
  EXPECT_EQ(q->max_per_country, 2);
  EXPECT_EQ(q->asking_city_id, "fermo");
  EXPECT_EQ(q->offset, 20);

  req.set_case_id("osan-closures");
  req.set_k(7);
  req.set_evidence_per_city(1);
  const absl::StatusOr<MatchQuery> by_case = ToMatchQuery(req, 0);
  ASSERT_TRUE(by_case.ok()) << by_case.status();
  EXPECT_EQ(by_case->about.case_id, "osan-closures");
  EXPECT_EQ(by_case->about.text, "");
  EXPECT_EQ(by_case->k, 7);
  EXPECT_EQ(by_case->evidence_per_city, 1);
}

TEST(RequestMapping, SimilarCasesErrorsAndQuery) {
  v1::SimilarCasesRequest req;
  req.set_case_id("fermo-tablets");
  req.set_k(1000);
  EXPECT_THAT(ToSimilarQuery(req, 0),
              StatusIs(absl::StatusCode::kInvalidArgument, "k: 1000 is outside 0-100"));
  req.set_k(0);
  req.mutable_filters()->set_kind(static_cast<v1::CaseKind>(9));
  EXPECT_THAT(ToSimilarQuery(req, 0),
              StatusIs(absl::StatusCode::kInvalidArgument, "filters.kind: unknown kind"));
  req.mutable_filters()->set_kind(v1::CASE_KIND_CHALLENGE);
  req.set_case_id("");
  EXPECT_THAT(ToSimilarQuery(req, 0), StatusIs(absl::StatusCode::kInvalidArgument,
                                               "case_id: is required and must not be empty"));
  req.clear_query();
  EXPECT_THAT(ToSimilarQuery(req, 0),
              StatusIs(absl::StatusCode::kInvalidArgument, "query: set text or case_id"));
  req.set_case_id("fermo-tablets");
  const absl::StatusOr<SimilarQuery> q = ToSimilarQuery(req, 10);
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->about.case_id, "fermo-tablets");
  EXPECT_EQ(q->kind, v1::CASE_KIND_CHALLENGE);
  EXPECT_EQ(q->k, kDefaultK);
  EXPECT_EQ(q->offset, 10);
}

TEST(RequestMapping, MatchResultBecomesTheResponse) {
  MatchResult result;
  result.model_version = 7;
  result.peers.more = true;  // the caller's to turn into a page token
  PeerCity& peer = result.peers.items.emplace_back();
  peer.city.set_id("fermo");
  peer.city.set_country("IT");
  peer.rank = 3;
  peer.score = 1.5;
  peer.parts = {0.25, 0.5, 0.75, 1.0};
  Evidence& e = peer.evidence.emplace_back();
  e.case_id = "fermo-tablets";
  e.title = "Tablets";
  e.score = 1.5;
  e.parts = {0.25, 0.5, 0.75, 1.0};
  e.shared_terms = {{"tablets", 0.75}, {"pupils", 0.25}};
  EXPECT_EQ(ToMatchResponse(result).ShortDebugString(),
            "peers { city { id: \"fermo\" country: \"IT\" } score: 1.5 "
            "parts { lexical: 0.25 semantic: 0.75 structure: 1 subword: 0.5 } "
            "evidence { case_id: \"fermo-tablets\" title: \"Tablets\" score: 1.5 "
            "parts { lexical: 0.25 semantic: 0.75 structure: 1 subword: 0.5 } "
            "shared_terms { term: \"tablets\" weight: 0.75 } "
            "shared_terms { term: \"pupils\" weight: 0.25 } } rank: 3 } model_version: 7");
}

TEST(RequestMapping, SimilarResultBecomesTheResponse) {
  SimilarResult result;
  result.model_version = 2;
  SimilarCase& c = result.cases.items.emplace_back();
  c.record.set_id("osan-closures");
  c.rank = 1;
  c.score = 0.5;
  c.parts.lexical = 0.5;
  c.shared_terms = {{"internet", 1.0}};
  EXPECT_EQ(ToSimilarCasesResponse(result).ShortDebugString(),
            "cases { case { id: \"osan-closures\" } score: 0.5 parts { lexical: 0.5 } "
            "shared_terms { term: \"internet\" weight: 1 } rank: 1 } model_version: 2");
}

TEST(RequestMapping, WhitespaceOnlyTextAndBadMinScoreAreRefused) {
  // ASCII, no-break and ideographic spaces, a zero-width space.
  for (const char* blank : {" ", "\t\n", "\xc2\xa0\xe3\x80\x80", "\xe2\x80\x8b\xef\xbb\xbf"}) {
    v1::MatchRequest req = MatchText(blank);
    EXPECT_THAT(ToMatchQuery(req, 0),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         "text: is only white space; describe the challenge in words"))
        << blank;
    v1::SimilarCasesRequest similar;
    similar.set_text(blank);
    EXPECT_THAT(ToSimilarQuery(similar, 0), StatusIs(absl::StatusCode::kInvalidArgument));
  }
  EXPECT_TRUE(ToMatchQuery(MatchText(" radio\xc2\xa0"), 0).ok());
  v1::MatchRequest req = MatchText("radio");
  req.mutable_min_score()->set_value(std::numeric_limits<double>::quiet_NaN());
  EXPECT_THAT(ToMatchQuery(req, 0),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "min_score: must be a finite number (leave it unset for no threshold)"));
}

TEST(RequestMapping, MinScoreIsMappedWhenSetAndOpenOtherwise) {
  v1::MatchRequest req = MatchText("radio");
  EXPECT_EQ(ToMatchQuery(req, 0)->min_score, kNoMinScore);
  req.mutable_min_score()->set_value(0);  // a threshold of 0, not "unset"
  EXPECT_EQ(ToMatchQuery(req, 0)->min_score, 0.0);
  v1::SimilarCasesRequest similar;
  similar.set_text("radio");
  EXPECT_EQ(ToSimilarQuery(similar, 0)->min_score, kNoMinScore);
  similar.mutable_min_score()->set_value(-1.5);
  EXPECT_EQ(ToSimilarQuery(similar, 0)->min_score, -1.5);
}

TEST(RequestMapping, EmptyReasonIsTrueToTheRequest) {
  v1::MatchRequest req = MatchText("tsunami");
  EXPECT_EQ(EmptyReason(req, 0),
            "no city has a solution that shares evidence with the text (a word, a spelling of "
            "one, or its meaning); try more or other words, or the text's language (language: "
            "an ISO 639-1 code such as \"fr\") if it is not English");
  req.set_language("fr");
  EXPECT_THAT(EmptyReason(req, 0), ::testing::EndsWith("or another language than \"fr\""));
  req.mutable_filters()->add_regions(v1::REGION_AFRICA);
  req.mutable_filters()->add_themes(v1::THEME_WORKPLACE);
  req.mutable_filters()->set_year_min(2020);
  req.mutable_min_score()->set_value(1.5);
  EXPECT_EQ(EmptyReason(req, 0),
            "no city has a solution that passes the filters (filters.themes: workplace; "
            "filters.regions: africa; filters.year_min: 2020), shares evidence with the text (a "
            "word, a spelling of one, or its meaning) and scores at least min_score 1.5; try "
            "fewer filters, or a lower min_score");
  EXPECT_EQ(EmptyReason(req, 20), "no more results: the ranking ends before result 21");

  v1::SimilarCasesRequest similar;
  similar.set_case_id("fermo-radio");
  similar.mutable_filters()->set_kind(v1::CASE_KIND_CHALLENGE);
  EXPECT_EQ(EmptyReason(similar, 0),
            "no case passes the filters (filters.kind: challenge) and shares evidence with case "
            "\"fermo-radio\" (a word, a spelling of one, or its meaning); try fewer filters");
  similar.clear_filters();
  EXPECT_EQ(EmptyReason(similar, 0),
            "no case shares evidence with case \"fermo-radio\" (a word, a spelling of one, or "
            "its meaning); the case's words are found in no other case");
}

}  // namespace
}  // namespace peermatch
