// UpdateCity and UpdateCase (partial updates with a field mask) through a
// real client over loopback on the demo data: one field changes and the
// rest stay; unknown or immutable paths, invalid merges and unknown ids are
// refused with nothing written; write access is needed. (That an update is
// atomic against other writes is engine_update_test's.)
#include <string>

#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_server.h"

namespace peermatch {
namespace {

using ::testing::HasSubstr;
using testing::StatusIs;
using testing::TestServer;
using testing::TestServerOptions;

class UpdateTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    TestServerOptions options;
    options.tokens = true;
    options.demo_data = true;
    server_ = new TestServer(options);
  }
  static void TearDownTestSuite() { delete server_; }

  void SetUp() override {
    // The README's example city, not a demo city; each test starts from it.
    v1::City city = testing::City("example-town", "IT", v1::REGION_EUROPE_NORTH_AMERICA);
    city.set_name("Example Town");
    city.set_population(12000);
    city.add_languages("it");
    city.set_joined_year(2019);
    ASSERT_TRUE(server_->engine().PutCity(city).ok());
    v1::Case c = testing::Solution("example-town-radio", "example-town", "Radio lessons",
                                   "Daily radio lessons for pupils at home");
    c.add_sdgs(4);
    ASSERT_TRUE(server_->engine().PutCase(c).ok());
  }

  static std::unique_ptr<grpc::ClientContext> Context(const char* token) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    if (token != nullptr) ctx->AddMetadata("authorization", std::string("Bearer ") + token);
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return ctx;
  }
  static grpc::Status UpdateCity(const v1::UpdateCityRequest& req, v1::City* out,
                                 const char* token = testing::kWriteToken) {
    return server_->stub().UpdateCity(Context(token).get(), req, out);
  }
  static grpc::Status UpdateCase(const v1::UpdateCaseRequest& req, v1::Case* out) {
    return server_->stub().UpdateCase(Context(testing::kWriteToken).get(), req, out);
  }
  static v1::City StoredCity() { return *server_->store().GetCity("example-town"); }

  static TestServer* server_;
};
TestServer* UpdateTest::server_ = nullptr;

TEST_F(UpdateTest, UpdatingOneFieldKeepsTheOthers) {
  const v1::City before = StoredCity();
  v1::UpdateCityRequest req;
  req.mutable_city()->set_id("example-town");
  req.mutable_city()->set_population(12500);
  req.mutable_city()->set_name("ignored: not in the mask");
  req.mutable_update_mask()->add_paths("population");
  v1::City returned;
  ASSERT_TRUE(UpdateCity(req, &returned).ok());
  v1::City expected = before;
  expected.set_population(12500);
  EXPECT_EQ(returned.ShortDebugString(), expected.ShortDebugString());
  EXPECT_EQ(StoredCity().ShortDebugString(), expected.ShortDebugString());
}

TEST_F(UpdateTest, AnUpdatedCaseIsMatchedAsChanged) {
  v1::UpdateCaseRequest req;
  req.mutable_case_()->set_id("example-town-radio");
  req.mutable_case_()->set_description("Beekeeping apprenticeships with village cooperatives");
  req.mutable_case_()->add_tags("beekeeping");
  req.mutable_update_mask()->add_paths("description");
  req.mutable_update_mask()->add_paths("tags");
  v1::Case returned;
  ASSERT_TRUE(UpdateCase(req, &returned).ok());
  EXPECT_EQ(returned.title(), "Radio lessons");  // kept
  EXPECT_THAT(returned.sdgs(), ::testing::ElementsAre(4));
  EXPECT_EQ(returned.tags_size(), 1);
  v1::MatchRequest match;
  match.set_text("beekeeping apprenticeships");
  v1::MatchResponse resp;
  ASSERT_TRUE(server_->stub().Match(Context(testing::kReadToken).get(), match, &resp).ok());
  ASSERT_FALSE(resp.peers().empty());
  EXPECT_EQ(resp.peers(0).city().id(), "example-town");
}

TEST_F(UpdateTest, UnknownOrImmutablePathsAreRefusedAndNothingIsWritten) {
  const std::string before = testing::DumpStore(server_->store());
  v1::UpdateCityRequest req;
  req.mutable_city()->set_id("example-town");
  req.mutable_city()->set_name("Changed");
  req.mutable_update_mask()->add_paths("name");
  req.mutable_update_mask()->add_paths("mayor");
  v1::City out;
  EXPECT_THAT(UpdateCity(req, &out),
              StatusIs(grpc::StatusCode::INVALID_ARGUMENT,
                       "update_mask.paths[1]: \"mayor\" is not a field of City; updatable "
                       "fields: name, country, region, population, languages, joined_year, location"));
  req.mutable_update_mask()->set_paths(1, "id");
  EXPECT_THAT(UpdateCity(req, &out), StatusIs(grpc::StatusCode::INVALID_ARGUMENT,
                                              HasSubstr("\"id\" cannot change")));
  EXPECT_EQ(testing::DumpStore(server_->store()), before);
}

TEST_F(UpdateTest, AnInvalidMergedRecordIsRefusedLikeAPutAndNothingIsWritten) {
  const std::string before = testing::DumpStore(server_->store());
  v1::UpdateCaseRequest req;
  req.mutable_case_()->set_id("example-town-radio");
  req.mutable_update_mask()->add_paths("title");  // cleared: a title is required
  v1::Case out;
  EXPECT_THAT(UpdateCase(req, &out),
              StatusIs(grpc::StatusCode::INVALID_ARGUMENT, HasSubstr("case.title: is required")));
  // A challenge may not have an outcome: the merge is checked whole.
  req.mutable_case_()->set_kind(v1::CASE_KIND_CHALLENGE);
  req.mutable_case_()->set_outcome("unchanged");
  req.mutable_update_mask()->set_paths(0, "kind");
  req.mutable_update_mask()->add_paths("outcome");
  EXPECT_THAT(UpdateCase(req, &out),
              StatusIs(grpc::StatusCode::INVALID_ARGUMENT, HasSubstr("case.outcome")));
  // Moving it to a city that does not exist.
  v1::UpdateCaseRequest move;
  move.mutable_case_()->set_id("example-town-radio");
  move.mutable_case_()->set_city_id("atlantis");
  move.mutable_update_mask()->add_paths("city_id");
  EXPECT_THAT(UpdateCase(move, &out),
              StatusIs(grpc::StatusCode::NOT_FOUND, HasSubstr("case.city_id: no city")));
  EXPECT_EQ(testing::DumpStore(server_->store()), before);
}

TEST_F(UpdateTest, AMissingIdIsNotFound) {
  v1::UpdateCityRequest req;
  req.mutable_city()->set_id("no-such-town");
  req.mutable_city()->set_population(1);
  v1::City out;
  EXPECT_THAT(UpdateCity(req, &out), StatusIs(grpc::StatusCode::NOT_FOUND,
                                              "city.id: no city with id \"no-such-town\""));
  v1::UpdateCaseRequest c;
  c.mutable_case_()->set_id("no-such-case");
  c.mutable_case_()->set_year(2020);
  v1::Case out_case;
  EXPECT_THAT(UpdateCase(c, &out_case), StatusIs(grpc::StatusCode::NOT_FOUND,
                                                 "case.id: no case with id \"no-such-case\""));
}

TEST_F(UpdateTest, NeedsAWriteToken) {
  const v1::City before = StoredCity();
  v1::UpdateCityRequest req;
  req.mutable_city()->set_id("example-town");
  req.mutable_city()->set_population(1);
  v1::City out;
  EXPECT_THAT(UpdateCity(req, &out, testing::kReadToken),
              StatusIs(grpc::StatusCode::PERMISSION_DENIED));
  EXPECT_THAT(UpdateCity(req, &out, nullptr), StatusIs(grpc::StatusCode::UNAUTHENTICATED));
  EXPECT_EQ(StoredCity().ShortDebugString(), before.ShortDebugString());
}

}  // namespace
}  // namespace peermatch
