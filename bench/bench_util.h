// Shared pieces of peermatch-bench: the key/value results every section
// fills, the run options, timing and synthetic data.
//
// A section is a function `void RunXxxBench(const BenchOptions&, BenchResults*)`
// (declared in bench/sections.h, defined in its own bench/xxx_bench.cc) that
// measures its figures side by side with their anchors in the same run and
// sets its keys; main() runs the sections in order and prints the merged
// results as one JSON object. (A section may instead report
// `std::vector<std::pair<std::string, std::string>>` of key and value text;
// main.cc adapts it with SetJsonOrString.)
//
// Example:
//   BenchResults r;
//   r.SetNumber("exact_100k_ms", 4.21);
//   r.SetBool("exact_results_match_faiss", true);
//   r.SetString("faiss_blas", "reference BLAS");
//   std::puts(r.ToJson().c_str());   // {"exact_100k_ms": 4.21, ...}
//
// Thread-safety: BenchResults is a plain value; no internal locking.
#ifndef PEERMATCH_BENCH_BENCH_UTIL_H_
#define PEERMATCH_BENCH_BENCH_UTIL_H_

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <map>

#include "absl/status/statusor.h"
#include "engine/engine.h"

namespace peermatch::bench {

struct BenchOptions {
  bool quick = false;  // smaller sizes and fewer repetitions (a smoke run)
};

// Figures of one run, in the order first set. Setting a key again replaces
// its value in place. Distinct setter names, so that a string literal never
// silently becomes a bool.
class BenchResults {
 public:
  // Non-finite numbers are written as null; others with one decimal from
  // 100 up, three from 1 up, four significant digits below 1.
  void SetNumber(std::string_view key, double value);
  void SetInt(std::string_view key, int64_t value);
  void SetBool(std::string_view key, bool value);
  void SetString(std::string_view key, std::string_view value);
  // `value` as given when it is already a JSON scalar (a number, true, false,
  // null, or a quoted string), else as SetString: for sections that report
  // (key, text) pairs.
  void SetJsonOrString(std::string_view key, std::string_view value);

  // Adds (or replaces) every key of `other`, in its order.
  void Merge(const BenchResults& other);

  bool Has(std::string_view key) const;
  // The JSON text of the key's value ("4.21", "true", "\"x\""), or "" if unset.
  std::string Raw(std::string_view key) const;

  // One JSON object, one key per line.
  std::string ToJson() const;

 private:
  void SetRaw(std::string_view key, std::string json_value);
  std::vector<std::pair<std::string, std::string>> entries_;  // key, JSON value
};

// Seconds on a monotonic clock.
double NowSeconds();
// CPU seconds the calling thread has used (CLOCK_THREAD_CPUTIME_ID): on a
// loaded machine, the work of a call without its waits for a core.
double ThreadCpuSeconds();

// The median of `values` (the mean of the two middle ones for an even count);
// NaN for none. Takes a copy: the caller's order is kept.
double Median(std::vector<double> values);

// The value at fraction p (0.5: the median's upper neighbour, 0.99: p99) of
// `values`, by rank: values[min(n - 1, floor(p * n))] once sorted; NaN for
// none. Takes a copy.
double Percentile(std::vector<double> values, double p);

// Runs this program again ("ENV /proc/self/exe ARGS", through the shell:
// `env` and `args` are shell text) and returns the "key value" lines it
// prints on stdout. `what` names the child in the error when it fails or is
// killed (say, by the kernel when memory runs out).
absl::StatusOr<std::map<std::string, double>> RunSelf(const std::string& env,
                                                      const std::string& args,
                                                      const std::string& what);

// Resident memory of this process, in bytes (/proc/self/statm). With
// `trim`, freed heap is handed back to the system first, so that what a
// step freed does not count as its memory.
uint64_t ResidentBytes(bool trim = false);

// n * d floats: Gaussian vectors scaled to unit length, row-major; the same
// seed gives the same vectors.
std::vector<float> RandomUnitVectors(size_t n, size_t d, uint64_t seed);

// "100k" for 100000, "20k" for 20000, "1000" below 10,000: the size part of
// key names, so that a --quick run's keys say which size they measured.
std::string SizeLabel(size_t n);

// Synthetic English text for case-like records, deterministic for a given
// rng state. Each word is, independently: with probability 0.30 one of the
// 10 words of `topic` (in [0, kSyntheticTopics)), 0.10 a word of a random
// other topic, 0.56 one of ~280 common English words (function words
// included) drawn by a Zipf law, 0.04 a made-up proper name from a space of
// 32,768 (three syllables, also Zipf), so that the vocabulary keeps growing
// with the corpus as real text does. Sentences of 8-16 words, capitalized,
// each ending with a full stop; `words` words in all (at least 1).
// Thread-safe (the word tables are immutable); the rng is the caller's.
inline constexpr int kSyntheticTopics = 20;
std::string SyntheticText(std::mt19937_64& rng, int topic, int words);

// A sentence of `words` words for the small gRPC and soak corpora: each word
// from `topic` (in [0, 10)) three times in four, otherwise from another of
// ten fixed topics of six words; ends with a full stop.
std::string Sentence(std::mt19937& rng, int topic, int words);

// The gRPC section's and the soak's corpus, written through `engine` and
// fitted: `cities` cities (ten countries) with 5 cases each (2 challenges,
// 3 solutions; a 6-word title and an 80-word description on one topic).
void LoadTopicCorpus(Engine& engine, int cities, std::mt19937& rng);

}  // namespace peermatch::bench

#endif  // PEERMATCH_BENCH_BENCH_UTIL_H_
