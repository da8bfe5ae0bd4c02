// libFuzzer target: the analyzer on arbitrary bytes, in several languages.
//
// Input: one byte choosing the language and the options, then the text.
// Checks, beyond "no crash and no sanitizer report":
// - Analyze, Terms and Scan give the same terms in the same order;
// - on ASCII text, the fast path gives exactly what ICU gives;
// - with the selector's top bit: a Scan whose callback starts nested Scans
//   (the translator does, while a case is embedded) in five other languages
//   still gives its own terms, and each nested Scan gives what it gives
//   alone. A thread keeps at most four languages ready; under ASan this
//   finds a Language freed under the outer Scan (3a98ea4's crash).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "text/analyzer.h"

namespace {

// Languages with stopwords and a stemmer, scripts without, and unknown or
// empty codes (English rules).
constexpr const char* kLanguages[] = {"en", "es", "fr", "pt", "de", "it",
                                      "zh", "ja", "th", "xx", "",   "sw"};
constexpr size_t kLanguageCount = sizeof(kLanguages) / sizeof(kLanguages[0]);

void Check(bool ok, const char* what, absl::string_view text) {
  if (ok) return;
  std::fprintf(stderr, "analyzer_fuzz: %s for %zu bytes\n", what, text.size());
  std::abort();
}

bool IsAscii(absl::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t selector = data[0];
  const absl::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const char* language = kLanguages[(selector & 0x0f) % kLanguageCount];
  peermatch::AnalyzerOptions options;
  options.join_compounds = (selector & 0x10) == 0;
  options.remove_stopwords = (selector & 0x20) == 0;
  options.stem = (selector & 0x40) == 0;
  const peermatch::Analyzer analyzer(options);

  if ((selector & 0x80) != 0) {
    const size_t first = (selector & 0x0f) % kLanguageCount;
    std::vector<std::string> outer;
    size_t nested = 0;
    analyzer.Scan(text, language,
                  [&](absl::string_view term, absl::string_view, peermatch::WordRef) {
                    // The views stay valid for the whole call, nested Scans
                    // or not: copy after them.
                    if (nested++ < 4) {
                      for (size_t i = 1; i <= 5; ++i) {
                        const char* other = kLanguages[(first + i) % kLanguageCount];
                        std::vector<std::string> inner;
                        analyzer.Scan(term, other,
                                      [&](absl::string_view t, absl::string_view,
                                          peermatch::WordRef) { inner.emplace_back(t); });
                        Check(inner == analyzer.Terms(term, other),
                              "a nested Scan differs from the same Scan alone", text);
                      }
                    }
                    outer.emplace_back(term);
                  });
    Check(outer == analyzer.Terms(text, language), "nested Scans changed the outer Scan", text);
    return 0;
  }

  const std::vector<peermatch::Token> tokens = analyzer.Analyze(text, language);
  const std::vector<std::string> terms = analyzer.Terms(text, language);
  std::vector<std::string> scanned;
  analyzer.Scan(text, language,
                [&](absl::string_view term, absl::string_view, peermatch::WordRef) {
                  scanned.emplace_back(term);
                });
  Check(tokens.size() == terms.size() && terms == scanned, "Analyze, Terms and Scan differ",
        text);
  for (size_t i = 0; i < tokens.size(); ++i) {
    Check(tokens[i].term == terms[i], "Analyze and Terms differ", text);
    Check(!tokens[i].term.empty(), "an empty term", text);
  }

  if (IsAscii(text)) {
    peermatch::AnalyzerOptions icu_options = options;
    icu_options.ascii_fast_path = false;
    Check(peermatch::Analyzer(icu_options).Terms(text, language) == terms,
          "the ASCII fast path and ICU differ", text);
  }
  return 0;
}
