// Translator: a word of one language -> its English translations, the
// pivot of cross-lingual matching (issue 13).
//
// A word is looked up, in order, by
//   1. its surface form (as the Analyzer gives it) together with
//   2. its Hunspell lemmas, for the languages whose Hunspell dictionary the
//      build copied next to the lexicons (fr es pt de ru it ko: "quiero" ->
//      "querer", "знаю" -> "знать", "마셨어요" -> "마시다"); both are kept,
//      since a reversed dictionary's entry for a word form ("пустые" ->
//      "vacuity") says less than its lemma's ("пустой" -> "empty");
//   3. when neither matched, its Analyzer term (the stem:
//      "alfabetizaciones" -> "alfabetiz"),
//   4. a fallback of its language: Arabic Hunspell lemmas (only here: its
//      stems are many and noisy), light10 prefix/suffix stripping and
//      preposition clitics; Korean particle (josa) stripping, then the
//      longest lexicon prefix; Chinese longest matches inside the segmented
//      word ("该去" -> 该 + 去),
//   5. for Korean only, when nothing matched: the Revised Romanisation of
//      the word (names: 톰 -> "tom"), marked as such.
// Russian and Korean, which have no direct dictionary into English (their
// entries are reversed or chained), keep only a word's glossary entries when
// it has any.
// A one-term English translation that is the base of irregular forms also
// carries their terms ("eat" -> "eat ate eaten"; lexicon_build adds them).
// English ("en") and an empty language are never translated. Every
// translation names the dictionary it came from, so nothing is translated
// silently.
//
// The lexicons (translate/lexicon.h) are read lazily, each on the first
// word of its language; a language without a lexicon file translates
// nothing.
//
// Thread-safety: all methods are safe to call concurrently. Loading is
// guarded by a mutex; looked-up groups are cached per thread (at most
// 2^16 words per thread, then the cache starts over).
#ifndef PEERMATCH_TRANSLATE_TRANSLATOR_H_
#define PEERMATCH_TRANSLATE_TRANSLATOR_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "translate/lexicon.h"

namespace peermatch {

// One English rendering of a source word.
struct Alternative {
  absl::string_view english;     // "literacy"
  absl::string_view terms;       // its English Analyzer terms, space-separated
  absl::string_view dictionary;  // "FreeDict spa-eng"
};

// All translations of one source word (a Pirkola synonym group). Views
// point into the Translator's lexicons and live as long as it does.
struct TranslationGroup {
  std::vector<Alternative> alternatives;
  // The group's distinct English terms, in first-seen order.
  std::vector<std::string> terms;
  // Terms no lexicon holds (a romanisation), which an alternative points to.
  std::string own_terms;
  bool empty() const { return alternatives.empty(); }
};

// The dictionary name of romanised (not translated) Korean words.
inline constexpr char kRomanisation[] = "romanisation";
// The dictionary name of the project's glossaries (translate/glossary/).
inline constexpr char kGlossary[] = "peermatch glossary";

class Translator {
 public:
  // Reads lexicons from `directory` (files <lang>-en.lex); "" reads none.
  explicit Translator(std::string directory);
  ~Translator();
  Translator(const Translator&) = delete;
  Translator& operator=(const Translator&) = delete;

  // The process's translator, over LexiconDirectory(). Never destroyed.
  static const Translator& Default();

  // True when `language` is one a text of which gets translated: not
  // English, not empty, and with a lexicon file.
  bool Translates(absl::string_view language) const;

  // The translations of a word of `language` with surface form `surface`
  // and Analyzer term `term`. Empty when none is known or when the
  // language is not translated. The reference is valid until this thread
  // next calls Lookup().
  const TranslationGroup& Lookup(absl::string_view language, absl::string_view surface,
                                 absl::string_view term) const;

  // Names the lexicons' contents: "es:<hash>,es-hunspell:<hash>,fr:..."
  // over every lexicon file present (its header's hash) and the Hunspell
  // dictionary beside it (hashed), "" when there are none. Changes
  // whenever a lexicon or a lemma dictionary changes.
  const std::string& Version() const { return version_; }

  // The lexicon of `language`, loading it on first use; null when there is
  // none (or the file does not parse: the error is printed once).
  const Lexicon* LexiconFor(absl::string_view language) const;

 private:
  struct Loaded;
  const Loaded* LoadedFor(absl::string_view language) const;
  std::vector<std::string> Lemmas(const Loaded& l, absl::string_view surface) const;
  void Fill(const Loaded& l, absl::string_view surface, absl::string_view term,
            TranslationGroup* group) const;

  std::string directory_;
  std::string version_;
  absl::flat_hash_map<std::string, std::string> files_;  // language -> path
  mutable absl::Mutex mu_;
  mutable absl::flat_hash_map<std::string, std::unique_ptr<Loaded>> loaded_ ABSL_GUARDED_BY(mu_);
  uint64_t serial_;
};

// Revised Romanisation of Hangul syllables (other characters unchanged):
// "톰" -> "tom", "보스턴" -> "boseuteon".
std::string RomanizeHangul(absl::string_view word);

// Larkey's light10 stemmer for Arabic, as a lookup fallback: strips one
// article/conjunction prefix (وال بال كال فال لل ال و) and then suffixes
// (ها ان ات ون ين يه ية ه ة ي), keeping at least two letters.
std::string Light10(absl::string_view word);

// The stems an Arabic word may have under its verb and pronoun affixes, the
// longest first: an optional و/ف, the future س and an imperfect person
// prefix (ي ت ن ا); a subject ending (ون ين وا تم نا ...) or an object or
// possessive pronoun (ني ك كم ه ها هم ...), a feminine ت read back as ة.
// At least three letters stay (a root's); the word itself is not included.
// The translator looks them up last, keeping the first that is a
// dictionary key: "سيكتبون" (they will write) -> ... "كتب" (to write).
std::vector<std::string> ArabicStems(absl::string_view word);

// A Korean word without its trailing particle or copula (longest match of
// a fixed list: 에서 는 을 이다 ...), or the word itself.
std::string StripJosa(absl::string_view word);

}  // namespace peermatch

#endif  // PEERMATCH_TRANSLATE_TRANSLATOR_H_
