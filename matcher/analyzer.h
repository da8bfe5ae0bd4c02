// Analyzer: text -> index terms. The one text pipeline used for cases,
// queries and evaluation alike.
//
// Steps: Unicode NFKC normalization with case folding (ICU), word
// segmentation (ICU's word BreakIterator, which also segments Chinese,
// Japanese and Thai with its dictionaries), then per word:
// - numbers are kept, with thousands separators removed ("1,000" -> "1000");
// - letters are dropped when they form a stopword of the language, otherwise
//   stemmed with the Snowball stemmer of the language (libstemmer), when it
//   has one (single letters stay: "vitamin d", "hepatitis b");
// - ideographic and kana words are kept as segmented, unstemmed;
// - a hyphenated compound ("covid-19", "state-of-the-art") yields its parts
//   and, when `join_compounds`, after them the joined form ("covid19",
//   "stateoftheart"), itself stemmed.
//
// Thread-safety: Analyze() is safe to call concurrently; ICU and Snowball
// objects are per thread.
#ifndef PEERMATCH_MATCHER_ANALYZER_H_
#define PEERMATCH_MATCHER_ANALYZER_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace peermatch {

struct AnalyzerOptions {
  // Also index "covid19" for "covid-19" (the parts are always indexed).
  bool join_compounds = true;
  // Drop the language's stopwords.
  bool remove_stopwords = true;
  // Apply the language's Snowball stemmer.
  bool stem = true;
};

// One index term and the word it came from (for explanations).
struct Token {
  std::string term;     // normalized, stemmed
  std::string surface;  // the case-folded word before stemming
};

class Analyzer {
 public:
  explicit Analyzer(const AnalyzerOptions& options = {}) : options_(options) {}

  // Terms of `text` in order of appearance. `language` is an ISO 639-1 code;
  // empty or unknown means English rules for stopwords and stemming (other
  // scripts are still segmented correctly).
  std::vector<Token> Analyze(absl::string_view text, absl::string_view language) const;
  // Only the terms.
  std::vector<std::string> Terms(absl::string_view text, absl::string_view language) const;

 private:
  AnalyzerOptions options_;
};

}  // namespace peermatch

#endif  // PEERMATCH_MATCHER_ANALYZER_H_
