// lexicon_build: raw dictionary pairs (extract_dictionaries.py's
// <lang>.tsv) -> the run-time lexicon file (translate/lexicon.h's format).
//
// The source keys and the English phrases are analyzed here by the same
// Analyzer as at run time, so a lookup compares like with like: a key
// becomes its surface form and its term (stopwords kept: "yo" must still
// have a translation); a phrase becomes its English terms (stopwords
// dropped, stemmed), and is kept only with 1 to kMaxEnglishTerms terms
// (longer definitions are explanations, not translations).
//
// Keys: a single word. In languages written without spaces (zh, ja) a key
// the Analyzer splits is kept as its words run together, so that the
// translator's longest match inside a segmented word finds it. Multi-word
// keys of other languages are dropped (the translator looks up words).
//
// English irregular forms (--english-forms FILE, translate/english/
// irregular_forms.tsv: base TAB forms;...): a translation that is one English
// term, the base of irregular forms ("eat"), also gets those forms' terms
// ("eat ate eaten"), so that a query word's synonym group matches an English
// text that says "ate"; Snowball joins only the regular forms.
//
// Usage: lexicon_build LANG IN.tsv OUT.lex [--english-forms FILE]
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "text/analyzer.h"
#include "translate/lexicon.h"

namespace peermatch {
namespace {

constexpr size_t kMaxEnglishTerms = 3;

bool WrittenWithoutSpaces(absl::string_view lang) { return lang == "zh" || lang == "ja"; }

uint64_t Fnv1a(absl::string_view s, uint64_t h) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

struct Translation {
  std::string english, terms;
  int dict;
};

int Run(int argc, char** argv) {
  if (argc != 4 && !(argc == 6 && std::string(argv[4]) == "--english-forms")) {
    std::fprintf(stderr, "usage: lexicon_build LANG IN.tsv OUT.lex [--english-forms FILE]\n");
    return 2;
  }
  const std::string lang = argv[1];
  std::ifstream in(argv[2]);
  if (!in) {
    std::fprintf(stderr, "lexicon_build: cannot read %s\n", argv[2]);
    return 1;
  }
  AnalyzerOptions key_options;
  key_options.remove_stopwords = false;
  const Analyzer keys(key_options);
  const Analyzer english;
  std::vector<std::pair<std::string, std::string>> dicts;  // name, package
  // key -> (stem, translations in input order)
  std::map<std::string, std::pair<std::string, std::vector<Translation>>> out;
  std::map<std::string, std::string> english_terms;  // phrase -> terms, memoized
  // Base term -> the terms of its irregular forms ("eat" -> "ate eaten").
  std::map<std::string, std::string> forms;
  if (argc == 6) {
    std::ifstream f(argv[5]);
    if (!f) {
      std::fprintf(stderr, "lexicon_build: cannot read %s\n", argv[5]);
      return 1;
    }
    std::string row;
    for (int n = 1; std::getline(f, row); ++n) {
      if (row.empty() || row[0] == '#' || row == "base\tforms") continue;
      std::vector<std::string> cols = absl::StrSplit(row, '\t');
      const std::vector<std::string> base = english.Terms(cols[0], "en");
      if (cols.size() != 2 || base.size() > 1) {
        std::fprintf(stderr, "lexicon_build: %s:%d: want a one-word base, a tab, forms\n", argv[5], n);
        return 1;
      }
      if (base.empty()) continue;  // an English stopword ("be"): no term to expand
      std::string& out_forms = forms[base[0]];
      for (absl::string_view form : absl::StrSplit(cols[1], ';', absl::SkipEmpty())) {
        for (const std::string& t : english.Terms(form, "en")) {
          if (t != base[0] && !absl::StrContains(absl::StrCat(" ", out_forms, " "), absl::StrCat(" ", t, " "))) {
            absl::StrAppend(&out_forms, out_forms.empty() ? "" : " ", t);
          }
        }
      }
    }
  }
  std::string line;
  size_t pairs = 0, dropped_keys = 0;
  while (std::getline(in, line)) {
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    if (f.size() == 4 && f[0] == "#dict") {
      dicts.emplace_back(f[2], f[3]);
      continue;
    }
    if (f.size() != 3) continue;
    ++pairs;
    std::vector<Token> tokens;
    for (Token& t : keys.Analyze(f[0], lang)) {
      if (!t.compound) tokens.push_back(std::move(t));
    }
    std::string key, stem;
    if (tokens.size() == 1) {
      // Spelling-normalized, as the translator looks words up: a vocalized
      // Arabic headword (رَبِحَ) must match the plain word (ربح).
      key = NormalizedWord(lang, tokens[0].surface);
      stem = tokens[0].term;
    } else if (tokens.size() > 1 && WrittenWithoutSpaces(lang)) {
      for (const Token& t : tokens) key += t.surface;
      stem = key;
    } else {
      ++dropped_keys;
      continue;
    }
    auto [it, fresh] = english_terms.try_emplace(f[1]);
    if (fresh) {
      std::vector<std::string> terms;
      for (const Token& t : english.Analyze(f[1], "en")) {
        if (!t.compound) terms.push_back(t.term);
      }
      if (!terms.empty() && terms.size() <= kMaxEnglishTerms) it->second = absl::StrJoin(terms, " ");
      if (terms.size() == 1) {
        auto irregular = forms.find(terms[0]);
        if (irregular != forms.end() && !irregular->second.empty()) {
          absl::StrAppend(&it->second, " ", irregular->second);
        }
      }
    }
    if (it->second.empty()) continue;
    auto& entry = out[key];
    if (entry.first.empty()) entry.first = stem;
    auto& list = entry.second;
    if (list.size() >= static_cast<size_t>(kMaxTranslationsPerKey)) continue;
    bool seen = false;
    for (const Translation& t : list) seen = seen || t.english == f[1];
    if (!seen) list.push_back({f[1], it->second, std::stoi(f[2])});
  }
  std::string body;
  for (size_t i = 0; i < dicts.size(); ++i) {
    absl::StrAppend(&body, "dict\t", i, "\t", dicts[i].first, "\t", dicts[i].second, "\n");
  }
  size_t entries = 0;
  for (const auto& [key, v] : out) {
    for (const Translation& t : v.second) {
      absl::StrAppend(&body, key, "\t", v.first, "\t", t.dict, "\t", t.english, "\t", t.terms, "\n");
      ++entries;
    }
  }
  const uint64_t hash = Fnv1a(body, Fnv1a(lang, 14695981039346656037ull));
  const std::string tmp = std::string(argv[3]) + ".tmp";
  {
    std::ofstream o(tmp, std::ios::binary);
    o << "peermatch-lexicon 1\nlanguage\t" << lang << "\nversion\t"
      << absl::StrFormat("%016x", hash) << "\n"
      << body;
    if (!o) {
      std::fprintf(stderr, "lexicon_build: cannot write %s\n", tmp.c_str());
      return 1;
    }
  }
  if (std::rename(tmp.c_str(), argv[3]) != 0) {
    std::fprintf(stderr, "lexicon_build: cannot rename %s\n", tmp.c_str());
    return 1;
  }
  std::fprintf(stderr, "lexicon_build %s: %zu pairs -> %zu keys, %zu translations (%zu multi-word keys dropped)\n",
               lang.c_str(), pairs, out.size(), entries, dropped_keys);
  return 0;
}

}  // namespace
}  // namespace peermatch

int main(int argc, char** argv) { return peermatch::Run(argc, argv); }
