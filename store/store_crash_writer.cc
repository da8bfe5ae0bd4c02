// Test helper for store_test's crash test: opens the store at argv[1], puts
// cases (with a vector) one by one and prints each id on stdout after the put
// returned OK. Runs until killed or 1,000 cases are written.
#include <cstdio>
#include <string>

#include "store/store.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: store_crash_writer DATA_DIR ROUND\n");
    return 2;
  }
  auto store = peermatch::Store::Open(argv[1]);
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.status().ToString().c_str());
    return 1;
  }
  peermatch::v1::City city;
  city.set_id("crash-city");
  city.set_name("Crash City");
  city.set_country("IT");
  city.set_region(peermatch::v1::REGION_EUROPE_NORTH_AMERICA);
  if (!(*store)->PutCity(city).ok()) return 1;
  for (int i = 0; i < 1000; ++i) {
    peermatch::v1::Case c;
    c.set_id("r" + std::string(argv[2]) + "-case-" + std::to_string(i));
    c.set_city_id("crash-city");
    c.set_kind(peermatch::v1::CASE_KIND_SOLUTION);
    c.set_title("Case " + std::to_string(i));
    c.set_description(std::string(200 + i % 300, 'x'));
    c.add_themes(peermatch::v1::THEME_WORKPLACE);
    peermatch::CaseVector vec{0, std::string(1024, static_cast<char>(i))};
    if (!(*store)->PutCase(c, &vec).ok()) return 1;
    std::printf("%s\n", c.id().c_str());
    std::fflush(stdout);
  }
  return 0;
}
