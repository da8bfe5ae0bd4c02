#include "text/internal/language_rules.h"

#include <algorithm>
#include <vector>

#include "absl/strings/match.h"
#include "unicode/utf8.h"

namespace peermatch::text_internal {
namespace {

// Appends code point `c` to `out` as UTF-8.
void AppendUtf8(UChar32 c, std::string* out) {
  char buf[4];
  int32_t n = 0;
  UBool error = false;
  U8_APPEND(reinterpret_cast<uint8_t*>(buf), n, 4, c, error);
  if (!error) out->append(buf, n);
}

bool NormalizeArabic(std::string* word) {
  std::string out;
  out.reserve(word->size());
  const auto* s = reinterpret_cast<const uint8_t*>(word->data());
  const int32_t n = static_cast<int32_t>(word->size());
  for (int32_t i = 0; i < n;) {
    UChar32 c;
    U8_NEXT(s, i, n, c);
    if (c < 0) return false;  // not UTF-8: leave it alone
    if ((c >= 0x064B && c <= 0x0652) || c == 0x0670 || c == 0x0640) continue;
    if (c == 0x0623 || c == 0x0625 || c == 0x0622 || c == 0x0671) c = 0x0627;
    if (c == 0x0649) c = 0x064A;
    AppendUtf8(c, &out);
  }
  if (out == *word) return false;
  *word = std::move(out);
  return true;
}

bool FoldYo(std::string* word) {
  // ё is U+0451, D1 91 in UTF-8; е is U+0435, D0 B5.
  bool changed = false;
  for (size_t i = 0; i + 1 < word->size(); ++i) {
    if ((*word)[i] == '\xD1' && (*word)[i + 1] == '\x91') {
      word->replace(i, 2, "\xD0\xB5");
      changed = true;
    }
  }
  return changed;
}

int Syllables(absl::string_view s) {  // Hangul syllables are 3 bytes each
  int n = 0;
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const int32_t len = static_cast<int32_t>(s.size());
  for (int32_t i = 0; i < len;) {
    UChar32 c;
    U8_NEXT(p, i, len, c);
    if (c >= 0xAC00 && c <= 0xD7A3) ++n;
  }
  return n;
}

// Longest first, so that "에서는" is tried before "는".
std::vector<std::string> SortedLongestFirst(std::vector<std::string> v) {
  std::stable_sort(v.begin(), v.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return v;
}

}  // namespace

bool NormalizeWord(absl::string_view language, std::string* word) {
  if (language == "ar") return NormalizeArabic(word);
  if (language == "ru") return FoldYo(word);
  return false;
}

absl::string_view StripElision(absl::string_view language, absl::string_view word) {
  const bool fr = language == "fr", it = language == "it";
  if (!fr && !it) return word;
  const size_t apostrophe = word.find('\'');
  if (apostrophe == absl::string_view::npos || apostrophe + 1 >= word.size()) return word;
  const absl::string_view head = word.substr(0, apostrophe);
  static constexpr const char* kFrench[] = {"l", "d", "j", "qu", "n", "s", "c", "m", "t",
                                            "jusqu", "lorsqu", "puisqu", "quoiqu", "presqu"};
  static constexpr const char* kItalian[] = {
      "l", "un", "d", "c", "s", "m", "t", "v", "dell", "all", "nell", "sull", "dall",
      "coll", "quell", "quest", "nessun", "buon", "bell", "sant", "tutt", "dev", "po"};
  if (fr) {
    for (const char* h : kFrench) {
      if (head == h) return word.substr(apostrophe + 1);
    }
  } else {
    for (const char* h : kItalian) {
      if (head == h) return word.substr(apostrophe + 1);
    }
  }
  return word;
}

std::string StripKoreanSuffixes(absl::string_view word) {
  static const auto* const kParticles = new std::vector<std::string>(SortedLongestFirst({
      "에서부터", "으로부터", "에게서", "한테서", "이라도", "에서는", "에서도", "에게는", "으로는",
      "으로도", "이라는", "이라고", "에서의", "에게도", "까지", "부터", "에서", "에게", "한테",
      "께서", "으로", "처럼", "보다", "마다", "라도", "이나", "이랑", "에는", "에도", "과의",
      "와의", "와", "과", "은", "는", "이", "가", "을", "를", "의", "에", "로", "도", "만", "께",
  }));
  static const auto* const kEndings = new std::vector<std::string>(SortedLongestFirst({
      "했습니다", "하였습니다", "되었습니다", "합니다", "됩니다", "하였다", "되었다", "하도록",
      "하는", "하며", "하고", "해서", "하여", "하기", "한다", "했다", "되는", "된다", "되어",
      "적인", "적으로",
  }));
  std::string w(word);
  auto strip = [&](const std::vector<std::string>& suffixes) {
    for (const std::string& s : suffixes) {
      if (w.size() <= s.size() || !absl::EndsWith(w, s)) continue;
      const int suffix_syllables = Syllables(s);
      const int remaining = Syllables(absl::string_view(w).substr(0, w.size() - s.size()));
      if (remaining >= (suffix_syllables == 1 ? 2 : 1)) {
        w.resize(w.size() - s.size());
        return true;
      }
    }
    return false;
  };
  if (Syllables(w) == 0) return w;
  if (!strip(*kParticles)) strip(*kEndings);
  // The plural 들 before a particle ("학생들은").
  if (absl::EndsWith(w, "들") && Syllables(w) >= 2) w.resize(w.size() - 3);
  return w;
}

}  // namespace peermatch::text_internal
