// Writes records_fuzz's seeds into the directory given as argv[1]: lines of
// the demo data (every city, every 8th case), a three-line file with a blank
// line, and a few invalid lines.
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace {

void Write(const std::string& dir, const std::string& name, const std::string& bytes) {
  std::ofstream(dir + "/" + name, std::ios::binary) << bytes;
}

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: records_fuzz_seeds DIR\n";
    return 2;
  }
  const std::string dir = argv[1];
  const std::string demo = std::string(PEERMATCH_SOURCE_DIR) + "/data/demo/";
  const auto cities = Lines(demo + "cities.jsonl");
  const auto cases = Lines(demo + "cases.jsonl");
  if (cities.empty() || cases.empty()) {
    std::cerr << "records_fuzz_seeds: no demo data under " << demo << "\n";
    return 1;
  }
  for (size_t i = 0; i < cities.size(); ++i) Write(dir, "city-" + std::to_string(i), cities[i]);
  for (size_t i = 0; i < cases.size(); i += 8) Write(dir, "case-" + std::to_string(i), cases[i]);
  Write(dir, "three-lines", cities[0] + "\n\n  \n" + cases[0] + "\n" + cities[1] + "\n");
  Write(dir, "bad-field", R"({"city": {"id": "x", "nmae": "X"}})");
  Write(dir, "bad-enum", R"({"case": {"id": "a", "cityId": "b", "kind": "CASE_KIND_NONE", "themes": [4, "THEME_WORKPLACE"], "sdgs": [18]}})");
  Write(dir, "not-json", "# peermatch\n{\"city\": ");
  return 0;
}
