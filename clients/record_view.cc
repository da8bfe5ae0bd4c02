#include "clients/record_view.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "records/records.h"

namespace peermatch::cli {
namespace {

constexpr size_t kKeyWidth = 14;
constexpr size_t kLineWidth = 78;

std::string RegionWords(v1::Region r) {
  switch (r) {
    case v1::REGION_AFRICA: return "Africa";
    case v1::REGION_ARAB_STATES: return "Arab States";
    case v1::REGION_ASIA_PACIFIC: return "Asia and the Pacific";
    case v1::REGION_EUROPE_NORTH_AMERICA: return "Europe and North America";
    case v1::REGION_LATIN_AMERICA_CARIBBEAN: return "Latin America and the Caribbean";
    default: return v1::Region_Name(r);
  }
}

std::string ThemeWords(int t) {
  switch (t) {
    case v1::THEME_INCLUSIVE_EDUCATION: return "inclusive education";
    case v1::THEME_FAMILIES_COMMUNITIES: return "families and communities";
    case v1::THEME_WORKPLACE: return "workplace";
    case v1::THEME_LEARNING_TECHNOLOGIES: return "learning technologies";
    case v1::THEME_QUALITY_EXCELLENCE: return "quality and excellence";
    case v1::THEME_CULTURE_OF_LEARNING: return "culture of learning";
    default: return v1::Theme_Name(t);
  }
}

// One "key  value" line; text longer than the line is wrapped at spaces and
// continued under the value. Empty values are left out.
void Line(std::string* out, const std::string& key, const std::string& value) {
  if (value.empty()) return;
  const std::string indent(kKeyWidth, ' ');
  std::string line = key + std::string(kKeyWidth - std::min(key.size(), kKeyWidth - 1), ' ');
  size_t used = line.size();
  bool first_word = true;
  for (absl::string_view word : absl::StrSplit(value, ' ', absl::SkipEmpty())) {
    if (!first_word && used + 1 + word.size() > kLineWidth) {
      absl::StrAppend(&line, "\n", indent);
      used = indent.size();
      first_word = true;
    }
    if (!first_word) {
      line += ' ';
      ++used;
    }
    absl::StrAppend(&line, word);
    used += word.size();
    first_word = false;
  }
  absl::StrAppend(out, line, "\n");
}

std::string WithThousands(long long n) {
  std::string digits = std::to_string(n < 0 ? -n : n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string Year(int y) { return y == 0 ? "" : std::to_string(y); }

}  // namespace

std::string CityView(const v1::City& city) {
  std::string out;
  Line(&out, "id", city.id());
  Line(&out, "name", city.name());
  Line(&out, "country", city.country());
  Line(&out, "region", RegionWords(city.region()));
  Line(&out, "population", city.population() == 0 ? "unknown" : WithThousands(city.population()));
  Line(&out, "languages", absl::StrJoin(city.languages(), ", "));
  Line(&out, "joined", Year(city.joined_year()));
  return out;
}

std::string CaseView(const v1::Case& c, const std::string& city_label) {
  std::string out;
  std::vector<std::string> themes;
  for (int t : c.themes()) themes.push_back(ThemeWords(t));
  Line(&out, "id", c.id());
  Line(&out, "city", city_label.empty() ? c.city_id()
                                        : absl::StrCat(city_label, " [", c.city_id(), "]"));
  Line(&out, "kind", c.kind() == v1::CASE_KIND_CHALLENGE ? "challenge" : "solution");
  Line(&out, "title", c.title());
  Line(&out, "themes", absl::StrJoin(themes, ", "));
  Line(&out, "sdgs", absl::StrJoin(c.sdgs(), ", "));
  Line(&out, "target groups", absl::StrJoin(c.target_groups(), ", "));
  Line(&out, "tags", absl::StrJoin(c.tags(), ", "));
  Line(&out, "year", Year(c.year()));
  Line(&out, "language", c.language());
  Line(&out, "description", c.description());
  Line(&out, "outcome", c.outcome());
  return out;
}

std::string CityRecordJson(const v1::City& city) {
  v1::ImportRecord r;
  *r.mutable_city() = city;
  std::string json = ToJson(r);
  // Canonical JSON quotes int64 values; a plain number reads better and
  // imports the same. Inside JSON strings every quote is escaped, so this
  // key can only be the field itself.
  const std::string key = "\"population\":\"";
  if (size_t at = json.find(key); at != std::string::npos) {
    const size_t end = json.find('"', at + key.size());
    json = absl::StrCat(json.substr(0, at + key.size() - 1),
                        json.substr(at + key.size(), end - at - key.size()), json.substr(end + 1));
  }
  return json;
}

std::string CaseRecordJson(const v1::Case& c) {
  v1::ImportRecord r;
  *r.mutable_case_() = c;
  return ToJson(r);
}

}  // namespace peermatch::cli
