// ImportRecords over real gRPC on loopback, into real RocksDB: the default
// stream (each record on its own), dry runs and all-or-nothing batches.
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_server.h"

namespace peermatch {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::DumpStore;
using testing::StatusIs;
using testing::TestServer;
using testing::TestServerOptions;

v1::ImportRecord Record(const std::string& json) {
  v1::ImportRecord r;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &r).ok()) << json;
  return r;
}

const char kTown[] =
    R"({"city": {"id": "example-town", "name": "Example Town", "country": "IT",
        "region": "REGION_EUROPE_NORTH_AMERICA"}})";
const char kRadio[] =
    R"({"case": {"id": "example-town-radio", "cityId": "example-town",
        "kind": "CASE_KIND_SOLUTION", "title": "Radio lessons",
        "description": "Lessons for pupils on the local radio station",
        "themes": ["THEME_LEARNING_TECHNOLOGIES"]}})";
const char kBadSdg[] =
    R"({"case": {"id": "example-town-bad", "cityId": "example-town",
        "kind": "CASE_KIND_SOLUTION", "title": "Bad", "description": "An SDG that is not one",
        "themes": ["THEME_WORKPLACE"], "sdgs": [18]}})";
const char kNowhere[] =
    R"({"case": {"id": "atlantis-radio", "cityId": "atlantis", "kind": "CASE_KIND_SOLUTION",
        "title": "Radio", "description": "A case of a city nobody put",
        "themes": ["THEME_WORKPLACE"]}})";
// A stored city, and the same changed: the import would update it.
const char kFermo[] =
    R"({"city": {"id": "fermo", "name": "Fermo", "country": "IT",
        "region": "REGION_EUROPE_NORTH_AMERICA"}})";
const char kFermoCase[] =
    R"({"case": {"id": "fermo-radio", "cityId": "fermo", "kind": "CASE_KIND_SOLUTION",
        "title": "Lessons on local radio", "description": "Teachers read lessons on the radio",
        "themes": ["THEME_LEARNING_TECHNOLOGIES"]}})";
const char kFermoChanged[] =
    R"({"city": {"id": "fermo", "name": "Fermo renamed", "country": "IT",
        "region": "REGION_EUROPE_NORTH_AMERICA"}})";

struct Sent {
  grpc::Status status;
  v1::ImportSummary summary;
};

// One ImportRecords stream: `options` first when given, then `records`.
Sent Import(TestServer& server, const std::vector<v1::ImportRecord>& records,
            const v1::ImportOptions* options = nullptr) {
  grpc::ClientContext ctx;
  Sent out;
  auto writer = server.stub().ImportRecords(&ctx, &out.summary);
  if (options != nullptr) {
    v1::ImportRecord first;
    *first.mutable_options() = *options;
    EXPECT_TRUE(writer->Write(first));
  }
  for (const auto& r : records) {
    if (!writer->Write(r)) break;
  }
  writer->WritesDone();
  out.status = writer->Finish();
  return out;
}

std::vector<std::string> Errors(const v1::ImportSummary& s) {
  std::vector<std::string> out;
  for (const auto& e : s.errors()) {
    out.push_back(absl::StrCat(e.index(), " ", e.id(), " ", e.code(), ": ", e.message()));
  }
  return out;
}

v1::ImportOptions DryRun() {
  v1::ImportOptions o;
  o.set_dry_run(true);
  return o;
}

v1::ImportOptions AllOrNothing() {
  v1::ImportOptions o;
  o.set_all_or_nothing(true);
  return o;
}

TEST(Import, DryRunReportsWhatWouldBeWrittenAndEveryErrorAndWritesNothing) {
  TestServer server;
  ASSERT_TRUE(Import(server, {Record(kFermo), Record(kFermoCase)}).status.ok());
  const std::string before = DumpStore(server.store());
  const v1::ImportOptions dry = DryRun();
  // The case's city comes earlier in the same import: a dry run accepts it,
  // as the import would; the unknown city's case is NOT_FOUND.
  Sent sent = Import(server,
                     {Record(kTown), Record(kRadio), Record(kBadSdg), Record(kNowhere),
                      Record(kFermoChanged), v1::ImportRecord()},
                     &dry);
  ASSERT_TRUE(sent.status.ok()) << sent.status.error_message();
  EXPECT_TRUE(sent.summary.dry_run());
  EXPECT_EQ(sent.summary.cities_written(), 2);  // example-town, fermo
  EXPECT_EQ(sent.summary.cases_written(), 1);
  EXPECT_THAT(Errors(sent.summary),
              ElementsAre("2 example-town-bad INVALID_ARGUMENT: case.sdgs[0]: 18 is outside 1-17",
                          HasSubstr("3 atlantis-radio NOT_FOUND: case.city_id: no city with id "
                                    "\"atlantis\""),
                          "5  INVALID_ARGUMENT: record: holds neither a city nor a case"));
  EXPECT_EQ(DumpStore(server.store()), before);
  v1::GetCityRequest get;
  get.set_id("example-town");
  v1::City city;
  grpc::ClientContext ctx;
  EXPECT_EQ(server.stub().GetCity(&ctx, get, &city).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST(Import, DryRunOfUnchangedRecordsCountsThemUnchanged) {
  TestServer server;
  ASSERT_TRUE(Import(server, {Record(kTown), Record(kRadio)}).status.ok());
  const v1::ImportOptions dry = DryRun();
  Sent sent = Import(server, {Record(kTown), Record(kRadio)}, &dry);
  ASSERT_TRUE(sent.status.ok());
  EXPECT_EQ(sent.summary.unchanged(), 2);
  EXPECT_EQ(sent.summary.cities_written() + sent.summary.cases_written(), 0);
}

TEST(Import, AllOrNothingWithOneBadRecordWritesNothing) {
  TestServer server;
  ASSERT_TRUE(Import(server, {Record(kFermo), Record(kFermoCase)}).status.ok());
  const std::string before = DumpStore(server.store());
  const v1::ImportOptions batch = AllOrNothing();
  Sent sent =
      Import(server, {Record(kTown), Record(kRadio), Record(kFermoChanged), Record(kBadSdg)}, &batch);
  ASSERT_TRUE(sent.status.ok()) << sent.status.error_message();
  EXPECT_FALSE(sent.summary.dry_run());
  EXPECT_EQ(sent.summary.cities_written(), 0);
  EXPECT_EQ(sent.summary.cases_written(), 0);
  EXPECT_THAT(Errors(sent.summary),
              ElementsAre("3 example-town-bad INVALID_ARGUMENT: case.sdgs[0]: 18 is outside 1-17"));
  EXPECT_EQ(DumpStore(server.store()), before);
  EXPECT_THAT(server.store().GetCity("example-town"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(server.store().GetCity("fermo")->name(), "Fermo");
}

// A message that is not an ImportRecord (here a title that is not UTF-8,
// which the C++ client still serializes) used to end the stream as if the
// client had closed it: the records after it were dropped and the call
// answered OK with an empty summary.
TEST(Import, AMessageThatDoesNotParseIsABadRecordAndTheStreamGoesOn) {
  TestServer server;
  v1::ImportRecord unparsable = Record(kRadio);
  unparsable.mutable_case_()->set_id("example-town-latin1");
  unparsable.mutable_case_()->set_title("Caf\xe9 lessons");  // Latin-1, not UTF-8
  Sent sent = Import(server, {Record(kTown), unparsable, Record(kRadio)});
  ASSERT_TRUE(sent.status.ok()) << sent.status.error_message();
  EXPECT_EQ(sent.summary.cities_written(), 1);
  EXPECT_EQ(sent.summary.cases_written(), 1);
  ASSERT_EQ(sent.summary.errors_size(), 1);
  EXPECT_EQ(sent.summary.errors(0).index(), 1);
  EXPECT_EQ(sent.summary.errors(0).code(), "INVALID_ARGUMENT");
  EXPECT_THAT(sent.summary.errors(0).message(), HasSubstr("do not parse as peermatch.v1.ImportRecord"));
  EXPECT_TRUE(server.store().GetCase("example-town-radio").ok());
  EXPECT_THAT(server.store().GetCase("example-town-latin1"), StatusIs(absl::StatusCode::kNotFound));

  // All or nothing: the same stream writes nothing, and says why.
  TestServer batch_server;
  const std::string before = DumpStore(batch_server.store());
  const v1::ImportOptions batch = AllOrNothing();
  Sent held = Import(batch_server, {Record(kTown), unparsable, Record(kRadio)}, &batch);
  ASSERT_TRUE(held.status.ok()) << held.status.error_message();
  EXPECT_EQ(held.summary.cities_written(), 0);
  EXPECT_EQ(held.summary.cases_written(), 0);
  ASSERT_EQ(held.summary.errors_size(), 1);
  EXPECT_EQ(held.summary.errors(0).index(), 1);
  EXPECT_EQ(DumpStore(batch_server.store()), before);
}

TEST(Import, AllOrNothingGoodBatchWritesEveryRecordAndMakesThemMatchable) {
  TestServer server;
  ASSERT_TRUE(Import(server, {Record(kFermo), Record(kFermoCase)}).status.ok());
  const v1::ImportOptions batch = AllOrNothing();
  Sent sent = Import(server, {Record(kTown), Record(kRadio), Record(kFermoChanged)}, &batch);
  ASSERT_TRUE(sent.status.ok()) << sent.status.error_message();
  EXPECT_THAT(Errors(sent.summary), ElementsAre());
  EXPECT_EQ(sent.summary.cities_written(), 2);
  EXPECT_EQ(sent.summary.cases_written(), 1);
  EXPECT_TRUE(server.store().GetCity("example-town").ok());
  EXPECT_TRUE(server.store().GetCase("example-town-radio").ok());
  EXPECT_EQ(server.store().GetCity("fermo")->name(), "Fermo renamed");
  // Visible to queries once the call returns.
  v1::SimilarCasesRequest req;
  req.set_text("lessons for pupils on the local radio station");
  req.set_k(1);
  v1::SimilarCasesResponse resp;
  grpc::ClientContext ctx;
  ASSERT_TRUE(server.stub().SimilarCases(&ctx, req, &resp).ok());
  ASSERT_GE(resp.cases_size(), 1);
  EXPECT_EQ(resp.cases(0).case_().id(), "example-town-radio");
  // Again: every record unchanged, nothing written.
  sent = Import(server, {Record(kTown), Record(kRadio), Record(kFermoChanged)}, &batch);
  EXPECT_EQ(sent.summary.unchanged(), 3);
}

TEST(Import, OptionsAreAcceptedOnlyAsTheFirstMessage) {
  TestServer server;
  v1::ImportRecord late;
  late.mutable_options()->set_dry_run(true);
  Sent sent = Import(server, {Record(kTown), late, Record(kRadio)});
  ASSERT_TRUE(sent.status.ok());
  EXPECT_THAT(Errors(sent.summary),
              ElementsAre("1  INVALID_ARGUMENT: options: import options are allowed only as the "
                          "first message of a stream"));
  // Not a dry run: the records around it are written.
  EXPECT_FALSE(sent.summary.dry_run());
  EXPECT_EQ(sent.summary.cities_written(), 1);
  EXPECT_EQ(sent.summary.cases_written(), 1);
}

TEST(Import, AHeldStreamOverItsByteLimitIsRefusedAndWritesNothing) {
  TestServer server;
  ASSERT_TRUE(Import(server, {Record(kFermo)}).status.ok());
  const std::string before = DumpStore(server.store());
  // Cases of 16 KiB (the most a description may hold): just over the limit.
  std::vector<v1::ImportRecord> records;
  const size_t n = kMaxImportBatchBytes / (16 << 10) + 8;
  for (size_t i = 0; i < n; ++i) {
    v1::ImportRecord r = Record(kFermoCase);
    r.mutable_case_()->set_id("fermo-" + std::to_string(i));
    r.mutable_case_()->set_description(std::string(16 << 10, 'a'));
    records.push_back(std::move(r));
  }
  const v1::ImportOptions batch = AllOrNothing();
  Sent sent = Import(server, records, &batch);
  EXPECT_EQ(sent.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(sent.status.error_message(), HasSubstr("64 MiB a dry run or an all-or-nothing "
                                                     "import holds; nothing was written"));
  EXPECT_EQ(DumpStore(server.store()), before);
}

// Issue 16: the default stream is group-committed (256 records a group); a
// bad record in the middle of a group is reported with its index and the
// store holds exactly the good records, across group boundaries, each
// matchable when the reply comes.
TEST(Import, AStreamWithBadRecordsInsideItsGroupsStoresExactlyTheGoodOnes) {
  TestServer server;
  std::vector<v1::ImportRecord> records = {Record(kTown)};
  std::set<std::string> good;
  for (int i = 1; i <= 600; ++i) {
    v1::ImportRecord r = Record(kRadio);
    r.mutable_case_()->set_id(absl::StrCat("example-town-radio-", i));
    r.mutable_case_()->set_description(absl::StrCat("Lessons on the radio, programme number ", i));
    if (i == 600) r.mutable_case_()->set_description("Lessons on the radio by a zither orchestra");
    if (i == 150 || i == 256 || i == 257 || i == 599) r.mutable_case_()->add_sdgs(18);
    else good.insert(r.case_().id());
    records.push_back(std::move(r));
  }
  Sent sent = Import(server, records);
  ASSERT_TRUE(sent.status.ok()) << sent.status.error_message();
  EXPECT_EQ(sent.summary.cities_written(), 1);
  EXPECT_EQ(sent.summary.cases_written(), 596);
  std::vector<int> bad;
  for (const auto& e : sent.summary.errors()) {
    bad.push_back(e.index());
    EXPECT_EQ(e.code(), "INVALID_ARGUMENT");
    EXPECT_THAT(e.message(), HasSubstr("sdgs"));
    EXPECT_EQ(e.id(), absl::StrCat("example-town-radio-", e.index()));
  }
  EXPECT_THAT(bad, ElementsAre(150, 256, 257, 599));
  std::set<std::string> stored;
  ASSERT_TRUE(server.store().ForEachCase([&](const v1::Case& c) {
    stored.insert(c.id());
    return absl::OkStatus();
  }).ok());
  EXPECT_EQ(stored, good);
  // Matchable once the reply came: the last good case, which ended the stream
  // in a group of its own.
  v1::SimilarCasesRequest req;
  req.set_text("a zither orchestra");
  req.set_k(3);
  v1::SimilarCasesResponse resp;
  grpc::ClientContext ctx;
  ASSERT_TRUE(server.stub().SimilarCases(&ctx, req, &resp).ok());
  bool found = false;
  for (const auto& c : resp.cases()) found |= c.case_().id() == "example-town-radio-600";
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace peermatch
