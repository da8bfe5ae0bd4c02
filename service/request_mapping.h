// Request mapping: the wire's Match, SimilarCases and PairCities messages
// (peermatch/v1/peermatch.pb.h) to and from the engine's domain types
// (engine/query.h, engine/pairing_query.h).
//
// To*Query checks a request against the rules documented in
// proto/peermatch/v1/peermatch.proto and the limits of records/limits.h,
// and returns INVALID_ARGUMENT naming the wire field for the first broken
// rule ("k: 101 is outside 0-100", "filters.sdgs[0]: 18 is outside 1-17",
// "page_token: pages end after 10000 results"); otherwise the query, with
// the wire's defaults applied (k 0 means kDefaultK, evidence_per_city 0
// means kDefaultEvidence). Whether a case_id names a stored case is the
// engine's to say (NOT_FOUND).
//
//   absl::StatusOr<MatchQuery> query = ToMatchQuery(request, offset);
//   if (!query.ok()) return query.status();
//   absl::StatusOr<MatchResult> result = engine.Match(*query);
//   if (!result.ok()) return result.status();
//   v1::MatchResponse response = ToMatchResponse(*std::move(result));
//
// Page tokens stay with the caller: `offset` is the position the request's
// page_token decoded to (0 without one), and the responses have no
// next_page_token (the caller adds it when the result says `more`).
//
// PairCities: ToPairingQuery checks the request the same way ("k: 21 is
// outside 0-20", "keep[0].peer_city_id: ...", "avoid[1]: a city cannot be
// its own peer") and applies its defaults (k and capacity 0 mean 3); whether
// the ids name cities is the engine's to say (NOT_FOUND). The stream's
// messages are ToPairingProgress, ToPair for each pair, then
// ToPairingSummary, which renders each unmatched city's reason in words
// from the query it answers.
//
// Thread-safety: pure functions.
#ifndef PEERMATCH_SERVICE_REQUEST_MAPPING_H_
#define PEERMATCH_SERVICE_REQUEST_MAPPING_H_

#include <string>

#include "absl/status/statusor.h"
#include "engine/pairing_query.h"
#include "engine/query.h"
#include "peermatch/v1/peermatch.pb.h"

namespace peermatch {

absl::StatusOr<MatchQuery> ToMatchQuery(const v1::MatchRequest& request, int offset);
absl::StatusOr<SimilarQuery> ToSimilarQuery(const v1::SimilarCasesRequest& request, int offset);

v1::MatchResponse ToMatchResponse(MatchResult result);
v1::SimilarCasesResponse ToSimilarCasesResponse(SimilarResult result);

// The empty_reason of an empty answer to `request` at `offset`: what no
// result met, true to the request. It names the filters and min_score only
// when they were given ("no city has a solution that passes the filters
// (filters.regions: africa) and shares evidence with the text (...); try
// fewer filters"); without them it suggests more or other words, or the
// text's language.
std::string EmptyReason(const v1::MatchRequest& request, int offset);
std::string EmptyReason(const v1::SimilarCasesRequest& request, int offset);

absl::StatusOr<PairingQuery> ToPairingQuery(const v1::PairCitiesRequest& request);

v1::PairingProgress ToPairingProgress(const PairingProgress& progress);
v1::Pair ToPair(PairedCities pair);
// `query`: the one the summary answers (its reasons name min_score, mutual
// and score_only).
v1::PairingSummary ToPairingSummary(const PairingSummary& summary, const PairingQuery& query);

}  // namespace peermatch

#endif  // PEERMATCH_SERVICE_REQUEST_MAPPING_H_
