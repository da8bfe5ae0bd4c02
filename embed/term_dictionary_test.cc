#include "embed/term_dictionary.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace peermatch {
namespace {

using ::testing::ElementsAre;

TEST(TermDictionary, InternAllGivesNewTermsIdsInOrderAsInternWould) {
  TermDictionary d;
  EXPECT_EQ(d.Intern("radio"), 0u);
  std::vector<absl::string_view> terms = {"tablet", "radio", "school", "tablet"};
  std::vector<uint32_t> ids(terms.size());
  d.InternAll(terms, ids.data());
  EXPECT_THAT(ids, ElementsAre(1u, 0u, 2u, 1u));
  EXPECT_EQ(d.size(), 3u);
  EXPECT_EQ(d.Term(2), "school");
}

TEST(TermDictionary, FindAllMarksUnknownTermsAndAddsNothing) {
  TermDictionary d;
  d.Intern("radio");
  d.Intern("school");
  std::vector<absl::string_view> terms = {"school", "pupil", "radio"};
  std::vector<uint32_t> ids(terms.size());
  d.FindAll(terms, ids.data());
  EXPECT_THAT(ids, ElementsAre(1u, TermDictionary::kUnknown, 0u));
  EXPECT_EQ(d.size(), 2u);
  EXPECT_EQ(d.Find("pupil"), -1);
}

}  // namespace
}  // namespace peermatch
