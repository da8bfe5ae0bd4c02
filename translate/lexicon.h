// Lexicon: one language's words -> English, as built from packaged
// bilingual dictionaries (translate/tools/lexicon_build.cc) and loaded at
// run time. No data is fetched at run time: the files ship next to the
// binaries (see LexiconDirectory()).
//
// File format (UTF-8 text, one record per line, tab-separated):
//   peermatch-lexicon 1
//   language <iso 639-1>
//   version <16 hex digits: hash of everything below>
//   dict <id> <name> <package and version>        (one line per input)
//   <key> <stem> <dict id> <English phrase> <English terms, space-separated>
// `key` is the source word's surface form and `stem` its term, both as the
// run-time Analyzer gives them (the builder runs it), so lookups compare
// like with like. Entries are sorted by key; a key has at most
// kMaxTranslationsPerKey translations, in dictionary order.
//
// Thread-safety: a Lexicon is immutable after Load(); share it freely.
#ifndef PEERMATCH_TRANSLATE_LEXICON_H_
#define PEERMATCH_TRANSLATE_LEXICON_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace peermatch {

inline constexpr int kMaxTranslationsPerKey = 12;

// One translation of a source word. The views point into the Lexicon's
// own copy of its file and live as long as it does.
struct LexiconEntry {
  absl::string_view english;  // the phrase as the dictionary wrote it ("literacy")
  absl::string_view terms;    // its English Analyzer terms, space-separated ("literaci")
  uint16_t dict = 0;          // index into Lexicon::dictionaries()
};

class Lexicon {
 public:
  // Reads a lexicon file. NOT_FOUND when `path` does not exist,
  // DATA_LOSS (naming the line) when it does not parse.
  static absl::StatusOr<std::unique_ptr<const Lexicon>> Load(const std::string& path);
  // The same from the file's bytes (`name` only names errors).
  static absl::StatusOr<std::unique_ptr<const Lexicon>> Parse(absl::string_view text,
                                                              absl::string_view name);

  const std::string& language() const { return language_; }
  // Hash of the lexicon's content: a changed lexicon has another version.
  const std::string& version() const { return version_; }
  // "FreeDict spa-eng", ... by dict id.
  const std::vector<std::string>& dictionaries() const { return dictionaries_; }
  // "dict-freedict-spa-eng 2022.04.21-1", ... by dict id.
  const std::vector<std::string>& packages() const { return packages_; }
  size_t num_keys() const { return by_key_.size(); }

  // Translations of the word whose surface form is `key`; empty if none.
  absl::Span<const LexiconEntry> BySurface(absl::string_view key) const;
  // Translations of every key whose stem is `stem` (deduplicated by
  // English phrase, at most kMaxTranslationsPerKey); empty if none.
  absl::Span<const LexiconEntry* const> ByStem(absl::string_view stem) const;
  // Calls fn(key, translations) for every key, in key (byte) order: callers
  // that keep only the first few of a group (Arabic light10 stems) must get
  // the same ones in every process (a hash map's order varies between
  // processes).
  void ForEachKey(
      absl::FunctionRef<void(absl::string_view, absl::Span<const LexiconEntry>)> fn) const;

 private:
  struct Range {
    uint32_t begin = 0, end = 0;
  };
  Lexicon() = default;
  std::string text_;  // the file; every view below points into it
  std::string language_, version_;
  std::vector<std::string> dictionaries_, packages_;
  std::vector<LexiconEntry> entries_;       // grouped by key
  std::vector<const LexiconEntry*> stem_entries_;  // into entries_, grouped by stem
  absl::flat_hash_map<absl::string_view, Range> by_key_, by_stem_;
};

// Where the lexicon files are: $PEERMATCH_LEXICON_DIR when set, else the
// first of <directory of this program>/lexicon and
// <directory of this program>/../share/peermatch/lexicon that exists, else
// "" (no lexicons: nothing is translated).
std::string LexiconDirectory();

}  // namespace peermatch

#endif  // PEERMATCH_TRANSLATE_LEXICON_H_
