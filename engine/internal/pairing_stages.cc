// The stages of batch pairing. Scores, their order and the solver's input
// are those of the single function they were split from: the demo pair CSV
// is byte-identical.
#include "engine/internal/pairing_stages.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/internal/query_util.h"
#include "pairing/pairing.h"
#include "records/validate.h"

namespace peermatch::internal {
namespace {

constexpr int kMaxPairK = 20;
constexpr int kMaxCapacity = 1000;
constexpr int kMaxCandidatesPerCity = 1000;

absl::Status Invalid(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", what));
}

bool Cancelled(const Cancellation* cancel) { return cancel != nullptr && cancel->cancelled(); }

// Every id of `pairs` (avoid or keep) names a known city, and no city is
// its own peer.
template <typename Pairs>
absl::Status CheckPairs(const char* field, const Pairs& pairs,
                        const std::map<std::string, const CityInfo*>& known) {
  for (int i = 0; i < pairs.size(); ++i) {
    for (const auto& [sub, id] : {std::make_pair("asking_city_id", pairs[i].asking_city_id()),
                                  std::make_pair("peer_city_id", pairs[i].peer_city_id())}) {
      const std::string f = absl::StrCat(field, "[", i, "].", sub);
      if (absl::Status s = ValidateId(f, id); !s.ok()) return s;
      if (known.count(id) == 0) {
        return absl::NotFoundError(absl::StrCat(f, ": no city with id \"", id, "\""));
      }
    }
    if (pairs[i].asking_city_id() == pairs[i].peer_city_id()) {
      return Invalid(absl::StrCat(field, "[", i, "]"), "a city cannot be its own peer");
    }
  }
  return absl::OkStatus();
}

// The cohort's city ids: those asked for (all when none), in the regions
// asked for.
absl::StatusOr<std::set<std::string>> CohortCities(
    const v1::PairCitiesRequest& req, const std::map<std::string, const CityInfo*>& info) {
  std::set<std::string> cohort;
  for (int i = 0; i < req.city_ids_size(); ++i) {
    if (absl::Status s = ValidateId(absl::StrCat("city_ids[", i, "]"), req.city_ids(i)); !s.ok()) {
      return s;
    }
    if (info.count(req.city_ids(i)) == 0) {
      return absl::NotFoundError(absl::StrCat("city_ids[", i, "]: no city with id \"",
                                              req.city_ids(i), "\""));
    }
    cohort.insert(req.city_ids(i));
  }
  if (req.city_ids().empty()) {
    for (const auto& [id, city] : info) cohort.insert(id);
  }
  if (req.regions_size() > 0) {
    for (auto it = cohort.begin(); it != cohort.end();) {
      const v1::Region r = info.at(*it)->region;
      const bool in =
          std::find(req.regions().begin(), req.regions().end(), r) != req.regions().end();
      it = in ? std::next(it) : cohort.erase(it);
    }
  }
  return cohort;
}

// The peer solutions askers[a] may be matched with (keep mask for Search).
std::vector<bool> PeerSolutions(const v1::PairCitiesRequest& req, const Cohort& cohort,
                                const Index& index, size_t a) {
  const std::string& asker = cohort.askers[a];
  const std::string& country = cohort.info.at(asker)->country;
  std::vector<bool> keep_mask(index.size(), false);
  for (uint32_t d = 0; d < index.size(); ++d) {
    if (!cohort.solution[d]) continue;
    const std::string& peer = index.doc(d).city_id;
    if (peer == asker) continue;
    if (req.exclude_same_country() && index.city_of(d).country == country) continue;
    if (cohort.avoid.count({asker, peer}) > 0) continue;
    keep_mask[d] = true;
  }
  return keep_mask;
}

// askers[a]'s best candidate with every peer city, into *best. False when
// cancelled before it was done.
bool ScoreAsker(const v1::PairCitiesRequest& req, const PairingParams& params,
                const Cohort& cohort, const ScoringInputs& in, size_t a,
                const Cancellation* cancel, std::map<std::string, Candidate>* best) {
  const Index& index = *in.index;
  const std::vector<bool> keep_mask = PeerSolutions(req, cohort, index, a);
  for (uint32_t c : cohort.challenges[a]) {
    if (Cancelled(cancel)) return false;
    auto stored = in.store->GetCase(index.doc(c).case_id);
    if (!stored.ok()) continue;  // deleted since the snapshot
    // The challenge is embedded as a query (its counts over title,
    // description and tags), not read from the index, whose vectors are
    // the case's document weights: the scores would differ.
    const QueryVector q = in.model->EmbedQuery(CaseQueryText(*stored), stored->language());
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

void ReportScoring(const std::function<void(const v1::PairingProgress&)>& progress, size_t done,
                   size_t total) {
  if (!progress) return;
  v1::PairingProgress p;
  p.set_stage("scoring");
  p.set_done(static_cast<int64_t>(done));
  p.set_total(static_cast<int64_t>(total));
  progress(p);
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
std::vector<Choice> Undirected(const v1::PairCitiesRequest& req,
                               const std::vector<Choice>& pruned) {
  std::map<CityPair, Choice> undirected;
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
    if (u.score < req.min_score() && !u.kept) continue;
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

// The case ids, titles, parts and shared terms of one direction of a pair.
void ExplainDirection(const Candidate* cand, bool forward, const ScoringInputs& in,
                      v1::Pair* pair) {
  if (cand == nullptr) return;
  const Index& index = *in.index;
  const DocInfo& challenge = index.doc(cand->challenge);
  const DocInfo& sol = index.doc(cand->hit.doc);
  if (!forward) {
    pair->set_reverse_challenge_id(challenge.case_id);
    pair->set_reverse_solution_id(sol.case_id);
    pair->set_reverse_score(cand->score);
    return;
  }
  pair->set_challenge_id(challenge.case_id);
  pair->set_challenge_title(challenge.title);
  pair->set_solution_id(sol.case_id);
  pair->set_solution_title(sol.title);
  SetParts(cand->hit, pair->mutable_parts());
  auto stored = in.store->GetCase(challenge.case_id);
  if (!stored.ok()) return;
  const QueryVector q = in.model->EmbedQuery(CaseQueryText(*stored), stored->language());
  AddSharedTerms(index, ToIndexQuery(q, *in.terms), q, *in.terms, cand->hit,
                 pair->mutable_shared_terms());
}

// Why askers[a], which got no peer, was left out.
std::string UnmatchedReason(const v1::PairCitiesRequest& req, const Cohort& cohort,
                            const BestPeers& best, const Solution& solution, size_t a) {
  if (best[a].empty()) {
    return "no solution of another cohort city is left to match its challenges (after the "
           "theme, same-country and avoid exclusions)";
  }
  float top = -1e30f;
  for (const auto& [peer, cand] : best[a]) top = std::max(top, cand.score);
  if (top < req.min_score()) {
    return absl::StrFormat("its best candidate peer scores %.2f, below min_score %.2f", top,
                           req.min_score());
  }
  const std::string& asker = cohort.askers[a];
  const size_t options =
      std::count_if(solution.choices.begin(), solution.choices.end(), [&](const Choice& c) {
        return c.asker == asker || (req.mutual() && c.peer == asker);
      });
  return absl::StrCat(
      req.mutual() ? "each of its " : "its ", options,
      req.mutual() ? " candidate partners is twinned with a city that has no better option"
      : req.score_only()
          ? " candidate peers are at capacity with askers they suit better; raise capacity, "
            "or drop score_only to cover every city first"
          : " candidate peers are all needed at capacity by cities that have no other peer; "
            "raise capacity");
}

}  // namespace

absl::StatusOr<PairingParams> ValidatePairingRequest(const v1::PairCitiesRequest& req) {
  if (req.k() < 0 || req.k() > kMaxPairK) {
    return Invalid("k", absl::StrCat(req.k(), " is outside 0-", kMaxPairK));
  }
  if (req.capacity() < 0 || req.capacity() > kMaxCapacity) {
    return Invalid("capacity", absl::StrCat(req.capacity(), " is outside 0-", kMaxCapacity));
  }
  if (req.candidates_per_city() < 0 || req.candidates_per_city() > kMaxCandidatesPerCity) {
    return Invalid("candidates_per_city", absl::StrCat(req.candidates_per_city(), " is outside 0-",
                                                       kMaxCandidatesPerCity));
  }
  if (!std::isfinite(req.min_score())) return Invalid("min_score", "must be a finite number");
  for (int i = 0; i < req.regions_size(); ++i) {
    if (req.regions(i) == v1::REGION_UNSPECIFIED || !v1::Region_IsValid(req.regions(i))) {
      return Invalid(absl::StrCat("regions[", i, "]"), "unknown region");
    }
  }
  PairingParams params;
  for (int i = 0; i < req.themes_size(); ++i) {
    if (req.themes(i) == v1::THEME_UNSPECIFIED || !v1::Theme_IsValid(req.themes(i))) {
      return Invalid(absl::StrCat("themes[", i, "]"), "unknown theme");
    }
    params.themes |= 1u << req.themes(i);
  }
  params.k = req.mutual() ? 1 : (req.k() == 0 ? 3 : req.k());
  params.capacity = req.mutual() ? 1 : (req.capacity() == 0 ? 3 : req.capacity());
  params.per_city =
      req.candidates_per_city() == 0 ? std::max(10 * params.k, 40) : req.candidates_per_city();
  return params;
}

absl::StatusOr<Cohort> BuildCohort(const v1::PairCitiesRequest& req, const PairingParams& params,
                                   const Index& index) {
  Cohort out;
  for (const CityInfo& c : index.cities()) out.info[c.id] = &c;
  absl::StatusOr<std::set<std::string>> cohort = CohortCities(req, out.info);
  if (!cohort.ok()) return cohort.status();
  if (absl::Status s = CheckPairs("avoid", req.avoid(), out.info); !s.ok()) return s;
  if (absl::Status s = CheckPairs("keep", req.keep(), out.info); !s.ok()) return s;
  for (const auto& p : req.avoid()) {
    out.avoid.emplace(p.asking_city_id(), p.peer_city_id());
    if (req.mutual()) out.avoid.emplace(p.peer_city_id(), p.asking_city_id());
  }
  for (const auto& p : req.keep()) out.keep.emplace(p.asking_city_id(), p.peer_city_id());

  std::map<std::string, std::vector<uint32_t>> challenges;  // by asking city, sorted by id
  out.solution.assign(index.size(), false);
  for (uint32_t d = 0; d < index.size(); ++d) {
    const DocInfo& doc = index.doc(d);
    if (cohort->count(doc.city_id) == 0) continue;
    if (params.themes != 0 && (doc.themes & params.themes) == 0) continue;
    if (doc.kind == v1::CASE_KIND_CHALLENGE) challenges[doc.city_id].push_back(d);
    if (doc.kind == v1::CASE_KIND_SOLUTION) out.solution[d] = true;
  }
  for (auto& [city, docs] : challenges) {
    out.askers.push_back(city);
    out.challenges.push_back(std::move(docs));
  }
  return out;
}

absl::StatusOr<BestPeers> ScoreCohort(
    const v1::PairCitiesRequest& req, const PairingParams& params, const Cohort& cohort,
    const ScoringInputs& in, const std::function<void(const v1::PairingProgress&)>& progress,
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
    if (!ScoreAsker(req, params, cohort, in, a, cancel, &best[a])) {
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

std::vector<Choice> Prune(const v1::PairCitiesRequest& req, const PairingParams& params,
                          const Cohort& cohort, const BestPeers& best) {
  std::vector<Choice> choices;
  std::set<CityPair> chosen;
  for (size_t a = 0; a < cohort.askers.size(); ++a) {
    const std::string& asker = cohort.askers[a];
    std::vector<std::pair<std::string, const Candidate*>> ranked;
    for (const auto& [peer, cand] : best[a]) {
      if (cand.score >= req.min_score() || cohort.keep.count({asker, peer}) > 0) {
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

absl::StatusOr<Solution> Solve(const v1::PairCitiesRequest& req, const PairingParams& params,
                               std::vector<Choice> pruned) {
  Solution out;
  absl::StatusOr<Assignment> solved;
  if (!req.mutual()) {
    out.choices = std::move(pruned);
    AssignmentProblem problem;
    FillProblem(out.choices, &problem);
    problem.k = params.k;
    problem.capacity = params.capacity;
    problem.cover_first = !req.score_only();
    out.kept_candidates = static_cast<int64_t>(problem.candidates.size());
    solved = SolveAssignment(problem);
  } else {
    out.choices = Undirected(req, pruned);
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

std::vector<v1::Pair> Explain(const v1::PairCitiesRequest& req, const PairingParams& params,
                              const Cohort& cohort, const BestPeers& best,
                              const Solution& solution, const ScoringInputs& in,
                              v1::PairingSummary* summary) {
  std::vector<v1::Pair> pairs;
  std::map<std::string, int> peers_of;
  double total = 0;
  for (int i : solution.chosen) {
    const Choice& ch = solution.choices[i];
    v1::Pair pair;
    pair.set_asking_city_id(ch.asker);
    pair.set_peer_city_id(ch.peer);
    pair.set_score(ch.score);
    pair.set_kept(ch.kept);
    ExplainDirection(ch.forward, true, in, &pair);
    if (req.mutual()) ExplainDirection(ch.reverse, false, in, &pair);
    total += ch.score;
    ++peers_of[ch.asker];
    if (req.mutual()) ++peers_of[ch.peer];
    pairs.push_back(std::move(pair));
  }
  std::sort(pairs.begin(), pairs.end(), [](const v1::Pair& x, const v1::Pair& y) {
    if (x.asking_city_id() != y.asking_city_id()) return x.asking_city_id() < y.asking_city_id();
    if (x.score() != y.score()) return x.score() > y.score();
    return x.peer_city_id() < y.peer_city_id();
  });
  summary->set_pairs(static_cast<int>(pairs.size()));
  summary->set_total_score(total);
  int matched = 0, full = 0;
  for (size_t a = 0; a < cohort.askers.size(); ++a) {
    const auto it = peers_of.find(cohort.askers[a]);
    const int got = it == peers_of.end() ? 0 : it->second;
    if (got > 0) ++matched;
    if (got >= params.k) ++full;
    if (got > 0) continue;
    v1::Unmatched* u = summary->add_unmatched();
    u->set_city_id(cohort.askers[a]);
    u->set_reason(UnmatchedReason(req, cohort, best, solution, a));
  }
  summary->set_matched_cities(matched);
  summary->set_fully_matched_cities(full);
  return pairs;
}

}  // namespace peermatch::internal
