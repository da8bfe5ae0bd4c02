// Engine's batch pairing: candidate pairs of cities from match scores, then
// the exact solvers of pairing.h.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <set>
#include <thread>
#include <atomic>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/engine.h"
#include "engine/internal/query_util.h"
#include "pairing/pairing.h"
#include "records/validate.h"

namespace peermatch {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kMaxPairK = 20;
constexpr int kMaxCapacity = 1000;
constexpr int kMaxCandidatesPerCity = 1000;

absl::Status Invalid(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", what));
}

// The best match of one asking city's challenges against one peer city's
// solutions.
struct Candidate {
  float score = -1e30f;
  uint32_t challenge = 0;  // index positions
  Hit hit;                 // hit.doc is the solution
};

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

}  // namespace

absl::StatusOr<Engine::Pairing> Engine::PairCities(
    const v1::PairCitiesRequest& req,
    const std::function<void(const v1::PairingProgress&)>& progress) const {
  // --- Validate. ---
  if (req.k() < 0 || req.k() > kMaxPairK) {
    return Invalid("k", absl::StrCat(req.k(), " is outside 0-", kMaxPairK));
  }
  if (req.capacity() < 0 || req.capacity() > kMaxCapacity) {
    return Invalid("capacity", absl::StrCat(req.capacity(), " is outside 0-", kMaxCapacity));
  }
  if (req.candidates_per_city() < 0 || req.candidates_per_city() > kMaxCandidatesPerCity) {
    return Invalid("candidates_per_city",
                   absl::StrCat(req.candidates_per_city(), " is outside 0-", kMaxCandidatesPerCity));
  }
  if (!std::isfinite(req.min_score())) return Invalid("min_score", "must be a finite number");
  for (int i = 0; i < req.regions_size(); ++i) {
    if (req.regions(i) == v1::REGION_UNSPECIFIED || !v1::Region_IsValid(req.regions(i))) {
      return Invalid(absl::StrCat("regions[", i, "]"), "unknown region");
    }
  }
  uint32_t themes = 0;
  for (int i = 0; i < req.themes_size(); ++i) {
    if (req.themes(i) == v1::THEME_UNSPECIFIED || !v1::Theme_IsValid(req.themes(i))) {
      return Invalid(absl::StrCat("themes[", i, "]"), "unknown theme");
    }
    themes |= 1u << req.themes(i);
  }
  const int k = req.mutual() ? 1 : (req.k() == 0 ? 3 : req.k());
  const int capacity = req.mutual() ? 1 : (req.capacity() == 0 ? 3 : req.capacity());
  const int per_city =
      req.candidates_per_city() == 0 ? std::max(10 * k, 40) : req.candidates_per_city();

  const std::shared_ptr<const Snapshot> snap = snapshot();
  const Index& index = *snap->index;
  const Model& model = *snap->model;

  // --- The cohort. ---
  std::set<std::string> known;
  std::map<std::string, const CityInfo*> info;
  for (const CityInfo& c : index.cities()) {
    known.insert(c.id);
    info[c.id] = &c;
  }
  std::set<std::string> cohort;
  for (int i = 0; i < req.city_ids_size(); ++i) {
    if (absl::Status s = ValidateId(absl::StrCat("city_ids[", i, "]"), req.city_ids(i)); !s.ok()) {
      return s;
    }
    if (known.count(req.city_ids(i)) == 0) {
      return absl::NotFoundError(absl::StrCat("city_ids[", i, "]: no city with id \"",
                                              req.city_ids(i), "\""));
    }
    cohort.insert(req.city_ids(i));
  }
  if (req.city_ids().empty()) cohort = known;
  if (req.regions_size() > 0) {
    for (auto it = cohort.begin(); it != cohort.end();) {
      const v1::Region r = info[*it]->region;
      const bool in = std::find(req.regions().begin(), req.regions().end(), r) != req.regions().end();
      it = in ? std::next(it) : cohort.erase(it);
    }
  }
  auto check_pairs = [&](const char* field, const auto& pairs) -> absl::Status {
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
  };
  if (absl::Status s = check_pairs("avoid", req.avoid()); !s.ok()) return s;
  if (absl::Status s = check_pairs("keep", req.keep()); !s.ok()) return s;
  std::set<std::pair<std::string, std::string>> avoid, keep;
  for (const auto& p : req.avoid()) {
    avoid.emplace(p.asking_city_id(), p.peer_city_id());
    if (req.mutual()) avoid.emplace(p.peer_city_id(), p.asking_city_id());
  }
  for (const auto& p : req.keep()) keep.emplace(p.asking_city_id(), p.peer_city_id());

  // --- Challenges and solutions of the cohort. ---
  auto theme_ok = [&](const DocInfo& d) { return themes == 0 || (d.themes & themes) != 0; };
  std::map<std::string, std::vector<uint32_t>> challenges;  // by asking city
  std::vector<bool> solution(index.size(), false);
  for (uint32_t d = 0; d < index.size(); ++d) {
    const DocInfo& doc = index.doc(d);
    if (cohort.count(doc.city_id) == 0 || !theme_ok(doc)) continue;
    if (doc.kind == v1::CASE_KIND_CHALLENGE) challenges[doc.city_id].push_back(d);
    if (doc.kind == v1::CASE_KIND_SOLUTION) solution[d] = true;
  }
  std::vector<std::string> askers;
  for (const auto& [city, docs] : challenges) askers.push_back(city);  // sorted by id

  Pairing out;
  v1::PairingSummary& summary = out.summary;
  summary.set_model_version(static_cast<int64_t>(model.version()));
  summary.set_asking_cities(static_cast<int>(askers.size()));

  // --- Score: per asker, its best match with every peer city. ---
  const auto scoring_start = Clock::now();
  std::vector<std::map<std::string, Candidate>> best(askers.size());
  std::vector<size_t> scored(askers.size(), 0);
  std::atomic<size_t> done{0};
  auto score_asker = [&](size_t a) {
    const std::string& asker = askers[a];
    const std::string& country = info[asker]->country;
    std::vector<bool> keep_mask(index.size(), false);
    for (uint32_t d = 0; d < index.size(); ++d) {
      if (!solution[d]) continue;
      const std::string& peer = index.doc(d).city_id;
      if (peer == asker) continue;
      if (req.exclude_same_country() && index.city_of(d).country == country) continue;
      if (avoid.count({asker, peer}) > 0) continue;
      keep_mask[d] = true;
    }
    for (uint32_t c : challenges[asker]) {
      auto stored = store_->GetCase(index.doc(c).case_id);
      if (!stored.ok()) continue;  // deleted since the snapshot
      const QueryVector q = model.EmbedQuery(internal::CaseQueryText(*stored), stored->language());
      const IndexQuery iq = internal::ToIndexQuery(q, terms_);
      // Enough hits to see the `per_city` best peer cities of this challenge.
      for (size_t depth = static_cast<size_t>(per_city) * 8;; depth *= 2) {
        const std::vector<Hit> hits = index.Search(iq, internal::CaseStructure(*stored), keep_mask,
                                                   options_.weights, depth);
        std::set<std::string> seen;
        for (const Hit& h : hits) {
          const std::string& peer = index.doc(h.doc).city_id;
          seen.insert(peer);
          Candidate& cand = best[a][peer];
          if (h.score > cand.score) cand = Candidate{h.score, c, h};
        }
        if (seen.size() >= static_cast<size_t>(per_city) || hits.size() < depth) break;
      }
    }
    scored[a] = best[a].size();
    ++done;
  };
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t a; (a = next++) < askers.size();) score_asker(a);
  };
  std::thread helper(worker);
  // Progress from this thread while both work.
  std::thread main_worker(worker);
  while (done.load() < askers.size()) {
    if (progress) {
      v1::PairingProgress p;
      p.set_stage("scoring");
      p.set_done(static_cast<int64_t>(done.load()));
      p.set_total(static_cast<int64_t>(askers.size()));
      progress(p);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  helper.join();
  main_worker.join();
  summary.set_scoring_seconds(Seconds(scoring_start));

  // --- Prune: each asker's best `per_city` peers at or above min_score. ---
  const auto solving_start = Clock::now();
  std::map<std::string, int> city_index;  // for the solver
  std::vector<std::string> city_names;
  auto index_of = [&](const std::string& id) {
    auto [it, inserted] = city_index.emplace(id, static_cast<int>(city_names.size()));
    if (inserted) city_names.push_back(id);
    return it->second;
  };
  struct Choice {
    std::string asker, peer;
    const Candidate* forward = nullptr;  // asker's challenge vs peer's solution
    const Candidate* reverse = nullptr;  // mutual: peer's challenge vs asker's solution
    double score = 0;
    bool kept = false;
  };
  std::vector<Choice> choices;
  std::map<std::pair<std::string, std::string>, size_t> choice_of;
  int64_t candidate_pairs = 0;
  for (size_t a = 0; a < askers.size(); ++a) {
    candidate_pairs += static_cast<int64_t>(best[a].size());
    std::vector<std::pair<std::string, const Candidate*>> ranked;
    for (const auto& [peer, cand] : best[a]) {
      if (cand.score >= req.min_score() || keep.count({askers[a], peer}) > 0) {
        ranked.emplace_back(peer, &cand);
      }
    }
    std::sort(ranked.begin(), ranked.end(), [](const auto& x, const auto& y) {
      return x.second->score != y.second->score ? x.second->score > y.second->score
                                                : x.first < y.first;
    });
    for (size_t i = 0; i < ranked.size(); ++i) {
      const bool kept = keep.count({askers[a], ranked[i].first}) > 0;
      if (i >= static_cast<size_t>(per_city) && !kept) continue;
      Choice ch{askers[a], ranked[i].first, ranked[i].second, nullptr, ranked[i].second->score, kept};
      choice_of[{ch.asker, ch.peer}] = choices.size();
      choices.push_back(ch);
    }
  }
  // Kept pairs that scored nothing (no challenge of the asker matches a
  // solution of the peer) still hold their place, at score 0.
  for (const auto& [asker, peer] : keep) {
    if (choice_of.count({asker, peer}) > 0) continue;
    choice_of[{asker, peer}] = choices.size();
    choices.push_back(Choice{asker, peer, nullptr, nullptr, 0.0, true});
  }
  summary.set_candidate_pairs(candidate_pairs);

  std::vector<int> chosen;
  if (!req.mutual()) {
    AssignmentProblem problem;
    for (size_t i = 0; i < choices.size(); ++i) {
      problem.candidates.push_back({index_of(choices[i].asker), index_of(choices[i].peer),
                                    choices[i].score});
      if (choices[i].kept) problem.must_keep.push_back(static_cast<int>(i));
    }
    problem.num_cities = static_cast<int>(city_names.size());
    problem.k = k;
    problem.capacity = capacity;
    problem.cover_first = !req.score_only();
    summary.set_kept_candidates(static_cast<int64_t>(problem.candidates.size()));
    auto solved = SolveAssignment(problem);
    if (!solved.ok()) {
      return absl::Status(solved.status().code(),
                          absl::StrCat("keep: ", solved.status().message()));
    }
    chosen = solved->chosen;
  } else {
    // Unordered pairs; each direction scores max(0, its best), and a pair
    // needs the sum to reach min_score.
    std::map<std::pair<std::string, std::string>, Choice> undirected;
    for (const Choice& ch : choices) {
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
    MutualProblem problem;
    for (auto& [key, u] : undirected) {
      u.score = std::max(0.0f, u.forward ? u.forward->score : 0.0f) +
                std::max(0.0f, u.reverse ? u.reverse->score : 0.0f);
      if (u.score < req.min_score() && !u.kept) continue;
      problem.candidates.push_back({index_of(u.asker), index_of(u.peer), u.score});
      if (u.kept) problem.must_keep.push_back(static_cast<int>(pairs.size()));
      pairs.push_back(u);
    }
    problem.num_cities = static_cast<int>(city_names.size());
    summary.set_kept_candidates(static_cast<int64_t>(problem.candidates.size()));
    auto solved = SolveMutual(problem);
    if (!solved.ok()) {
      return absl::Status(solved.status().code(),
                          absl::StrCat("keep: ", solved.status().message()));
    }
    choices = std::move(pairs);
    chosen = solved->chosen;
  }

  // --- Explain the chosen pairs. ---
  std::map<std::string, int> peers_of;
  auto explain = [&](const Candidate* cand, v1::Pair* pair, bool forward) {
    if (cand == nullptr) return;
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
    internal::SetParts(cand->hit, pair->mutable_parts());
    auto stored = store_->GetCase(challenge.case_id);
    if (!stored.ok()) return;
    const QueryVector q = model.EmbedQuery(internal::CaseQueryText(*stored), stored->language());
    internal::AddSharedTerms(index, internal::ToIndexQuery(q, terms_), q, terms_, cand->hit,
                             pair->mutable_shared_terms());
  };
  double total = 0;
  for (int i : chosen) {
    const Choice& ch = choices[i];
    v1::Pair pair;
    pair.set_asking_city_id(ch.asker);
    pair.set_peer_city_id(ch.peer);
    pair.set_score(ch.score);
    pair.set_kept(ch.kept);
    explain(ch.forward, &pair, true);
    if (req.mutual()) explain(ch.reverse, &pair, false);
    total += ch.score;
    ++peers_of[ch.asker];
    if (req.mutual()) ++peers_of[ch.peer];
    out.pairs.push_back(std::move(pair));
  }
  std::sort(out.pairs.begin(), out.pairs.end(), [](const v1::Pair& x, const v1::Pair& y) {
    if (x.asking_city_id() != y.asking_city_id()) return x.asking_city_id() < y.asking_city_id();
    if (x.score() != y.score()) return x.score() > y.score();
    return x.peer_city_id() < y.peer_city_id();
  });
  summary.set_pairs(static_cast<int>(out.pairs.size()));
  summary.set_total_score(total);

  // --- Who was left out, and why. ---
  int matched = 0, full = 0;
  for (size_t a = 0; a < askers.size(); ++a) {
    const std::string& asker = askers[a];
    const int got = peers_of.count(asker) ? peers_of[asker] : 0;
    if (got > 0) ++matched;
    if (got >= k) ++full;
    if (got > 0) continue;
    v1::Unmatched* u = summary.add_unmatched();
    u->set_city_id(asker);
    float top = -1e30f;
    for (const auto& [peer, cand] : best[a]) top = std::max(top, cand.score);
    if (best[a].empty()) {
      u->set_reason(
          "no solution of another cohort city is left to match its challenges (after the "
          "theme, same-country and avoid exclusions)");
    } else if (top < req.min_score()) {
      u->set_reason(absl::StrFormat("its best candidate peer scores %.2f, below min_score %.2f",
                                    top, req.min_score()));
    } else {
      const size_t options = std::count_if(choices.begin(), choices.end(), [&](const Choice& c) {
        return c.asker == asker || (req.mutual() && c.peer == asker);
      });
      u->set_reason(absl::StrCat(
          req.mutual() ? "each of its " : "its ", options,
          req.mutual() ? " candidate partners is twinned with a city that has no better option"
          : req.score_only()
              ? " candidate peers are at capacity with askers they suit better; raise capacity, "
                "or drop score_only to cover every city first"
              : " candidate peers are all needed at capacity by cities that have no other peer; "
                "raise capacity"));
    }
  }
  summary.set_matched_cities(matched);
  summary.set_fully_matched_cities(full);
  summary.set_solving_seconds(Seconds(solving_start));
  return out;
}

}  // namespace peermatch
