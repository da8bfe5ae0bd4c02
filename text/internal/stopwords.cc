// Stopword lists, from the Snowball project's lists (snowballstem.org,
// BSD licence): English in full, the other languages abridged to their most
// frequent function words.
#include "text/internal/stopwords.h"

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_split.h"

namespace peermatch {
namespace {

constexpr char kEnglish[] =
    "i me my myself we our ours ourselves you your yours yourself yourselves he him his "
    "himself she her hers herself it its itself they them their theirs themselves what which "
    "who whom this that these those am is are was were be been being have has had having do "
    "does did doing would should could ought i'm you're he's she's it's we're they're i've "
    "you've we've they've i'd you'd he'd she'd we'd they'd i'll you'll he'll she'll we'll "
    "they'll isn't aren't wasn't weren't hasn't haven't hadn't doesn't don't didn't won't "
    "wouldn't shan't shouldn't can't cannot couldn't mustn't let's that's who's what's here's "
    "there's when's where's why's how's a an the and but if or because as until while of at by "
    "for with about against between into through during before after above below to from up "
    "down in out on off over under again further then once here there when where why how all "
    "any both each few more most other some such no nor not only own same so than too very ";

constexpr char kSpanish[] =
    "de la que el en y a los del se las por un para con no una su al lo como más pero sus le "
    "ya o este sí porque esta entre cuando muy sin sobre también me hasta hay donde quien desde "
    "todo nos durante todos uno les ni contra otros ese eso ante ellos e esto mí antes algunos "
    "qué unos yo otro otras otra él tanto esa estos mucho quienes nada muchos cual poco ella "
    "estar estas algunas algo nosotros mi mis tú te ti tu tus ellas es son fue ser ha han";

constexpr char kFrench[] =
    "au aux avec ce ces dans de des du elle en et eux il ils je la le les leur lui ma mais me "
    "même mes moi mon ne nos notre nous on ou par pas pour qu que qui sa se ses son sur ta te "
    "tes toi ton tu un une vos votre vous c d j l à m n s t y été est sont était ont a être "
    "avoir fait cette cet";

constexpr char kPortuguese[] =
    "de a o que e do da em um para com não uma os no se na por mais as dos como mas ao ele das "
    "à seu sua ou quando muito nos já eu também só pelo pela até isso ela entre depois sem mesmo "
    "aos seus quem nas me esse eles você essa num nem suas meu às minha numa pelos elas qual "
    "nós lhe deles essas esses pelas este dele tu te vocês vos lhes meus minhas é são foi ser "
    "há tem";

constexpr char kGerman[] =
    "aber alle allem allen aller alles als also am an ander andere anderem anderen anderer "
    "anderes auch auf aus bei bin bis bist da damit dann der den des dem die das dass du "
    "durch ein eine einem einen einer eines er es für hatte hat haben ich ihr ihre im in ist "
    "ja kein keine mit nach nicht noch nun nur ob oder sie sich sind so über um und uns unter "
    "von vor war waren was weil wenn wie wir wird werden zu zum zur";

constexpr char kItalian[] =
    "ad al allo ai agli all agl alla alle con col coi da dal dallo dai dagli dall dagl dalla "
    "dalle di del dello dei degli dell degl della delle in nel nello nei negli nell negl "
    "nella nelle su sul sullo sui sugli sull sugl sulla sulle per tra contro io tu lui lei "
    "noi voi loro mio mia miei mie tuo tua suo sua nostro nostra il lo la li gli le un uno "
    "una ma ed se perché anche come dove che chi cui non più quale quanto quanti quanta "
    "quante quello quelli quella quelle questo questi questa queste si tutto tutti a c e i l "
    "o è sono era";

// Further function words of the same languages that the lists above leave
// out. They are only kept out of explanations (IsStopwordOfAnyLanguage):
// adding them to the lists would change every ranking of those languages.
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

StopSet Split(const char* words) {
  StopSet out;
  for (absl::string_view w : absl::StrSplit(words, ' ', absl::SkipEmpty())) out.emplace(w);
  return out;
}

}  // namespace

bool IsStopword(absl::string_view language, absl::string_view word) {
  static const auto* const kLists = new absl::flat_hash_map<std::string, StopSet>{
      {"en", Split(kEnglish)}, {"es", Split(kSpanish)},    {"fr", Split(kFrench)},
      {"pt", Split(kPortuguese)}, {"de", Split(kGerman)}, {"it", Split(kItalian)},
  };
  auto it = kLists->find(language);
  if (it == kLists->end()) return false;
  return it->second.contains(word);
}

bool IsStopwordOfAnyLanguage(absl::string_view word) {
  static const auto* const kAll = [] {
    auto* all = new StopSet(Split(kExplanationOnly));
    for (const char* list : {kEnglish, kSpanish, kFrench, kPortuguese, kGerman, kItalian}) {
      StopSet one = Split(list);
      all->insert(one.begin(), one.end());
    }
    return all;
  }();
  return kAll->contains(word);
}

}  // namespace peermatch
