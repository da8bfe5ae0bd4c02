#include "translate/lexicon.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace peermatch {
namespace {

bool IsDirectory(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

absl::StatusOr<std::unique_ptr<const Lexicon>> Lexicon::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("no lexicon at ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return Parse(buffer.str(), path);
}

absl::StatusOr<std::unique_ptr<const Lexicon>> Lexicon::Parse(absl::string_view text,
                                                              absl::string_view name) {
  auto lex = std::unique_ptr<Lexicon>(new Lexicon());
  lex->text_ = std::string(text);
  text = lex->text_;
  int line_no = 0;
  auto bad = [&](absl::string_view why) {
    return absl::DataLossError(absl::StrCat(name, ":", line_no, ": ", why));
  };
  bool header = false;
  absl::string_view last_key;
  // Stem groups are collected first, then laid out contiguously.
  absl::flat_hash_map<absl::string_view, std::vector<uint32_t>> stems;
  std::vector<absl::string_view> stem_order;
  Range* range = nullptr;  // of last_key
  lex->entries_.reserve(static_cast<size_t>(std::count(text.begin(), text.end(), '\n')));
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    if (line.empty()) continue;
    std::vector<absl::string_view> f = absl::StrSplit(line, '\t');
    if (!header) {
      if (line != "peermatch-lexicon 1") return bad("not a peermatch lexicon (version 1)");
      header = true;
      continue;
    }
    if (f.size() == 2 && f[0] == "language") {
      lex->language_ = std::string(f[1]);
    } else if (f.size() == 2 && f[0] == "version") {
      lex->version_ = std::string(f[1]);
    } else if (f.size() == 4 && f[0] == "dict") {
      uint32_t id;
      if (!absl::SimpleAtoi(f[1], &id) || id != lex->dictionaries_.size()) {
        return bad("dict ids must count up from 0");
      }
      lex->dictionaries_.emplace_back(f[2]);
      lex->packages_.emplace_back(f[3]);
    } else if (f.size() == 5) {
      uint32_t dict;
      if (!absl::SimpleAtoi(f[2], &dict) || dict >= lex->dictionaries_.size()) {
        return bad("unknown dict id");
      }
      if (f[0].empty() || f[4].empty()) return bad("empty key or terms");
      if (f[0] != last_key || lex->entries_.empty()) {
        if (f[0] < last_key) return bad("keys out of order");
        last_key = f[0];
        range = &lex->by_key_[last_key];
        *range = {static_cast<uint32_t>(lex->entries_.size()),
                  static_cast<uint32_t>(lex->entries_.size())};
      }
      lex->entries_.push_back({f[3], f[4], static_cast<uint16_t>(dict)});
      ++range->end;
      auto [it, fresh] = stems.try_emplace(f[1]);
      if (fresh) stem_order.push_back(f[1]);
      it->second.push_back(static_cast<uint32_t>(lex->entries_.size() - 1));
    } else {
      return bad("expected 5 tab-separated fields");
    }
  }
  if (!header) return absl::DataLossError(absl::StrCat(name, ": empty lexicon"));
  if (lex->language_.empty() || lex->version_.empty()) {
    return absl::DataLossError(absl::StrCat(name, ": no language or version line"));
  }
  for (absl::string_view stem : stem_order) {
    Range r{static_cast<uint32_t>(lex->stem_entries_.size()), 0};
    absl::flat_hash_set<absl::string_view> seen;
    for (uint32_t i : stems[stem]) {
      if (lex->stem_entries_.size() - r.begin >= static_cast<size_t>(kMaxTranslationsPerKey)) break;
      if (!seen.insert(lex->entries_[i].english).second) continue;
      lex->stem_entries_.push_back(&lex->entries_[i]);
    }
    r.end = static_cast<uint32_t>(lex->stem_entries_.size());
    lex->by_stem_[stem] = r;
  }
  return std::unique_ptr<const Lexicon>(std::move(lex));
}

absl::Span<const LexiconEntry> Lexicon::BySurface(absl::string_view key) const {
  auto it = by_key_.find(key);
  if (it == by_key_.end()) return {};
  return absl::MakeConstSpan(entries_.data() + it->second.begin, it->second.end - it->second.begin);
}

absl::Span<const LexiconEntry* const> Lexicon::ByStem(absl::string_view stem) const {
  auto it = by_stem_.find(stem);
  if (it == by_stem_.end()) return {};
  return absl::MakeConstSpan(stem_entries_.data() + it->second.begin,
                             it->second.end - it->second.begin);
}

void Lexicon::ForEachKey(
    absl::FunctionRef<void(absl::string_view, absl::Span<const LexiconEntry>)> fn) const {
  std::vector<std::pair<absl::string_view, Range>> keys(by_key_.begin(), by_key_.end());
  std::sort(keys.begin(), keys.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [key, r] : keys) {
    fn(key, absl::MakeConstSpan(entries_.data() + r.begin, r.end - r.begin));
  }
}

std::string LexiconDirectory() {
  if (const char* env = std::getenv("PEERMATCH_LEXICON_DIR"); env != nullptr) return env;
  char exe[4096];
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n <= 0) return "";
  std::string dir(exe, static_cast<size_t>(n));
  dir.resize(dir.rfind('/'));
  for (std::string candidate : {dir + "/lexicon", dir + "/../share/peermatch/lexicon"}) {
    if (IsDirectory(candidate)) return candidate;
  }
  return "";
}

}  // namespace peermatch
