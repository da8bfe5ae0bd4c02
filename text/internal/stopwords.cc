// Stopword lists: full lists for ten languages (stopwords/*.txt; origins and
// licences in stopwords/SOURCES), embedded by stopwords_data.cc.
#include "text/internal/stopwords.h"

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "text/internal/language_rules.h"
#include "text/internal/stopwords_data.h"

namespace peermatch {
namespace {

// Further function words of the listed languages that the lists leave out.
// They are only kept out of explanations (IsStopwordOfAnyLanguage): adding
// them to the lists would change every ranking of those languages.
constexpr char kExplanationOnly[] =
    // English
    "also however among within without across per via yet whether upon onto "
    // French
    "pendant plus aussi très tout tous toute toutes sans sous chez entre depuis avant après "
    "comme donc alors encore déjà peu moins ainsi chaque dont où leurs quand lors vers selon "
    "afin puis car si non ni autre autres bien fois cela ceci celle celui ceux celles quel "
    "quelle quels quelles aucun aucune plusieurs certains certaines tel telle là ici sera "
    "seront étaient peut peuvent faire font "
    // Spanish
    "también muy sobre entre durante desde hasta cada donde mientras tras según además aunque "
    "así más menos toda todas misma mismo mismos mucha muchas pocos cuales aquel aquella está "
    "están fueron era eran sido tiene tienen hace hacer puede pueden solo sólo vez veces "
    // Portuguese
    "muitos muita muitas sobre durante desde cada onde enquanto após segundo além embora "
    "assim menos todo toda todos todas outro outra outros outras mesma pouco estes estas "
    "aquele aquela foram era eram sido têm pode podem fazer faz vez vezes "
    // German
    "sehr ohne zwischen während seit jede jeder jedes jeden wo wann mehr weniger dem sein "
    "seine ihrem ihren kann können wurde wurden worden gegen vom beim schon dort hier diese "
    "dieser dieses diesem diesen "
    // Italian
    "molto molti molta molte senza sopra sotto fra dopo prima ogni mentre secondo inoltre così "
    "già meno altro altri altra altre stesso stessa stato stata ha hanno può possono fare fa "
    "volta volte";

using StopSet = absl::flat_hash_set<std::string>;

// One list, its words normalized as the analyzer normalizes the language's
// words (so Arabic entries with hamza forms still match).
StopSet Load(absl::string_view language, absl::string_view words) {
  StopSet out;
  for (absl::string_view line : absl::StrSplit(words, '\n', absl::SkipEmpty())) {
    std::string w(absl::StripAsciiWhitespace(line));
    text_internal::NormalizeWord(language, &w);
    if (!w.empty()) out.insert(std::move(w));  // (a Savoy entry is a lone diacritic)
  }
  return out;
}

const absl::flat_hash_map<std::string, StopSet>& Lists() {
  static const auto* const kLists = [] {
    auto* lists = new absl::flat_hash_map<std::string, StopSet>;
    for (size_t i = 0; i < text_internal::kStopwordListCount; ++i) {
      const auto& list = text_internal::kStopwordLists[i];
      (*lists)[list.language] = Load(list.language, list.words);
    }
    return lists;
  }();
  return *kLists;
}

}  // namespace

bool HasStopwords(absl::string_view language) { return Lists().contains(language); }

bool IsStopword(absl::string_view language, absl::string_view word) {
  const auto& lists = Lists();
  auto it = lists.find(language);
  if (it == lists.end()) return false;
  return it->second.contains(word);
}

bool IsStopwordOfAnyLanguage(absl::string_view word) {
  static const auto* const kAll = [] {
    auto* all = new StopSet;
    for (absl::string_view w : absl::StrSplit(kExplanationOnly, ' ', absl::SkipEmpty())) {
      all->emplace(w);
    }
    for (const auto& [language, list] : Lists()) all->insert(list.begin(), list.end());
    return all;
  }();
  return kAll->contains(word);
}

}  // namespace peermatch
