// PairCities' request mapping (service/request_mapping.h): the wire
// request's errors name its fields, the query carries every field with the
// wire's defaults, and the engine's result becomes the stream's messages.
#include <cmath>
#include <limits>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "records/limits.h"
#include "service/request_mapping.h"
#include "tests/testing/status_matchers.h"

namespace peermatch {
namespace {

using testing::StatusIs;

void AddPair(google::protobuf::RepeatedPtrField<v1::CityPair>* pairs, const std::string& asker,
             const std::string& peer) {
  v1::CityPair* p = pairs->Add();
  p->set_asking_city_id(asker);
  p->set_peer_city_id(peer);
}

// The exact INVALID_ARGUMENT a PairCities request with `edit` applied gets.
std::string PairingError(void (*edit)(v1::PairCitiesRequest*)) {
  v1::PairCitiesRequest req;
  edit(&req);
  const absl::StatusOr<PairingQuery> q = ToPairingQuery(req);
  EXPECT_THAT(q, StatusIs(absl::StatusCode::kInvalidArgument));
  return std::string(q.status().message());
}

TEST(PairingMapping, EveryListHasACountLimit) {
  EXPECT_EQ(PairingError([](auto* r) {
              for (size_t i = 0; i <= kMaxPairCityIds; ++i) r->add_city_ids("fermo");
            }),
            "city_ids: 5001 values, at most 5000");
  EXPECT_EQ(PairingError([](auto* r) {
              for (size_t i = 0; i <= kMaxPairConstraints; ++i) {
                AddPair(r->mutable_avoid(), "wuhan", "fermo");
              }
            }),
            "avoid: 5001 values, at most 5000");
  EXPECT_EQ(PairingError([](auto* r) {
              for (size_t i = 0; i <= kMaxPairConstraints; ++i) {
                AddPair(r->mutable_keep(), "wuhan", "fermo");
              }
            }),
            "keep: 5001 values, at most 5000");
  EXPECT_EQ(PairingError([](auto* r) {
              for (int i = 0; i < 6; ++i) r->add_regions(v1::REGION_AFRICA);
            }),
            "regions: 6 values, at most 5");
  EXPECT_EQ(PairingError([](auto* r) {
              r->add_themes(v1::THEME_WORKPLACE), r->add_themes(v1::THEME_WORKPLACE);
            }),
            "themes[1]: 3 is given twice (also themes[0])");
}

TEST(PairingMapping, ErrorsNameTheWireField) {
  EXPECT_EQ(PairingError([](auto* r) { r->set_k(21); }), "k: 21 is outside 0-20");
  EXPECT_EQ(PairingError([](auto* r) { r->set_k(-1); }), "k: -1 is outside 0-20");
  EXPECT_EQ(PairingError([](auto* r) { r->set_capacity(1001); }),
            "capacity: 1001 is outside 0-1000");
  EXPECT_EQ(PairingError([](auto* r) { r->set_candidates_per_city(-2); }),
            "candidates_per_city: -2 is outside 0-1000");
  EXPECT_EQ(PairingError([](auto* r) { r->set_min_score(std::nan("")); }),
            "min_score: must be a finite number");
  EXPECT_EQ(PairingError([](auto* r) {
              r->set_min_score(std::numeric_limits<double>::infinity());
            }),
            "min_score: must be a finite number");
  EXPECT_EQ(PairingError([](auto* r) { r->add_regions(v1::REGION_UNSPECIFIED); }),
            "regions[0]: unknown region");
  EXPECT_EQ(PairingError([](auto* r) {
              r->add_themes(v1::THEME_INCLUSIVE_EDUCATION);
              r->add_themes(static_cast<v1::Theme>(99));
            }),
            "themes[1]: unknown theme");
  EXPECT_EQ(PairingError([](auto* r) { r->add_city_ids("fermo"), r->add_city_ids("Fermo"); }),
            "city_ids[1]: may contain only a-z, 0-9 and '-' (a slug like \"sao-paulo\")");
  EXPECT_EQ(PairingError([](auto* r) { AddPair(r->mutable_avoid(), "", "fermo"); }),
            "avoid[0].asking_city_id: is required and must not be empty");
  EXPECT_EQ(PairingError([](auto* r) {
              AddPair(r->mutable_keep(), "wuhan", "fermo");
              AddPair(r->mutable_keep(), "wuhan", "bad_id");
            }),
            "keep[1].peer_city_id: may contain only a-z, 0-9 and '-' (a slug like \"sao-paulo\")");
  EXPECT_EQ(PairingError([](auto* r) { AddPair(r->mutable_avoid(), "fermo", "fermo"); }),
            "avoid[0]: a city cannot be its own peer");
  EXPECT_EQ(PairingError([](auto* r) { AddPair(r->mutable_keep(), "turin", "turin"); }),
            "keep[0]: a city cannot be its own peer");
}

TEST(PairingMapping, TheFirstBrokenRuleIsReported) {
  // In the order the fields are checked: limits, then enums, then ids.
  EXPECT_EQ(PairingError([](auto* r) {
              AddPair(r->mutable_keep(), "turin", "turin");
              r->add_themes(v1::THEME_UNSPECIFIED);
              r->set_capacity(-1);
              r->set_k(30);
            }),
            "k: 30 is outside 0-20");
  EXPECT_EQ(PairingError([](auto* r) {
              AddPair(r->mutable_keep(), "turin", "turin");
              AddPair(r->mutable_avoid(), "x", "x");
              r->add_themes(v1::THEME_UNSPECIFIED);
            }),
            "themes[0]: unknown theme");
  EXPECT_EQ(PairingError([](auto* r) {
              AddPair(r->mutable_keep(), "turin", "turin");
              AddPair(r->mutable_avoid(), "x", "x");
            }),
            "avoid[0]: a city cannot be its own peer");
}

TEST(PairingMapping, RequestBecomesAQueryWithTheWireDefaults) {
  const absl::StatusOr<PairingQuery> defaults = ToPairingQuery(v1::PairCitiesRequest());
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->k, kDefaultPairK);
  EXPECT_EQ(defaults->capacity, kDefaultPairCapacity);
  EXPECT_EQ(defaults->candidates_per_city, 0);  // the engine's max(10 k, 40)
  EXPECT_FALSE(defaults->mutual || defaults->score_only || defaults->exclude_same_country);

  v1::PairCitiesRequest req;
  req.add_city_ids("wuhan");
  req.add_city_ids("fermo");
  req.add_regions(v1::REGION_AFRICA);
  req.add_themes(v1::THEME_INCLUSIVE_EDUCATION);
  req.set_k(2);
  req.set_capacity(5);
  req.set_exclude_same_country(true);
  AddPair(req.mutable_avoid(), "bahir-dar", "kashan");
  AddPair(req.mutable_keep(), "wuhan", "fermo");
  req.set_min_score(1.5);
  req.set_mutual(true);
  req.set_candidates_per_city(7);
  req.set_score_only(true);
  const absl::StatusOr<PairingQuery> q = ToPairingQuery(req);
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_THAT(q->city_ids, ::testing::ElementsAre("wuhan", "fermo"));
  EXPECT_THAT(q->regions, ::testing::ElementsAre(v1::REGION_AFRICA));
  EXPECT_THAT(q->themes, ::testing::ElementsAre(v1::THEME_INCLUSIVE_EDUCATION));
  EXPECT_EQ(q->k, 2);
  EXPECT_EQ(q->capacity, 5);
  EXPECT_TRUE(q->exclude_same_country);
  ASSERT_EQ(q->avoid.size(), 1u);
  EXPECT_EQ(q->avoid[0].asking_city_id, "bahir-dar");
  EXPECT_EQ(q->avoid[0].peer_city_id, "kashan");
  ASSERT_EQ(q->keep.size(), 1u);
  EXPECT_EQ(q->keep[0].asking_city_id, "wuhan");
  EXPECT_EQ(q->keep[0].peer_city_id, "fermo");
  EXPECT_EQ(q->min_score, 1.5);
  EXPECT_TRUE(q->mutual);
  EXPECT_EQ(q->candidates_per_city, 7);
  EXPECT_TRUE(q->score_only);
}

TEST(PairingMapping, PairsBecomeTheirMessages) {
  PairedCities pair;
  pair.asking_city_id = "wuhan";
  pair.peer_city_id = "fermo";
  pair.score = 2.5;
  pair.kept = true;
  PairDirection& f = pair.forward.emplace();
  f.challenge_id = "wuhan-c";
  f.challenge_title = "C";
  f.solution_id = "fermo-s";
  f.solution_title = "S";
  f.score = 1.5;
  f.parts = {0.25, 0.5, 0.75, 1.0};
  f.shared_terms = {{"tablets", 0.75}};
  PairDirection& r = pair.reverse.emplace();
  r.challenge_id = "fermo-c";
  r.challenge_title = "not on the wire";
  r.solution_id = "wuhan-s";
  r.score = 1.0;
  EXPECT_EQ(ToPair(pair).ShortDebugString(),
            "asking_city_id: \"wuhan\" peer_city_id: \"fermo\" score: 2.5 "
            "challenge_id: \"wuhan-c\" challenge_title: \"C\" solution_id: \"fermo-s\" "
            "solution_title: \"S\" "
            "parts { lexical: 0.25 semantic: 0.75 structure: 1 subword: 0.5 } "
            "shared_terms { term: \"tablets\" weight: 0.75 } kept: true "
            "reverse_challenge_id: \"fermo-c\" reverse_solution_id: \"wuhan-s\" reverse_score: 1");
  // A kept pair that nothing matched: no parts message at all.
  PairedCities bare;
  bare.asking_city_id = "wuhan";
  bare.peer_city_id = "turin";
  bare.kept = true;
  const v1::Pair wire = ToPair(bare);
  EXPECT_FALSE(wire.has_parts());
  EXPECT_EQ(wire.ShortDebugString(),
            "asking_city_id: \"wuhan\" peer_city_id: \"turin\" kept: true");

  PairingProgress progress{"scoring", 3, 85};
  EXPECT_EQ(ToPairingProgress(progress).ShortDebugString(),
            "stage: \"scoring\" done: 3 total: 85");
}

TEST(PairingMapping, SummaryRendersEachReasonInWords) {
  PairingSummary summary;
  summary.pairs = 1;
  summary.total_score = 2.5;
  summary.asking_cities = 4;
  summary.matched_cities = 1;
  summary.fully_matched_cities = 1;
  summary.candidate_pairs = 12;
  summary.kept_candidates = 9;
  summary.scoring_seconds = 0.5;
  summary.solving_seconds = 0.25;
  summary.model_version = 3;
  using Reason = UnmatchedCity::Reason;
  summary.unmatched = {{"aswan", Reason::kNoCandidate, 0, 0},
                       {"kashan", Reason::kBelowMinScore, 0.123, 0},
                       {"osan", Reason::kPeersTaken, 0, 4}};
  PairingQuery query;
  query.min_score = 1.5;
  const v1::PairingSummary wire = ToPairingSummary(summary, query);
  EXPECT_EQ(wire.pairs(), 1);
  EXPECT_EQ(wire.total_score(), 2.5);
  EXPECT_EQ(wire.asking_cities(), 4);
  EXPECT_EQ(wire.matched_cities(), 1);
  EXPECT_EQ(wire.fully_matched_cities(), 1);
  EXPECT_EQ(wire.candidate_pairs(), 12);
  EXPECT_EQ(wire.kept_candidates(), 9);
  EXPECT_EQ(wire.scoring_seconds(), 0.5);
  EXPECT_EQ(wire.solving_seconds(), 0.25);
  EXPECT_EQ(wire.model_version(), 3);
  ASSERT_EQ(wire.unmatched_size(), 3);
  EXPECT_EQ(wire.unmatched(0).city_id(), "aswan");
  EXPECT_EQ(wire.unmatched(0).reason(),
            "no solution of another cohort city is left to match its challenges (after the "
            "theme, same-country and avoid exclusions)");
  EXPECT_EQ(wire.unmatched(1).reason(),
            "its best candidate peer scores 0.12, below min_score 1.50");
  EXPECT_EQ(wire.unmatched(2).reason(),
            "its 4 candidate peers are all needed at capacity by cities that have no other "
            "peer; raise capacity");
  query.score_only = true;
  EXPECT_EQ(ToPairingSummary(summary, query).unmatched(2).reason(),
            "its 4 candidate peers are at capacity with askers they suit better; raise "
            "capacity, or drop score_only to cover every city first");
  query.mutual = true;
  EXPECT_EQ(ToPairingSummary(summary, query).unmatched(2).reason(),
            "each of its 4 candidate partners is twinned with a city that has no better option");
}

// Issue 12: a city with some peers, fewer than k, gets its count and the
// reason in words from what the engine counted.
TEST(PairingMapping, FewerPeersCarryTheirCountAndReason) {
  PairingSummary summary;
  using Reason = UnmatchedCity::Reason;
  UnmatchedCity full{"osan", Reason::kPeersTaken, 0, 0};
  full.peers = 2;
  full.full = 4;
  full.not_worth = 1;
  UnmatchedCity low{"kashan", Reason::kPeersTaken, 0, 0};
  low.peers = 1;
  low.below_min = 3;
  low.pruned = 2;
  UnmatchedCity none{"aswan", Reason::kNoCandidate, 0, 0};
  none.peers = 1;
  summary.fewer_peers = {full, low, none};
  PairingQuery query;
  query.k = 3;
  query.capacity = 2;
  query.min_score = 0.5;
  const v1::PairingSummary wire = ToPairingSummary(summary, query);
  EXPECT_EQ(wire.unmatched_size(), 0);
  ASSERT_EQ(wire.fewer_peers_size(), 3);
  EXPECT_EQ(wire.fewer_peers(0).city_id(), "osan");
  EXPECT_EQ(wire.fewer_peers(0).peers(), 2);
  EXPECT_EQ(wire.fewer_peers(0).reason(),
            "4 other candidate peers are at capacity (2 askers each); 1 scores below 0 (the "
            "pair would lower the total); raise capacity");
  EXPECT_EQ(wire.fewer_peers(1).peers(), 1);
  EXPECT_EQ(wire.fewer_peers(1).reason(),
            "3 score below min_score 0.50; 2 fell outside its 40 best candidates; raise "
            "candidates_per_city");
  EXPECT_EQ(wire.fewer_peers(2).reason(),
            "no other cohort city has a solution left to match its challenges (after the "
            "theme, same-country and avoid exclusions)");
}

}  // namespace
}  // namespace peermatch
