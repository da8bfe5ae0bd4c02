#include "translate/translator.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "absl/container/flat_hash_set.h"
#include "absl/container/node_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "hunspell/hunspell.hxx"
#include "text/analyzer.h"
#include "unicode/uchar.h"
#include "unicode/unistr.h"

namespace peermatch {
namespace {

// Byte offsets of a UTF-8 string's code points, plus its size.
std::vector<size_t> CodePoints(absl::string_view s) {
  std::vector<size_t> at;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) at.push_back(i);
  }
  at.push_back(s.size());
  return at;
}

size_t Length(absl::string_view s) { return CodePoints(s).size() - 1; }

// Strips `affix` from the front (or back) of `w` when at least `keep` code
// points remain.
bool StripPrefix(std::string* w, absl::string_view affix, size_t keep) {
  if (!absl::StartsWith(*w, affix) || Length(absl::string_view(*w).substr(affix.size())) < keep) {
    return false;
  }
  w->erase(0, affix.size());
  return true;
}
bool StripSuffix(std::string* w, absl::string_view affix, size_t keep) {
  if (!absl::EndsWith(*w, affix) ||
      Length(absl::string_view(*w).substr(0, w->size() - affix.size())) < keep) {
    return false;
  }
  w->resize(w->size() - affix.size());
  return true;
}

std::string CaseFolded(const std::string& s) {
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(s);
  u.foldCase();
  std::string out;
  u.toUTF8String(out);
  return out;
}

std::string Capitalized(const std::string& s) {
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(s);
  if (u.isEmpty()) return s;
  const UChar32 first = u.char32At(0);
  u.replace(0, U16_LENGTH(first), icu::UnicodeString(u_toupper(first)));
  std::string out;
  u.toUTF8String(out);
  return out;
}

// FNV-1a of a file's bytes (0 when it cannot be read).
uint64_t ContentHash(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  uint64_t h = 14695981039346656037ull;
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    for (std::streamsize i = 0; i < in.gcount(); ++i) {
      h ^= static_cast<unsigned char>(buf[i]);
      h *= 1099511628211ull;
    }
  }
  return h;
}

// Read once: the version line of a lexicon file's header.
std::string HeaderVersion(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  for (int i = 0; i < 3 && std::getline(in, line); ++i) {
    if (absl::StartsWith(line, "version\t")) return line.substr(8);
  }
  return "";
}

}  // namespace

struct Translator::Loaded {
  std::unique_ptr<const Lexicon> lexicon;
  // Hunspell's lemmas of a word form ("quiero" -> "querer"), when the
  // lexicon directory has the language's dictionary (hunspell/<lang>.aff,
  // .dic); Hunspell objects are not thread-safe, hence the mutex.
  mutable absl::Mutex hunspell_mu;
  std::unique_ptr<Hunspell> hunspell ABSL_PT_GUARDED_BY(hunspell_mu);
  // Arabic: light10 form of each key -> the keys' translations.
  absl::flat_hash_map<std::string, std::vector<const LexiconEntry*>> light;
};

Translator::Translator(std::string directory) : directory_(std::move(directory)) {
  static std::atomic<uint64_t> next{1};
  serial_ = next.fetch_add(1);
  if (directory_.empty()) return;
  std::vector<std::string> names;
  if (DIR* d = opendir(directory_.c_str())) {
    while (dirent* e = readdir(d)) {
      const absl::string_view name = e->d_name;
      if (absl::EndsWith(name, "-en.lex")) names.emplace_back(name);
    }
    closedir(d);
  }
  std::sort(names.begin(), names.end());
  std::vector<std::string> parts;
  for (const std::string& name : names) {
    const std::string lang = name.substr(0, name.size() - 7);
    if (lang == "en") continue;
    const std::string path = directory_ + "/" + name;
    files_[lang] = path;
    parts.push_back(absl::StrCat(lang, ":", HeaderVersion(path)));
    // The lemma fallback's dictionary changes translations too.
    const std::string dic = absl::StrCat(directory_, "/hunspell/", lang, ".dic");
    if (access(dic.c_str(), R_OK) == 0) {
      parts.push_back(absl::StrFormat("%s-hunspell:%016x", lang,
                                      ContentHash(dic) ^ ContentHash(absl::StrCat(
                                                              directory_, "/hunspell/", lang, ".aff"))));
    }
  }
  version_ = absl::StrJoin(parts, ",");
}

Translator::~Translator() = default;

const Translator& Translator::Default() {
  static const Translator* t = new Translator(LexiconDirectory());
  return *t;
}

bool Translator::Translates(absl::string_view language) const {
  return !language.empty() && language != "en" && files_.contains(language);
}

const Translator::Loaded* Translator::LoadedFor(absl::string_view language) const {
  auto file = files_.find(language);
  if (language == "en" || file == files_.end()) return nullptr;
  absl::MutexLock lock(&mu_);
  auto it = loaded_.find(language);
  if (it != loaded_.end()) return it->second.get();
  auto l = std::make_unique<Loaded>();
  auto lex = Lexicon::Load(file->second);
  if (!lex.ok()) {
    std::fprintf(stderr, "peermatch: %s: no translation from %s\n",
                 std::string(lex.status().message()).c_str(), std::string(language).c_str());
  } else {
    l->lexicon = *std::move(lex);
    const std::string aff = absl::StrCat(directory_, "/hunspell/", language, ".aff");
    const std::string dic = absl::StrCat(directory_, "/hunspell/", language, ".dic");
    if (access(aff.c_str(), R_OK) == 0 && access(dic.c_str(), R_OK) == 0) {
      l->hunspell = std::make_unique<Hunspell>(aff.c_str(), dic.c_str());
    }
    if (language == "ar") {
      l->lexicon->ForEachKey([&](absl::string_view key, absl::Span<const LexiconEntry> entries) {
        auto& v = l->light[Light10(key)];
        for (const LexiconEntry& e : entries) {
          if (v.size() < static_cast<size_t>(kMaxTranslationsPerKey)) v.push_back(&e);
        }
      });
    }
  }
  return loaded_.emplace(std::string(language), std::move(l)).first->second.get();
}

const Lexicon* Translator::LexiconFor(absl::string_view language) const {
  const Loaded* l = LoadedFor(language);
  return l == nullptr ? nullptr : l->lexicon.get();
}

std::vector<std::string> Translator::Lemmas(const Loaded& l, absl::string_view surface) const {
  std::vector<std::string> out;
  if (l.hunspell == nullptr) return out;
  const std::string word(surface);
  std::vector<std::string> stems;
  {
    absl::MutexLock lock(&l.hunspell_mu);
    stems = l.hunspell->stem(word);
    // Nouns are capitalised in German dictionaries: "schulen" -> "Schulen".
    if (stems.empty()) stems = l.hunspell->stem(Capitalized(word));
  }
  for (const std::string& s : stems) {
    std::string folded = CaseFolded(s);
    if (folded != word && std::find(out.begin(), out.end(), folded) == out.end()) {
      out.push_back(std::move(folded));
    }
  }
  return out;
}

void Translator::Fill(const Loaded& l, absl::string_view surface, absl::string_view term,
                      TranslationGroup* group) const {
  const Lexicon& lex = *l.lexicon;
  absl::flat_hash_set<absl::string_view> seen;  // English phrases
  auto add = [&](const LexiconEntry& e) {
    if (!seen.insert(e.english).second) return;
    group->alternatives.push_back({e.english, e.terms, lex.dictionaries()[e.dict]});
  };
  auto add_all = [&](absl::Span<const LexiconEntry> entries) {
    for (const LexiconEntry& e : entries) add(e);
    return !entries.empty();
  };
  auto add_stem = [&](absl::Span<const LexiconEntry* const> entries) {
    for (const LexiconEntry* e : entries) add(*e);
    return !entries.empty();
  };
  const absl::string_view lang = lex.language();
  // Keys are spelling-normalized (lexicon_build); Hunspell reads the word as
  // written (Arabic hamza forms tell its verb forms apart).
  const std::string written(surface);
  const std::string normalized = NormalizedWord(lang, surface);
  surface = normalized;
  // The surface form's translations and its lemmas' together: a word form
  // a reversed dictionary lists ("пустые" -> "vacuity") says less than its
  // lemma's entry ("пустой" -> "empty").
  bool any = add_all(lex.BySurface(surface));
  // Arabic lemmas come last: Hunspell's Arabic stems are many and noisy
  // ("أفعل" -> فعل, عل, عال), so they are used only when nothing closer
  // matched (measured on Tatoeba ara: last 0.552, before the stem 0.528).
  const bool late_lemmas = lang == "ar";
  if (!late_lemmas) {
    for (const std::string& lemma : Lemmas(l, written)) {
      any = add_all(lex.BySurface(NormalizedWord(lang, lemma))) || any;
    }
  }
  if (any || add_stem(lex.ByStem(term))) return;
  if (lang == "ar") {
    // Conjugated verbs and pronoun suffixes: the longest dictionary key left
    // by stripping them, before Hunspell's noisier stems.
    for (const std::string& stem : ArabicStems(surface)) {
      if (add_all(lex.BySurface(stem))) return;
    }
  }
  if (late_lemmas) {
    for (const std::string& lemma : Lemmas(l, written)) {
      any = add_all(lex.BySurface(NormalizedWord(lang, lemma))) || any;
    }
    if (any) return;
  }
  if (lang == "ar") {
    auto it = l.light.find(Light10(surface));
    if (it != l.light.end()) {
      for (const LexiconEntry* e : it->second) add(*e);
      return;
    }
    // A preposition or the future particle written onto the word.
    for (absl::string_view clitic : {"ب", "ل", "ك", "ف", "س"}) {
      if (absl::StartsWith(surface, clitic) && add_all(lex.BySurface(surface.substr(clitic.size())))) {
        return;
      }
    }
  } else if (lang == "ko") {
    const std::string base = StripJosa(surface);
    if (add_all(lex.BySurface(base))) return;
    // Endings and particles are suffixes: the longest known prefix.
    const std::vector<size_t> at = CodePoints(base);
    for (int n = static_cast<int>(at.size()) - 2; n >= 2; --n) {
      if (add_all(lex.BySurface(absl::string_view(base).substr(0, at[n])))) return;
    }
  } else if (lang == "zh" || lang == "ja") {
    // Longest matches (at most 4 characters) left to right inside the word.
    const std::vector<size_t> at = CodePoints(surface);
    const size_t n = at.size() - 1;
    for (size_t i = 0; i < n;) {
      size_t len = std::min<size_t>(4, n - i);
      for (; len > 0; --len) {
        if (add_all(lex.BySurface(surface.substr(at[i], at[i + len] - at[i])))) break;
      }
      i += std::max<size_t>(len, 1);
    }
  }
}

const TranslationGroup& Translator::Lookup(absl::string_view language, absl::string_view surface,
                                           absl::string_view term) const {
  struct Cache {
    uint64_t serial = 0;
    // Node-based: a group's alternatives may point into the group itself.
    absl::node_hash_map<std::string, TranslationGroup> groups;
    TranslationGroup none;
  };
  thread_local Cache cache;
  if (cache.serial != serial_ || cache.groups.size() >= (1u << 16)) {
    cache.serial = serial_;
    cache.groups.clear();
  }
  if (!Translates(language)) return cache.none;
  auto [it, fresh] = cache.groups.try_emplace(absl::StrCat(language, "\t", surface, "\t", term));
  if (!fresh) return it->second;
  const Loaded* l = LoadedFor(language);
  TranslationGroup& g = it->second;
  if (l == nullptr || l->lexicon == nullptr) return g;
  Fill(*l, surface, term, &g);
  // Russian and Korean have no direct dictionary into English: every other
  // entry is reversed (eng-rus), chained through a pivot (deu-rus + deu-eng)
  // or through hanja (학교 -> 學校 -> school), and a homograph's chain brings
  // another word's senses (이거 "this" -> 移去 "to move away"). A glossary
  // entry, written for the word, replaces them (measured: rus +0.011, kor
  // +0.006 nDCG@10 on Tatoeba; for the languages with direct dictionaries it
  // changed -0.004 to 0).
  if (language == "ru" || language == "ko") {
    std::vector<Alternative> curated;
    for (const Alternative& a : g.alternatives) {
      if (a.dictionary == kGlossary) curated.push_back(a);
    }
    if (!curated.empty()) g.alternatives = std::move(curated);
  }
  if (g.alternatives.empty() && language == "ko") {
    // Names and loanwords: their romanisation may be the English word.
    const std::string r = RomanizeHangul(StripJosa(surface));
    if (r != surface) {
      static const Analyzer* const english = new Analyzer();
      g.own_terms = absl::StrJoin(english->Terms(r, "en"), " ");
      if (!g.own_terms.empty()) g.alternatives.push_back({"", g.own_terms, kRomanisation});
    }
  }
  absl::flat_hash_set<absl::string_view> seen;
  for (const Alternative& a : g.alternatives) {
    for (absl::string_view t : absl::StrSplit(a.terms, ' ', absl::SkipEmpty())) {
      if (seen.insert(t).second) g.terms.emplace_back(t);
    }
  }
  return g;
}

std::string RomanizeHangul(absl::string_view word) {
  static const char* const kLead[] = {"g", "kk", "n", "d", "tt", "r", "m", "b", "pp", "s",
                                      "ss", "", "j", "jj", "ch", "k", "t", "p", "h"};
  static const char* const kVowel[] = {"a", "ae", "ya", "yae", "eo", "e", "yeo", "ye", "o", "wa", "wae",
                                       "oe", "yo", "u", "wo", "we", "wi", "yu", "eu", "ui", "i"};
  static const char* const kTail[] = {"", "k", "k", "k", "n", "n", "n", "t", "l", "l",
                                      "l", "l", "l", "l", "l", "l", "m", "p", "p", "t",
                                      "t", "ng", "t", "t", "k", "t", "p", "t"};
  std::string out;
  const std::vector<size_t> at = CodePoints(word);
  for (size_t i = 0; i + 1 < at.size(); ++i) {
    const absl::string_view c = word.substr(at[i], at[i + 1] - at[i]);
    // Hangul syllables are U+AC00..U+D7A3: three UTF-8 bytes.
    if (c.size() == 3) {
      const uint32_t cp = ((c[0] & 0x0F) << 12) | ((c[1] & 0x3F) << 6) | (c[2] & 0x3F);
      if (cp >= 0xAC00 && cp <= 0xD7A3) {
        const uint32_t o = cp - 0xAC00;
        absl::StrAppend(&out, kLead[o / 588], kVowel[(o % 588) / 28], kTail[o % 28]);
        continue;
      }
    }
    out.append(c.data(), c.size());
  }
  return out;
}

std::string Light10(absl::string_view word) {
  std::string w(word);
  for (absl::string_view p : {"وال", "بال", "كال", "فال", "لل", "ال", "و"}) {
    if (StripPrefix(&w, p, 2)) break;
  }
  for (bool changed = true; changed;) {
    changed = false;
    for (absl::string_view s : {"ها", "ان", "ات", "ون", "ين", "يه", "ية", "ه", "ة", "ي"}) {
      if (StripSuffix(&w, s, 2)) {
        changed = true;
        break;
      }
    }
  }
  return w;
}

std::vector<std::string> ArabicStems(absl::string_view word) {
  // Conjunction, future particle, imperfect person prefix; subject endings
  // of the perfect and imperfect, object and possessive pronouns.
  static const char* const kProclitics[] = {"", "و", "ف"};
  static const char* const kFuture[] = {"", "س"};
  static const char* const kPerson[] = {"", "ي", "ت", "ن", "ا"};
  static const char* const kEndings[] = {
      "",   "ون", "ين", "ان", "وا", "تم", "تن", "نا", "ت",  "ن",  "ا",  "ي",  "ني", "ك",
      "كم", "كن", "ه",  "ها", "هم", "هن", "هما", "وه", "وها", "وهم", "تها", "ته", "تهم", "تي",
      "تك", "تنا", "يه", "يها", "يهم"};
  std::vector<std::string> out;
  for (const char* c : kProclitics) {
    for (const char* f : kFuture) {
      for (const char* p : kPerson) {
        const std::string prefix = absl::StrCat(c, f, p);
                for (const char* e : kEndings) {
          std::string w(word);
          if (!absl::StartsWith(w, prefix) || !absl::EndsWith(w, e)) continue;
          if (prefix.empty() && *e == '\0') continue;  // the word itself
          if (Length(w) < Length(prefix) + Length(e) + 3) continue;  // a root has 3 letters
          w = w.substr(prefix.size(), w.size() - prefix.size() - std::strlen(e));
          // A feminine noun's ة is written ت before a suffix (مدرستي).
          if (absl::StartsWith(e, "ت") && *e != '\0') {
            out.push_back(absl::StrCat(w, "ة"));
          }
          out.push_back(std::move(w));
        }
      }
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string StripJosa(absl::string_view word) {
  // Longest first.
  static const std::vector<std::string>* const kJosa = [] {
    auto* v = new std::vector<std::string>{
        "은", "는", "이", "가", "을", "를", "의", "에", "에서", "에게", "께", "께서", "한테",
        "로", "으로", "와", "과", "도", "만", "까지", "부터", "보다", "처럼", "이나", "나",
        "랑", "이랑", "요", "야", "아", "이다", "입니다", "이에요", "예요", "에는", "에서는",
        "으로는", "로는", "와는", "과는", "에도", "에서도", "도록"};
    std::stable_sort(v->begin(), v->end(),
                     [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
    return v;
  }();
  std::string w(word);
  for (const std::string& j : *kJosa) {
    if (StripSuffix(&w, j, 1)) break;
  }
  return w;
}

}  // namespace peermatch
