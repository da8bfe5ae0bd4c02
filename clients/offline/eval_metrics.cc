#include "clients/offline/eval_metrics.h"

#include <algorithm>
#include <cmath>
#include <functional>

namespace peermatch::cli {
namespace {

int Grade(const Judgments& judged, const std::string& doc) {
  auto it = judged.find(doc);
  return it == judged.end() ? 0 : std::max(0, it->second);
}

}  // namespace

double NdcgAt(const std::vector<std::string>& ranking, const Judgments& judged, size_t k) {
  double dcg = 0;
  for (size_t i = 0; i < ranking.size() && i < k; ++i) {
    dcg += Grade(judged, ranking[i]) / std::log2(static_cast<double>(i) + 2);
  }
  std::vector<int> grades;
  for (const auto& [doc, g] : judged) {
    if (g > 0) grades.push_back(g);
  }
  std::sort(grades.begin(), grades.end(), std::greater<int>());
  double ideal = 0;
  for (size_t i = 0; i < grades.size() && i < k; ++i) {
    ideal += grades[i] / std::log2(static_cast<double>(i) + 2);
  }
  return ideal > 0 ? dcg / ideal : 0;
}

double RecallAt(const std::vector<std::string>& ranking, const Judgments& judged, size_t k) {
  size_t relevant = 0, found = 0;
  for (const auto& [doc, g] : judged) relevant += g > 0 ? 1 : 0;
  for (size_t i = 0; i < ranking.size() && i < k; ++i) found += Grade(judged, ranking[i]) > 0;
  return relevant > 0 ? static_cast<double>(found) / static_cast<double>(relevant) : 0;
}

double MrrAt(const std::vector<std::string>& ranking, const Judgments& judged, size_t k) {
  for (size_t i = 0; i < ranking.size() && i < k; ++i) {
    if (Grade(judged, ranking[i]) > 0) return 1.0 / static_cast<double>(i + 1);
  }
  return 0;
}

}  // namespace peermatch::cli
