#include "service/rounds.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "records/enums.h"
#include "records/limits.h"
#include "records/validate.h"
#include "service/request_mapping.h"

namespace peermatch {
namespace {

using PairKey = std::pair<std::string, std::string>;

absl::Status Invalid(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", what));
}

PairKey KeyOf(const v1::Pair& p) { return {p.asking_city_id(), p.peer_city_id()}; }

bool Active(const v1::RoundPair& p) {
  return p.state() == v1::PAIR_STATE_PROPOSED || p.state() == v1::PAIR_STATE_ACCEPTED;
}

v1::CityPair ToWire(const PairKey& key) {
  v1::CityPair out;
  out.set_asking_city_id(key.first);
  out.set_peer_city_id(key.second);
  return out;
}

absl::Status CheckOpen(const v1::Round& round) {
  if (round.state() == v1::ROUND_STATE_CLOSED) {
    return absl::FailedPreconditionError(
        absl::StrCat("round_id: round \"", round.id(), "\" is closed; it takes no more "
                     "decisions or rematches (create a new round for a new wave)"));
  }
  return absl::OkStatus();
}

// The pair of `round` that a decision names: the asking -> peer pair, or
// in mutual mode either direction. -1 when there is none.
int FindPair(const v1::Round& round, absl::string_view asking, absl::string_view peer) {
  for (int i = 0; i < round.pairs_size(); ++i) {
    const v1::Pair& p = round.pairs(i).pair();
    if (p.asking_city_id() == asking && p.peer_city_id() == peer) return i;
    if (round.options().mutual() && p.asking_city_id() == peer && p.peer_city_id() == asking) {
      return i;
    }
  }
  return -1;
}

absl::Status NoSuchPair(const v1::Round& round, absl::string_view asking,
                        absl::string_view peer) {
  std::vector<std::string> peers;
  for (const v1::RoundPair& p : round.pairs()) {
    if (p.pair().asking_city_id() == asking) peers.push_back(p.pair().peer_city_id());
  }
  return absl::NotFoundError(absl::StrCat(
      "peer_city_id: round \"", round.id(), "\" has no pair ", asking, " -> ", peer,
      peers.empty() ? absl::StrCat(" (", asking, " has no pair in it)")
                    : absl::StrCat(" (", asking, "'s peers in it: ", absl::StrJoin(peers, ", "),
                                   ")")));
}

}  // namespace

std::string RoundIdFromName(absl::string_view name) {
  std::string id;
  for (char ch : name) {
    const char c = absl::ascii_tolower(static_cast<unsigned char>(ch));
    if (absl::ascii_isalnum(static_cast<unsigned char>(c)) && static_cast<unsigned char>(c) < 128) {
      id += c;
    } else if (!id.empty() && id.back() != '-') {
      id += '-';
    }
  }
  while (!id.empty() && id.back() == '-') id.pop_back();
  if (id.size() > kMaxIdBytes) id.resize(kMaxIdBytes);
  while (!id.empty() && id.back() == '-') id.pop_back();
  return id.empty() ? "round" : id;
}

absl::StatusOr<PairingQuery> CheckCreateRound(const v1::CreateRoundRequest& request) {
  const std::string& name = request.name();
  if (name.empty()) return Invalid("name", "is required (e.g. \"2027 cohort\")");
  if (name.size() > kMaxNameBytes) {
    return Invalid("name", absl::StrCat(name.size(), " bytes, at most ", kMaxNameBytes));
  }
  if (IsBlank(name)) return Invalid("name", "is only white space");
  if (absl::Status s = ValidateList("avoid_round_ids", request.avoid_round_ids(),
                                    kMaxAvoidRounds, ValidateId);
      !s.ok()) {
    return s;
  }
  if (request.avoid_declined_only() && request.avoid_round_ids().empty()) {
    return Invalid("avoid_declined_only", "needs avoid_round_ids");
  }
  absl::StatusOr<PairingQuery> query = ToPairingQuery(request.options());
  if (!query.ok()) {
    return absl::Status(query.status().code(),
                        absl::StrCat("options.", query.status().message()));
  }
  return query;
}

std::vector<v1::CityPair> PairsToAvoid(const std::vector<v1::Round>& earlier,
                                       bool declined_only) {
  std::set<PairKey> keys;
  for (const v1::Round& r : earlier) {
    for (const v1::RoundPair& p : r.pairs()) {
      if (declined_only && p.state() != v1::PAIR_STATE_DECLINED) continue;
      keys.insert(KeyOf(p.pair()));
      // A mutual pair is unordered: avoid it either way.
      if (r.options().mutual()) keys.emplace(p.pair().peer_city_id(), p.pair().asking_city_id());
    }
  }
  std::vector<v1::CityPair> out;
  for (const PairKey& k : keys) out.push_back(ToWire(k));
  return out;
}

std::vector<std::string> CohortOf(const PairingQuery& query, const std::vector<v1::City>& cities) {
  const std::set<std::string> wanted(query.city_ids.begin(), query.city_ids.end());
  std::vector<std::string> out;
  for (const v1::City& c : cities) {
    if (!wanted.empty() && wanted.count(c.id()) == 0) continue;
    if (!query.regions.empty() &&
        std::find(query.regions.begin(), query.regions.end(), c.region()) == query.regions.end()) {
      continue;
    }
    out.push_back(c.id());
  }
  std::sort(out.begin(), out.end());
  return out;
}

v1::Round NewRound(const v1::CreateRoundRequest& request, std::vector<std::string> cohort,
                   std::vector<v1::CityPair> avoided, PairingResult result,
                   const PairingQuery& query, int64_t now) {
  v1::Round round;
  round.set_id(RoundIdFromName(request.name()));
  round.set_name(request.name());
  *round.mutable_options() = request.options();
  for (std::string& id : cohort) round.add_cohort(std::move(id));
  for (v1::CityPair& p : avoided) *round.add_avoided() = std::move(p);
  for (const std::string& id : request.avoid_round_ids()) round.add_avoid_round_ids(id);
  round.set_avoid_declined_only(request.avoid_declined_only());
  *round.mutable_summary() = ToPairingSummary(result.summary, query);
  for (PairedCities& paired : result.pairs) {
    v1::RoundPair* p = round.add_pairs();
    *p->mutable_pair() = ToPair(std::move(paired));
    p->set_state(v1::PAIR_STATE_PROPOSED);
  }
  round.set_state(v1::ROUND_STATE_OPEN);
  round.set_created_at(now);
  round.set_updated_at(now);
  CountStates(&round);
  return round;
}

absl::StatusOr<PairingQuery> RematchQuery(const v1::Round& round,
                                          const std::vector<std::string>& known_cities) {
  if (absl::Status s = CheckOpen(round); !s.ok()) return s;
  absl::StatusOr<PairingQuery> query = ToPairingQuery(round.options());
  if (!query.ok()) return query.status();
  const std::set<std::string> known(known_cities.begin(), known_cities.end());
  auto present = [&known](const std::string& a, const std::string& b) {
    return known.count(a) > 0 && known.count(b) > 0;
  };
  // The cohort was resolved at creation: pair within it, regions applied.
  query->city_ids.clear();
  query->regions.clear();
  for (const std::string& id : round.cohort()) {
    if (known.count(id) > 0) query->city_ids.push_back(id);
  }
  std::set<PairKey> avoid;
  for (const CityPair& p : query->avoid) avoid.emplace(p.asking_city_id, p.peer_city_id);
  for (const v1::CityPair& p : round.avoided()) avoid.emplace(p.asking_city_id(), p.peer_city_id());
  query->keep.clear();
  for (const v1::RoundPair& p : round.pairs()) {
    const PairKey key = KeyOf(p.pair());
    if (p.state() == v1::PAIR_STATE_DECLINED) avoid.insert(key);
    if (Active(p) && present(key.first, key.second)) {
      query->keep.push_back({key.first, key.second});
    }
  }
  query->avoid.clear();
  for (const PairKey& key : avoid) {
    if (present(key.first, key.second)) query->avoid.push_back({key.first, key.second});
  }
  return query;
}

std::vector<v1::Pair> ApplyRematch(PairingResult result, const PairingQuery& query, int64_t now,
                                   v1::Round* round) {
  std::set<PairKey> held;
  for (const v1::RoundPair& p : round->pairs()) held.insert(KeyOf(p.pair()));
  const int wave = round->rematches() + 1;
  *round->mutable_summary() = ToPairingSummary(result.summary, query);
  std::vector<v1::Pair> added;
  for (PairedCities& paired : result.pairs) {
    if (held.count({paired.asking_city_id, paired.peer_city_id}) > 0) continue;
    v1::Pair pair = ToPair(std::move(paired));
    v1::RoundPair* p = round->add_pairs();
    *p->mutable_pair() = pair;
    p->set_state(v1::PAIR_STATE_PROPOSED);
    p->set_proposed_in(wave);
    added.push_back(std::move(pair));
  }
  // By asking city, best first, as a creation's pairs are.
  std::stable_sort(round->mutable_pairs()->begin(), round->mutable_pairs()->end(),
                   [](const v1::RoundPair& x, const v1::RoundPair& y) {
                     if (x.pair().asking_city_id() != y.pair().asking_city_id()) {
                       return x.pair().asking_city_id() < y.pair().asking_city_id();
                     }
                     if (x.pair().score() != y.pair().score()) {
                       return x.pair().score() > y.pair().score();
                     }
                     return x.pair().peer_city_id() < y.pair().peer_city_id();
                   });
  round->set_rematches(wave);
  round->set_updated_at(now);
  CountStates(round);
  return added;
}

std::vector<v1::Unmatched> FewerPeers(const v1::Round& round) {
  const v1::PairCitiesRequest& o = round.options();
  const int k = o.mutual() ? 1 : o.k() > 0 ? o.k() : kDefaultPairK;
  std::map<std::string, int> active;
  std::set<std::string> declined;
  for (const v1::RoundPair& p : round.pairs()) {
    const std::string& asker = p.pair().asking_city_id();
    if (Active(p)) ++active[asker];
    if (p.state() == v1::PAIR_STATE_DECLINED) declined.insert(asker);
  }
  std::map<std::string, std::string> summary_reason;
  for (const v1::Unmatched& u : round.summary().unmatched()) summary_reason[u.city_id()] = u.reason();
  std::vector<v1::Unmatched> out;
  for (const std::string& city : declined) {
    const int got = active.count(city) > 0 ? active.at(city) : 0;
    if (got >= k) continue;
    v1::Unmatched u;
    u.set_city_id(city);
    u.set_peers(got);  // issue 12
    auto it = summary_reason.find(city);
    u.set_reason(it != summary_reason.end()
                     ? it->second
                     : absl::StrCat(got, " of ", k, " peers: its other candidate peers are full, "
                                    "declined or excluded; raise capacity"));
    out.push_back(std::move(u));
  }
  return out;
}

absl::Status CheckDecision(const v1::DecideRoundPairRequest& request) {
  if (absl::Status s = ValidateId("round_id", request.round_id()); !s.ok()) return s;
  if (absl::Status s = ValidateId("asking_city_id", request.asking_city_id()); !s.ok()) return s;
  if (absl::Status s = ValidateId("peer_city_id", request.peer_city_id()); !s.ok()) return s;
  if (request.decision() != v1::PAIR_STATE_ACCEPTED &&
      request.decision() != v1::PAIR_STATE_DECLINED) {
    return Invalid("decision", "PAIR_STATE_ACCEPTED or PAIR_STATE_DECLINED (--accept or --decline)");
  }
  if (!v1::DeclineReason_IsValid(request.reason())) {
    return Invalid("reason", absl::StrCat(request.reason(), " is not a reason; use one of ",
                                          EnumShortNames<v1::DeclineReason>()));
  }
  if (request.decision() == v1::PAIR_STATE_ACCEPTED &&
      request.reason() != v1::DECLINE_REASON_UNSPECIFIED) {
    return Invalid("reason", "only a decline takes a reason");
  }
  if (request.comment().size() > kMaxRoundCommentBytes) {
    return Invalid("comment", absl::StrCat(request.comment().size(), " bytes, at most ",
                                           kMaxRoundCommentBytes));
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> ApplyDecision(const v1::DecideRoundPairRequest& request, int64_t now,
                                   v1::Round* round, v1::RoundPair* decided) {
  if (absl::Status s = CheckOpen(*round); !s.ok()) return s;
  const int i = FindPair(*round, request.asking_city_id(), request.peer_city_id());
  if (i < 0) return NoSuchPair(*round, request.asking_city_id(), request.peer_city_id());
  v1::RoundPair* p = round->mutable_pairs(i);
  if (p->state() == request.decision() && p->reason() == request.reason() &&
      p->comment() == request.comment()) {
    *decided = *p;
    return false;
  }
  if (p->state() == v1::PAIR_STATE_DECLINED && request.decision() == v1::PAIR_STATE_ACCEPTED &&
      round->rematches() > p->decided_after()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "decision: ", p->pair().asking_city_id(), " -> ", p->pair().peer_city_id(),
        " was declined before rematch ", p->decided_after() + 1,
        ", which has filled its place; it cannot be accepted in this round (propose it with "
        "keep in a new round)"));
  }
  p->set_state(request.decision());
  p->set_reason(request.reason());
  p->set_comment(request.comment());
  p->set_decided_at(now);
  p->set_decided_after(round->rematches());
  round->set_updated_at(now);
  CountStates(round);
  *decided = *p;
  return true;
}

bool CloseRound(int64_t now, v1::Round* round) {
  if (round->state() == v1::ROUND_STATE_CLOSED) return false;
  round->set_state(v1::ROUND_STATE_CLOSED);
  round->set_updated_at(now);
  return true;
}

void CountStates(v1::Round* round) {
  int proposed = 0, accepted = 0, declined = 0;
  for (const v1::RoundPair& p : round->pairs()) {
    proposed += p.state() == v1::PAIR_STATE_PROPOSED;
    accepted += p.state() == v1::PAIR_STATE_ACCEPTED;
    declined += p.state() == v1::PAIR_STATE_DECLINED;
  }
  round->set_proposed(proposed);
  round->set_accepted(accepted);
  round->set_declined(declined);
}

}  // namespace peermatch
