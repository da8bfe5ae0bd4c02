// pairing_bench: time to pair 1,000 and 10,000 synthetic cities (5 cases
// each: 2 challenges, 3 solutions), split into scoring and solving, and
// what pruning the candidates costs against a much wider candidate list.
// A program, not a test: it prints one JSON object.
//
// Usage: pairing_bench [--quick]   (--quick: 300 and 1,000 cities)
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "store/store.h"

namespace {

using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

const char* kCountries[] = {"FR", "IT", "CN", "BR", "CO", "KR", "IR", "EG", "NG", "MX",
                            "DE", "ES", "IN", "JP", "ZA", "MA", "AR", "CA", "US", "KE"};

// Text from a topic: topics share a general vocabulary, each has its own.
std::string Text(std::mt19937& rng, int topic, int words) {
  static const char* kGeneral[] = {"city", "learning", "programme", "residents", "centre",
                                   "community", "training", "support", "local", "access"};
  std::string out;
  std::uniform_int_distribution<int> pick(0, 19), general(0, 9), coin(0, 2);
  for (int i = 0; i < words; ++i) {
    out += coin(rng) == 0 ? std::string(kGeneral[general(rng)])
                          : "t" + std::to_string(topic) + "w" + std::to_string(pick(rng));
    out += ' ';
  }
  return out;
}

struct Run {
  double load_s = 0, fit_s = 0;
  peermatch::PairingSummary summary;
  double wide_total = 0, wide_solve_s = 0;
};

Run PairSynthetic(int cities, bool wide) {
  std::mt19937 rng(20261125 + cities);
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("peermatch-pairing-bench-" + std::to_string(cities)))
          .string();
  std::filesystem::remove_all(dir);
  peermatch::StoreOptions so;
  so.sync = false;
  auto store = *peermatch::Store::Open(dir, so);
  peermatch::EngineOptions eo;
  eo.background_refit = false;
  eo.refit_min_changes = 1 << 30;
  auto engine = *peermatch::Engine::Open(store.get(), eo);
  Run run;
  const int topics = std::max(20, cities / 10);
  std::uniform_int_distribution<int> topic(0, topics - 1);
  auto t = Clock::now();
  for (int c = 0; c < cities; ++c) {
    peermatch::v1::City city;
    city.set_id("city-" + std::to_string(c));
    city.set_name("City " + std::to_string(c));
    city.set_country(kCountries[c % 20]);
    city.set_region(peermatch::v1::REGION_EUROPE_NORTH_AMERICA);
    (void)engine->PutCity(city, peermatch::Visibility::kDeferred);
    for (int i = 0; i < 5; ++i) {
      const int t0 = topic(rng);
      peermatch::v1::Case k;
      k.set_id(city.id() + "-case-" + std::to_string(i));
      k.set_city_id(city.id());
      k.set_kind(i < 2 ? peermatch::v1::CASE_KIND_CHALLENGE : peermatch::v1::CASE_KIND_SOLUTION);
      k.set_title(Text(rng, t0, 6));
      k.set_description(Text(rng, t0, 60));
      k.add_themes(static_cast<peermatch::v1::Theme>(1 + t0 % 6));
      (void)engine->PutCase(k, peermatch::Visibility::kDeferred);
    }
  }
  run.load_s = Since(t);
  t = Clock::now();
  (void)engine->Refit();
  engine->Publish();
  run.fit_s = Since(t);
  peermatch::PairingQuery query;
  query.k = 3;
  query.capacity = 3;
  query.exclude_same_country = true;
  auto result = engine->PairCities(query);
  if (result.ok()) run.summary = result->summary;
  if (wide) {
    query.candidates_per_city = 200;  // 10x the default list
    auto w = engine->PairCities(query);
    if (w.ok()) {
      run.wide_total = w->summary.total_score;
      run.wide_solve_s = w->summary.solving_seconds;
    }
  }
  engine.reset();
  store.reset();
  std::filesystem::remove_all(dir);
  return run;
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::string(argv[1]) == "--quick";
  const int small = quick ? 300 : 1000, large = quick ? 1000 : 10000;
  std::fprintf(stderr, "pairing_bench: %d cities...\n", small);
  const Run a = PairSynthetic(small, /*wide=*/true);
  std::fprintf(stderr, "pairing_bench: %d cities...\n", large);
  const Run b = PairSynthetic(large, /*wide=*/false);
  auto print = [](const char* name, int cities, const Run& r) {
    std::printf(
        "  \"%s\": {\"cities\": %d, \"cases\": %d, \"load_seconds\": %.2f, \"fit_seconds\": %.2f,\n"
        "    \"scoring_seconds\": %.3f, \"solving_seconds\": %.3f, \"pairs\": %d,\n"
        "    \"asking_cities\": %d, \"matched_cities\": %d, \"candidate_pairs\": %lld,\n"
        "    \"kept_candidates\": %lld, \"total_score\": %.3f}",
        name, cities, cities * 5, r.load_s, r.fit_s, r.summary.scoring_seconds,
        r.summary.solving_seconds, r.summary.pairs, r.summary.asking_cities,
        r.summary.matched_cities, static_cast<long long>(r.summary.candidate_pairs),
        static_cast<long long>(r.summary.kept_candidates), r.summary.total_score);
  };
  std::printf("{\n");
  print(quick ? "cities_300" : "cities_1000", small, a);
  std::printf(",\n");
  print(quick ? "cities_1000" : "cities_10000", large, b);
  std::printf(
      ",\n  \"pruning\": {\"cities\": %d, \"default_total\": %.3f, \"wide_200_total\": %.3f, "
      "\"loss_percent\": %.4f, \"wide_solving_seconds\": %.3f}\n}\n",
      small, a.summary.total_score, a.wide_total,
      a.wide_total > 0 ? 100.0 * (a.wide_total - a.summary.total_score) / a.wide_total : 0.0,
      a.wide_solve_s);
  return 0;
}
