// Pairing rounds: what a round is made of and which changes it allows, as
// pure functions over the stored record (v1::Round, peermatch.proto). The
// handlers (round_handler.cc) read requests, call these and the engine, and
// store the result through Store::CreateRound / UpdateRound.
//
// A round's life:
//   create   RoundQuery(options, cohort = all, avoid = earlier rounds' pairs)
//            -> Engine::PairCities -> NewRound: every pair PROPOSED
//   decide   ApplyDecision: a pair becomes ACCEPTED or DECLINED (with a
//            reason and a comment); the same decision again changes nothing
//   rematch  RematchQuery: the same options over the same cohort, keeping
//            every ACCEPTED and PROPOSED pair (they count against k and
//            capacity) and avoiding every DECLINED one -> PairCities ->
//            ApplyRematch adds the new pairs as PROPOSED
//   close    CloseRound: no more decisions or rematches
// Keeping and avoiding are constraints of the exact solver (pairing.h's
// must_keep; avoided pairs are never candidates), not filters applied to
// its answer, so a rematch is the optimal pairing under them: the same
// as PairCities with those keep and avoid lists.
//
// Thread-safety: pure functions.
#ifndef PEERMATCH_SERVICE_ROUNDS_H_
#define PEERMATCH_SERVICE_ROUNDS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/pairing_query.h"
#include "peermatch/v1/model.pb.h"
#include "peermatch/v1/peermatch.pb.h"

namespace peermatch {

// At most this many avoid_round_ids, and bytes of a decision's comment.
inline constexpr size_t kMaxAvoidRounds = 100;
inline constexpr size_t kMaxRoundCommentBytes = 2000;

// A round id made from its name: lower-case ASCII letters and digits, runs
// of anything else one "-" ("2027 cohort" -> "2027-cohort"); "round" when
// nothing is left.
std::string RoundIdFromName(absl::string_view name);

// The request's own fields: INVALID_ARGUMENT naming the first bad one
// (name, options.*, avoid_round_ids[i]); the options as ToPairingQuery
// checks them.
absl::StatusOr<PairingQuery> CheckCreateRound(const v1::CreateRoundRequest& request);

// The pairs a new round avoids because of `earlier` (the rounds of
// avoid_round_ids): all their pairs, or with `declined_only` only their
// declined ones; sorted, each once.
std::vector<v1::CityPair> PairsToAvoid(const std::vector<v1::Round>& earlier, bool declined_only);

// The cohort a query pairs: `cities` (every stored city) narrowed to the
// query's city_ids and regions, sorted by id.
std::vector<std::string> CohortOf(const PairingQuery& query, const std::vector<v1::City>& cities);

// A new open round from a solved pairing; `query` is the one solved (its
// avoid list holds `avoided`). Every pair PROPOSED, proposed_in 0.
v1::Round NewRound(const v1::CreateRoundRequest& request, std::vector<std::string> cohort,
                   std::vector<v1::CityPair> avoided, PairingResult result,
                   const PairingQuery& query, int64_t now);

// The query a rematch of `round` solves: its options over its cohort
// (cities of it that `exists` no longer knows are left out, with their
// pairs), keeping every ACCEPTED and PROPOSED pair and avoiding every
// DECLINED pair, the round's avoided pairs and the options' avoid list.
// FAILED_PRECONDITION ("round_id: ... is closed") for a closed round.
absl::StatusOr<PairingQuery> RematchQuery(const v1::Round& round,
                                          const std::vector<std::string>& known_cities);

// Adds the pairs of `result` that `round` does not hold as PROPOSED
// (proposed_in = the new rematch count), replaces the summary, counts the
// rematch. Returns the pairs added, by asking city and best first.
std::vector<v1::Pair> ApplyRematch(PairingResult result, const PairingQuery& query, int64_t now,
                                   v1::Round* round);

// The asking cities of `round` that have a declined pair and fewer than k
// active (proposed or accepted) pairs, with the reason: the summary's for
// a city with none, else that its other candidates are full or declined.
std::vector<v1::Unmatched> FewerPeers(const v1::Round& round);

// Checks a decision's own fields: INVALID_ARGUMENT naming the field
// (round_id, asking_city_id, peer_city_id, decision, reason, comment).
absl::Status CheckDecision(const v1::DecideRoundPairRequest& request);
// Applies a checked decision to `round`: true when it changed the round,
// false when the pair already had exactly this decision (idempotent).
// `*decided` is the pair as it stands after. NOT_FOUND ("peer_city_id:
// the round has no pair ...") for a pair not in the round;
// FAILED_PRECONDITION for a closed round ("round_id: ...") or for
// accepting a pair declined before a rematch that has since filled its
// place ("decision: ..."). On error `round` is unchanged.
absl::StatusOr<bool> ApplyDecision(const v1::DecideRoundPairRequest& request, int64_t now,
                                   v1::Round* round, v1::RoundPair* decided);

// Closes `round`; false when it was closed already.
bool CloseRound(int64_t now, v1::Round* round);

// Sets round's proposed, accepted and declined counts from its pairs.
void CountStates(v1::Round* round);

}  // namespace peermatch

#endif  // PEERMATCH_SERVICE_ROUNDS_H_
