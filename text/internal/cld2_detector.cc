#include "text/internal/cld2_detector.h"

// compact_lang_det.h uses FILE without including <cstdio>.
#include <cstdio>

#include "cld2/public/compact_lang_det.h"
#include "cld2/public/encodings.h"

namespace peermatch::text_internal {

Cld2Answer RunCld2(absl::string_view text, bool best_effort) {
  CLD2::CLDHints hints = {nullptr, nullptr, CLD2::UNKNOWN_ENCODING, CLD2::UNKNOWN_LANGUAGE};
  // CLD2 leaves these unset when it stops early (text that is not valid
  // UTF-8 past valid_prefix_bytes): rpc_fuzz found a garbage Language read
  // from them. Unknown and 0 unless CLD2 says otherwise.
  CLD2::Language languages[3] = {CLD2::UNKNOWN_LANGUAGE, CLD2::UNKNOWN_LANGUAGE,
                                 CLD2::UNKNOWN_LANGUAGE};
  int percents[3] = {0, 0, 0};
  double scores[3] = {0, 0, 0};
  int text_bytes = 0;
  int valid_prefix_bytes = 0;
  bool reliable = false;
  const int flags = best_effort ? CLD2::kCLDFlagBestEffort : 0;
  CLD2::ExtDetectLanguageSummaryCheckUTF8(text.data(), static_cast<int>(text.size()),
                                          /*is_plain_text=*/true, &hints, flags, languages, percents,
                                          scores, /*resultchunkvector=*/nullptr, &text_bytes,
                                          &reliable, &valid_prefix_bytes);
  Cld2Answer out;
  for (int i = 0; i < 3; ++i) {
    out.codes[i] = CLD2::LanguageCode(languages[i]);
    out.percents[i] = percents[i];
  }
  out.reliable = reliable;
  return out;
}

}  // namespace peermatch::text_internal
