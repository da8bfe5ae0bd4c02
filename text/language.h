// Language detection, and the choice of the language a text is analyzed in.
//
// DetectLanguage runs Google's CLD2 (83 languages) in two passes: first with
// its default settings; when that answer is not reliable (short text), again
// with its best-effort flag, which always answers for text with letters.
// When the first pass was unreliable and the answer is not one of the
// languages peermatch analyzes, the script decides: Han characters with no
// kana are Chinese, Arabic script Arabic, Cyrillic Russian (measured on
// Tatoeba's short sentences: zh 0.964 -> 0.992, ar 0.980 -> 0.998,
// ru 0.929 -> 0.964 correct).
//
//   LanguageGuess g = DetectLanguage("Les écoles ferment pendant l'hiver");
//   // g.code == "fr", g.confidence in (0, 1]
//
//   ResolvedLanguage r = ResolveLanguage(/*stated=*/"", text, /*fallback=*/"en");
//   Analyzer().Terms(text, r.analysis);
//
// Thread-safety: every function is safe to call concurrently.
#ifndef PEERMATCH_TEXT_LANGUAGE_H_
#define PEERMATCH_TEXT_LANGUAGE_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace peermatch {

// One language of a text and the share of its letters' bytes in it.
struct LanguageShare {
  std::string code;  // ISO 639-1 ("zh" for Chinese in either script)
  double share = 0;  // 0-1
};

struct LanguageGuess {
  // ISO 639-1 code of the text's main language, lower case ("zh" for
  // simplified and traditional Chinese alike); empty when the text has no
  // detectable language (no letters, digits only, or CLD2 gives up).
  std::string code;
  // How far to trust `code`, 0-1: the share of the text in that language
  // when CLD2 calls its answer reliable; half of it when only the
  // best-effort pass (or the script) answered; scaled down further for text
  // of fewer than kFullConfidenceLetters letters; 0 when `code` is empty.
  double confidence = 0;
  // The languages CLD2 found, largest share first (at most 3): a text
  // mixing English and French lists both.
  std::vector<LanguageShare> parts;
};

// Texts with at least this many letters can reach full confidence; a
// shorter one's confidence is scaled by letters / this (a single word stays
// low whatever CLD2 says).
inline constexpr int kFullConfidenceLetters = 20;

// Detection looks at most at this many bytes of a text (its start): enough
// for CLD2 to be sure (ten short sentences already are), and a 16 KiB
// description costs no more than a page.
inline constexpr size_t kMaxDetectionBytes = 4096;

// Detects the main language of `text` (UTF-8; invalid bytes end what is
// looked at; beyond kMaxDetectionBytes is not looked at). Never fails: an
// undetectable text gives an empty code.
LanguageGuess DetectLanguage(absl::string_view text);

// Below this confidence a detected language is not used for analysis
// (ResolveLanguage falls back).
inline constexpr double kMinDetectionConfidence = 0.2;

// Where the analysis language came from.
enum class LanguageSource {
  kStated,    // given with the text
  kDetected,  // detected with at least kMinDetectionConfidence
  kDefault,   // not stated, and not detected confidently: the fallback
};

struct ResolvedLanguage {
  // The language to analyze the text in (Analyzer's `language`): the stated
  // one, else the detected one, else the fallback. May be a language the
  // analyzer has no rules for (Swahili): such text gets language-neutral
  // analysis.
  std::string analysis;
  LanguageSource source = LanguageSource::kDefault;
  // What detection found, when it ran (the language was not stated): its
  // code ("" for nothing) and confidence; empty and 0 when stated.
  std::string detected;
  double confidence = 0;
};

// The language `text` is analyzed in: `stated` when not empty (a stated
// language always wins; detection does not run), else the detected one when
// its confidence is at least kMinDetectionConfidence, else `fallback` (may
// be empty: language-neutral analysis).
ResolvedLanguage ResolveLanguage(absl::string_view stated, absl::string_view text,
                                 absl::string_view fallback);

}  // namespace peermatch

#endif  // PEERMATCH_TEXT_LANGUAGE_H_
