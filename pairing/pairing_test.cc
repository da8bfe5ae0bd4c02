#include "pairing/pairing.h"

#include <algorithm>
#include <functional>
#include <set>
#include <cmath>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace peermatch {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::StatusIs;

// --- Constraint checks: "" when `a` is a valid solution, else the first
// --- violation found.

std::string CommonViolation(const std::vector<PairCandidate>& candidates,
                            const std::vector<int>& must_keep, const Assignment& a) {
  if (!std::is_sorted(a.chosen.begin(), a.chosen.end())) return "chosen not sorted";
  if (std::adjacent_find(a.chosen.begin(), a.chosen.end()) != a.chosen.end()) {
    return "chosen has a repeat";
  }
  double total = 0;
  for (int i : a.chosen) {
    if (i < 0 || static_cast<size_t>(i) >= candidates.size()) return "chosen out of range";
    total += candidates[i].score;
    const bool kept = std::find(must_keep.begin(), must_keep.end(), i) != must_keep.end();
    if (candidates[i].score <= 0 && !kept) return "chose a score <= 0 not kept";
  }
  for (int m : must_keep) {
    if (!std::binary_search(a.chosen.begin(), a.chosen.end(), m)) return "must_keep missing";
  }
  if (std::abs(total - a.total_score) > 1e-9) return "total_score is not the sum";
  return "";
}

std::string AssignmentViolation(const AssignmentProblem& p, const Assignment& a) {
  if (std::string v = CommonViolation(p.candidates, p.must_keep, a); !v.empty()) return v;
  std::vector<int> asks(p.num_cities, 0);
  std::vector<int> serves(p.num_cities, 0);
  for (int i : a.chosen) {
    if (++asks[p.candidates[i].asker] > p.k) return "an asker above k";
    if (++serves[p.candidates[i].peer] > p.capacity) return "a peer above capacity";
  }
  return "";
}

std::string MutualViolation(const MutualProblem& p, const Assignment& a) {
  if (std::string v = CommonViolation(p.candidates, p.must_keep, a); !v.empty()) return v;
  std::vector<bool> used(p.num_cities, false);
  for (int i : a.chosen) {
    for (int city : {p.candidates[i].asker, p.candidates[i].peer}) {
      if (used[city]) return "a city in two pairs";
      used[city] = true;
    }
  }
  return "";
}

// --- Exhaustive references: every subset of candidates, each either taken
// --- or not, keeping those that meet the constraints. nullopt when none does.

struct BruteForce {
  const std::vector<PairCandidate>& candidates;
  const std::vector<bool>& kept;
  int k;         // assignment: per asker; mutual: 1
  int capacity;  // assignment: per peer; mutual: unused
  bool mutual;
  std::vector<int> asks;    // assignment: per asker; mutual: per city
  std::vector<int> serves;  // assignment: per peer
  std::optional<double> best;

  void Search(size_t next, double total) {
    if (next == candidates.size()) {
      if (!best || total > *best) best = total;
      return;
    }
    if (!kept[next]) Search(next + 1, total);  // leave it out
    const PairCandidate& c = candidates[next];
    int& a = asks[c.asker];
    int& b = mutual ? asks[c.peer] : serves[c.peer];
    const int b_limit = mutual ? 1 : capacity;
    if (a < k && b < b_limit) {  // take it
      ++a;
      ++b;
      Search(next + 1, total + c.score);
      --a;
      --b;
    }
  }
};

std::vector<bool> KeptFlags(size_t n, const std::vector<int>& must_keep) {
  std::vector<bool> kept(n, false);
  for (int m : must_keep) kept[m] = true;
  return kept;
}

std::optional<double> BruteForceAssignment(const AssignmentProblem& p) {
  const std::vector<bool> kept = KeptFlags(p.candidates.size(), p.must_keep);
  BruteForce bf{p.candidates, kept, p.k, p.capacity, /*mutual=*/false,
                std::vector<int>(p.num_cities, 0), std::vector<int>(p.num_cities, 0), {}};
  bf.Search(0, 0);
  return bf.best;
}

std::optional<double> BruteForceMutual(const MutualProblem& p) {
  const std::vector<bool> kept = KeptFlags(p.candidates.size(), p.must_keep);
  BruteForce bf{p.candidates, kept, 1, 0, /*mutual=*/true,
                std::vector<int>(p.num_cities, 0), {}, {}};
  bf.Search(0, 0);
  return bf.best;
}

// --- Random instances. Scores have at most 6 decimals, so the solvers'
// --- integer scaling (x 1e6) is exact and totals must match to rounding of
// --- sums.

// Small integers (many ties), 2 decimals or 6 decimals, by `style`.
double RandomScore(std::mt19937& rng, int style) {
  switch (style) {
    case 0:
      return std::uniform_int_distribution<int>(-1, 3)(rng);
    case 1:
      return std::uniform_int_distribution<int>(-300, 1000)(rng) / 100.0;
    default:
      return std::uniform_int_distribution<int>(-1000000, 5000000)(rng) / 1e6;
  }
}

// Between half and all of min(all pairs, max_candidates) distinct pairs of
// cities, in random order, and sometimes 1-3 of them to keep.
void RandomCandidates(std::mt19937& rng, int num_cities, bool unordered, size_t max_candidates,
                      std::vector<PairCandidate>* candidates, std::vector<int>* must_keep) {
  std::vector<std::pair<int, int>> pairs;
  for (int a = 0; a < num_cities; ++a) {
    for (int b = unordered ? a + 1 : 0; b < num_cities; ++b) {
      if (a != b) pairs.emplace_back(a, b);
    }
  }
  std::shuffle(pairs.begin(), pairs.end(), rng);
  const size_t most = std::min(pairs.size(), max_candidates);
  const size_t n = std::uniform_int_distribution<size_t>(most / 2, most)(rng);
  const int style = static_cast<int>(rng() % 3);
  for (size_t i = 0; i < n; ++i) {
    auto [a, b] = pairs[i];
    if (unordered && rng() % 2 == 0) std::swap(a, b);
    candidates->push_back({a, b, RandomScore(rng, style)});
  }
  if (n > 0 && rng() % 3 == 0) {
    std::vector<int> order(n);
    for (size_t i = 0; i < n; ++i) order[i] = static_cast<int>(i);
    std::shuffle(order.begin(), order.end(), rng);
    order.resize(std::min<size_t>(n, 1 + rng() % 3));
    *must_keep = order;
  }
}

TEST(SolveAssignment, MatchesExhaustiveSearchOnSmallRandomProblems) {
  std::mt19937 rng(20240611);
  int feasible = 0;
  int infeasible = 0;
  for (int trial = 0; trial < 1000; ++trial) {
    SCOPED_TRACE(trial);
    AssignmentProblem p;
    p.num_cities = std::uniform_int_distribution<int>(2, 6)(rng);
    p.k = std::uniform_int_distribution<int>(1, 3)(rng);
    p.capacity = std::uniform_int_distribution<int>(1, 3)(rng);
    RandomCandidates(rng, p.num_cities, /*unordered=*/false, 16, &p.candidates, &p.must_keep);

    const std::optional<double> best = BruteForceAssignment(p);
    const absl::StatusOr<Assignment> got = SolveAssignment(p);
    if (!best) {
      ++infeasible;
      EXPECT_THAT(got, StatusIs(absl::StatusCode::kFailedPrecondition));
      continue;
    }
    ++feasible;
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(AssignmentViolation(p, *got), "");
    EXPECT_NEAR(got->total_score, *best, 1e-6);
  }
  EXPECT_GT(feasible, 800);  // the comparison is not vacuous
  EXPECT_GT(infeasible, 0);  // and infeasible must_keep occurs
}

// Cover first: the most askers with a pair, then the largest total, over
// every subset of the candidates that a solver may choose.
std::optional<std::pair<int, double>> BruteForceCoverFirst(const AssignmentProblem& p) {
  const std::vector<bool> kept = KeptFlags(p.candidates.size(), p.must_keep);
  std::vector<int> asks(p.num_cities, 0), serves(p.num_cities, 0);
  std::optional<std::pair<int, double>> best;
  std::function<void(size_t, double)> search = [&](size_t next, double total) {
    if (next == p.candidates.size()) {
      int covered = 0;
      for (int a : asks) covered += a > 0 ? 1 : 0;
      const std::pair<int, double> value{covered, total};
      if (!best || value.first > best->first ||
          (value.first == best->first && value.second > best->second + 1e-9)) {
        best = value;
      }
      return;
    }
    const PairCandidate& c = p.candidates[next];
    if (!kept[next]) search(next + 1, total);
    if ((kept[next] || c.score > 0) && asks[c.asker] < p.k && serves[c.peer] < p.capacity) {
      ++asks[c.asker];
      ++serves[c.peer];
      search(next + 1, total + c.score);
      --asks[c.asker];
      --serves[c.peer];
    }
  };
  search(0, 0);
  return best;
}

TEST(SolveAssignment, CoverFirstMatchesExhaustiveSearch) {
  std::mt19937 rng(77);
  int differs = 0;
  for (int trial = 0; trial < 600; ++trial) {
    SCOPED_TRACE(trial);
    AssignmentProblem p;
    p.num_cities = std::uniform_int_distribution<int>(2, 6)(rng);
    p.k = std::uniform_int_distribution<int>(1, 3)(rng);
    p.capacity = std::uniform_int_distribution<int>(1, 2)(rng);
    RandomCandidates(rng, p.num_cities, /*unordered=*/false, 14, &p.candidates, &p.must_keep);
    p.cover_first = true;
    const auto best = BruteForceCoverFirst(p);
    const absl::StatusOr<Assignment> got = SolveAssignment(p);
    if (!best) {
      EXPECT_THAT(got, StatusIs(absl::StatusCode::kFailedPrecondition));
      continue;
    }
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(AssignmentViolation(p, *got), "");
    std::set<int> covered;
    for (int i : got->chosen) covered.insert(p.candidates[i].asker);
    EXPECT_EQ(static_cast<int>(covered.size()), best->first);
    EXPECT_NEAR(got->total_score, best->second, 1e-6);
    p.cover_first = false;
    const auto plain = SolveAssignment(p);
    if (plain.ok() && std::abs(plain->total_score - got->total_score) > 1e-9) ++differs;
  }
  EXPECT_GT(differs, 0) << "cover first never changed an answer: the test is vacuous";
}

TEST(SolveAssignment, CoverFirstGivesEveryAskerAPeerWhenItCan) {
  // Peer 2 (capacity 1) is the best peer of both askers 0 and 1; only asker
  // 0 has another option (peer 3). Score alone gives peer 2 to asker 0
  // (1.0 > 0.9 + 0.05) and leaves asker 1 alone; covering both needs peer 2
  // for asker 1 and peer 3 for asker 0.
  AssignmentProblem p;
  p.num_cities = 4;
  p.candidates = {{0, 2, 1.0}, {1, 2, 0.9}, {0, 3, 0.05}};
  p.k = 1;
  p.capacity = 1;
  auto plain = SolveAssignment(p);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->chosen, (std::vector<int>{0}));
  p.cover_first = true;
  auto cover = SolveAssignment(p);
  ASSERT_TRUE(cover.ok());
  EXPECT_EQ(cover->chosen, (std::vector<int>{1, 2}));
}

TEST(SolveMutual, MatchesExhaustiveSearchOnSmallRandomProblems) {
  std::mt19937 rng(1989);
  int feasible = 0;
  int infeasible = 0;
  for (int trial = 0; trial < 1000; ++trial) {
    SCOPED_TRACE(trial);
    MutualProblem p;
    p.num_cities = std::uniform_int_distribution<int>(2, 8)(rng);
    RandomCandidates(rng, p.num_cities, /*unordered=*/true, 28, &p.candidates, &p.must_keep);

    const std::optional<double> best = BruteForceMutual(p);
    const absl::StatusOr<Assignment> got = SolveMutual(p);
    if (!best) {
      ++infeasible;
      EXPECT_THAT(got, StatusIs(absl::StatusCode::kFailedPrecondition));
      continue;
    }
    ++feasible;
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(MutualViolation(p, *got), "");
    EXPECT_NEAR(got->total_score, *best, 1e-6);
  }
  EXPECT_GT(feasible, 800);
  EXPECT_GT(infeasible, 0);
}

// --- Specific cases.

TEST(SolveAssignment, HeaderExample) {
  AssignmentProblem p;
  p.num_cities = 3;
  p.candidates = {{0, 1, 0.9}, {0, 2, 0.4}, {2, 1, 0.7}};
  p.k = 1;
  p.capacity = 1;
  absl::StatusOr<Assignment> a = SolveAssignment(p);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_THAT(a->chosen, ElementsAre(1, 2));
  EXPECT_DOUBLE_EQ(a->total_score, 1.1);
}

// Greedy takes 0->2 (10) first, which blocks both 0->3 (asker 0 is full)
// and 1->2 (peer 2 is full): 10 against the optimum 18.
AssignmentProblem GreedyTrap() {
  AssignmentProblem p;
  p.num_cities = 4;
  p.candidates = {{0, 2, 10}, {0, 3, 9}, {1, 2, 9}};
  p.k = 1;
  p.capacity = 1;
  return p;
}

TEST(SolveAssignment, BeatsGreedyWhenTheBestPairBlocksTwoOthers) {
  absl::StatusOr<Assignment> a = SolveAssignment(GreedyTrap());
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_THAT(a->chosen, ElementsAre(1, 2));
  EXPECT_DOUBLE_EQ(a->total_score, 18);
}

TEST(SolveAssignment, MustKeepIsHonouredEvenWhenItLowersTheTotal) {
  AssignmentProblem p = GreedyTrap();
  p.must_keep = {0};
  absl::StatusOr<Assignment> a = SolveAssignment(p);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_THAT(a->chosen, ElementsAre(0));
  EXPECT_DOUBLE_EQ(a->total_score, 10);

  p.candidates.push_back({3, 1, -2.5});  // a kept pair with a negative score
  p.must_keep = {3};
  a = SolveAssignment(p);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_THAT(a->chosen, ElementsAre(1, 2, 3));
  EXPECT_DOUBLE_EQ(a->total_score, 15.5);
}

TEST(SolveAssignment, NeverChoosesScoresAtOrBelowZero) {
  AssignmentProblem p;
  p.num_cities = 3;
  p.candidates = {{0, 1, 0}, {1, 2, -1}, {2, 0, 1e-9}, {2, 1, 0.5}};
  absl::StatusOr<Assignment> a = SolveAssignment(p);
  ASSERT_TRUE(a.ok()) << a.status();
  // 1e-9 rounds to 0 at the 1e-6 scale, so it is not worth choosing either.
  EXPECT_THAT(a->chosen, ElementsAre(3));
}

TEST(SolveAssignment, InfeasibleMustKeepIsFailedPrecondition) {
  AssignmentProblem p;
  p.num_cities = 4;
  p.candidates = {{0, 1, 1}, {0, 2, 1}, {3, 2, 1}, {1, 2, 1}};
  p.k = 1;
  p.capacity = 2;
  p.must_keep = {0, 1};  // asker 0 twice with k = 1
  absl::Status s = SolveAssignment(p).status();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("asker city 0")));

  p.must_keep = {1, 2, 3};  // peer 2 three times with capacity 2
  s = SolveAssignment(p).status();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("peer city 2")));
}

// The error code is INVALID_ARGUMENT and the message starts with `field`.
void ExpectInvalid(const absl::Status& s, const std::string& field) {
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument, ::testing::StartsWith(field + ":")));
}

TEST(SolveAssignment, BadInputIsInvalidArgumentNamingTheField) {
  const AssignmentProblem good = GreedyTrap();
  ASSERT_TRUE(SolveAssignment(good).ok());
  AssignmentProblem p = good;
  p.k = -1;
  ExpectInvalid(SolveAssignment(p).status(), "k");
  p = good;
  p.capacity = -2;
  ExpectInvalid(SolveAssignment(p).status(), "capacity");
  p = good;
  p.num_cities = -1;
  ExpectInvalid(SolveAssignment(p).status(), "num_cities");
  p = good;
  p.candidates[1].peer = 4;
  ExpectInvalid(SolveAssignment(p).status(), "candidates[1].peer");
  p = good;
  p.candidates[2].asker = -1;
  ExpectInvalid(SolveAssignment(p).status(), "candidates[2].asker");
  p = good;
  p.candidates[1].peer = 0;  // asker == peer
  ExpectInvalid(SolveAssignment(p).status(), "candidates[1]");
  p = good;
  p.candidates[2].score = std::numeric_limits<double>::quiet_NaN();
  ExpectInvalid(SolveAssignment(p).status(), "candidates[2].score");
  p = good;
  p.candidates.push_back({1, 2, 3});  // same (asker, peer) as candidates[2]
  ExpectInvalid(SolveAssignment(p).status(), "candidates[3]");
  p = good;
  p.candidates[0].score = 2 * kMaxTotalScore;
  ExpectInvalid(SolveAssignment(p).status(), "candidates");
  p = good;
  p.must_keep = {3};
  ExpectInvalid(SolveAssignment(p).status(), "must_keep[0]");
  p = good;
  p.must_keep = {1, -1};
  ExpectInvalid(SolveAssignment(p).status(), "must_keep[1]");
  p = good;
  p.must_keep = {1, 1};
  ExpectInvalid(SolveAssignment(p).status(), "must_keep[1]");
}

TEST(SolveAssignment, EmptyProblemGivesEmptyAssignment) {
  absl::StatusOr<Assignment> a = SolveAssignment(AssignmentProblem{});
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_THAT(a->chosen, IsEmpty());
  EXPECT_EQ(a->total_score, 0);

  AssignmentProblem p = GreedyTrap();
  p.k = 0;  // nobody may ask
  a = SolveAssignment(p);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_THAT(a->chosen, IsEmpty());
}

// Path 0-1-2-3 weighted 2, 3, 2: greedy takes the middle pair (3); the two
// outer pairs (4) are better.
MutualProblem MutualGreedyTrap() {
  MutualProblem p;
  p.num_cities = 4;
  p.candidates = {{0, 1, 2}, {2, 1, 3}, {2, 3, 2}};
  return p;
}

TEST(SolveMutual, BeatsGreedyOnAPath) {
  absl::StatusOr<Assignment> a = SolveMutual(MutualGreedyTrap());
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_THAT(a->chosen, ElementsAre(0, 2));
  EXPECT_DOUBLE_EQ(a->total_score, 4);
}

TEST(SolveMutual, MustKeepIsHonouredEvenWhenItLowersTheTotal) {
  MutualProblem p = MutualGreedyTrap();
  p.must_keep = {1};
  absl::StatusOr<Assignment> a = SolveMutual(p);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_THAT(a->chosen, ElementsAre(1));
  EXPECT_DOUBLE_EQ(a->total_score, 3);

  p.candidates.push_back({3, 0, -1});
  p.must_keep = {3};
  a = SolveMutual(p);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_THAT(a->chosen, ElementsAre(1, 3));
  EXPECT_DOUBLE_EQ(a->total_score, 2);
}

TEST(SolveMutual, KeptPairsSharingACityAreFailedPrecondition) {
  MutualProblem p = MutualGreedyTrap();
  p.must_keep = {0, 1};  // both hold city 1
  absl::Status s = SolveMutual(p).status();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("city 1")));
}

TEST(SolveMutual, BadInputIsInvalidArgumentNamingTheField) {
  const MutualProblem good = MutualGreedyTrap();
  MutualProblem p = good;
  p.candidates[0].asker = 4;
  ExpectInvalid(SolveMutual(p).status(), "candidates[0].asker");
  p = good;
  p.candidates[2].peer = 2;
  ExpectInvalid(SolveMutual(p).status(), "candidates[2]");
  p = good;
  p.candidates.push_back({1, 0, 5});  // the unordered pair of candidates[0]
  ExpectInvalid(SolveMutual(p).status(), "candidates[3]");
  p = good;
  p.candidates[1].score = -std::numeric_limits<double>::infinity();
  ExpectInvalid(SolveMutual(p).status(), "candidates[1].score");
  p = good;
  p.must_keep = {7};
  ExpectInvalid(SolveMutual(p).status(), "must_keep[0]");
  p = good;
  p.num_cities = -3;
  ExpectInvalid(SolveMutual(p).status(), "num_cities");
}

TEST(SolveMutual, EmptyProblemGivesEmptyAssignment) {
  absl::StatusOr<Assignment> a = SolveMutual(MutualProblem{});
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_THAT(a->chosen, IsEmpty());
  EXPECT_EQ(a->total_score, 0);
}

// --- Scale: a large batch solves and meets every constraint. Not timed
// --- (timings are in pairing.h); it just has to run.

// `per_city` random distinct peers for each of `num_cities` cities, scores
// in [0, 1) with 6 decimals.
std::vector<PairCandidate> RandomBatch(int num_cities, int per_city, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> city(0, num_cities - 1);
  std::uniform_int_distribution<int> micro(0, 999999);
  std::vector<PairCandidate> out;
  for (int a = 0; a < num_cities; ++a) {
    std::vector<int> peers;
    while (static_cast<int>(peers.size()) < per_city) {
      const int b = city(rng);
      if (b != a && std::find(peers.begin(), peers.end(), b) == peers.end()) peers.push_back(b);
    }
    for (int b : peers) out.push_back({a, b, micro(rng) / 1e6});
  }
  return out;
}

// Plain greedy, best score first: a lower bound the optimum must reach.
double GreedyTotal(const AssignmentProblem& p) {
  std::vector<int> order(p.candidates.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  std::stable_sort(order.begin(), order.end(), [&](int x, int y) {
    return p.candidates[x].score > p.candidates[y].score;
  });
  std::vector<int> asks(p.num_cities, 0);
  std::vector<int> serves(p.num_cities, 0);
  double total = 0;
  for (int i : order) {
    const PairCandidate& c = p.candidates[i];
    if (c.score <= 0 || asks[c.asker] == p.k || serves[c.peer] == p.capacity) continue;
    ++asks[c.asker];
    ++serves[c.peer];
    total += c.score;
  }
  return total;
}

TEST(SolveAssignment, TenThousandCitiesSolveWithinTheLimits) {
  AssignmentProblem p;
  p.num_cities = 10000;
  p.candidates = RandomBatch(p.num_cities, 20, 7);
  p.k = 3;
  p.capacity = 3;
  p.must_keep = {0, 25, 40};  // cities 0, 1 and 2: one pair each
  absl::StatusOr<Assignment> a = SolveAssignment(p);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(AssignmentViolation(p, *a), "");
  EXPECT_GE(a->total_score, GreedyTotal(p) - 1e-6);

  absl::StatusOr<Assignment> again = SolveAssignment(p);  // deterministic
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->chosen, a->chosen);
}

TEST(SolveMutual, TenThousandCitiesSolveWithinTheLimits) {
  MutualProblem p;
  p.num_cities = 10000;
  // Drop the reversed duplicates RandomBatch may produce.
  for (const PairCandidate& c : RandomBatch(p.num_cities, 10, 11)) {
    if (c.asker < c.peer) p.candidates.push_back(c);
  }
  absl::StatusOr<Assignment> a = SolveMutual(p);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(MutualViolation(p, *a), "");
  EXPECT_GT(a->chosen.size(), 4000u);
}

}  // namespace
}  // namespace peermatch
