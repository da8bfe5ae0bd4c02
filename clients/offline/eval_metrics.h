// Ranking-quality metrics, as BEIR and trec_eval define them.
//
// Thread-safety: pure functions.
#ifndef PEERMATCH_CLIENTS_OFFLINE_EVAL_METRICS_H_
#define PEERMATCH_CLIENTS_OFFLINE_EVAL_METRICS_H_

#include <map>
#include <string>
#include <vector>

namespace peermatch::cli {

// Relevance judgments of one query: document id -> grade (> 0 is relevant).
using Judgments = std::map<std::string, int>;

// nDCG@k with linear gains (gain = grade) and log2(rank + 1) discounts; the
// ideal ranking orders all judged documents by grade. 0 when nothing is
// relevant.
double NdcgAt(const std::vector<std::string>& ranking, const Judgments& judged, size_t k);
// Relevant documents in the top k, divided by all relevant documents.
double RecallAt(const std::vector<std::string>& ranking, const Judgments& judged, size_t k);
// 1 / rank of the first relevant document within the top k, else 0.
double MrrAt(const std::vector<std::string>& ranking, const Judgments& judged, size_t k);

}  // namespace peermatch::cli

#endif  // PEERMATCH_CLIENTS_OFFLINE_EVAL_METRICS_H_
