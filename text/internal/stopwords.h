// Stopwords: function words that carry no topic, per language.
#ifndef PEERMATCH_TEXT_INTERNAL_STOPWORDS_H_
#define PEERMATCH_TEXT_INTERNAL_STOPWORDS_H_

#include "absl/strings/string_view.h"

namespace peermatch {

// Whether `language` (ISO 639-1) has a stopword list: en fr es pt de it ru
// (Snowball's), ar (Savoy's), zh ko (stopwords-iso's).
bool HasStopwords(absl::string_view language);

// True when `word` (case-folded, and normalized as text_internal::NormalizeWord
// does for the language) is a stopword of `language`; false for a language
// without a list.
bool IsStopword(absl::string_view language, absl::string_view word);

// True when `word` (case-folded) is a stopword of any of those languages, or
// one of their further function words that the lists leave out ("pendant",
// "plus"). For explanations only: analysis uses IsStopword.
bool IsStopwordOfAnyLanguage(absl::string_view word);

}  // namespace peermatch

#endif  // PEERMATCH_TEXT_INTERNAL_STOPWORDS_H_
