#include "matcher/analyzer.h"

#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "libstemmer.h"
#include "matcher/stopwords.h"
#include "unicode/brkiter.h"
#include "unicode/normalizer2.h"
#include "unicode/unistr.h"

namespace peermatch {
namespace {

// Snowball stemmers are not thread-safe and cost a little to create: one per
// language per thread, created on first use.
class Stemmers {
 public:
  ~Stemmers() {
    for (auto& [lang, s] : stemmers_) {
      if (s != nullptr) sb_stemmer_delete(s);
    }
  }
  // nullptr when Snowball has no stemmer for `language`.
  sb_stemmer* For(absl::string_view language) {
    auto it = stemmers_.find(language);
    if (it != stemmers_.end()) return it->second;
    // libstemmer knows ISO 639-1 codes as aliases ("en", "pt", ...).
    sb_stemmer* s = sb_stemmer_new(std::string(language).c_str(), "UTF_8");
    stemmers_.emplace(language, s);
    return s;
  }

 private:
  absl::flat_hash_map<std::string, sb_stemmer*> stemmers_;
};

icu::BreakIterator* WordBreaker() {
  thread_local std::unique_ptr<icu::BreakIterator> breaker = [] {
    UErrorCode status = U_ZERO_ERROR;
    std::unique_ptr<icu::BreakIterator> b(
        icu::BreakIterator::createWordInstance(icu::Locale::getRoot(), status));
    if (U_FAILURE(status)) b.reset();
    return b;
  }();
  return breaker.get();
}

bool IsHyphen(UChar c) { return c == u'-' || c == 0x2010 || c == 0x2011; }

std::string StripThousands(std::string number) {
  std::string out;
  out.reserve(number.size());
  for (size_t i = 0; i < number.size(); ++i) {
    const bool separator = number[i] == ',' && i > 0 && i + 1 < number.size() &&
                           isdigit(static_cast<unsigned char>(number[i - 1])) &&
                           isdigit(static_cast<unsigned char>(number[i + 1]));
    if (!separator) out.push_back(number[i]);
  }
  return out;
}

// The word's stem when it is made of letters and a stemmer is given.
std::string Stem(sb_stemmer* stemmer, bool letters, const std::string& word) {
  if (!letters || stemmer == nullptr) return word;
  const sb_symbol* stem = sb_stemmer_stem(
      stemmer, reinterpret_cast<const sb_symbol*>(word.data()), static_cast<int>(word.size()));
  if (stem == nullptr) return word;
  return std::string(reinterpret_cast<const char*>(stem), sb_stemmer_length(stemmer));
}

}  // namespace

std::vector<Token> Analyzer::Analyze(absl::string_view text, absl::string_view language) const {
  std::vector<Token> out;
  if (text.empty()) return out;
  const std::string lang = language.empty() ? "en" : std::string(language);

  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfkc_cf = icu::Normalizer2::getNFKCCasefoldInstance(status);
  icu::UnicodeString input =
      icu::UnicodeString::fromUTF8(icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  icu::UnicodeString folded = U_SUCCESS(status) ? nfkc_cf->normalize(input, status) : input;
  if (U_FAILURE(status)) folded = input;
  folded.findAndReplace(icu::UnicodeString(static_cast<UChar>(0x2019)), icu::UnicodeString(u'\''));

  icu::BreakIterator* breaker = WordBreaker();
  if (breaker == nullptr) return out;
  breaker->setText(folded);

  thread_local Stemmers stemmers;
  sb_stemmer* stemmer = options_.stem ? stemmers.For(lang) : nullptr;
  if (options_.stem && stemmer == nullptr) stemmer = stemmers.For("en");

  // A hyphenated chain ("state-of-the-art"): its raw parts so far, and where
  // the last part ended. Each part is a token of its own; at the chain's end
  // the concatenation of all parts is one more.
  std::string chain;
  int chain_parts = 0;
  int32_t chain_end = -2;
  auto end_chain = [&]() {
    if (chain_parts >= 2 && options_.join_compounds &&
        !(options_.remove_stopwords && IsStopword(lang, chain))) {
      out.push_back({Stem(stemmer, true, chain), chain});
    }
    chain.clear();
    chain_parts = 0;
  };
  std::string word;
  for (int32_t start = breaker->first(), end = breaker->next(); end != icu::BreakIterator::DONE;
       start = end, end = breaker->next()) {
    const int32_t rule = breaker->getRuleStatus();
    if (rule < UBRK_WORD_NUMBER) continue;  // spaces and punctuation
    word.clear();
    folded.tempSubStringBetween(start, end).toUTF8String(word);
    const bool number = rule < UBRK_WORD_NUMBER_LIMIT;
    const bool letters = rule >= UBRK_WORD_LETTER && rule < UBRK_WORD_LETTER_LIMIT;
    if (number) word = StripThousands(word);

    // Part of the current chain when exactly one hyphen separates it from
    // the previous word.
    const bool continues =
        chain_parts > 0 && start == chain_end + 1 && IsHyphen(folded.charAt(chain_end));
    if (!continues) end_chain();
    chain += word;
    ++chain_parts;
    chain_end = end;

    if (letters && options_.remove_stopwords && IsStopword(lang, word)) continue;
    out.push_back({Stem(stemmer, letters, word), word});
  }
  end_chain();
  return out;
}

std::vector<std::string> Analyzer::Terms(absl::string_view text, absl::string_view language) const {
  std::vector<std::string> terms;
  for (Token& t : Analyze(text, language)) terms.push_back(std::move(t.term));
  return terms;
}

}  // namespace peermatch
