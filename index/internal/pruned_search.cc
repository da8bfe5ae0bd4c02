#include "index/internal/pruned_search.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace peermatch::internal {
namespace {

// Cases per window: the essential lists are added up term at a time into
// window-sized accumulators (cache-resident), then each touched case is
// decided in position order.
constexpr uint32_t kWindow = 4096;
constexpr float kNoThreshold = -std::numeric_limits<float>::infinity();
// The windows start small and double up to kWindow: the lists to add up are
// chosen at the start of a window, and the first one starts with no k-th
// score at all (a first window of kWindow cases added up every list of 4%
// of a 100,000-case corpus).
constexpr uint32_t kFirstWindow = 256;
constexpr uint32_t NextWindow(uint32_t len) { return len < kWindow ? 2 * len : kWindow; }

// A query term's postings being walked forward.
struct Cursor {
  const uint32_t* doc;
  const float* weight;
  uint32_t size;
  uint32_t pos;
  float count;
  int64_t bound;  // >= every contribution of this list

  // Moves to the first posting at or after case d (galloping); true when
  // that posting is case d's.
  bool Seek(uint32_t d) {
    if (pos >= size) return false;
    if (doc[pos] >= d) return doc[pos] == d;
    uint64_t lo = pos, step = 1, hi = pos + 1;
    while (hi < size && doc[hi] < d) {
      lo = hi;
      step *= 2;
      hi = lo + step;
    }
    const uint64_t end = std::min<uint64_t>(hi + 1, size);
    pos = static_cast<uint32_t>(std::lower_bound(doc + lo + 1, doc + end, d) - doc);
    return pos < size && doc[pos] == d;
  }
  int64_t Value() const { return ToFixed(count, weight[pos]); }
};

// Both systems' cursors, each sorted by bound (smallest first), with
// prefix sums of the bounds: prefix[s][e] bounds a case's score from the
// lists [0, e) of system s.
struct Lists {
  std::vector<Cursor> list[2];
  std::vector<int64_t> prefix[2];

  Lists(const std::vector<QueryTerm>& words, const std::vector<QueryTerm>& grams) {
    const std::vector<QueryTerm>* terms[2] = {&words, &grams};
    for (int s = 0; s < 2; ++s) {
      for (const QueryTerm& t : *terms[s]) {
        if (t.postings.size == 0) continue;
        list[s].push_back({t.postings.doc, t.postings.weight, t.postings.size, 0, t.count,
                           ToFixed(t.count, t.postings.max_weight)});
      }
      std::stable_sort(list[s].begin(), list[s].end(),
                       [](const Cursor& a, const Cursor& b) { return a.bound < b.bound; });
      prefix[s].assign(list[s].size() + 1, 0);
      for (size_t i = 0; i < list[s].size(); ++i) {
        prefix[s][i + 1] = prefix[s][i] + list[s][i].bound;
      }
    }
  }
  // Adds to acc[s] the contributions of the lists [0, e[s]) that hold case
  // d, from the list with the largest bound down; remaining[s] is left as the
  // bound of the lists not probed yet. Stops early, leaving acc partial,
  // when give_up(acc, remaining) says the case cannot make it (checked after
  // each list); returns false then.
  template <typename GiveUp>
  bool Probe(uint32_t d, const size_t e[2], int64_t acc[2], size_t left[2],
             GiveUp give_up) {
    for (int s = 0; s < 2; ++s) {
      while (left[s] > 0) {
        Cursor& c = list[s][--left[s]];
        if (c.Seek(d)) acc[s] += c.Value();
        if (give_up(acc, left)) return false;
      }
    }
    return true;
  }
  // The bound of system s's lists [0, left).
  int64_t Remaining(int s, size_t left) const { return prefix[s][left]; }
};

// Window accumulators of the essential lists.
class Window {
 public:
  // Adds the lists [e[s], end) of each system for cases in [base, end_doc);
  // then calls visit(d, word, gram) for each touched case in position order
  // and clears the window.
  template <typename Visit>
  void Run(Lists* lists, const size_t e[2], uint32_t base, uint32_t end_doc, Visit visit) {
    for (int s = 0; s < 2; ++s) {
      for (size_t i = e[s]; i < lists->list[s].size(); ++i) {
        Cursor& c = lists->list[s][i];
        if (c.pos < c.size && c.doc[c.pos] < base) c.Seek(base);
        const uint32_t* doc = c.doc;
        const float* weight = c.weight;
        const double count = static_cast<double>(c.count) * kFixedScale;
        int64_t* acc = acc_[s];
        uint32_t p = c.pos;
        for (; p < c.size && doc[p] < end_doc; ++p) {
          acc[doc[p] - base] += static_cast<int64_t>(count * static_cast<double>(weight[p]));
        }
        c.pos = p;
      }
    }
    // A touched case is one with a contribution above zero (a case whose
    // essential contributions all truncate to zero is left to the bounds:
    // it scores what the lists [0, e) give it, which cannot beat the k-th).
    const uint32_t len = end_doc - base;
    for (uint32_t w = 0; w < len; ++w) {
      if (acc_[0][w] == 0 && acc_[1][w] == 0) continue;
      visit(base + w, acc_[0][w], acc_[1][w]);
      acc_[0][w] = acc_[1][w] = 0;
    }
  }

 private:
  int64_t acc_[2][kWindow] = {};
};

// A bounded heap keeping the best entries by (score desc, doc asc).
template <typename Entry>
class Best {
 public:
  explicit Best(size_t capacity) : capacity_(capacity) { heap_.reserve(capacity); }
  bool full() const { return capacity_ > 0 && heap_.size() >= capacity_; }
  float threshold() const { return full() ? heap_.front().score : kNoThreshold; }
  // True when a case scoring `score` at position `doc` would be kept (ties
  // go to the lower position).
  bool Takes(float score, uint32_t doc) const {
    if (capacity_ == 0) return false;
    if (!full()) return true;
    return score != heap_.front().score ? score > heap_.front().score : doc < heap_.front().doc;
  }
  // True when e was kept.
  bool Offer(const Entry& e) {
    if (capacity_ == 0) return false;
    if (heap_.size() < capacity_) {
      heap_.push_back(e);
      std::push_heap(heap_.begin(), heap_.end(), BetterThan);
      return true;
    }
    if (!BetterThan(e, heap_.front())) return false;
    std::pop_heap(heap_.begin(), heap_.end(), BetterThan);
    heap_.back() = e;
    std::push_heap(heap_.begin(), heap_.end(), BetterThan);
    return true;
  }
  std::vector<Entry>& items() { return heap_; }
  std::vector<Entry>& Sorted() {
    std::sort(heap_.begin(), heap_.end(), BetterThan);
    return heap_;
  }

 private:
  static bool BetterThan(const Entry& x, const Entry& y) {
    return x.score != y.score ? x.score > y.score : x.doc < y.doc;
  }
  size_t capacity_;
  std::vector<Entry> heap_;
};

struct DocScore {
  float score;
  uint32_t doc;
};
struct FusedEntry {
  float score;
  uint32_t doc;
  int64_t word, gram;
};

// Both systems' exact scores of one case by binary search (for the few
// cases no pass visited).
ScoredDoc ExactScores(const std::vector<QueryTerm>& words, const std::vector<QueryTerm>& grams,
                      uint32_t d) {
  ScoredDoc out{d, 0, 0};
  const std::vector<QueryTerm>* terms[2] = {&words, &grams};
  for (int s = 0; s < 2; ++s) {
    for (const QueryTerm& t : *terms[s]) {
      const uint32_t* end = t.postings.doc + t.postings.size;
      const uint32_t* it = std::lower_bound(t.postings.doc, end, d);
      if (it == end || *it != d) continue;
      (s == 0 ? out.word : out.gram) += ToFixed(t.count, t.postings.weight[it - t.postings.doc]);
    }
  }
  return out;
}

// The largest e with FromFixed(prefix[e]) < threshold: the lists [0, e)
// alone cannot lift a case to it (strictly: a case scoring the threshold
// exactly may win the tie by position, cases not being offered in position
// order).
size_t NonEssential(const std::vector<int64_t>& prefix, bool full, float threshold) {
  if (!full) return 0;
  size_t e = 0;
  while (e + 1 < prefix.size() && FromFixed(prefix[e + 1]) < threshold) ++e;
  return e;
}

}  // namespace

std::vector<ScoredDoc> CandidateUnion(const std::vector<QueryTerm>& words,
                                      const std::vector<QueryTerm>& grams,
                                      const std::vector<uint32_t>& forced, size_t depth,
                                      const DocAccess& access, std::vector<ScoredDoc>* scored) {
  if (scored != nullptr) scored->clear();
  Lists lists(words, grams);
  Best<DocScore> best[2] = {Best<DocScore>(depth), Best<DocScore>(depth)};
  std::vector<ScoredDoc> seen;  // every case that entered a heap, or forced
  // The forced cases first, scored exactly (they need their scores
  // whatever they are): they seed both heaps, so that the windows prune
  // from the first one. Every comparison below is Takes (score, then
  // position), which does not depend on the order cases are offered in.
  for (uint32_t d : forced) {
    const ScoredDoc x = ExactScores(words, grams, d);
    seen.push_back(x);
    if (scored != nullptr) scored->push_back(x);
    const int64_t exact[2] = {x.word, x.gram};
    for (int s = 0; s < 2; ++s) {
      const float score = FromFixed(exact[s]);
      // Zero scores never compete: the exhaustive ranking fills with
      // zero-score cases by position (below).
      if (score > 0) best[s].Offer({score, d});
    }
  }
  thread_local Window window_storage;  // left cleared after every Run
  Window* window = &window_storage;
  const uint32_t n = static_cast<uint32_t>(access.num_docs);
  size_t visited = 0, probed = 0;
  for (uint32_t base = 0, len = kFirstWindow; base < n; base += len, len = NextWindow(len)) {
    // Probing is worth it only while it spares most touched cases; after a
    // window where it did not, the next one adds up every list.
    const bool add_all = probed * 4 > visited;
    visited = probed = 0;
    size_t e[2] = {0, 0};
    for (int s = 0; s < 2 && !add_all; ++s) {
      e[s] = NonEssential(lists.prefix[s], best[s].full(), best[s].threshold());
    }
    const bool nothing_essential =
        e[0] == lists.list[0].size() && e[1] == lists.list[1].size();
    if (nothing_essential) break;
    const uint32_t end_doc = std::min<uint64_t>(uint64_t{base} + len, n);
    window->Run(&lists, e, base, end_doc, [&](uint32_t d, int64_t word, int64_t gram) {
                  if (!access.kept(d)) return;
                  // A forced case: scored and offered already.
                  if (std::binary_search(forced.begin(), forced.end(), d)) return;
                  ++visited;
                  const int64_t acc[2] = {word, gram};
                  bool needed = false;
                  for (int s = 0; s < 2 && !needed; ++s) {
                    needed = best[s].Takes(FromFixed(acc[s] + lists.prefix[s][e[s]]), d);
                  }
                  if (!needed) return;
                  int64_t exact[2] = {word, gram};
                  size_t left[2] = {e[0], e[1]};
                  if (e[0] + e[1] > 0) {
                    ++probed;
                    // Give up once neither heap can take it.
                    auto hopeless = [&](const int64_t* acc, const size_t* l) {
                      for (int s = 0; s < 2; ++s) {
                        if (best[s].Takes(FromFixed(acc[s] + lists.Remaining(s, l[s])), d)) {
                          return false;
                        }
                      }
                      return true;
                    };
                    if (!lists.Probe(d, e, exact, left, hopeless)) return;
                  }
                  if (scored != nullptr) scored->push_back({d, exact[0], exact[1]});
                  bool entered = false;
                  for (int s = 0; s < 2; ++s) {
                    const float score = FromFixed(exact[s]);
                    // Zero scores never compete: the exhaustive ranking
                    // fills with zero-score cases by position (below).
                    if (score > 0 && best[s].Offer({score, d})) entered = true;
                  }
                  if (entered) seen.push_back({d, exact[0], exact[1]});
                });
  }
  std::vector<uint32_t> members;
  for (int s = 0; s < 2; ++s) {
    for (const DocScore& x : best[s].items()) members.push_back(x.doc);
    if (best[s].full()) continue;
    // Fewer than `depth` positive: the lowest kept positions scoring zero.
    std::vector<uint32_t> positive;
    for (const DocScore& x : best[s].items()) positive.push_back(x.doc);
    std::sort(positive.begin(), positive.end());
    size_t have = positive.size();
    for (uint32_t d = 0; d < n && have < depth; ++d) {
      if (!access.kept(d) || std::binary_search(positive.begin(), positive.end(), d)) continue;
      members.push_back(d);
      ++have;
    }
  }
  members.insert(members.end(), forced.begin(), forced.end());
  std::sort(members.begin(), members.end());
  members.erase(std::unique(members.begin(), members.end()), members.end());
  std::sort(seen.begin(), seen.end(),
            [](const ScoredDoc& a, const ScoredDoc& b) { return a.doc < b.doc; });
  std::vector<ScoredDoc> out;
  out.reserve(members.size());
  for (uint32_t d : members) {
    auto it = std::lower_bound(seen.begin(), seen.end(), d,
                               [](const ScoredDoc& a, uint32_t x) { return a.doc < x; });
    out.push_back(it != seen.end() && it->doc == d ? *it : ExactScores(words, grams, d));
  }
  return out;
}

std::vector<std::pair<float, ScoredDoc>> FusedTopK(const std::vector<QueryTerm>& words,
                                                   const std::vector<QueryTerm>& grams,
                                                   const FusionParams& p, float max_dense,
                                                   size_t k, const DocAccess& access,
                                                   const std::vector<ScoredDoc>& known) {
  Lists lists(words, grams);
  Best<FusedEntry> best(k);
  const uint32_t n = static_cast<uint32_t>(access.num_docs);
  const float max_structure = access.structure != nullptr ? 1.0f : 0.0f;
  auto structure = [&](uint32_t d) {
    return access.structure != nullptr ? access.structure(access.structure_ctx, d) : 0.0f;
  };
  auto bound = [&](int64_t word, int64_t gram) {  // any case's, from the lists' bounds
    return FusedScore(p, FromFixed(word), FromFixed(gram), max_dense, max_structure,
                      access.max_boost);
  };
  auto dense_bound = [&](uint32_t d) {
    return access.dense_upper != nullptr ? std::min(access.dense_upper[d], max_dense) : 0.0f;
  };
  // Every case offered or decided (a bit per case): the seeds, then each
  // case a window visits (once: windows are disjoint).
  thread_local std::vector<uint64_t> touched;
  touched.assign((n + 63) / 64, 0);
  auto mark = [&](uint32_t d) {  // true when d was marked already
    uint64_t& word = touched[d >> 6];
    const uint64_t bit = uint64_t{1} << (d & 63);
    const bool was = (word & bit) != 0;
    word |= bit;
    return was;
  };

  // The seeds: cases whose exact word and gram scores pass 1 computed, best
  // bound first, so that the heap starts with a high k-th score and the
  // windows prune from the first one. Every comparison below is Takes
  // (score, then position), which does not depend on the order cases are
  // offered in, so the seeds change what is touched, never the result.
  {
    struct Seed {
      float bound;
      uint32_t doc;
      int64_t word, gram;
      float structure;
    };
    thread_local std::vector<Seed> seeds;
    seeds.clear();
    for (const ScoredDoc& s : known) {
      if (!access.kept(s.doc) || mark(s.doc)) continue;
      const float st = structure(s.doc);
      seeds.push_back({FusedScore(p, FromFixed(s.word), FromFixed(s.gram), dense_bound(s.doc), st,
                                  access.boost_of(s.doc)),
                       s.doc, s.word, s.gram, st});
    }
    std::sort(seeds.begin(), seeds.end(), [](const Seed& a, const Seed& b) {
      return a.bound != b.bound ? a.bound > b.bound : a.doc < b.doc;
    });
    for (const Seed& s : seeds) {
      // Later seeds bound lower (or equal at a higher position): none can
      // enter once one cannot.
      if (!best.Takes(s.bound, s.doc)) break;
      const float w = FromFixed(s.word), g = FromFixed(s.gram);
      const float dense = access.cosine(s.doc);
      if (w <= 0 && g <= 0 && dense <= 0) continue;
      best.Offer({FusedScore(p, w, g, dense, s.structure, access.boost_of(s.doc)), s.doc, s.word,
                  s.gram});
    }
  }

  thread_local Window window_storage;  // left cleared after every Run
  Window* window = &window_storage;
  size_t visited = 0, probed = 0;
  for (uint32_t base = 0, len = kFirstWindow; base < n; base += len, len = NextWindow(len)) {
    // The non-essential lists: grown one list at a time, the one adding
    // least to the fused score first, while their bound stays below the
    // k-th score (strictly: a case scoring it exactly may still win the
    // tie by position). None after a window where probing spared little,
    // as in CandidateUnion.
    const bool add_all = probed * 4 > visited;
    visited = probed = 0;
    size_t e[2] = {0, 0};
    if (best.full() && !add_all) {
      const float theta = best.threshold();
      const float scale[2] = {p.lexical / p.word.sd, p.subword / p.gram.sd};
      for (;;) {
        int pick = -1;
        double cost = 0;
        for (int s = 0; s < 2; ++s) {
          if (e[s] >= lists.list[s].size()) continue;
          const double c = scale[s] * static_cast<double>(lists.list[s][e[s]].bound);
          if (pick < 0 || c < cost) pick = s, cost = c;
        }
        if (pick < 0) break;
        size_t trial[2] = {e[0], e[1]};
        ++trial[pick];
        if (bound(lists.prefix[0][trial[0]], lists.prefix[1][trial[1]]) >= theta) break;
        e[pick] = trial[pick];
      }
    }
    if (e[0] == lists.list[0].size() && e[1] == lists.list[1].size()) break;
    const uint32_t end_doc = std::min<uint64_t>(uint64_t{base} + len, n);
    window->Run(&lists, e, base, end_doc, [&](uint32_t d, int64_t word, int64_t gram) {
                  if (mark(d)) return;  // a seed: offered already
                  if (!access.kept(d)) return;
                  ++visited;
                  if (best.full()) {
                    const float w = FromFixed(word + lists.prefix[0][e[0]]);
                    const float g = FromFixed(gram + lists.prefix[1][e[1]]);
                    if (!best.Takes(FusedScore(p, w, g, dense_bound(d), max_structure,
                                               access.boost_of(d)),
                                    d)) {
                      return;
                    }
                  }
                  int64_t exact[2] = {word, gram};
                  size_t left[2] = {e[0], e[1]};
                  if (e[0] + e[1] > 0) {
                    ++probed;
                    const float upper = dense_bound(d);
                    auto hopeless = [&](const int64_t* acc, const size_t* l) {
                      return best.full() &&
                             !best.Takes(FusedScore(p, FromFixed(acc[0] + lists.Remaining(0, l[0])),
                                                    FromFixed(acc[1] + lists.Remaining(1, l[1])),
                                                    upper, max_structure, access.boost_of(d)),
                                         d);
                    };
                    if (!lists.Probe(d, e, exact, left, hopeless)) return;
                  }
                  const float w = FromFixed(exact[0]), g = FromFixed(exact[1]);
                  const float dense = access.cosine(d);
                  if (w <= 0 && g <= 0 && dense <= 0) return;
                  best.Offer({FusedScore(p, w, g, dense, structure(d), access.boost_of(d)), d,
                              exact[0], exact[1]});
                });
  }
  // Cases no list holds score by their dense part alone (and a case some
  // list holds but the pass skipped could not be taken with its bound, so
  // scoring it here as if it had no words cannot let it in).
  if (access.dense_upper != nullptr && p.use_dense && access.dense_only_tail &&
      (!best.full() ||
       FusedScore(p, 0, 0, max_dense, max_structure, access.max_boost) >= best.threshold())) {
    for (uint32_t d = 0; d < n; ++d) {
      if ((touched[d >> 6] >> (d & 63)) & 1) continue;
      if (!access.kept(d)) continue;
      const float upper = access.dense_upper[d];
      if (upper <= 0) continue;
      if (!best.Takes(FusedScore(p, 0, 0, upper, max_structure, access.boost_of(d)), d)) {
        continue;
      }
      const float dense = access.cosine(d);
      if (dense <= 0) continue;
      best.Offer({FusedScore(p, 0, 0, dense, structure(d), access.boost_of(d)), d, 0, 0});
    }
  }
  std::vector<std::pair<float, ScoredDoc>> out;
  for (const FusedEntry& x : best.Sorted()) out.push_back({x.score, {x.doc, x.word, x.gram}});
  return out;
}

}  // namespace peermatch::internal
