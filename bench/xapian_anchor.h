// XapianAnchor: Xapian (Debian's libxapian-dev, 1.4) as the search-engine
// anchor of section `scale`: the same case texts (title and description)
// indexed with Xapian's English stemmer, searched with its default BM25
// weighting (Xapian::BM25Weight) for the top 10 of an OR of the query's
// terms, one query at a time on the calling thread (as peermatch answers one
// Match on one thread). Linked by peermatch-bench only.
//
// Errors: Xapian reports failures by throwing; every method here catches
// them and returns absl::Status.
// Thread-safety: not thread-safe (one Xapian::Database per object).
#ifndef PEERMATCH_BENCH_XAPIAN_ANCHOR_H_
#define PEERMATCH_BENCH_XAPIAN_ANCHOR_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace peermatch::bench {

class XapianAnchor {
 public:
  // A new database in `dir` (removed first).
  static absl::StatusOr<std::unique_ptr<XapianAnchor>> Create(const std::string& dir);
  ~XapianAnchor();

  // Adds one document (the title counts twice, as peermatch weighs it).
  absl::Status Add(const std::string& title, const std::string& description);
  // Commits what was added and opens the database for searching.
  absl::Status Finish();
  // The number of documents of the top `k` for `text` (stemmed, OR).
  absl::StatusOr<int> Search(const std::string& text, int k);
  static std::string Version();

 private:
  struct State;
  explicit XapianAnchor(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace peermatch::bench

#endif  // PEERMATCH_BENCH_XAPIAN_ANCHOR_H_
