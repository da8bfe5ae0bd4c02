// Analyzer: text -> index terms. The one text pipeline used for cases,
// queries and evaluation alike.
//
// Steps: Unicode NFKC normalization with case folding (ICU), word
// segmentation (ICU's word BreakIterator, which also segments Chinese,
// Japanese and Thai with its dictionaries), then per word:
// - numbers are kept, with thousands separators removed ("1,000" -> "1000");
// - letter words are normalized for their language (Arabic: harakat and
//   tatweel removed, alef forms and ى unified; Russian: ё -> е), French and
//   Italian elisions are split off ("l'école" -> "école"), then the word is
//   dropped when it is a stopword of the language (full lists for en fr es
//   pt de it ru ar zh ko), otherwise stemmed with the language's Snowball
//   stemmer (libstemmer) when it has one (single letters stay: "vitamin d",
//   "hepatitis b"); Korean words lose their particles and commonest endings
//   instead ("학교에서" -> "학교");
// - a language with no stemmer and no list (Swahili, or "") gets
//   language-neutral analysis: segmented and case-folded only, never
//   another language's rules;
// - ideographic and kana words are kept as segmented, unstemmed;
// - a hyphenated compound ("covid-19", "state-of-the-art") yields its parts
//   and, when `join_compounds`, after them the joined form ("covid19",
//   "stateoftheart"), itself stemmed.
//
// ASCII text takes a fast path that gives exactly ICU's words without ICU
// (tested against ICU on random strings); text with other characters goes
// through ICU piece by piece, each piece between ASCII spaces that has one.
//
// Thread-safety: all methods are safe to call concurrently; ICU and Snowball
// objects, and a bounded cache of each language's stems and stopwords (at
// most 2^17 words per language, 4 languages per thread), are per thread.
#ifndef PEERMATCH_TEXT_ANALYZER_H_
#define PEERMATCH_TEXT_ANALYZER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"

namespace peermatch {

struct AnalyzerOptions {
  // Also index "covid19" for "covid-19" (the parts are always indexed).
  bool join_compounds = true;
  // Drop the language's stopwords.
  bool remove_stopwords = true;
  // Apply the language's Snowball stemmer.
  bool stem = true;
  // Segment ASCII without ICU (same words, faster). Off only to compare.
  bool ascii_fast_path = true;
};

// One index term and the word it came from (for explanations).
struct Token {
  std::string term;     // normalized, stemmed
  std::string surface;  // the case-folded word before stemming
  // The joined form of a hyphenated compound ("homelearning" of
  // "home-learning"): its surface is the parts run together, not a word the
  // text wrote (the parts are tokens of their own).
  bool compound = false;
};

// Names a letter word's surface form within the calling thread, for callers
// that keep per-word data: within one `space` (one language's word cache of
// this thread, until the cache is cleared), equal `index` means equal
// surface form and term. Numbers carry no reference (index kNone).
struct WordRef {
  static constexpr uint32_t kNone = UINT32_MAX;
  uint64_t space = 0;
  uint32_t index = kNone;
  bool compound = false;  // the term is a compound's joined form (Token::compound)
};

// True when `word` (case-folded, as Token::surface) is a function word of
// any language the analyzer has stopwords for: a stopword of any of its
// lists, or a further function word the lists leave out (French "pendant",
// "plus"). For explanations, whose shared terms must be words a reader
// would call evidence; analysis drops only the text's own language's
// stopwords, so this never changes a score.
bool IsFunctionWordOfAnyLanguage(absl::string_view word);

// `word` (case-folded, as Token::surface) with its language's spelling
// normalization and nothing else (Arabic: harakat and tatweel removed, alef
// forms and ى unified; Russian: ё -> е; other languages: unchanged), as the
// Analyzer applies it before stopwords and stemming. For callers that
// compare words across spellings (translate/: lexicon keys and lookups).
std::string NormalizedWord(absl::string_view language, absl::string_view word);

// The version of the analysis rules: changed whenever a text's terms may
// change (lists, normalization, stemming), so that a stored model fitted
// with other rules is refitted and every case re-embedded.
// 2: issue 13 (full stopword lists for ten languages, per-language
// normalization, no English rules for other languages).
inline constexpr uint32_t kAnalyzerVersion = 2;

class Analyzer {
 public:
  explicit Analyzer(const AnalyzerOptions& options = {}) : options_(options) {}

  // Terms of `text` in order of appearance. `language` is an ISO 639-1 code;
  // empty or one without rules means language-neutral analysis (no
  // stopwords, no stemming; every script is still segmented). Choose it with
  // ResolveLanguage (language.h) when the text does not state it.
  std::vector<Token> Analyze(absl::string_view text, absl::string_view language) const;
  // Only the terms.
  std::vector<std::string> Terms(absl::string_view text, absl::string_view language) const;

  // Calls emit(term, surface, word) for each term of `text`, in order,
  // without copying: the views are valid only during the call. The hot path.
  using Emit = absl::FunctionRef<void(absl::string_view term, absl::string_view surface,
                                      WordRef word)>;
  void Scan(absl::string_view text, absl::string_view language, const Emit& emit) const;

 private:
  AnalyzerOptions options_;
};

}  // namespace peermatch

#endif  // PEERMATCH_TEXT_ANALYZER_H_
