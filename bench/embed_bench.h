// Embedding throughput on the SciFact corpus: peermatch's full case
// embedding (ICU segmentation, stemming, character 4-grams, BM25 weights,
// LSA projection) on both cores, against scikit-learn's TfidfVectorizer
// (Debian's python3-sklearn, run by /usr/bin/python3) on the same texts, in
// the same run.
#ifndef PEERMATCH_BENCH_EMBED_BENCH_H_
#define PEERMATCH_BENCH_EMBED_BENCH_H_

#include <string>
#include <utility>
#include <vector>

namespace peermatch::bench {

void RunEmbedBench(bool quick, std::vector<std::pair<std::string, std::string>>* keys);

}  // namespace peermatch::bench

#endif  // PEERMATCH_BENCH_EMBED_BENCH_H_
