// No malformed or hostile request crashes the server or changes stored data.
// Each request below is sent to a real server holding the demo data; its
// answer's code is checked, and at the end the whole store must be exactly
// what it was.
#include <functional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "grpcpp/generic/generic_stub.h"
#include "gtest/gtest.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/raw_call.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_server.h"

namespace peermatch {
namespace {

using testing::TestServer;
using testing::TestServerOptions;
using testing::StatusIs;

struct Probe {
  std::string name;
  grpc::StatusCode expected;
  std::function<grpc::Status(v1::Peermatch::Stub&)> call;
};

enum class Token { kNone, kRead, kWrite, kWrong };

std::unique_ptr<grpc::ClientContext> Context(Token token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  if (token == Token::kRead) {
    ctx->AddMetadata("authorization", std::string("Bearer ") + testing::kReadToken);
  } else if (token == Token::kWrite) {
    ctx->AddMetadata("authorization", std::string("Bearer ") + testing::kWriteToken);
  } else if (token == Token::kWrong) {
    ctx->AddMetadata("authorization", "Bearer guessed-token-guessed-token");
  }
  return ctx;
}

Probe MatchProbe(const std::string& name, grpc::StatusCode code,
                 std::function<void(v1::MatchRequest*)> fill, Token token = Token::kRead) {
  return {name, code, [fill, token](v1::Peermatch::Stub& stub) {
            v1::MatchRequest req;
            req.set_text("radio lessons");
            fill(&req);
            v1::MatchResponse resp;
            return stub.Match(Context(token).get(), req, &resp);
          }};
}

Probe SimilarProbe(const std::string& name, grpc::StatusCode code,
                   std::function<void(v1::SimilarCasesRequest*)> fill) {
  return {name, code, [fill](v1::Peermatch::Stub& stub) {
            v1::SimilarCasesRequest req;
            req.set_text("radio lessons");
            fill(&req);
            v1::SimilarCasesResponse resp;
            return stub.SimilarCases(Context(Token::kRead).get(), req, &resp);
          }};
}

v1::City GoodCity() {
  v1::City c = testing::City("hostile-city", "FR");
  c.set_name("Hostile");
  return c;
}

Probe CityProbe(const std::string& name, grpc::StatusCode code,
                std::function<void(v1::City*)> fill, Token token = Token::kWrite) {
  return {name, code, [fill, token](v1::Peermatch::Stub& stub) {
            v1::PutCityRequest req;
            *req.mutable_city() = GoodCity();
            fill(req.mutable_city());
            v1::PutCityResponse resp;
            return stub.PutCity(Context(token).get(), req, &resp);
          }};
}

v1::Case GoodCase() {
  return testing::Solution("fermo-hostile", "fermo", "Hostile", "Hostile description",
                           v1::THEME_WORKPLACE);
}

Probe CaseProbe(const std::string& name, grpc::StatusCode code,
                std::function<void(v1::Case*)> fill, Token token = Token::kWrite) {
  return {name, code, [fill, token](v1::Peermatch::Stub& stub) {
            v1::PutCaseRequest req;
            *req.mutable_case_() = GoodCase();
            fill(req.mutable_case_());
            v1::PutCaseResponse resp;
            return stub.PutCase(Context(token).get(), req, &resp);
          }};
}

// Raw bytes to a method, bypassing the client's serializer.
grpc::Status SendRaw(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                     const std::string& bytes) {
  return testing::CallRaw(channel, method, bytes, Context(Token::kWrite).get());
}

TEST(Hostile, FiftyMalformedRequestsGetTheirCodesAndChangeNothing) {
  TestServerOptions options;
  options.tokens = true;
  options.demo_data = true;
  TestServer server(options);
  const std::string before = testing::DumpStore(server.store());
  const auto ia = grpc::StatusCode::INVALID_ARGUMENT;
  const auto nf = grpc::StatusCode::NOT_FOUND;
  const std::string invalid_utf8 = "caf\xc3\x28 \xff";
  std::vector<Probe> probes = {
      // Match
      MatchProbe("no query", ia, [](auto* r) { r->clear_query(); }),
      MatchProbe("empty text", ia, [](auto* r) { r->set_text(""); }),
      MatchProbe("oversize text", ia, [](auto* r) { r->set_text(std::string(16385, 'a')); }),
      MatchProbe("k negative", ia, [](auto* r) { r->set_k(-1); }),
      MatchProbe("k 101", ia, [](auto* r) { r->set_k(101); }),
      MatchProbe("huge k", ia, [](auto* r) { r->set_k(2000000000); }),
      MatchProbe("evidence 11", ia, [](auto* r) { r->set_evidence_per_city(11); }),
      MatchProbe("negative diversity", ia, [](auto* r) { r->set_max_per_country(-3); }),
      MatchProbe("garbage page token", ia, [](auto* r) { r->set_page_token("!!not base64!!"); }),
      MatchProbe("token of another listing", ia,
                 [](auto* r) { r->set_page_token("cG0xOmNpdGllczpmZXJtbw"); }),
      MatchProbe("page beyond the end", ia,
                 [](auto* r) { r->set_page_token("cG0xOm1hdGNoOjk5OTk5OTk"); }),
      MatchProbe("unknown case id", nf, [](auto* r) { r->set_case_id("no-such-case"); }),
      MatchProbe("path-like case id", ia, [](auto* r) { r->set_case_id("../../etc/passwd"); }),
      MatchProbe("sdg 0 filter", ia, [](auto* r) { r->mutable_filters()->add_sdgs(0); }),
      MatchProbe("sdg 18 filter", ia, [](auto* r) { r->mutable_filters()->add_sdgs(18); }),
      MatchProbe("unknown region", ia,
                 [](auto* r) { r->mutable_filters()->add_regions(static_cast<v1::Region>(99)); }),
      MatchProbe("unknown theme filter", ia,
                 [](auto* r) { r->mutable_filters()->add_themes(static_cast<v1::Theme>(42)); }),
      MatchProbe("bad country", ia, [](auto* r) { r->mutable_filters()->add_countries("usa"); }),
      MatchProbe("bad language filter", ia,
                 [](auto* r) { r->mutable_filters()->add_languages("english"); }),
      MatchProbe("years reversed", ia,
                 [](auto* r) {
                   r->mutable_filters()->set_year_min(2022);
                   r->mutable_filters()->set_year_max(2001);
                 }),
      MatchProbe("bad excluded city", ia,
                 [](auto* r) { r->mutable_filters()->add_exclude_city_ids("Not A Slug"); }),
      MatchProbe("unknown theme", ia, [](auto* r) { r->add_themes(static_cast<v1::Theme>(0)); }),
      MatchProbe("17 target groups", ia,
                 [](auto* r) {
                   for (int i = 0; i < 17; ++i) r->add_target_groups("g");
                 }),
      MatchProbe("bad language", ia, [](auto* r) { r->set_language("zz-ZZ"); }),
      MatchProbe("bad asking city", ia, [](auto* r) { r->set_asking_city_id("UPPER"); }),
      MatchProbe("no token", grpc::StatusCode::UNAUTHENTICATED, [](auto*) {}, Token::kNone),
      MatchProbe("guessed token", grpc::StatusCode::UNAUTHENTICATED, [](auto*) {}, Token::kWrong),
      SimilarProbe("similar k 1000", ia, [](auto* r) { r->set_k(1000); }),
      SimilarProbe("similar no query", ia, [](auto* r) { r->clear_query(); }),
      SimilarProbe("similar kind 9", ia,
                   [](auto* r) { r->mutable_filters()->set_kind(static_cast<v1::CaseKind>(9)); }),
      // PutCity
      CityProbe("city id with spaces", ia, [](auto* c) { c->set_id("a city"); }),
      CityProbe("city id too long", ia, [](auto* c) { c->set_id(std::string(65, 'a')); }),
      CityProbe("country XX", ia, [](auto* c) { c->set_country("XX"); }),
      CityProbe("no region", ia, [](auto* c) { c->set_region(v1::REGION_UNSPECIFIED); }),
      CityProbe("negative population", ia, [](auto* c) { c->set_population(-5); }),
      CityProbe("empty name", ia, [](auto* c) { c->set_name(""); }),
      CityProbe("3-letter language", ia, [](auto* c) { c->add_languages("eng"); }),
      CityProbe("joined before the GNLC", ia, [](auto* c) { c->set_joined_year(1999); }),
      CityProbe("read token writes", grpc::StatusCode::PERMISSION_DENIED, [](auto*) {},
                Token::kRead),
      CityProbe("no token writes", grpc::StatusCode::UNAUTHENTICATED, [](auto*) {}, Token::kNone),
      // PutCase
      CaseProbe("unknown city", nf, [](auto* c) { c->set_city_id("atlantis"); }),
      CaseProbe("sdg 0", ia, [](auto* c) { c->add_sdgs(0); }),
      CaseProbe("no themes", ia, [](auto* c) { c->clear_themes(); }),
      CaseProbe("theme 42", ia, [](auto* c) { c->add_themes(static_cast<v1::Theme>(42)); }),
      CaseProbe("kind unset", ia, [](auto* c) { c->set_kind(v1::CASE_KIND_UNSPECIFIED); }),
      CaseProbe("kind 9", ia, [](auto* c) { c->set_kind(static_cast<v1::CaseKind>(9)); }),
      CaseProbe("outcome on a challenge", ia,
                [](auto* c) {
                  c->set_kind(v1::CASE_KIND_CHALLENGE);
                  c->set_outcome("it worked");
                }),
      CaseProbe("description over 16 KiB", ia,
                [](auto* c) { c->set_description(std::string(16385, 'd')); }),
      CaseProbe("33 tags", ia,
                [](auto* c) {
                  for (int i = 0; i < 33; ++i) c->add_tags("t");
                }),
      CaseProbe("whitespace title", ia, [](auto* c) { c->set_title(" \n\t "); }),
      CaseProbe("read token writes a case", grpc::StatusCode::PERMISSION_DENIED, [](auto*) {},
                Token::kRead),
      // Reads and deletes of unknown or malformed ids
      {"get city without id", ia,
       [](auto& stub) {
         v1::City c;
         return stub.GetCity(Context(Token::kRead).get(), v1::GetCityRequest(), &c);
       }},
      {"get unknown city", nf,
       [](auto& stub) {
         v1::GetCityRequest r;
         r.set_id("atlantis");
         v1::City c;
         return stub.GetCity(Context(Token::kRead).get(), r, &c);
       }},
      {"delete unknown case", nf,
       [](auto& stub) {
         v1::DeleteCaseRequest r;
         r.set_id("no-such-case");
         v1::DeleteCaseResponse out;
         return stub.DeleteCase(Context(Token::kWrite).get(), r, &out);
       }},
      {"delete city with cases, no cascade", grpc::StatusCode::FAILED_PRECONDITION,
       [](auto& stub) {
         v1::DeleteCityRequest r;
         r.set_id("fermo");
         v1::DeleteCityResponse out;
         return stub.DeleteCity(Context(Token::kWrite).get(), r, &out);
       }},
      {"cascade delete with a read token", grpc::StatusCode::PERMISSION_DENIED,
       [](auto& stub) {
         v1::DeleteCityRequest r;
         r.set_id("fermo");
         r.set_cascade(true);
         v1::DeleteCityResponse out;
         return stub.DeleteCity(Context(Token::kRead).get(), r, &out);
       }},
      {"page size 1001", ia,
       [](auto& stub) {
         v1::ListCitiesRequest r;
         r.set_page_size(1001);
         v1::ListCitiesResponse out;
         return stub.ListCities(Context(Token::kRead).get(), r, &out);
       }},
      {"list cases with a garbage token", ia,
       [](auto& stub) {
         v1::ListCasesRequest r;
         r.set_page_token(std::string(600, 'A'));
         v1::ListCasesResponse out;
         return stub.ListCases(Context(Token::kRead).get(), r, &out);
       }},
      {"list cases of kind 9", ia,
       [](auto& stub) {
         v1::ListCasesRequest r;
         r.set_kind(static_cast<v1::CaseKind>(9));
         v1::ListCasesResponse out;
         return stub.ListCases(Context(Token::kRead).get(), r, &out);
       }},
      {"import with a read token", grpc::StatusCode::PERMISSION_DENIED,
       [](auto& stub) {
         auto ctx = Context(Token::kRead);
         v1::ImportSummary summary;
         auto writer = stub.ImportRecords(ctx.get(), &summary);
         v1::ImportRecord r;
         *r.mutable_city() = GoodCity();
         writer->Write(r);
         writer->WritesDone();
         return writer->Finish();
       }},
      {"import of bad records only (each rejected, stream OK)", grpc::StatusCode::OK,
       [](auto& stub) {
         auto ctx = Context(Token::kWrite);
         v1::ImportSummary summary;
         auto writer = stub.ImportRecords(ctx.get(), &summary);
         v1::ImportRecord empty, bad_city, bad_case;
         *bad_city.mutable_city() = GoodCity();
         bad_city.mutable_city()->set_country("ZZ");
         *bad_case.mutable_case_() = GoodCase();
         bad_case.mutable_case_()->add_sdgs(99);
         for (const auto* r : {&empty, &bad_city, &bad_case}) writer->Write(*r);
         writer->WritesDone();
         grpc::Status s = writer->Finish();
         EXPECT_EQ(summary.errors_size(), 3);
         return s;
       }},
      {"oversize message (5 MiB)", grpc::StatusCode::RESOURCE_EXHAUSTED,
       [](auto& stub) {
         v1::MatchRequest r;
         r.set_text(std::string(5 << 20, 'x'));
         v1::MatchResponse out;
         return stub.Match(Context(Token::kRead).get(), r, &out);
       }},
  };
  // Bytes no client library would send. Match and SimilarCases parse their
  // own requests (they are raw methods, for the reply cache) and answer
  // INVALID_ARGUMENT; for the other methods gRPC 1.51's callback server
  // answers UNIMPLEMENTED before any handler runs (observed here; the C++
  // library chooses that code, not peermatch).
  auto channel = server.channel();
  probes.push_back({"garbage bytes to Match", grpc::StatusCode::INVALID_ARGUMENT, [channel](auto&) {
                      return SendRaw(channel, "/peermatch.v1.Peermatch/Match",
                                     std::string("\xff\xff\xff\xff\x0f garbage", 10));
                    }});
  probes.push_back({"garbage bytes to PutCity", grpc::StatusCode::UNIMPLEMENTED, [channel](auto&) {
                      return SendRaw(channel, "/peermatch.v1.Peermatch/PutCity",
                                     std::string("\x0a\xff\xff\xff\xff\x01", 6));
                    }});
  probes.push_back({"invalid UTF-8 in a string field", grpc::StatusCode::INVALID_ARGUMENT,
                    [channel, invalid_utf8](auto&) {
                      // Field 1 (text), length-delimited, invalid UTF-8 payload.
                      std::string bytes = "\x0a";
                      bytes.push_back(static_cast<char>(invalid_utf8.size()));
                      bytes += invalid_utf8;
                      return SendRaw(channel, "/peermatch.v1.Peermatch/Match", bytes);
                    }});
  probes.push_back({"unknown method", grpc::StatusCode::UNIMPLEMENTED, [channel](auto&) {
                      return SendRaw(channel, "/peermatch.v1.Peermatch/DropTables", "");
                    }});

  // The raw path itself works: an empty GetStats request is valid.
  ASSERT_TRUE(SendRaw(channel, "/peermatch.v1.Peermatch/GetStats", "").ok());
  ASSERT_GE(probes.size(), 50u);
  for (const Probe& p : probes) {
    const grpc::Status s = p.call(server.stub());
    EXPECT_THAT(s, StatusIs(p.expected)) << p.name;
  }
  // Still serving, and nothing changed.
  v1::Stats stats;
  auto ctx = Context(Token::kRead);
  ASSERT_TRUE(server.stub().GetStats(ctx.get(), v1::GetStatsRequest(), &stats).ok());
  EXPECT_EQ(testing::DumpStore(server.store()), before);
}

// Lists that would make a request cost what its sender likes (a million
// filter values, a million SDGs on a stored case) are refused by their
// count, naming the field; repeats in a set are refused naming the value;
// nothing is written.
TEST(Hostile, HugeOrRepeatedListsAreRefusedNamingTheFieldAndWriteNothing) {
  TestServerOptions options;
  options.tokens = true;
  options.demo_data = true;
  TestServer server(options);
  const std::string before = testing::DumpStore(server.store());
  using ::testing::HasSubstr;

  v1::MatchRequest match;
  match.set_text("radio lessons for pupils without internet");
  for (int i = 0; i < 100000; ++i) match.mutable_filters()->add_languages("en");
  v1::MatchResponse match_resp;
  EXPECT_THAT(server.stub().Match(Context(Token::kRead).get(), match, &match_resp),
              StatusIs(grpc::StatusCode::INVALID_ARGUMENT,
                       "filters.languages: 100000 values, at most 64"));

  v1::SimilarCasesRequest similar;
  similar.set_text("radio lessons");
  for (int i = 0; i < 100000; ++i) similar.mutable_filters()->add_exclude_city_ids("fermo");
  v1::SimilarCasesResponse similar_resp;
  EXPECT_THAT(server.stub().SimilarCases(Context(Token::kRead).get(), similar, &similar_resp),
              StatusIs(grpc::StatusCode::INVALID_ARGUMENT,
                       "filters.exclude_city_ids: 100000 values, at most 256"));

  v1::PairCitiesRequest pair;
  for (int i = 0; i < 100000; ++i) pair.add_city_ids("fermo");
  auto pair_ctx = Context(Token::kRead);
  auto reader = server.stub().PairCities(pair_ctx.get(), pair);
  v1::PairCitiesResponse pair_msg;
  while (reader->Read(&pair_msg)) EXPECT_FALSE(pair_msg.has_summary());
  EXPECT_THAT(reader->Finish(), StatusIs(grpc::StatusCode::INVALID_ARGUMENT,
                                         "city_ids: 100000 values, at most 5000"));

  v1::PutCaseRequest put;
  *put.mutable_case_() = GoodCase();
  for (int i = 0; i < 1000000; ++i) put.mutable_case_()->add_sdgs(4);
  v1::PutCaseResponse put_resp;
  EXPECT_THAT(server.stub().PutCase(Context(Token::kWrite).get(), put, &put_resp),
              StatusIs(grpc::StatusCode::INVALID_ARGUMENT,
                       "case.sdgs: 1000000 values, at most 17"));
  put.mutable_case_()->clear_sdgs();
  for (int sdg : {4, 11, 4}) put.mutable_case_()->add_sdgs(sdg);
  EXPECT_THAT(server.stub().PutCase(Context(Token::kWrite).get(), put, &put_resp),
              StatusIs(grpc::StatusCode::INVALID_ARGUMENT,
                       "case.sdgs[2]: 4 is given twice (also case.sdgs[0])"));
  // The same case through the import stream: reported, not written.
  auto import_ctx = Context(Token::kWrite);
  v1::ImportSummary summary;
  auto writer = server.stub().ImportRecords(import_ctx.get(), &summary);
  v1::ImportRecord record;
  *record.mutable_case_() = put.case_();
  ASSERT_TRUE(writer->Write(record));
  writer->WritesDone();
  ASSERT_TRUE(writer->Finish().ok());
  EXPECT_EQ(summary.cases_written(), 0);
  ASSERT_EQ(summary.errors_size(), 1);
  EXPECT_THAT(summary.errors(0).message(), HasSubstr("case.sdgs[2]: 4 is given twice"));

  EXPECT_EQ(testing::DumpStore(server.store()), before);
}

}  // namespace
}  // namespace peermatch
