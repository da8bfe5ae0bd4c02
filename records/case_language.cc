#include "records/case_language.h"

#include "absl/strings/str_cat.h"
#include "text/language.h"

namespace peermatch {
namespace {

v1::LanguageSource ToProto(LanguageSource s) {
  switch (s) {
    case LanguageSource::kStated:
      return v1::LANGUAGE_SOURCE_STATED;
    case LanguageSource::kDetected:
      return v1::LANGUAGE_SOURCE_DETECTED;
    case LanguageSource::kDefault:
      return v1::LANGUAGE_SOURCE_DEFAULT;
  }
  return v1::LANGUAGE_SOURCE_UNSPECIFIED;
}

}  // namespace

void SetCaseLanguage(v1::Case* c, absl::string_view fallback) {
  // Detection reads the text a reader would: title, description, outcome.
  const std::string text =
      c->language().empty() ? absl::StrCat(c->title(), "\n", c->description(), "\n", c->outcome())
                            : std::string();
  const ResolvedLanguage r = ResolveLanguage(c->language(), text, fallback);
  c->set_detected_language(r.detected);
  c->set_language_confidence(static_cast<float>(r.confidence));
  c->set_language_source(ToProto(r.source));
  c->set_analysis_language(r.analysis);
}

std::string CaseAnalysisLanguage(const v1::Case& c) {
  if (c.language_source() != v1::LANGUAGE_SOURCE_UNSPECIFIED) return c.analysis_language();
  return c.language().empty() ? std::string(kDefaultLanguage) : c.language();
}

}  // namespace peermatch
