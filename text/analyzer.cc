#include "text/analyzer.h"

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "libstemmer.h"
#include "text/internal/language_rules.h"
#include "text/internal/stopwords.h"
#include "unicode/brkiter.h"
#include "unicode/normalizer2.h"
#include "unicode/unistr.h"

namespace peermatch {
namespace {

// What a letter word becomes in one language: the facts the pipeline needs,
// computed once per thread and word (Snowball and the stopword lists are the
// slow part of analysis, and words repeat).
struct WordFacts {
  uint32_t index = 0;  // in order of first sight (WordRef::index)
  bool stopword = false;
  // Snowball's stem of the normalized word; for Korean the word without its
  // particles; the normalized word itself when the language has no stemmer.
  std::string stem;
};

uint64_t NewWordSpace() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1);
}

// Scans running on this thread: a Scan's emit callback may start another
// Scan (the translator analyses a word in another language while a case is
// embedded), and the outer Scan's Language must then stay alive.
thread_local int scans_running = 0;

class ScanScope {
 public:
  ScanScope() { ++scans_running; }
  ~ScanScope() { --scans_running; }
  ScanScope(const ScanScope&) = delete;
  ScanScope& operator=(const ScanScope&) = delete;
};

// One language's stemmer and word cache. Snowball stemmers are not
// thread-safe: one per language per thread, created on first use. Cached
// words are numbered in order (WordRef); the numbering starts again, in a
// new space, when the bounded cache is cleared.
class Language {
 public:
  explicit Language(const std::string& code) : code_(code), space_(NewWordSpace()) {
    // libstemmer knows ISO 639-1 codes as aliases ("en", "pt", ...). A
    // language it has no stemmer for (zh, ko, sw, "") is not stemmed: never
    // another language's rules.
    if (!code.empty()) stemmer_ = sb_stemmer_new(code.c_str(), "UTF_8");
    has_stopwords_ = HasStopwords(code);
    elides_ = code == "fr" || code == "it";
  }
  ~Language() {
    if (stemmer_ != nullptr) sb_stemmer_delete(stemmer_);
  }
  Language(const Language&) = delete;
  Language& operator=(const Language&) = delete;

  // The facts of `word`, and its reference.
  const WordFacts& Facts(absl::string_view word, WordRef* ref) {
    auto it = cache_.find(word);
    if (it == cache_.end()) {
      // Bounded: a thread keeps at most this many words per language.
      // Only the outermost Scan clears: an outer Scan's emit may still
      // hold a view of its facts while a nested one runs (the bound is
      // checked again by the next word of the outermost Scan).
      if (cache_.size() >= kMaxCachedWords && scans_running <= 1) {
        cache_.clear();
        space_ = NewWordSpace();
      }
      WordFacts facts;
      facts.index = static_cast<uint32_t>(cache_.size());
      std::string normalized(word);
      text_internal::NormalizeWord(code_, &normalized);
      facts.stopword = IsStopword(code_, normalized);
      facts.stem = normalized;
      if (code_ == "ko") {
        facts.stem = text_internal::StripKoreanSuffixes(normalized);
        facts.stopword = facts.stopword || IsStopword(code_, facts.stem);
      } else if (stemmer_ != nullptr) {
        const sb_symbol* stem =
            sb_stemmer_stem(stemmer_, reinterpret_cast<const sb_symbol*>(normalized.data()),
                            static_cast<int>(normalized.size()));
        if (stem != nullptr) {
          facts.stem.assign(reinterpret_cast<const char*>(stem), sb_stemmer_length(stemmer_));
        }
      }
      it = cache_.emplace(std::string(word), std::move(facts)).first;
    }
    *ref = WordRef{space_, it->second.index};
    return it->second;
  }

  void Prefetch(absl::string_view word) const { cache_.prefetch(word); }

  const std::string& code() const { return code_; }
  bool has_stopwords() const { return has_stopwords_; }
  // Whether words may start with an elided article (fr, it).
  bool elides() const { return elides_; }

 private:
  static constexpr size_t kMaxCachedWords = 1 << 17;
  std::string code_;
  sb_stemmer* stemmer_ = nullptr;
  bool has_stopwords_ = false;
  bool elides_ = false;
  uint64_t space_;
  // The facts stored in the map's slots: one memory access per word.
  // Node-based: a nested Scan in the same language (from an emit callback)
  // may add words while the outer one still holds a WordFacts.
  absl::node_hash_map<std::string, WordFacts> cache_;
};

// A thread keeps at most this many languages (each with up to 2^17 cached
// words): a client cycling through every language code cannot make a
// thread hold more.
constexpr size_t kMaxLanguagesPerThread = 4;

Language& LanguageFor(absl::string_view code) {
  thread_local absl::flat_hash_map<std::string, std::unique_ptr<Language>> languages;
  thread_local Language* last = nullptr;
  thread_local std::string last_code;
  if (last != nullptr && last_code == code) return *last;
  if (languages.size() >= kMaxLanguagesPerThread && !languages.contains(code) &&
      scans_running == 0) {
    // No Language is in use: no Scan runs on this thread. (A nested Scan
    // may take the set past the bound until the outermost one ends.)
    languages.clear();
  }
  auto& slot = languages[code];
  if (slot == nullptr) slot = std::make_unique<Language>(std::string(code));
  last = slot.get();
  last_code = std::string(code);
  return *last;
}

std::string StripThousands(absl::string_view number) {
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

// Turns the words of a text, in order, into terms: stopwords, stemming,
// numbers, and hyphenated chains ("state-of-the-art"): each part is a term of
// its own; at the chain's end the concatenation of all parts is one more.
class TermSink {
 public:
  TermSink(const AnalyzerOptions& options, Language& language, const Analyzer::Emit& emit)
      : options_(options), language_(language), emit_(emit) {}

  // `rule` is ICU's word rule status; `joined` is whether exactly one hyphen
  // separates the word from the previous one.
  void Word(absl::string_view word, int32_t rule, bool joined) {
    const bool number = rule < UBRK_WORD_NUMBER_LIMIT;
    const bool letters = rule >= UBRK_WORD_LETTER && rule < UBRK_WORD_LETTER_LIMIT;
    std::string stripped;
    if (number && word.find(',') != absl::string_view::npos) {
      stripped = StripThousands(word);
      word = stripped;
    }
    // "l'école" is one word to ICU (the apostrophe joins letters); the
    // elided article is a word of its own, and a stopword.
    if (letters && language_.elides()) {
      word = text_internal::StripElision(language_.code(), word);
    }
    if (!joined) EndChain();
    chain_.append(word.data(), word.size());
    ++chain_parts_;
    // Ideographic words (Chinese) are not stemmed, but a language with a
    // list of them (zh) drops its stopwords (的, 我们).
    const bool ideographic = rule >= UBRK_WORD_KANA && rule < UBRK_WORD_IDEO_LIMIT;
    if (ideographic && language_.has_stopwords() && options_.remove_stopwords) {
      WordRef ref;
      if (language_.Facts(word, &ref).stopword) return;
      emit_(word, word, ref);
      return;
    }
    if (!letters) {
      emit_(word, word, WordRef());
      return;
    }
    WordRef ref;
    const WordFacts& facts = language_.Facts(word, &ref);
    if (options_.remove_stopwords && facts.stopword) return;
    emit_(options_.stem ? absl::string_view(facts.stem) : word, word, ref);
  }

  // Starts fetching what Word() will need for `word`.
  void Prefetch(absl::string_view word) const { language_.Prefetch(word); }

  void EndChain() {
    if (chain_parts_ >= 2 && options_.join_compounds) {
      WordRef ref;
      const WordFacts& facts = language_.Facts(chain_, &ref);
      if (!(options_.remove_stopwords && facts.stopword)) {
        ref.compound = true;
        emit_(options_.stem ? absl::string_view(facts.stem) : absl::string_view(chain_), chain_,
              ref);
      }
    }
    chain_.clear();
    chain_parts_ = 0;
  }

 private:
  const AnalyzerOptions& options_;
  Language& language_;
  const Analyzer::Emit& emit_;
  std::string chain_;
  int chain_parts_ = 0;
};

struct AsciiWord {
  size_t start, end;
  int32_t rule;
  bool joined;
};

// What one Scan works on, per thread and per nesting depth: a Scan started
// by an emit callback must not reset the break iterator or the word list of
// the Scan that called it.
struct ScanScratch {
  std::unique_ptr<icu::BreakIterator> breaker;  // ScanIcu; created on first use
  bool breaker_made = false;
  std::string folded;  // ScanAscii
  std::vector<AsciiWord> words;

  icu::BreakIterator* WordBreaker() {
    if (!breaker_made) {
      breaker_made = true;
      UErrorCode status = U_ZERO_ERROR;
      breaker.reset(icu::BreakIterator::createWordInstance(icu::Locale::getRoot(), status));
      if (U_FAILURE(status)) breaker.reset();
    }
    return breaker.get();
  }
};

// The scratch of the innermost Scan running on this thread (call inside
// its ScanScope).
ScanScratch& ScratchOfThisScan() {
  thread_local std::vector<std::unique_ptr<ScanScratch>> by_depth;
  const size_t depth = static_cast<size_t>(scans_running - 1);
  while (by_depth.size() <= depth) by_depth.push_back(std::make_unique<ScanScratch>());
  return *by_depth[depth];
}

bool IsHyphen(UChar c) { return c == u'-' || c == 0x2010 || c == 0x2011; }

bool IsAsciiSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

bool IsAscii(absl::string_view text) {
  unsigned char any = 0;
  for (char c : text) any |= static_cast<unsigned char>(c);
  return any < 0x80;
}

// Any text: ICU's NFKC case folding and word break iterator.
void ScanIcu(absl::string_view text, TermSink& terms, ScanScratch& scratch) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfkc_cf = icu::Normalizer2::getNFKCCasefoldInstance(status);
  icu::UnicodeString input =
      icu::UnicodeString::fromUTF8(icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  icu::UnicodeString folded = U_SUCCESS(status) ? nfkc_cf->normalize(input, status) : input;
  if (U_FAILURE(status)) folded = input;
  folded.findAndReplace(icu::UnicodeString(static_cast<UChar>(0x2019)), icu::UnicodeString(u'\''));

  icu::BreakIterator* breaker = scratch.WordBreaker();
  if (breaker == nullptr) return;
  breaker->setText(folded);
  std::string word;
  int32_t previous_end = -2;
  for (int32_t start = breaker->first(), end = breaker->next(); end != icu::BreakIterator::DONE;
       start = end, end = breaker->next()) {
    const int32_t rule = breaker->getRuleStatus();
    if (rule < UBRK_WORD_NUMBER) continue;  // spaces and punctuation
    word.clear();
    folded.tempSubStringBetween(start, end).toUTF8String(word);
    const bool joined = start == previous_end + 1 && IsHyphen(folded.charAt(previous_end));
    terms.Word(word, rule, joined);
    previous_end = end;
  }
}

// ASCII text, the common case, without ICU: for ASCII, NFKC case folding is
// lower-casing, and ICU's word rules (UAX #29 as tailored by ICU 72) reduce to
// the classes below. The equivalence is tested on random ASCII strings
// against ICU itself (analyzer_test.cc).
enum CharClass : uint8_t { kOther, kLetter, kDigit, kExtend, kMidNumLet, kMidNum };

struct AsciiTable {
  CharClass cls[128];
  AsciiTable() {
    for (int c = 0; c < 128; ++c) {
      cls[c] = kOther;
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '@') cls[c] = kLetter;
      if (c >= '0' && c <= '9') cls[c] = kDigit;
    }
    cls[static_cast<int>('_')] = kExtend;
    cls[static_cast<int>('.')] = kMidNumLet;
    cls[static_cast<int>('\'')] = kMidNumLet;
    cls[static_cast<int>(',')] = kMidNum;
    cls[static_cast<int>(';')] = kMidNum;
  }
};

void ScanAscii(absl::string_view text, TermSink& terms, ScanScratch& scratch) {
  static const AsciiTable table;
  std::string& folded = scratch.folded;
  folded.resize(text.size());
  for (size_t i = 0; i < text.size(); ++i) {  // vectorized by the compiler
    const char c = text[i];
    folded[i] = static_cast<char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
  }
  const size_t n = folded.size();
  auto cls = [&](size_t i) { return table.cls[static_cast<int>(folded[i])]; };
  // First the words (spans of `folded`), then their terms.
  std::vector<AsciiWord>& words = scratch.words;
  words.clear();
  size_t previous_end = SIZE_MAX - 1;
  size_t i = 0;
  while (i < n) {
    CharClass c = cls(i);
    if (c != kLetter && c != kDigit && c != kExtend) {
      ++i;
      continue;
    }
    // Letters, digits and '_' join (WB5, WB8-WB10, WB13a/b); '.' and '\''
    // join two letters or two digits (WB6/7, WB11/12); ',' and ';' two
    // digits. The rule status is ICU's: that of the last join.
    int32_t rule = c == kLetter ? UBRK_WORD_LETTER : c == kDigit ? UBRK_WORD_NUMBER : 0;
    CharClass last = c;
    size_t j = i + 1;
    while (j < n) {
      CharClass d = cls(j);
      if (d == kLetter) {
        rule = UBRK_WORD_LETTER;
      } else if (d == kDigit) {
        rule = UBRK_WORD_NUMBER;
      } else if (d == kExtend) {
        rule = last == kDigit ? UBRK_WORD_NUMBER : UBRK_WORD_LETTER;
      } else if (j + 1 < n && (d == kMidNumLet || d == kMidNum) &&
                 ((last == kDigit && cls(j + 1) == kDigit) ||
                  (d == kMidNumLet && last == kLetter && cls(j + 1) == kLetter))) {
        d = cls(j + 1);
        rule = d == kLetter ? UBRK_WORD_LETTER : UBRK_WORD_NUMBER;
        ++j;
      } else {
        break;
      }
      last = d;
      ++j;
    }
    if (rule >= UBRK_WORD_NUMBER) {
      const bool joined = i == previous_end + 1 && folded[previous_end] == '-';
      words.push_back({i, j, rule, joined});
      previous_end = j;
    }
    i = j;
  }
  // The words' cache slots are fetched a few words ahead, so that the
  // lookups' cache misses overlap.
  constexpr size_t kAhead = 4;
  const absl::string_view all(folded);
  for (size_t w = 0; w < words.size(); ++w) {
    if (w + kAhead < words.size() && words[w + kAhead].rule >= UBRK_WORD_LETTER) {
      const AsciiWord& next = words[w + kAhead];
      terms.Prefetch(all.substr(next.start, next.end - next.start));
    }
    const AsciiWord& word = words[w];
    terms.Word(all.substr(word.start, word.end - word.start), word.rule, word.joined);
  }
}

}  // namespace

void Analyzer::Scan(absl::string_view text, absl::string_view language, const Emit& emit) const {
  if (text.empty()) return;
  Language& lang = LanguageFor(language);
  ScanScope scope;
  ScanScratch& scratch = ScratchOfThisScan();
  TermSink terms(options_, lang, emit);
  if (!options_.ascii_fast_path) {
    ScanIcu(text, terms, scratch);
  } else if (IsAscii(text)) {
    ScanAscii(text, terms, scratch);
  } else {
    // Words never span ASCII white space (UAX #29 breaks on both sides of
    // it, and NFKC never composes across it), so each piece between spaces
    // takes the fast path unless it has a non-ASCII character.
    size_t start = 0;
    while (start < text.size()) {
      size_t end = start;
      bool ascii = true;
      while (end < text.size() && !IsAsciiSpace(text[end])) {
        ascii = ascii && static_cast<unsigned char>(text[end]) < 0x80;
        ++end;
      }
      if (end > start) {
        const absl::string_view piece = text.substr(start, end - start);
        if (ascii) {
          ScanAscii(piece, terms, scratch);
        } else {
          ScanIcu(piece, terms, scratch);
        }
      }
      start = end + 1;
    }
  }
  terms.EndChain();
}

bool IsFunctionWordOfAnyLanguage(absl::string_view word) { return IsStopwordOfAnyLanguage(word); }

std::string NormalizedWord(absl::string_view language, absl::string_view word) {
  std::string w(word);
  text_internal::NormalizeWord(language, &w);
  return w;
}

std::vector<Token> Analyzer::Analyze(absl::string_view text, absl::string_view language) const {
  std::vector<Token> out;
  Scan(text, language, [&](absl::string_view term, absl::string_view surface, WordRef word) {
    out.push_back({std::string(term), std::string(surface), word.compound});
  });
  return out;
}

std::vector<std::string> Analyzer::Terms(absl::string_view text, absl::string_view language) const {
  std::vector<std::string> terms;
  Scan(text, language,
       [&](absl::string_view term, absl::string_view, WordRef) { terms.emplace_back(term); });
  return terms;
}

}  // namespace peermatch
