// The one place that calls Google's Compact Language Detector 2 (CLD2,
// Debian's libcld2, Apache-2.0). Private to text/: language.h is the door.
#ifndef PEERMATCH_TEXT_INTERNAL_CLD2_DETECTOR_H_
#define PEERMATCH_TEXT_INTERNAL_CLD2_DETECTOR_H_

#include <string>

#include "absl/strings/string_view.h"

namespace peermatch::text_internal {

// CLD2's answer for one text, as it gives it.
struct Cld2Answer {
  // Its top three languages (CLD2 codes: "en", "zh", "zh-Hant", "un" for
  // unknown) and the percent of the text's bytes each covers.
  std::string codes[3];
  int percents[3] = {0, 0, 0};
  // CLD2's own verdict that the top language is reliable.
  bool reliable = false;
};

// Runs CLD2 on `text` as plain text (not HTML). `best_effort` sets
// kCLDFlagBestEffort: an answer even for text too short for a reliable one.
// Invalid UTF-8 is detected on its valid prefix only. Thread-safe (CLD2
// keeps no state between calls).
Cld2Answer RunCld2(absl::string_view text, bool best_effort);

}  // namespace peermatch::text_internal

#endif  // PEERMATCH_TEXT_INTERNAL_CLD2_DETECTOR_H_
