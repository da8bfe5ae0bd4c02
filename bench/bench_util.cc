#include "bench/bench_util.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>

namespace peermatch::bench {
namespace {

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

double Median(std::vector<double> values) {
  if (values.empty()) return NAN;
  const size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + mid, values.end());
  if (values.size() % 2 == 1) return values[mid];
  const double upper = values[mid];
  const double lower = *std::max_element(values.begin(), values.begin() + mid);
  return (lower + upper) / 2;
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

std::string SizeLabel(size_t n) {
  if (n >= 10000 && n % 1000 == 0) return std::to_string(n / 1000) + "k";
  return std::to_string(n);
}

}  // namespace peermatch::bench
