// The language a case is analyzed in (issue 13): detection when the writer
// does not state it, and the one rule every reader of a stored case uses.
//
//   v1::Case c = ...;                      // c.language() may be empty
//   SetCaseLanguage(&c, /*fallback=*/"en");  // before validation passes it on
//   Analyzer().Terms(c.title(), CaseAnalysisLanguage(c));
//
// Thread-safety: both functions are pure and safe to call concurrently.
#ifndef PEERMATCH_RECORDS_CASE_LANGUAGE_H_
#define PEERMATCH_RECORDS_CASE_LANGUAGE_H_

#include <string>

#include "absl/strings/string_view.h"
#include "peermatch/v1/model.pb.h"

namespace peermatch {

// The server's default analysis language for text that neither states nor
// shows its language confidently.
inline constexpr char kDefaultLanguage[] = "en";

// Sets the server-owned language fields of `c` (detected_language,
// language_confidence, language_source, analysis_language), replacing
// whatever they held: a stated `language` wins and detection does not run;
// otherwise the language of title, description and outcome is detected
// (text/language.h ResolveLanguage), with `fallback` below the confidence
// threshold. Deterministic: the same case gives the same fields.
void SetCaseLanguage(v1::Case* c, absl::string_view fallback = kDefaultLanguage);

// The language to analyze `c` in: analysis_language when set; for a case
// stored before detection existed, `language`, or English when that is
// empty (what such a case was analyzed as).
std::string CaseAnalysisLanguage(const v1::Case& c);

}  // namespace peermatch

#endif  // PEERMATCH_RECORDS_CASE_LANGUAGE_H_
