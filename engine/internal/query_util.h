// Pieces shared by the engine's query paths (Match, SimilarCases, pairing).
// Internal to engine/.
#ifndef PEERMATCH_ENGINE_INTERNAL_QUERY_UTIL_H_
#define PEERMATCH_ENGINE_INTERNAL_QUERY_UTIL_H_

#include <string>
#include <vector>

#include "index/index.h"
#include "index/segmented_index.h"
#include "embed/model.h"
#include "embed/term_dictionary.h"
#include "engine/query.h"
#include "peermatch/v1/model.pb.h"

namespace peermatch::internal {

// The query text a stored case makes: title, description and tags.
std::string CaseQueryText(const v1::Case& c);
// What the index keeps of a case besides its vectors.
DocInfo MakeDocInfo(const v1::Case& c);
// The case's themes, SDGs and target groups, as a structured query.
StructuredQuery CaseStructure(const v1::Case& c);
// The query's terms as ids of the engine's dictionary (unknown terms, which
// no case has, are left out).
IndexQuery ToIndexQuery(const QueryVector& q, const TermDictionary& terms);
ScoreParts PartsOf(const Hit& h);
// Whether a hit has evidence (engine/query.h): a shared word, agreeing
// meaning, or character grams scoring at least kMinSubwordEvidence of the
// best's.
bool HasEvidence(const Hit& h);
// The hits that may be shown: with evidence and scoring at least
// `min_score`, in their order.
std::vector<Hit> Shown(std::vector<Hit> hits, double min_score);
// The words query and case `h.doc` share, largest share of the word score
// first, as the query wrote them, each word once (at most
// kSharedTermsPerMatch; a word matched through several terms has their
// shares summed and its translation, if one contributed): never a
// compound's joined form ("homelearning"; its parts are listed) nor a
// function word of any language the analyzer knows ("pendant", "plus").
// Each weight is the term's share of the whole word score, the left-out
// terms' included.
std::vector<SharedTerm> SharedTerms(const SegmentedIndex& index, const IndexQuery& iq,
                                    const QueryVector& q, const TermDictionary& terms,
                                    const Hit& h);

}  // namespace peermatch::internal

#endif  // PEERMATCH_ENGINE_INTERNAL_QUERY_UTIL_H_
