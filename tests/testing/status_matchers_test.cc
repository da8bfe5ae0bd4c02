#include "tests/testing/status_matchers.h"

#include <string>

#include <grpcpp/support/status.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace peermatch {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::IsOk;
using testing::StatusIs;

// What a matcher says about `value` when it is explained, as EXPECT_THAT does.
template <typename M, typename T>
std::string Explain(const M& matcher, const T& value) {
  ::testing::StringMatchResultListener listener;
  ::testing::ExplainMatchResult(matcher, value, &listener);
  return listener.str();
}

TEST(StatusIs, MatchesTheCodeOfAStatus) {
  const absl::Status s = absl::NotFoundError("no case with id \"x\"");
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(s, Not(StatusIs(absl::StatusCode::kInvalidArgument)));
  EXPECT_THAT(absl::OkStatus(), Not(StatusIs(absl::StatusCode::kNotFound)));
}

TEST(StatusIs, MatchesTheCodeAndTheMessage) {
  const absl::Status s = absl::InvalidArgumentError("case.sdgs[1]: 18 is not an SDG");
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("case.sdgs[1]")));
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument, "case.sdgs[1]: 18 is not an SDG"));
  EXPECT_THAT(s, Not(StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("case.themes"))));
  EXPECT_THAT(s, Not(StatusIs(absl::StatusCode::kNotFound, HasSubstr("case.sdgs[1]"))));
}

TEST(StatusIs, MatchesTheStatusOfAStatusOr) {
  const absl::StatusOr<int> failed = absl::UnavailableError("locked");
  EXPECT_THAT(failed, StatusIs(absl::StatusCode::kUnavailable, "locked"));
  EXPECT_THAT(absl::StatusOr<int>(7), Not(StatusIs(absl::StatusCode::kUnavailable)));
  EXPECT_THAT(absl::StatusOr<int>(7), StatusIs(absl::StatusCode::kOk));
}

TEST(StatusIs, MatchesAGrpcStatus) {
  const grpc::Status s(grpc::StatusCode::RESOURCE_EXHAUSTED, "busy: retry later");
  EXPECT_THAT(s, StatusIs(grpc::StatusCode::RESOURCE_EXHAUSTED));
  EXPECT_THAT(s, StatusIs(grpc::StatusCode::RESOURCE_EXHAUSTED, HasSubstr("retry later")));
  EXPECT_THAT(s, Not(StatusIs(grpc::StatusCode::RESOURCE_EXHAUSTED, HasSubstr("never"))));
  EXPECT_THAT(s, Not(StatusIs(grpc::StatusCode::UNAVAILABLE)));
  EXPECT_THAT(grpc::Status::OK, StatusIs(grpc::StatusCode::OK));
}

TEST(StatusIs, DescribesWhatItWantsAndExplainsWhatItGot) {
  const auto matcher = StatusIs(absl::StatusCode::kNotFound, HasSubstr("city"));
  EXPECT_EQ(::testing::DescribeMatcher<absl::Status>(matcher),
            "has code NOT_FOUND and a message that has substring \"city\"");
  EXPECT_EQ(::testing::DescribeMatcher<absl::Status>(matcher, /*negation=*/true),
            "does not have code NOT_FOUND and a message that has substring \"city\"");
  EXPECT_EQ(Explain(matcher, absl::InvalidArgumentError("bad id")), "INVALID_ARGUMENT: bad id");
  EXPECT_EQ(Explain(StatusIs(grpc::StatusCode::NOT_FOUND),
                    grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad id")),
            "code 3: bad id");
}

TEST(IsOk, AcceptsOnlyOk) {
  EXPECT_THAT(absl::OkStatus(), IsOk());
  EXPECT_THAT(absl::InternalError("x"), Not(IsOk()));
  EXPECT_THAT(absl::StatusOr<int>(7), IsOk());
  EXPECT_THAT(absl::StatusOr<int>(absl::DataLossError("x")), Not(IsOk()));
  EXPECT_THAT(grpc::Status::OK, IsOk());
  EXPECT_THAT(grpc::Status(grpc::StatusCode::CANCELLED, "x"), Not(IsOk()));
  EXPECT_EQ(::testing::DescribeMatcher<absl::Status>(IsOk()), "is OK");
  EXPECT_EQ(Explain(IsOk(), absl::DataLossError("torn")), "DATA_LOSS: torn");
  EXPECT_EQ(Explain(IsOk(), grpc::Status(grpc::StatusCode::CANCELLED, "gone")), "code 1: gone");
}

}  // namespace
}  // namespace peermatch
