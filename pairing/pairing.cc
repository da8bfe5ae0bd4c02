#include "pairing/pairing.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "lemon/matching.h"
#include "lemon/network_simplex.h"
#include "lemon/smart_graph.h"
#include "lemon/static_graph.h"

namespace peermatch {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", what));
}

absl::Status CheckNonNegative(absl::string_view field, int value) {
  if (value < 0) return Invalid(field, absl::StrCat(value, " is negative"));
  return absl::OkStatus();
}

absl::Status CheckCity(size_t i, absl::string_view side, int city, int num_cities) {
  if (city < 0 || city >= num_cities) {
    return Invalid(absl::StrCat("candidates[", i, "].", side),
                   absl::StrCat(city, " is outside [0, ", num_cities, ")"));
  }
  return absl::OkStatus();
}

// Cities in range and distinct, scores finite with a bounded positive sum,
// no two candidates for the same pair (ordered, or unordered for twinning).
absl::Status CheckCandidates(int num_cities, const std::vector<PairCandidate>& candidates,
                             bool unordered) {
  // Candidates are named by int indices, and the flow graph has about 3 arcs
  // per candidate, also counted in int.
  constexpr size_t kMaxCandidates = std::numeric_limits<int>::max() / 4;
  if (candidates.size() > kMaxCandidates) {
    return Invalid("candidates", absl::StrCat(candidates.size(), " candidates; the limit is ",
                                              kMaxCandidates));
  }
  double positive_sum = 0;
  std::vector<std::pair<int64_t, size_t>> keys;  // (pair key, candidate)
  keys.reserve(candidates.size());
  for (size_t i = 0; i < candidates.size(); ++i) {
    const PairCandidate& c = candidates[i];
    if (absl::Status s = CheckCity(i, "asker", c.asker, num_cities); !s.ok()) return s;
    if (absl::Status s = CheckCity(i, "peer", c.peer, num_cities); !s.ok()) return s;
    if (c.asker == c.peer) {
      return Invalid(absl::StrCat("candidates[", i, "]"),
                     absl::StrCat("asker and peer are both city ", c.asker));
    }
    if (!std::isfinite(c.score)) {
      return Invalid(absl::StrCat("candidates[", i, "].score"),
                     absl::StrCat(c.score, " is not finite"));
    }
    if (c.score > 0) positive_sum += c.score;
    int a = c.asker;
    int b = c.peer;
    if (unordered && a > b) std::swap(a, b);
    keys.emplace_back(int64_t{a} * num_cities + b, i);
  }
  if (positive_sum > kMaxTotalScore) {
    return Invalid("candidates", absl::StrCat("positive scores sum to ", positive_sum,
                                              ", above the limit ", kMaxTotalScore));
  }
  std::sort(keys.begin(), keys.end());
  for (size_t j = 1; j < keys.size(); ++j) {
    if (keys[j].first == keys[j - 1].first) {
      return Invalid(absl::StrCat("candidates[", keys[j].second, "]"),
                     absl::StrCat("same pair of cities as candidates[", keys[j - 1].second,
                                  "]"));
    }
  }
  return absl::OkStatus();
}

// Indices in range and distinct. Fills `kept` (one flag per candidate).
absl::Status CheckMustKeep(const std::vector<int>& must_keep, size_t num_candidates,
                           std::vector<bool>* kept) {
  kept->assign(num_candidates, false);
  for (size_t i = 0; i < must_keep.size(); ++i) {
    const int m = must_keep[i];
    const std::string field = absl::StrCat("must_keep[", i, "]");
    if (m < 0 || static_cast<size_t>(m) >= num_candidates) {
      return Invalid(field, absl::StrCat(m, " is outside [0, ", num_candidates, ")"));
    }
    if ((*kept)[m]) return Invalid(field, absl::StrCat("candidate ", m, " is repeated"));
    (*kept)[m] = true;
  }
  return absl::OkStatus();
}

// The integer the solvers see. Only called for positive scores, whose sum
// CheckCandidates bounded, so this cannot overflow. Scores below
// 0.5 / kScoreScale become 0 and are then not worth choosing.
int64_t Scaled(double score) { return std::llround(score * kScoreScale); }

// An arc of the assignment's flow network.
struct FlowArc {
  int from;
  int to;
  int upper;
  int64_t cost;
  int candidate;  // the pair arc's candidate, or -1
};

Assignment MakeAssignment(const std::vector<PairCandidate>& candidates,
                          std::vector<int> chosen) {
  std::sort(chosen.begin(), chosen.end());
  Assignment out;
  for (int i : chosen) out.total_score += candidates[i].score;
  out.chosen = std::move(chosen);
  return out;
}

}  // namespace

absl::StatusOr<Assignment> SolveAssignment(const AssignmentProblem& problem) {
  if (absl::Status s = CheckNonNegative("num_cities", problem.num_cities); !s.ok()) return s;
  if (absl::Status s = CheckNonNegative("k", problem.k); !s.ok()) return s;
  if (absl::Status s = CheckNonNegative("capacity", problem.capacity); !s.ok()) return s;
  const std::vector<PairCandidate>& candidates = problem.candidates;
  if (absl::Status s = CheckCandidates(problem.num_cities, candidates, /*unordered=*/false);
      !s.ok()) {
    return s;
  }
  std::vector<bool> kept;
  if (absl::Status s = CheckMustKeep(problem.must_keep, candidates.size(), &kept); !s.ok()) {
    return s;
  }

  // Kept pairs are taken out of the flow problem; what is left of each
  // city's limits bounds the rest.
  std::vector<int> asker_left(problem.num_cities, problem.k);
  std::vector<int> peer_left(problem.num_cities, problem.capacity);
  std::vector<int> chosen;
  for (int m : problem.must_keep) {
    const PairCandidate& c = candidates[m];
    if (--asker_left[c.asker] < 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("must_keep: asker city ", c.asker, " has more than k = ", problem.k,
                       " kept pairs"));
    }
    if (--peer_left[c.peer] < 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("must_keep: peer city ", c.peer, " has more than capacity = ",
                       problem.capacity, " kept pairs"));
    }
    chosen.push_back(m);
  }

  // Free candidates worth choosing, and each city's degree among them.
  std::vector<int> free;
  std::vector<int> out_degree(problem.num_cities, 0);
  std::vector<int> in_degree(problem.num_cities, 0);
  for (size_t i = 0; i < candidates.size(); ++i) {
    const PairCandidate& c = candidates[i];
    if (kept[i] || c.score <= 0 || Scaled(c.score) <= 0) continue;
    if (asker_left[c.asker] == 0 || peer_left[c.peer] == 0) continue;
    free.push_back(static_cast<int>(i));
    ++out_degree[c.asker];
    ++in_degree[c.peer];
  }
  if (free.empty()) return MakeAssignment(candidates, std::move(chosen));

  // source -> asker (cap min(k left, degree)) -> peer (cap 1, cost -score)
  // -> sink (cap min(capacity left, degree)). The source must ship all of
  // `supply`; a zero-cost source -> sink arc takes what is not worth
  // pairing, so the cheapest flow is the best assignment. Capping by degree
  // keeps every capacity, and the supply, within the number of candidates.
  // Nodes: 0 source, 1 sink, then askers and peers as they first appear.
  constexpr int kSource = 0;
  constexpr int kSink = 1;
  int num_nodes = 2;
  std::vector<int> asker_node(problem.num_cities, -1);
  std::vector<int> peer_node(problem.num_cities, -1);
  std::vector<FlowArc> arcs;
  arcs.reserve(3 * free.size() + 1);
  int supply = 0;
  // Cover first: an asker's first unit of flow earns a bonus larger than
  // any total score, so covering one more asker always wins. Askers covered
  // by a kept pair need no bonus.
  int64_t bonus = 0;
  if (problem.cover_first) {
    for (int i : free) bonus += Scaled(candidates[i].score);
    bonus += 1;
    if (bonus > std::numeric_limits<int64_t>::max() / 4 / (problem.num_cities + 1)) {
      return absl::InvalidArgumentError(
          "candidates: scores too large for cover_first (their scaled sum times the number of "
          "cities must stay below 2^61)");
    }
  }
  std::vector<bool> covered(problem.num_cities, false);
  for (int m : problem.must_keep) covered[candidates[m].asker] = true;
  for (int i : free) {
    const PairCandidate& c = candidates[i];
    if (asker_node[c.asker] < 0) {
      asker_node[c.asker] = num_nodes++;
      const int upper = std::min(asker_left[c.asker], out_degree[c.asker]);
      if (bonus > 0 && !covered[c.asker]) {
        arcs.push_back({kSource, asker_node[c.asker], 1, -bonus, -1});
        if (upper > 1) arcs.push_back({kSource, asker_node[c.asker], upper - 1, 0, -1});
      } else {
        arcs.push_back({kSource, asker_node[c.asker], upper, 0, -1});
      }
      supply += upper;
    }
    if (peer_node[c.peer] < 0) {
      peer_node[c.peer] = num_nodes++;
      arcs.push_back({peer_node[c.peer], kSink,
                      std::min(peer_left[c.peer], in_degree[c.peer]), 0, -1});
    }
    arcs.push_back({asker_node[c.asker], peer_node[c.peer], 1, -Scaled(c.score), i});
  }
  arcs.push_back({kSource, kSink, supply, 0, -1});

  // StaticDigraph wants arcs grouped by source node; arc j is then arcs[j].
  std::stable_sort(arcs.begin(), arcs.end(),
                   [](const FlowArc& x, const FlowArc& y) { return x.from < y.from; });
  std::vector<std::pair<int, int>> ends;
  ends.reserve(arcs.size());
  for (const FlowArc& a : arcs) ends.emplace_back(a.from, a.to);
  using Graph = lemon::StaticDigraph;
  Graph g;
  g.build(num_nodes, ends.begin(), ends.end());
  Graph::ArcMap<int> upper(g);
  Graph::ArcMap<int64_t> cost(g);
  for (size_t j = 0; j < arcs.size(); ++j) {
    upper[g.arc(j)] = arcs[j].upper;
    cost[g.arc(j)] = arcs[j].cost;
  }

  using Simplex = lemon::NetworkSimplex<Graph, int, int64_t>;
  Simplex simplex(g);
  simplex.upperMap(upper).costMap(cost).stSupply(g.node(kSource), g.node(kSink), supply);
  if (simplex.run() != Simplex::OPTIMAL) {
    // Cannot happen: the bypass arc makes the flow feasible and all
    // capacities are finite.
    return absl::InternalError("assignment flow problem not solved to optimality");
  }
  for (size_t j = 0; j < arcs.size(); ++j) {
    if (arcs[j].candidate >= 0 && simplex.flow(g.arc(j)) > 0) {
      chosen.push_back(arcs[j].candidate);
    }
  }
  return MakeAssignment(candidates, std::move(chosen));
}

absl::StatusOr<Assignment> SolveMutual(const MutualProblem& problem) {
  if (absl::Status s = CheckNonNegative("num_cities", problem.num_cities); !s.ok()) return s;
  const std::vector<PairCandidate>& candidates = problem.candidates;
  if (absl::Status s = CheckCandidates(problem.num_cities, candidates, /*unordered=*/true);
      !s.ok()) {
    return s;
  }
  std::vector<bool> kept;
  if (absl::Status s = CheckMustKeep(problem.must_keep, candidates.size(), &kept); !s.ok()) {
    return s;
  }

  // Kept pairs take their two cities out of the matching problem.
  std::vector<int> kept_by(problem.num_cities, -1);  // city -> must_keep position
  std::vector<int> chosen;
  for (size_t j = 0; j < problem.must_keep.size(); ++j) {
    const PairCandidate& c = candidates[problem.must_keep[j]];
    for (int city : {c.asker, c.peer}) {
      if (kept_by[city] >= 0) {
        return absl::FailedPreconditionError(
            absl::StrCat("must_keep[", j, "]: city ", city, " is already paired by must_keep[",
                         kept_by[city], "]"));
      }
      kept_by[city] = static_cast<int>(j);
    }
    chosen.push_back(problem.must_keep[j]);
  }

  using Graph = lemon::SmartGraph;
  Graph g;
  Graph::EdgeMap<int64_t> weight(g);
  std::vector<Graph::Node> node(problem.num_cities, lemon::INVALID);
  std::vector<std::pair<Graph::Edge, int>> edges;  // (edge, candidate)
  for (size_t i = 0; i < candidates.size(); ++i) {
    const PairCandidate& c = candidates[i];
    if (kept[i] || c.score <= 0 || Scaled(c.score) <= 0) continue;
    if (kept_by[c.asker] >= 0 || kept_by[c.peer] >= 0) continue;
    for (int city : {c.asker, c.peer}) {
      if (node[city] == lemon::INVALID) node[city] = g.addNode();
    }
    const Graph::Edge e = g.addEdge(node[c.asker], node[c.peer]);
    weight[e] = Scaled(c.score);
    edges.emplace_back(e, static_cast<int>(i));
  }
  if (edges.empty()) return MakeAssignment(candidates, std::move(chosen));

  lemon::MaxWeightedMatching<Graph, Graph::EdgeMap<int64_t>> matching(g, weight);
  matching.run();
  for (const auto& [edge, i] : edges) {
    if (matching.matching(edge)) chosen.push_back(i);
  }
  return MakeAssignment(candidates, std::move(chosen));
}

}  // namespace peermatch
