// StatusIs: a GoogleTest matcher for absl::Status and absl::StatusOr<T>, and
// for grpc::Status, after Abseil's own (absl/status/status_matchers.h, not
// in Debian 12's Abseil).
//
//   EXPECT_THAT(store->GetCase("x"), StatusIs(absl::StatusCode::kNotFound));
//   EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument,
//                           ::testing::HasSubstr("case.sdgs[1]")));
//   EXPECT_THAT(grpc_status, StatusIs(grpc::StatusCode::RESOURCE_EXHAUSTED));
//
// On failure it prints the code and the message it got.
#ifndef PEERMATCH_TESTS_TESTING_STATUS_MATCHERS_H_
#define PEERMATCH_TESTS_TESTING_STATUS_MATCHERS_H_

#include <string>

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

}  // namespace internal

MATCHER_P2(StatusIsMatcher, code, message_matcher, "") {
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

}  // namespace peermatch::testing

#endif  // PEERMATCH_TESTS_TESTING_STATUS_MATCHERS_H_
