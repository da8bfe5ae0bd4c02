// Per-language word rules applied before stopwords and stemming. Private to
// text/ (the Analyzer applies them; the stopword lists go through the same
// normalization so that they match). Every function is pure and thread-safe;
// words are case-folded UTF-8, as the analyzer produces them.
#ifndef PEERMATCH_TEXT_INTERNAL_LANGUAGE_RULES_H_
#define PEERMATCH_TEXT_INTERNAL_LANGUAGE_RULES_H_

#include <string>

#include "absl/strings/string_view.h"

namespace peermatch::text_internal {

// The word as the language's stopword list and stemmer expect it:
// ar: harakat (U+064B-U+0652), the superscript alef and tatweel removed,
//     أ إ آ ٱ -> ا, ى -> ي;
// ru: ё -> е.
// Other languages: unchanged. Returns whether `word` changed.
bool NormalizeWord(absl::string_view language, std::string* word);

// fr and it: the word after an elided article, pronoun or preposition
// ("l'école" -> "école", "qu'il" -> "il", "dell'infanzia" -> "infanzia");
// otherwise (and for other languages) `word` itself. Never empty for a
// non-empty word.
absl::string_view StripElision(absl::string_view language, absl::string_view word);

// ko: the eojeol without its particles (josa), plural 들 and the commonest
// 하다/되다 endings, longest suffix first ("학교에서" -> "학교",
// "학생들은" -> "학생", "지원합니다" -> "지원"). A one-syllable suffix is
// stripped only from a word of three syllables or more, others when a
// syllable remains, so short nouns ending like a particle stay ("나이").
// Not Korean, or nothing to strip: the word itself.
std::string StripKoreanSuffixes(absl::string_view word);

}  // namespace peermatch::text_internal

#endif  // PEERMATCH_TEXT_INTERNAL_LANGUAGE_RULES_H_
