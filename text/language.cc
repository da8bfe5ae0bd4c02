#include "text/language.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "text/internal/cld2_detector.h"
#include "unicode/uchar.h"
#include "unicode/utf8.h"

namespace peermatch {
namespace {

// The languages with analysis of their own (stopwords, stemming or
// segmentation rules): the script rule only overrides answers outside them.
bool IsAnalyzedLanguage(absl::string_view code) {
  for (const char* c : {"en", "fr", "es", "pt", "ar", "zh", "ru", "de", "ko", "it"}) {
    if (code == c) return true;
  }
  return false;
}

// CLD2's code as ISO 639-1: "zh-Hant" -> "zh"; "un" (unknown) and codes
// that are not two letters (CLD2's ISO 639-2 ones, such as "haw") -> "".
std::string ToIso6391(absl::string_view cld2_code) {
  const absl::string_view base = cld2_code.substr(0, cld2_code.find('-'));
  if (base.size() != 2 || base == "un" || !absl::ascii_isalpha(base[0]) ||
      !absl::ascii_isalpha(base[1])) {
    return "";
  }
  return absl::AsciiStrToLower(base);
}

struct ScriptCounts {
  int letters = 0;
  bool han = false, kana = false, arabic = false, cyrillic = false;
};

ScriptCounts CountScripts(absl::string_view text) {
  ScriptCounts out;
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const int32_t n = static_cast<int32_t>(text.size());
  for (int32_t i = 0; i < n;) {
    UChar32 c;
    U8_NEXT(s, i, n, c);
    if (c < 0 || !u_isalpha(c)) continue;
    const bool han = (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF);
    const bool kana = c >= 0x3040 && c <= 0x30FF;
    const bool hangul = c >= 0xAC00 && c <= 0xD7A3;
    // A Han character or a Hangul syllable carries about what three Latin
    // letters do (a Chinese word is one or two characters).
    out.letters += han || kana || hangul ? 3 : 1;
    out.han = out.han || han;
    out.kana = out.kana || kana;
    if ((c >= 0x0600 && c <= 0x06FF) || (c >= 0x0750 && c <= 0x077F)) out.arabic = true;
    if (c >= 0x0400 && c <= 0x04FF) out.cyrillic = true;
  }
  return out;
}

}  // namespace

LanguageGuess DetectLanguage(absl::string_view text) {
  LanguageGuess guess;
  if (text.size() > kMaxDetectionBytes) {
    // Cut on a character boundary (CLD2 would stop at a cut character).
    size_t end = kMaxDetectionBytes;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    text = text.substr(0, end);
  }
  const ScriptCounts scripts = CountScripts(text);
  if (scripts.letters == 0) return guess;
  text_internal::Cld2Answer answer = text_internal::RunCld2(text, /*best_effort=*/false);
  const bool reliable = answer.reliable && ToIso6391(answer.codes[0]) != "";
  if (!reliable) answer = text_internal::RunCld2(text, /*best_effort=*/true);
  for (int i = 0; i < 3; ++i) {
    std::string code = ToIso6391(answer.codes[i]);
    if (code.empty() || answer.percents[i] <= 0) continue;
    auto same = std::find_if(guess.parts.begin(), guess.parts.end(),
                             [&](const LanguageShare& p) { return p.code == code; });
    if (same != guess.parts.end()) {
      same->share += answer.percents[i] / 100.0;  // zh and zh-Hant
    } else {
      guess.parts.push_back({code, answer.percents[i] / 100.0});
    }
  }
  guess.code = guess.parts.empty() ? "" : guess.parts[0].code;
  // The script rule: an unreliable answer outside the analyzed languages,
  // for text in a script that (among them) only one of them writes.
  if (!reliable && !IsAnalyzedLanguage(guess.code)) {
    if (scripts.han && !scripts.kana) {
      guess.code = "zh";
    } else if (scripts.arabic) {
      guess.code = "ar";
    } else if (scripts.cyrillic) {
      guess.code = "ru";
    }
  }
  if (guess.code.empty()) {
    guess.parts.clear();
    return guess;
  }
  // A language the script chose gets the share CLD2 gave its own answer.
  double share = guess.parts.empty() ? 1.0 : guess.parts[0].share;
  for (const LanguageShare& p : guess.parts) {
    if (p.code == guess.code) share = p.share;
  }
  guess.confidence = std::min(1.0, share) * (reliable ? 1.0 : 0.5) *
                     std::min(1.0, static_cast<double>(scripts.letters) / kFullConfidenceLetters);
  return guess;
}

ResolvedLanguage ResolveLanguage(absl::string_view stated, absl::string_view text,
                                 absl::string_view fallback) {
  ResolvedLanguage out;
  if (!stated.empty()) {
    out.analysis = std::string(stated);
    out.source = LanguageSource::kStated;
    return out;
  }
  const LanguageGuess guess = DetectLanguage(text);
  out.detected = guess.code;
  out.confidence = guess.confidence;
  if (!guess.code.empty() && guess.confidence >= kMinDetectionConfidence) {
    out.analysis = guess.code;
    out.source = LanguageSource::kDetected;
  } else {
    out.analysis = std::string(fallback);
    out.source = LanguageSource::kDefault;
  }
  return out;
}

}  // namespace peermatch
