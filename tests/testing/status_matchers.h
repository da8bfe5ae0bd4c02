// StatusIs: a GoogleTest matcher for absl::Status and absl::StatusOr<T>, and
// for grpc::Status, after Abseil's own (absl/status/status_matchers.h, not
// in Debian 12's Abseil).
//
//   EXPECT_THAT(store->GetCase("x"), StatusIs(absl::StatusCode::kNotFound));
//   EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument,
//                           ::testing::HasSubstr("case.sdgs[1]")));
//   EXPECT_THAT(grpc_status, StatusIs(grpc::StatusCode::RESOURCE_EXHAUSTED));
//   EXPECT_THAT(store->DeleteCase("x"), IsOk());
//
// On failure they print the code and the message they got.
#ifndef PEERMATCH_TESTS_TESTING_STATUS_MATCHERS_H_
#define PEERMATCH_TESTS_TESTING_STATUS_MATCHERS_H_

#include <string>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"

namespace peermatch::testing {
namespace internal {

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

// grpc::Status has error_code(); absl::Status and StatusOr do not. (Detected
// rather than named, so that this header needs no gRPC.)
template <typename T, typename = void>
struct IsGrpcStatus : std::false_type {};
template <typename T>
struct IsGrpcStatus<T, std::void_t<decltype(std::declval<const T&>().error_code())>>
    : std::true_type {};

}  // namespace internal

MATCHER_P2(StatusIsMatcher, code, message_matcher,
           std::string(negation ? "does not have" : "has") + " code " +
               ::testing::PrintToString(code) + " and a message that " +
               ::testing::DescribeMatcher<std::string>(message_matcher)) {
  if constexpr (std::is_enum_v<std::decay_t<decltype(code)>> &&
                !std::is_same_v<std::decay_t<decltype(code)>, absl::StatusCode>) {
    // grpc::StatusCode against a grpc::Status.
    *result_listener << "code " << static_cast<int>(arg.error_code()) << ": "
                     << arg.error_message();
    return arg.error_code() == code &&
           ::testing::Matches(message_matcher)(std::string(arg.error_message()));
  } else {
    const absl::Status& s = internal::GetStatus(arg);
    *result_listener << s;
    return s.code() == code && ::testing::Matches(message_matcher)(std::string(s.message()));
  }
}

// The status has this code (and a message the second matcher accepts).
template <typename Code>
auto StatusIs(Code code) {
  return StatusIsMatcher(code, ::testing::_);
}
template <typename Code, typename MessageMatcher>
auto StatusIs(Code code, MessageMatcher message) {
  return StatusIsMatcher(code, ::testing::MatcherCast<std::string>(message));
}

// The status (of a Status, a StatusOr<T> or a grpc::Status) is OK.
MATCHER(IsOk, negation ? "is not OK" : "is OK") {
  if constexpr (internal::IsGrpcStatus<std::decay_t<arg_type>>::value) {
    *result_listener << "code " << static_cast<int>(arg.error_code()) << ": "
                     << arg.error_message();
    return arg.ok();
  } else {
    const absl::Status& s = internal::GetStatus(arg);
    *result_listener << s;
    return s.ok();
  }
}

}  // namespace peermatch::testing

#endif  // PEERMATCH_TESTS_TESTING_STATUS_MATCHERS_H_
