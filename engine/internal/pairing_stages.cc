// The stages of batch pairing. Scores, their order and the solver's input
// are those of the single function they were split from: the demo pair CSV
// is byte-identical.
#include "engine/internal/pairing_stages.h"

#include "records/case_language.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <thread>

#include "absl/strings/str_cat.h"
#include "engine/internal/query_util.h"
#include "pairing/pairing.h"
#include "records/validate.h"

namespace peermatch::internal {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", what));
}

bool Cancelled(const Cancellation* cancel) { return cancel != nullptr && cancel->cancelled(); }

absl::Status NoCity(absl::string_view field, absl::string_view id) {
  return absl::NotFoundError(absl::StrCat(field, ": no city with id \"", id, "\""));
}

// Every id of `pairs` (avoid or keep) names a known city.
absl::Status CheckPairs(const char* field, const std::vector<CityPair>& pairs,
                        const std::map<std::string, const CityInfo*>& known) {
  for (size_t i = 0; i < pairs.size(); ++i) {
    for (const auto& [sub, id] : {std::make_pair("asking_city_id", &pairs[i].asking_city_id),
                                  std::make_pair("peer_city_id", &pairs[i].peer_city_id)}) {
      if (known.count(*id) == 0) return NoCity(absl::StrCat(field, "[", i, "].", sub), *id);
    }
  }
  return absl::OkStatus();
}

// No pair of `pairs` (avoid or keep) makes a city its own peer.
absl::Status CheckNoSelfPairs(const char* field, const std::vector<CityPair>& pairs) {
  for (size_t i = 0; i < pairs.size(); ++i) {
    if (pairs[i].asking_city_id == pairs[i].peer_city_id) {
      return Invalid(absl::StrCat("query.", field, "[", i, "]"), "a city cannot be its own peer");
    }
  }
  return absl::OkStatus();
}

// The cohort's city ids: those asked for (all when none), in the regions
// asked for.
absl::StatusOr<std::set<std::string>> CohortCities(
    const PairingQuery& query, const std::map<std::string, const CityInfo*>& info) {
  std::set<std::string> cohort;
  for (size_t i = 0; i < query.city_ids.size(); ++i) {
    const std::string& id = query.city_ids[i];
    if (info.count(id) == 0) return NoCity(absl::StrCat("city_ids[", i, "]"), id);
    cohort.insert(id);
  }
  if (query.city_ids.empty()) {
    for (const auto& [id, city] : info) cohort.insert(id);
  }
  if (!query.regions.empty()) {
    for (auto it = cohort.begin(); it != cohort.end();) {
      const v1::Region r = info.at(*it)->region;
      const bool in =
          std::find(query.regions.begin(), query.regions.end(), r) != query.regions.end();
      it = in ? std::next(it) : cohort.erase(it);
    }
  }
  return cohort;
}

// The peer solutions askers[a] may be matched with (keep mask for Search).
std::vector<bool> PeerSolutions(const PairingQuery& query, const Cohort& cohort,
                                const SegmentedIndex& index, size_t a) {
  const std::string& asker = cohort.askers[a];
  const std::string& country = cohort.info.at(asker)->country;
  std::vector<bool> keep_mask(index.num_positions(), false);
  for (uint32_t d = 0; d < index.num_positions(); ++d) {
    if (!cohort.solution[d]) continue;  // (never a dead position)
    const std::string& peer = index.doc(d).city_id;
    if (peer == asker) continue;
    if (query.exclude_same_country && index.city_of(d).country == country) continue;
    if (cohort.avoid.count({asker, peer}) > 0) continue;
    keep_mask[d] = true;
  }
  return keep_mask;
}

// askers[a]'s best candidate with every peer city, into *best. False when
// cancelled before it was done.
bool ScoreAsker(const PairingQuery& query, const PairingParams& params,
                const Cohort& cohort, const ScoringInputs& in, size_t a,
                const Cancellation* cancel, std::map<std::string, Candidate>* best) {
  const SegmentedIndex& index = *in.index;
  const std::vector<bool> keep_mask = PeerSolutions(query, cohort, index, a);
  for (uint32_t c : cohort.challenges[a]) {
    if (Cancelled(cancel)) return false;
    auto stored = in.store->GetCase(index.doc(c).case_id);
    if (!stored.ok()) continue;  // deleted since the snapshot
    // The challenge is embedded as a query (its counts over title,
    // description and tags), not read from the index, whose vectors are
    // the case's document weights: the scores would differ.
    const QueryVector q = in.model->EmbedQuery(CaseQueryText(*stored), CaseAnalysisLanguage(*stored));
    const IndexQuery iq = ToIndexQuery(q, *in.terms);
    // Enough hits to see the `per_city` best peer cities of this challenge.
    for (size_t depth = static_cast<size_t>(params.per_city) * 8;; depth *= 2) {
      const std::vector<Hit> hits =
          index.Search(iq, CaseStructure(*stored), keep_mask, *in.weights, depth);
      std::set<std::string> seen;
      for (const Hit& h : hits) {
        const std::string& peer = index.doc(h.doc).city_id;
        seen.insert(peer);
        Candidate& cand = (*best)[peer];
        if (h.score > cand.score) cand = Candidate{h.score, c, h};
      }
      if (seen.size() >= static_cast<size_t>(params.per_city) || hits.size() < depth) break;
    }
  }
  return true;
}

void ReportScoring(const std::function<void(const PairingProgress&)>& progress, size_t done,
                   size_t total) {
  if (!progress) return;
  progress(PairingProgress{"scoring", static_cast<int64_t>(done), static_cast<int64_t>(total)});
}

// Numbers cities for the solver in the order they first appear.
class CityNumbers {
 public:
  int operator()(const std::string& id) {
    auto [it, inserted] = index_.emplace(id, static_cast<int>(index_.size()));
    return it->second;
  }
  int size() const { return static_cast<int>(index_.size()); }

 private:
  std::map<std::string, int> index_;
};

// Mutual: unordered pairs, each direction scoring max(0, its best); a pair
// needs the sum to reach min_score (kept pairs stay whatever their sum).
std::vector<Choice> Undirected(const PairingQuery& query,
                               const std::vector<Choice>& pruned) {
  std::map<PairKey, Choice> undirected;
  for (const Choice& ch : pruned) {
    const auto key = std::minmax(ch.asker, ch.peer);
    Choice& u = undirected[{key.first, key.second}];
    u.asker = key.first;
    u.peer = key.second;
    if (ch.asker == key.first) {
      u.forward = ch.forward;
    } else {
      u.reverse = ch.forward;
    }
    u.kept = u.kept || ch.kept;
  }
  std::vector<Choice> pairs;
  for (auto& [key, u] : undirected) {
    u.score = std::max(0.0f, u.forward ? u.forward->score : 0.0f) +
              std::max(0.0f, u.reverse ? u.reverse->score : 0.0f);
    if (u.score < query.min_score && !u.kept) continue;
    pairs.push_back(u);
  }
  return pairs;
}

// The solver's candidates and must-keep list over `choices`.
template <typename Problem>
void FillProblem(const std::vector<Choice>& choices, Problem* problem) {
  CityNumbers number;
  for (size_t i = 0; i < choices.size(); ++i) {
    problem->candidates.push_back(
        {number(choices[i].asker), number(choices[i].peer), choices[i].score});
    if (choices[i].kept) problem->must_keep.push_back(static_cast<int>(i));
  }
  problem->num_cities = number.size();
}

// The case ids, titles and score of one direction of a pair; with
// `explain`, its parts and shared terms too.
PairDirection ExplainDirection(const Candidate& cand, bool explain, const ScoringInputs& in) {
  const SegmentedIndex& index = *in.index;
  const DocInfo& challenge = index.doc(cand.challenge);
  const DocInfo& sol = index.doc(cand.hit.doc);
  PairDirection out;
  out.challenge_id = challenge.case_id;
  out.challenge_title = challenge.title;
  out.solution_id = sol.case_id;
  out.solution_title = sol.title;
  out.score = cand.score;
  if (!explain) return out;
  out.parts = PartsOf(cand.hit);
  auto stored = in.store->GetCase(challenge.case_id);
  if (!stored.ok()) return out;
  const QueryVector q = in.model->EmbedQuery(CaseQueryText(*stored), CaseAnalysisLanguage(*stored));
  out.shared_terms = SharedTerms(index, ToIndexQuery(q, *in.terms), q, *in.terms, cand.hit);
  return out;
}

// Why askers[a], which got no peer, was left out.
UnmatchedCity Unmatched(const PairingQuery& query, const Cohort& cohort, const BestPeers& best,
                        const Solution& solution, size_t a) {
  UnmatchedCity out;
  out.city_id = cohort.askers[a];
  if (best[a].empty()) {
    out.reason = UnmatchedCity::Reason::kNoCandidate;
    return out;
  }
  float top = -1e30f;
  for (const auto& [peer, cand] : best[a]) top = std::max(top, cand.score);
  if (top < query.min_score) {
    out.reason = UnmatchedCity::Reason::kBelowMinScore;
    out.best_score = top;
    return out;
  }
  const std::string& asker = cohort.askers[a];
  out.reason = UnmatchedCity::Reason::kPeersTaken;
  out.candidates =
      std::count_if(solution.choices.begin(), solution.choices.end(), [&](const Choice& c) {
        return c.asker == asker || (query.mutual && c.peer == asker);
      });
  return out;
}

// Why askers[a], which got `got` peers (0 < got < k), got no more:
// counts its candidate peer cities other than the ones it got. By the
// solver's optimality each kept one is at capacity or would lower the
// total (a pair with room and a score of 0 or more would raise it).
UnmatchedCity FewerPeers(const PairingQuery& query, const PairingParams& params,
                         const Cohort& cohort, const BestPeers& best, const Solution& solution,
                         const std::map<std::string, int>& served, size_t a, int got) {
  UnmatchedCity out;
  out.city_id = cohort.askers[a];
  out.peers = got;
  std::set<std::string> chosen, kept;
  for (int i : solution.chosen) {
    if (solution.choices[i].asker == out.city_id) chosen.insert(solution.choices[i].peer);
  }
  for (const Choice& c : solution.choices) {
    if (c.asker != out.city_id || chosen.count(c.peer) > 0 || !kept.insert(c.peer).second) continue;
    const auto it = served.find(c.peer);
    if (it != served.end() && it->second >= params.capacity) {
      ++out.full;
    } else {
      ++out.not_worth;
    }
  }
  for (const auto& [peer, cand] : best[a]) {
    if (chosen.count(peer) > 0 || kept.count(peer) > 0) continue;
    if (cand.score < query.min_score) {
      ++out.below_min;
    } else {
      ++out.pruned;
    }
  }
  out.reason = out.full + out.not_worth + out.below_min + out.pruned == 0
                   ? UnmatchedCity::Reason::kNoCandidate
                   : UnmatchedCity::Reason::kPeersTaken;
  return out;
}

}  // namespace

absl::StatusOr<PairingParams> CheckPairingQuery(const PairingQuery& query) {
  if (query.k < 1 || query.k > kMaxPairK) {
    return Invalid("query.k", absl::StrCat(query.k, " is outside 1-", kMaxPairK));
  }
  if (query.capacity < 1 || query.capacity > kMaxPairCapacity) {
    return Invalid("query.capacity",
                   absl::StrCat(query.capacity, " is outside 1-", kMaxPairCapacity));
  }
  if (query.candidates_per_city < 0 || query.candidates_per_city > kMaxCandidatesPerCity) {
    return Invalid("query.candidates_per_city",
                   absl::StrCat(query.candidates_per_city, " is outside 0-",
                                kMaxCandidatesPerCity));
  }
  if (!std::isfinite(query.min_score)) return Invalid("query.min_score", "must be a finite number");
  PairingParams params;
  for (size_t i = 0; i < query.themes.size(); ++i) {
    if (!IsKnownTheme(query.themes[i])) {
      return Invalid(absl::StrCat("query.themes[", i, "]"), "unknown theme");
    }
    params.themes |= 1u << query.themes[i];
  }
  if (absl::Status s = CheckNoSelfPairs("avoid", query.avoid); !s.ok()) return s;
  if (absl::Status s = CheckNoSelfPairs("keep", query.keep); !s.ok()) return s;
  params.k = query.mutual ? 1 : query.k;
  params.capacity = query.mutual ? 1 : query.capacity;
  params.per_city =
      query.candidates_per_city == 0 ? std::max(10 * params.k, 40) : query.candidates_per_city;
  return params;
}

absl::StatusOr<Cohort> BuildCohort(const PairingQuery& query, const PairingParams& params,
                                   const SegmentedIndex& index) {
  Cohort out;
  for (const CityInfo& c : index.cities()) out.info[c.id] = &c;
  absl::StatusOr<std::set<std::string>> cohort = CohortCities(query, out.info);
  if (!cohort.ok()) return cohort.status();
  if (absl::Status s = CheckPairs("avoid", query.avoid, out.info); !s.ok()) return s;
  if (absl::Status s = CheckPairs("keep", query.keep, out.info); !s.ok()) return s;
  for (const CityPair& p : query.avoid) {
    out.avoid.emplace(p.asking_city_id, p.peer_city_id);
    if (query.mutual) out.avoid.emplace(p.peer_city_id, p.asking_city_id);
  }
  for (const CityPair& p : query.keep) out.keep.emplace(p.asking_city_id, p.peer_city_id);

  // By asking city, each city's in case-id order (a tie between two
  // challenges goes to the first: the order must not depend on which
  // segment holds a case).
  std::map<std::string, std::vector<uint32_t>> challenges;
  out.solution.assign(index.num_positions(), false);
  index.ForEachLiveInIdOrder([&](uint32_t d) {
    const DocInfo& doc = index.doc(d);
    if (cohort->count(doc.city_id) == 0) return;
    if (params.themes != 0 && (doc.themes & params.themes) == 0) return;
    if (doc.kind == v1::CASE_KIND_CHALLENGE) challenges[doc.city_id].push_back(d);
    if (doc.kind == v1::CASE_KIND_SOLUTION) out.solution[d] = true;
  });
  for (auto& [city, docs] : challenges) {
    out.askers.push_back(city);
    out.challenges.push_back(std::move(docs));
  }
  return out;
}

absl::StatusOr<BestPeers> ScoreCohort(
    const PairingQuery& query, const PairingParams& params, const Cohort& cohort,
    const ScoringInputs& in, const std::function<void(const PairingProgress&)>& progress,
    const Cancellation* cancel) {
  const size_t total = cohort.askers.size();
  BestPeers best(total);
  ReportScoring(progress, 0, total);
  std::atomic<size_t> next{0}, done{0};
  std::atomic<bool> stopped{false};
  // Both threads take askers in turn; each asker's result depends on it
  // alone, so which thread scores it does not change the pairing.
  auto score_next = [&]() -> bool {
    const size_t a = next++;
    if (a >= total || stopped.load()) return false;
    if (!ScoreAsker(query, params, cohort, in, a, cancel, &best[a])) {
      stopped = true;
      return false;
    }
    ++done;
    return true;
  };
  std::thread helper([&] {
    while (score_next()) {
    }
  });
  size_t reported_percent = 0;
  while (score_next()) {
    const size_t percent = done.load() * 100 / total;
    if (percent > reported_percent) {
      reported_percent = percent;
      ReportScoring(progress, done.load(), total);
    }
  }
  helper.join();
  if (stopped.load() || Cancelled(cancel)) {
    return absl::CancelledError(absl::StrCat("pairing cancelled while scoring (", done.load(),
                                             " of ", total, " asking cities scored)"));
  }
  if (total > 0) ReportScoring(progress, total, total);
  return best;
}

std::vector<Choice> Prune(const PairingQuery& query, const PairingParams& params,
                          const Cohort& cohort, const BestPeers& best) {
  std::vector<Choice> choices;
  std::set<PairKey> chosen;
  for (size_t a = 0; a < cohort.askers.size(); ++a) {
    const std::string& asker = cohort.askers[a];
    std::vector<std::pair<std::string, const Candidate*>> ranked;
    for (const auto& [peer, cand] : best[a]) {
      if (cand.score >= query.min_score || cohort.keep.count({asker, peer}) > 0) {
        ranked.emplace_back(peer, &cand);
      }
    }
    std::sort(ranked.begin(), ranked.end(), [](const auto& x, const auto& y) {
      return x.second->score != y.second->score ? x.second->score > y.second->score
                                                : x.first < y.first;
    });
    for (size_t i = 0; i < ranked.size(); ++i) {
      const bool kept = cohort.keep.count({asker, ranked[i].first}) > 0;
      if (i >= static_cast<size_t>(params.per_city) && !kept) continue;
      chosen.emplace(asker, ranked[i].first);
      choices.push_back(
          Choice{asker, ranked[i].first, ranked[i].second, nullptr, ranked[i].second->score, kept});
    }
  }
  // Kept pairs that scored nothing (no challenge of the asker matches a
  // solution of the peer) still hold their place, at score 0.
  for (const auto& [asker, peer] : cohort.keep) {
    if (chosen.count({asker, peer}) > 0) continue;
    choices.push_back(Choice{asker, peer, nullptr, nullptr, 0.0, true});
  }
  return choices;
}

absl::StatusOr<Solution> Solve(const PairingQuery& query, const PairingParams& params,
                               std::vector<Choice> pruned) {
  Solution out;
  absl::StatusOr<Assignment> solved;
  if (!query.mutual) {
    out.choices = std::move(pruned);
    AssignmentProblem problem;
    FillProblem(out.choices, &problem);
    problem.k = params.k;
    problem.capacity = params.capacity;
    problem.cover_first = !query.score_only;
    out.kept_candidates = static_cast<int64_t>(problem.candidates.size());
    solved = SolveAssignment(problem);
  } else {
    out.choices = Undirected(query, pruned);
    MutualProblem problem;
    FillProblem(out.choices, &problem);
    out.kept_candidates = static_cast<int64_t>(problem.candidates.size());
    solved = SolveMutual(problem);
  }
  if (!solved.ok()) {
    return absl::Status(solved.status().code(),
                        absl::StrCat("keep: ", solved.status().message()));
  }
  out.chosen = std::move(solved->chosen);
  return out;
}

std::vector<PairedCities> Explain(const PairingQuery& query, const PairingParams& params,
                                  const Cohort& cohort, const BestPeers& best,
                                  const Solution& solution, const ScoringInputs& in,
                                  PairingSummary* summary) {
  std::vector<PairedCities> pairs;
  std::map<std::string, int> peers_of, served;
  double total = 0;
  for (int i : solution.chosen) {
    const Choice& ch = solution.choices[i];
    PairedCities pair;
    pair.asking_city_id = ch.asker;
    pair.peer_city_id = ch.peer;
    pair.score = ch.score;
    pair.kept = ch.kept;
    if (ch.forward != nullptr) pair.forward = ExplainDirection(*ch.forward, true, in);
    if (query.mutual && ch.reverse != nullptr) {
      pair.reverse = ExplainDirection(*ch.reverse, false, in);
    }
    total += ch.score;
    ++peers_of[ch.asker];
    ++served[ch.peer];
    if (query.mutual) ++peers_of[ch.peer];
    pairs.push_back(std::move(pair));
  }
  std::sort(pairs.begin(), pairs.end(), [](const PairedCities& x, const PairedCities& y) {
    if (x.asking_city_id != y.asking_city_id) return x.asking_city_id < y.asking_city_id;
    if (x.score != y.score) return x.score > y.score;
    return x.peer_city_id < y.peer_city_id;
  });
  summary->pairs = static_cast<int>(pairs.size());
  summary->total_score = total;
  int matched = 0, full = 0;
  for (size_t a = 0; a < cohort.askers.size(); ++a) {
    const auto it = peers_of.find(cohort.askers[a]);
    const int got = it == peers_of.end() ? 0 : it->second;
    if (got > 0) ++matched;
    if (got >= params.k) ++full;
    if (got >= params.k) continue;
    if (got > 0) {
      summary->fewer_peers.push_back(
          FewerPeers(query, params, cohort, best, solution, served, a, got));
      continue;
    }
    summary->unmatched.push_back(Unmatched(query, cohort, best, solution, a));
  }
  summary->matched_cities = matched;
  summary->fully_matched_cities = full;
  return pairs;
}

}  // namespace peermatch::internal
