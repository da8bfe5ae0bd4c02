// Batch pairings: which cities to pair, decided for the whole batch at once,
// so that one city's best peer cannot crowd out two better pairs elsewhere.
// The candidate pairs and their scores come from the matcher; this file only
// chooses among them, exactly (no heuristics):
// - SolveAssignment: each asking city gets up to `k` peers and each peer
//   city serves up to `capacity` askers (a bipartite b-matching, solved as a
//   minimum-cost flow with LEMON's NetworkSimplex);
// - SolveMutual: 1:1 twinning, each city in at most one pair (a maximum-
//   weight matching in a general graph, LEMON's MaxWeightedMatching).
//
// Fixed and forbidden pairs (what a pairing round's rematch needs, see
// service/rounds.h) are constraints of the solve, never filters on its
// answer: a `must_keep` pair is taken out of the flow and what is left of
// its two cities' k and capacity bounds the rest, so the answer is the
// optimum among all assignments that contain every kept pair; a forbidden
// pair is simply never a candidate (the engine leaves the pairs of
// PairingQuery::avoid out before scoring and pruning, so they do not even
// take an asker's candidate slots).
//
// Scores are doubles; the solvers optimize integers, round(score *
// kScoreScale). With scores of at most 6 decimals the result is exactly
// optimal; otherwise its total is within 1e-6 per chosen pair of the optimum,
// and a score in (0, 5e-7) counts as 0 (never chosen unless kept).
// total_score is always summed from the original doubles.
//
// Example:
//   AssignmentProblem p;
//   p.num_cities = 3;
//   p.candidates = {{0, 1, 0.9}, {0, 2, 0.4}, {2, 1, 0.7}};
//   p.k = 1;
//   p.capacity = 1;
//   absl::StatusOr<Assignment> a = SolveAssignment(p);
//   // a->chosen == {1, 2}, total 1.1: 0->2 and 2->1 beat 0->1 alone (0.9),
//   // which is what a greedy pass would keep.
//
// Cost: memory O(num_cities + candidates). Measured on the development
// machine (one core, Release; random batches, scores in [0, 1), k =
// capacity = 3): SolveAssignment takes ~15 ms for 1,000 cities x 20
// candidates each, ~0.6 s for 10,000 x 20, ~1.6 s for 10,000 x 50 and ~60 s
// for 100,000 x 20 (network simplex grows faster than linearly);
// SolveMutual ~0.12 s for 10,000 cities x 10 pairs each.
//
// Thread-safety: pure functions of their arguments; concurrent calls are
// safe.
#ifndef PEERMATCH_PAIRING_PAIRING_H_
#define PEERMATCH_PAIRING_PAIRING_H_

#include <vector>

#include "absl/status/statusor.h"

namespace peermatch {

// Scores are multiplied by this and rounded for the integer solvers.
inline constexpr double kScoreScale = 1e6;
// The positive scores of a problem's candidates may sum to at most this
// (keeps the scaled integers far from overflow inside the solvers; matcher
// scores are of order 1, so this allows ~1e10 candidates).
inline constexpr double kMaxTotalScore = 1e11;

// A scored candidate pair of cities. Cities are indices in [0, num_cities).
// For SolveAssignment, `asker` is the city asking for peers and `peer` the
// city that would serve it; for SolveMutual the pair is unordered.
struct PairCandidate {
  int asker = 0;
  int peer = 0;
  double score = 0;  // finite; higher is better
};

struct AssignmentProblem {
  int num_cities = 0;  // >= 0
  // At most one per (asker, peer); asker != peer.
  std::vector<PairCandidate> candidates;
  int k = 3;         // >= 0: each asking city gets at most k peers
  int capacity = 3;  // >= 0: each peer city serves at most `capacity` askers
  // Indices into `candidates`, distinct, that must be in the solution
  // whatever their score.
  std::vector<int> must_keep;
  // Cover first: among all assignments, take those that give the most
  // askers at least one peer, and of these the one of largest total score
  // (a lexicographic objective; a bonus larger than any total on each
  // asker's first pair). Off: the largest total score alone.
  bool cover_first = false;
};

struct MutualProblem {
  int num_cities = 0;  // >= 0
  // Unordered pairs (asker, peer), at most one per pair of cities, each with
  // its combined both-direction score; asker != peer.
  std::vector<PairCandidate> candidates;
  // Indices into `candidates`, distinct, that must be in the solution.
  std::vector<int> must_keep;
};

// A solution: the candidates chosen, as indices into the problem's
// `candidates`, sorted ascending; total_score is the sum of their scores.
struct Assignment {
  std::vector<int> chosen;
  double total_score = 0;
};

// The assignment of largest total score in which each asker has at most k
// chosen candidates, each peer at most `capacity`, and every must_keep
// candidate is chosen (with cover_first: the most askers covered first).
// Candidates with score <= 0 are chosen only when kept.
// Deterministic: the same problem gives the same assignment (among equal
// totals, which one is unspecified but fixed).
//
// Errors (the message starts with the field, e.g. "candidates[4].peer: 9 is
// outside [0, 5)"):
// - INVALID_ARGUMENT: num_cities, k or capacity negative; a candidate's city
//   out of range, asker == peer, a score not finite, two candidates with the
//   same (asker, peer); positive scores summing above kMaxTotalScore;
//   a must_keep index out of range or repeated.
// - FAILED_PRECONDITION: must_keep gives an asker more than k pairs or a
//   peer more than `capacity`.
absl::StatusOr<Assignment> SolveAssignment(const AssignmentProblem& problem);

// The 1:1 twinning of largest total score: a set of candidate pairs in which
// each city appears at most once, containing every must_keep pair.
// Candidates with score <= 0 are chosen only when kept. Deterministic, as
// SolveAssignment.
//
// Errors:
// - INVALID_ARGUMENT: as SolveAssignment (num_cities, candidates, must_keep),
//   where a duplicate is the same unordered pair of cities.
// - FAILED_PRECONDITION: two must_keep pairs share a city.
absl::StatusOr<Assignment> SolveMutual(const MutualProblem& problem);

}  // namespace peermatch

#endif  // PEERMATCH_PAIRING_PAIRING_H_
