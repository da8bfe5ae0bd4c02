#include "bench/bench_util.h"

#include <sys/wait.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "absl/strings/str_cat.h"

namespace peermatch::bench {
namespace {

// The ten topics of Sentence(), six words each.
const char* kTopics[][6] = {
    {"radio", "lessons", "pupils", "rural", "closures", "broadcast"},
    {"literacy", "adults", "reading", "evening", "classes", "women"},
    {"older", "smartphones", "digital", "skills", "volunteers", "isolation"},
    {"migrants", "language", "integration", "courses", "refugees", "mentors"},
    {"youth", "unemployment", "apprenticeships", "employers", "skills", "training"},
    {"libraries", "families", "children", "storytelling", "parents", "books"},
    {"teachers", "online", "platform", "training", "coaching", "classroom"},
    {"climate", "gardens", "sustainability", "schools", "recycling", "energy"},
    {"health", "literacy", "clinics", "nurses", "prevention", "community"},
    {"festival", "museums", "culture", "neighbourhood", "learning", "celebration"}};


// --- SyntheticText's tables ---

const char* const kTopicWords[kSyntheticTopics][10] = {
    {"radio", "lessons", "pupils", "broadcast", "closures", "remote", "homework", "signal",
     "airtime", "stations"},
    {"literacy", "illiterate", "alphabet", "reading", "evening", "primers", "tutors", "adult",
     "letters", "newcomers"},
    {"smartphones", "seniors", "pensioners", "isolation", "tablets", "passwords", "scams",
     "helpdesk", "loneliness", "messaging"},
    {"migrants", "asylum", "refugees", "integration", "interpreters", "mentors", "arrival",
     "residence", "translation", "diaspora"},
    {"apprenticeships", "unemployment", "vocational", "internships", "employability",
     "placement", "trainees", "factories", "welding", "hiring"},
    {"storytelling", "toddlers", "bookstart", "lullabies", "picturebooks", "playgroups",
     "bedtime", "nurseries", "babies", "rhymes"},
    {"coaching", "classroom", "pedagogy", "curriculum", "lesson", "inspectors", "headteachers",
     "induction", "observation", "feedback"},
    {"recycling", "compost", "emissions", "solar", "biodiversity", "trees", "flooding",
     "drought", "insulation", "renewable"},
    {"vaccination", "hygiene", "midwives", "diabetes", "malaria", "sanitation", "dentists",
     "obesity", "diet", "pharmacies"},
    {"festival", "carnival", "orchestra", "dance", "theatre", "poetry", "murals", "galleries",
     "choir", "film"},
    {"dropout", "truancy", "absenteeism", "retention", "remedial", "catchup", "repeaters",
     "graduation", "exams", "scholarships"},
    {"coding", "robotics", "hackathon", "programming", "makerspace", "electronics", "printers",
     "algorithms", "startups", "incubator"},
    {"prisoners", "inmates", "rehabilitation", "probation", "reoffending", "detention",
     "offenders", "parole", "wardens", "reintegration"},
    {"disabilities", "wheelchair", "braille", "deaf", "autism", "accessible", "ramps", "sign",
     "assistive", "blind"},
    {"farmers", "irrigation", "harvest", "livestock", "seeds", "agronomy", "crops", "fisheries",
     "cattle", "orchards"},
    {"gender", "girls", "violence", "empowerment", "harassment", "mothers", "widows",
     "leadership", "equality", "shelters"},
    {"heritage", "monuments", "archives", "oral", "elders", "ancestors", "restoration",
     "artisans", "pottery", "weaving"},
    {"traffic", "cycling", "pedestrians", "commuting", "buses", "tram", "parking", "helmets",
     "crossings", "mobility"},
    {"entrepreneurship", "microcredit", "cooperatives", "savings", "loans", "vendors",
     "bookkeeping", "markets", "informal", "traders"},
    {"citizenship", "elections", "participatory", "budgeting", "councils", "petitions",
     "consultation", "transparency", "assemblies", "voting"}};

// Common English words, most frequent first (function words lead, as in
// real text; the analyzer drops most of them as stopwords).
const char* const kCommonWords[] = {
    "the", "of", "and", "to", "in", "a", "for", "with", "on", "our", "is", "are", "their",
    "we", "by", "from", "at", "this", "that", "have", "has", "was", "were", "many", "more",
    "most", "some", "all", "new", "each", "other", "into", "through", "after", "before",
    "during", "about", "between", "while", "than", "not", "also", "but", "or", "as", "be",
    "can", "will", "who", "which", "city", "learning", "community", "people", "school",
    "children", "families", "education", "local", "young", "programme", "public", "support",
    "access", "training", "skills", "services", "residents", "centre", "project", "network",
    "partners", "teachers", "students", "adults", "women", "workers", "employers", "jobs",
    "work", "income", "poverty", "housing", "health", "wellbeing", "culture", "library",
    "libraries", "museum", "park", "transport", "water", "food", "waste", "energy",
    "environment", "climate", "data", "digital", "online", "internet", "phones", "devices",
    "platform", "volunteers", "staff", "budget", "funding", "grants", "costs", "plan",
    "strategy", "policy", "survey", "results", "evaluation", "pilot", "year", "years",
    "months", "weeks", "hours", "weekend", "summer", "rural", "urban", "languages", "writing",
    "numeracy", "mathematics", "science", "arts", "music", "sport", "games", "mentoring",
    "courses", "classes", "workshops", "sessions", "meetings", "events", "exhibitions",
    "television", "newspaper", "media", "campaign", "awareness", "participation",
    "inclusion", "equity", "elderly", "youth", "attendance", "enrolment", "certificates",
    "qualifications", "universities", "colleges", "kindergartens", "parents",
    "grandparents", "carers", "clinics", "nurses", "doctors", "prevention", "nutrition",
    "gardens", "farms", "shops", "businesses", "unions", "associations", "churches",
    "mosques", "temples", "police", "safety", "crime", "justice", "rights", "democracy",
    "history", "tourism", "crafts", "tradition", "innovation", "research", "technology",
    "laboratory", "space", "buildings", "rooms", "bicycles", "streets", "roads", "bridges",
    "rivers", "coast", "mountains", "villages", "towns", "region", "province", "country",
    "government", "ministry", "mayor", "officials", "leaders", "experts", "professionals",
    "coordinators", "facilitators", "counsellors", "social", "economic", "cultural", "green",
    "sustainable", "inclusive", "affordable", "free", "open", "shared", "small", "large",
    "growing", "improve", "increase", "reduce", "build", "create", "provide", "offer",
    "develop", "connect", "engage", "reach", "involve", "organise", "launch", "expand",
    "train", "teach", "learn", "share", "measure", "help", "lack", "need", "face",
    "struggle", "closed", "lost", "limited", "poor", "low", "high", "better", "first",
    "second", "neighbourhood", "district", "council", "municipal", "citizens", "teenagers", "graduates", "unemployed", "employees", "managers", "owners",
    "tenants", "visitors", "participants", "learners", "trainers", "schools", "communities"};

const char* const kSyllables[32] = {"ka", "ri", "mo", "len", "ta", "vu", "shi", "bor",
                                    "ne", "ga", "lo", "pe", "dar", "si", "zu", "mi",
                                    "tor", "na", "be", "ko", "ru", "san", "fe", "di",
                                    "lan", "go", "he", "ja", "ve", "qui", "wo", "ya"};
constexpr int kNames = 32 * 32 * 32;

// Cumulative Zipf weights (exponent 1, rank offset 2.7) over n items.
std::vector<double> ZipfTable(size_t n) {
  std::vector<double> cumulative(n);
  double sum = 0;
  for (size_t i = 0; i < n; ++i) cumulative[i] = sum += 1.0 / (static_cast<double>(i) + 2.7);
  for (double& c : cumulative) c /= sum;
  return cumulative;
}

size_t Draw(const std::vector<double>& cumulative, std::mt19937_64& rng) {
  const double u = std::uniform_real_distribution<double>(0, 1)(rng);
  const size_t i = std::upper_bound(cumulative.begin(), cumulative.end(), u) - cumulative.begin();
  return std::min(i, cumulative.size() - 1);
}

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

}  // namespace

void BenchResults::SetRaw(std::string_view key, std::string json_value) {
  for (auto& [k, v] : entries_) {
    if (k == key) {
      v = std::move(json_value);
      return;
    }
  }
  entries_.emplace_back(std::string(key), std::move(json_value));
}

void BenchResults::SetNumber(std::string_view key, double value) {
  if (!std::isfinite(value)) return SetRaw(key, "null");
  // Enough digits for a ratio or a millisecond figure, without float noise.
  char buf[32];
  const double magnitude = std::fabs(value);
  std::snprintf(buf, sizeof(buf), magnitude >= 100 ? "%.1f" : magnitude >= 1 ? "%.3f" : "%.4g",
                value);
  SetRaw(key, buf);
}

void BenchResults::SetInt(std::string_view key, int64_t value) {
  SetRaw(key, std::to_string(value));
}

void BenchResults::SetBool(std::string_view key, bool value) {
  SetRaw(key, value ? "true" : "false");
}

void BenchResults::SetString(std::string_view key, std::string_view value) {
  SetRaw(key, JsonString(value));
}

void BenchResults::SetJsonOrString(std::string_view key, std::string_view value) {
  const bool literal = value == "true" || value == "false" || value == "null";
  const bool quoted = value.size() >= 2 && value.front() == '"' && value.back() == '"';
  bool number = false;
  if (!value.empty() && (value[0] == '-' || (value[0] >= '0' && value[0] <= '9'))) {
    const std::string text(value);
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    number = end == text.c_str() + text.size() && std::isfinite(v);
  }
  if (literal || quoted || number) return SetRaw(key, std::string(value));
  SetString(key, value);
}

void BenchResults::Merge(const BenchResults& other) {
  for (const auto& [k, v] : other.entries_) SetRaw(k, v);
}

bool BenchResults::Has(std::string_view key) const { return !Raw(key).empty(); }

std::string BenchResults::Raw(std::string_view key) const {
  for (const auto& [k, v] : entries_) {
    if (k == key) return v;
  }
  return "";
}

std::string BenchResults::ToJson() const {
  std::string out = "{";
  for (size_t i = 0; i < entries_.size(); ++i) {
    out += i == 0 ? "\n  " : ",\n  ";
    out += JsonString(entries_[i].first) + ": " + entries_[i].second;
  }
  return out + "\n}";
}

double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

double ThreadCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

double Median(std::vector<double> values) {
  if (values.empty()) return NAN;
  const size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + mid, values.end());
  if (values.size() % 2 == 1) return values[mid];
  const double upper = values[mid];
  const double lower = *std::max_element(values.begin(), values.begin() + mid);
  return (lower + upper) / 2;
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return NAN;
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<size_t>(p * static_cast<double>(values.size()));
  return values[std::min(values.size() - 1, rank)];
}

absl::StatusOr<std::map<std::string, double>> RunSelf(const std::string& env,
                                                      const std::string& args,
                                                      const std::string& what) {
  std::error_code ec;
  const std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  if (ec) return absl::InternalError(absl::StrCat("/proc/self/exe: ", ec.message()));
  const std::string command = absl::StrCat(env, " '", self, "' ", args);
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return absl::InternalError("popen failed");
  std::map<std::string, double> values;
  char line[512];
  while (std::fgets(line, sizeof(line), pipe) != nullptr) {
    char key[256];
    double value = 0;
    if (std::sscanf(line, "%255s %lf", key, &value) == 2) values[key] = value;
  }
  const int status = pclose(pipe);
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(
        WIFSIGNALED(status)
            ? absl::StrCat(what, " was killed by signal ", WTERMSIG(status), " (out of memory?)")
            : absl::StrCat(what, " failed (status ", status, ")"));
  }
  return values;
}

uint64_t ResidentBytes(bool trim) {
#if defined(__GLIBC__)
  if (trim) malloc_trim(0);
#endif
  std::ifstream statm("/proc/self/statm");
  uint64_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

std::vector<float> RandomUnitVectors(size_t n, size_t d, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> gauss;
  std::vector<float> x(n * d);
  for (size_t i = 0; i < n; ++i) {
    float* row = x.data() + i * d;
    double norm = 0;
    for (size_t j = 0; j < d; ++j) {
      row[j] = gauss(rng);
      norm += static_cast<double>(row[j]) * row[j];
    }
    const float inv = norm > 0 ? static_cast<float>(1 / std::sqrt(norm)) : 0.0f;
    for (size_t j = 0; j < d; ++j) row[j] *= inv;
  }
  return x;
}

std::string SyntheticText(std::mt19937_64& rng, int topic, int words) {
  static const std::vector<double> common =
      ZipfTable(sizeof(kCommonWords) / sizeof(kCommonWords[0]));
  static const std::vector<double> names = ZipfTable(kNames);
  topic = ((topic % kSyntheticTopics) + kSyntheticTopics) % kSyntheticTopics;
  std::uniform_real_distribution<double> unit(0, 1);
  std::string out;
  int sentence_left = 0;
  for (int i = 0; i < std::max(words, 1); ++i) {
    const bool first = sentence_left == 0;
    if (first) sentence_left = std::uniform_int_distribution<int>(8, 16)(rng);
    const double p = unit(rng);
    std::string word;
    if (p < 0.30) {
      word = kTopicWords[topic][rng() % 10];
    } else if (p < 0.40) {
      word = kTopicWords[rng() % kSyntheticTopics][rng() % 10];
    } else if (p < 0.96) {
      word = kCommonWords[Draw(common, rng)];
    } else {
      const size_t name = Draw(names, rng);
      word = std::string(kSyllables[name % 32]) + kSyllables[name / 32 % 32] +
             kSyllables[name / 1024];
    }
    if (first) word[0] = static_cast<char>(word[0] - 'a' + 'A');
    if (!out.empty()) out += ' ';
    out += word;
    if (--sentence_left == 0 || i + 1 == std::max(words, 1)) {
      out += '.';
      sentence_left = 0;
    }
  }
  return out;
}

std::string SizeLabel(size_t n) {
  if (n >= 10000 && n % 1000 == 0) return std::to_string(n / 1000) + "k";
  return std::to_string(n);
}

std::string Sentence(std::mt19937& rng, int topic, int words) {
  std::uniform_int_distribution<int> w(0, 5), other(0, 9), coin(0, 3);
  std::string out;
  for (int i = 0; i < words; ++i) {
    const int t = coin(rng) == 0 ? other(rng) : topic;
    absl::StrAppend(&out, kTopics[t][w(rng)], i + 1 == words ? "." : " ");
  }
  return out;
}

void LoadTopicCorpus(Engine& engine, int cities, std::mt19937& rng) {
  const char* countries[] = {"FR", "IT", "CN", "BR", "CO", "KR", "IR", "EG", "NG", "MX"};
  for (int c = 0; c < cities; ++c) {
    v1::City city;
    city.set_id(absl::StrCat("city-", c));
    city.set_name(absl::StrCat("City ", c));
    city.set_country(countries[c % 10]);
    city.set_region(v1::REGION_EUROPE_NORTH_AMERICA);
    (void)engine.PutCity(city, Visibility::kDeferred);
    for (int i = 0; i < 5; ++i) {
      const int topic = static_cast<int>(rng() % 10);
      v1::Case k;
      k.set_id(absl::StrCat(city.id(), "-", i));
      k.set_city_id(city.id());
      k.set_kind(i < 2 ? v1::CASE_KIND_CHALLENGE : v1::CASE_KIND_SOLUTION);
      k.set_title(Sentence(rng, topic, 6));
      k.set_description(Sentence(rng, topic, 80));
      k.add_themes(static_cast<v1::Theme>(1 + topic % 6));
      (void)engine.PutCase(k, Visibility::kDeferred);
    }
  }
  (void)engine.Refit();
  engine.Publish();
}

}  // namespace peermatch::bench
