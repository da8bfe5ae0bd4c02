#include "index/segmented_index.h"

#include <algorithm>
#include <utility>

namespace peermatch {
namespace {

constexpr uint32_t kUnknownCity = UINT32_MAX;

// A case of either segment's candidate union: which segment, and its place
// in that segment's union.
struct Ref {
  bool delta;
  uint32_t i;
};

}  // namespace

std::shared_ptr<const CityTable> CityTable::Make(std::vector<CityInfo> cities) {
  auto table = std::make_shared<CityTable>();
  table->cities = std::move(cities);
  table->positions.reserve(table->cities.size());
  for (size_t i = 0; i < table->cities.size(); ++i) {
    table->positions.emplace(table->cities[i].id, static_cast<uint32_t>(i));
  }
  return table;
}

int CityTable::Find(absl::string_view id) const {
  auto it = positions.find(id);
  return it == positions.end() ? -1 : static_cast<int>(it->second);
}

std::shared_ptr<const SegmentedIndex> SegmentedIndex::Make(Parts parts,
                                                           const SegmentedIndex* previous) {
  auto v = std::shared_ptr<SegmentedIndex>(new SegmentedIndex());
  v->base_ = std::move(parts.base);
  v->delta_ = std::move(parts.delta);
  v->base_size_ = static_cast<uint32_t>(v->base_->size());
  v->delta_size_ = v->delta_ != nullptr ? static_cast<uint32_t>(v->delta_->size()) : 0;
  v->tombstones_ = std::move(parts.tombstones);
  v->source_cities_ = parts.cities;
  const Index& base = *v->base_;

  // The base's own tables: once per base, then shared.
  const bool same_base = previous != nullptr && previous->base_ == v->base_;
  if (same_base) {
    v->base_counts_ = previous->base_counts_;
  } else {
    auto counts = std::make_shared<BaseCounts>();
    counts->city_cases.assign(base.cities().size(), 0);
    for (uint32_t d = 0; d < v->base_size_; ++d) {
      ++counts->city_cases[base.city_position(d)];
      counts->challenges += base.attributes(d).kind == v1::CASE_KIND_CHALLENGE;
      counts->solutions += base.attributes(d).kind == v1::CASE_KIND_SOLUTION;
    }
    v->base_counts_ = std::move(counts);
  }
  if (same_base && previous->source_cities_ == parts.cities &&
      previous->cities_ == previous->source_cities_) {
    v->base_city_ = previous->base_city_;
  } else {
    auto map = std::make_shared<std::vector<uint32_t>>(base.cities().size());
    for (size_t c = 0; c < map->size(); ++c) {
      const int p = parts.cities->Find(base.cities()[c].id);
      (*map)[c] = p < 0 ? kUnknownCity : static_cast<uint32_t>(p);
    }
    v->base_city_ = std::move(map);
  }

  // Tombstones: the live mask and the live counts.
  v->challenges_ = v->base_counts_->challenges;
  v->solutions_ = v->base_counts_->solutions;
  if (!v->tombstones_.empty()) {
    auto live = std::make_shared<std::vector<bool>>(v->base_size_, true);
    for (uint32_t t : v->tombstones_) {
      (*live)[t] = false;
      v->challenges_ -= base.attributes(t).kind == v1::CASE_KIND_CHALLENGE;
      v->solutions_ -= base.attributes(t).kind == v1::CASE_KIND_SOLUTION;
    }
    v->base_live_ = std::move(live);
  }
  for (uint32_t j = 0; j < v->delta_size_; ++j) {
    v->challenges_ += v->delta_->attributes(j).kind == v1::CASE_KIND_CHALLENGE;
    v->solutions_ += v->delta_->attributes(j).kind == v1::CASE_KIND_SOLUTION;
  }

  // Cities a live case names that the table does not know get a
  // placeholder (as Index::Build gives them), in id order after the table.
  std::vector<std::string> unknown;
  std::vector<uint32_t> unknown_base;  // base city positions
  const std::vector<uint32_t>& base_city = *v->base_city_;
  if (std::find(base_city.begin(), base_city.end(), kUnknownCity) != base_city.end()) {
    std::vector<uint32_t> live_cases = v->base_counts_->city_cases;
    for (uint32_t t : v->tombstones_) --live_cases[base.city_position(t)];
    for (size_t c = 0; c < base_city.size(); ++c) {
      if (base_city[c] != kUnknownCity || live_cases[c] == 0) continue;
      unknown_base.push_back(static_cast<uint32_t>(c));
      unknown.push_back(base.cities()[c].id);
    }
  }
  if (v->delta_size_ > 0) {
    const std::vector<CityInfo>& dc = v->delta_->cities();
    v->delta_city_.resize(dc.size());
    for (size_t c = 0; c < dc.size(); ++c) {
      const int p = parts.cities->Find(dc[c].id);
      v->delta_city_[c] = p < 0 ? kUnknownCity : static_cast<uint32_t>(p);
      if (p < 0) unknown.push_back(dc[c].id);
    }
  }
  if (unknown.empty()) {
    v->cities_ = std::move(parts.cities);
    return v;
  }
  std::sort(unknown.begin(), unknown.end());
  unknown.erase(std::unique(unknown.begin(), unknown.end()), unknown.end());
  std::vector<CityInfo> cities = parts.cities->cities;
  for (const std::string& id : unknown) {
    cities.push_back(CityInfo{id, "", v1::REGION_UNSPECIFIED, nullptr});
  }
  v->cities_ = CityTable::Make(std::move(cities));
  auto map = std::make_shared<std::vector<uint32_t>>(*v->base_city_);
  for (uint32_t c : unknown_base) (*map)[c] = v->cities_->Find(base.cities()[c].id);
  v->base_city_ = std::move(map);
  for (size_t c = 0; c < v->delta_city_.size(); ++c) {
    if (v->delta_city_[c] == kUnknownCity) {
      v->delta_city_[c] = v->cities_->Find(v->delta_->cities()[c].id);
    }
  }
  return v;
}

int SegmentedIndex::CasePosition(absl::string_view case_id) const {
  if (delta_size_ > 0) {
    const int p = delta_->CasePosition(case_id);
    if (p >= 0) return static_cast<int>(base_size_) + p;
  }
  const int p = base_->CasePosition(case_id);
  return p >= 0 && live(static_cast<uint32_t>(p)) ? p : -1;
}

size_t SegmentedIndex::MemoryBytes() const {
  return base_->MemoryBytes() + (delta_ != nullptr ? delta_->MemoryBytes() : 0);
}

const SegmentedIndex::KindMask* SegmentedIndex::LiveOfKind(v1::CaseKind kind) const {
  const int k = static_cast<int>(kind);
  if (k < 0 || k > 2) return nullptr;
  absl::call_once(kind_once_[k], [this, kind] {
    KindMask& m = kind_masks_[static_cast<int>(kind)];
    const uint32_t n = num_positions();
    m.mask.assign(n, false);
    m.city_cases.assign(cities().size(), 0);
    for (uint32_t d = 0; d < n; ++d) {
      if (!live(d)) continue;
      if (kind != v1::CASE_KIND_UNSPECIFIED && attributes(d).kind != kind) continue;
      m.mask[d] = true;
      ++m.cases;
      if (m.city_cases[city_position(d)]++ == 0) ++m.cities;
    }
  });
  return &kind_masks_[k];
}

absl::Span<const uint32_t> SegmentedIndex::LiveCasesOfCity(uint32_t c) const {
  absl::call_once(city_cases_once_, [this] {
    const uint32_t n = num_positions();
    city_cases_begin_.assign(cities().size() + 1, 0);
    for (uint32_t d = 0; d < n; ++d) {
      if (live(d)) ++city_cases_begin_[city_position(d) + 1];
    }
    for (size_t i = 1; i < city_cases_begin_.size(); ++i) {
      city_cases_begin_[i] += city_cases_begin_[i - 1];
    }
    city_cases_.resize(city_cases_begin_.back());
    std::vector<uint32_t> next(city_cases_begin_.begin(), city_cases_begin_.end() - 1);
    for (uint32_t d = 0; d < n; ++d) {
      if (live(d)) city_cases_[next[city_position(d)]++] = d;
    }
  });
  if (c + 1 >= city_cases_begin_.size()) return {};
  return absl::MakeConstSpan(city_cases_.data() + city_cases_begin_[c],
                             city_cases_begin_[c + 1] - city_cases_begin_[c]);
}

const std::vector<uint32_t>& SegmentedIndex::DeltaAfter() const {
  absl::call_once(delta_after_once_, [this] {
    delta_after_.resize(delta_size_);
    uint32_t lo = 0;  // delta ids ascend: each search starts where the last ended
    for (uint32_t j = 0; j < delta_size_; ++j) {
      const std::string& id = delta_->doc(j).case_id;
      uint32_t hi = base_size_;
      while (lo < hi) {
        const uint32_t mid = lo + (hi - lo) / 2;
        if (base_->doc(mid).case_id < id) {
          lo = mid + 1;
        } else {
          hi = mid;
        }
      }
      delta_after_[j] = lo;
    }
  });
  return delta_after_;
}

CandidateSet SegmentedIndex::Combine(const std::vector<CandidateScores>& base_own,
                                     const std::vector<CandidateScores>& delta_own,
                                     bool use_dense, size_t depth) const {
  const auto& of = [&](const Ref& r) -> const CandidateScores& {
    return r.delta ? delta_own[r.i] : base_own[r.i];
  };
  // Case-id order: within a segment, position order; across, the ids.
  const auto id_less = [&](const Ref& a, const Ref& b) {
    if (a.delta == b.delta) return of(a).doc < of(b).doc;
    const std::string& ia = a.delta ? delta_->doc(of(a).doc).case_id : base_->doc(of(a).doc).case_id;
    const std::string& ib = b.delta ? delta_->doc(of(b).doc).case_id : base_->doc(of(b).doc).case_id;
    return ia < ib;
  };
  std::vector<Ref> all;
  all.reserve(base_own.size() + delta_own.size());
  for (uint32_t i = 0; i < base_own.size(); ++i) all.push_back({false, i});
  for (uint32_t i = 0; i < delta_own.size(); ++i) all.push_back({true, i});
  // Each segment's union holds that segment's top `depth` of every system,
  // so the global top of each is among `all` (best first, ties by id, as
  // one index's TopK keeps them).
  std::vector<bool> in_set(all.size(), false);
  std::vector<uint32_t> order(all.size());
  for (float CandidateScores::*system :
       {&CandidateScores::word, &CandidateScores::gram, &CandidateScores::dense}) {
    if (system == &CandidateScores::dense && !use_dense) break;
    for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    const size_t take = std::min(depth, order.size());
    std::partial_sort(order.begin(), order.begin() + take, order.end(),
                      [&](uint32_t x, uint32_t y) {
                        const float sx = of(all[x]).*system, sy = of(all[y]).*system;
                        return sx != sy ? sx > sy : id_less(all[x], all[y]);
                      });
    for (size_t i = 0; i < take; ++i) in_set[order[i]] = true;
  }
  std::vector<Ref> members;
  for (size_t i = 0; i < all.size(); ++i) {
    if (in_set[i]) members.push_back(all[i]);
  }
  // Base members come first, each segment's in position order: merge them
  // into case-id order.
  const auto mid = std::find_if(members.begin(), members.end(), [](const Ref& r) { return r.delta; });
  std::inplace_merge(members.begin(), mid, members.end(), id_less);
  CandidateSet set;
  for (const Ref& r : members) {
    set.word.push_back(of(r).word);
    set.gram.push_back(of(r).gram);
    set.dense.push_back(of(r).dense);
  }
  return set;
}

std::vector<Hit> SegmentedIndex::Search(const IndexQuery& query,
                                        const StructuredQuery& structured,
                                        const std::vector<bool>& keep,
                                        const ScoreWeights& weights, size_t k) const {
  if (k == 0) return {};
  // The base's mask: the filter's base part without the tombstones.
  const std::vector<bool>* base_keep = &keep;
  std::vector<bool> base_mask;
  if (!keep.empty()) {
    if (delta_size_ > 0 || !tombstones_.empty()) {
      base_mask = keep;
      base_mask.resize(base_size_);
      for (uint32_t t : tombstones_) base_mask[t] = false;
      base_keep = &base_mask;
    }
  } else if (base_live_ != nullptr) {
    base_keep = base_live_.get();
  }
  if (delta_size_ == 0) return base_->Search(query, structured, *base_keep, weights, k);
  std::vector<bool> delta_keep;
  if (!keep.empty()) delta_keep.assign(keep.begin() + base_size_, keep.end());

  // 1. The delta's own union (its search stops there).
  std::vector<CandidateScores> delta_own;
  bool delta_kept = false;
  auto collect_fn = [&](const std::vector<CandidateScores>& own, CandidateSet*) {
    delta_own = own;
    delta_kept = true;
    return false;
  };
  const CandidateHook collect(collect_fn);
  delta_->Search(query, structured, delta_keep, weights, k, &collect);

  // 2. The base, ranked with the candidate set of both unions.
  const int dim = base_->dense_dim();
  const bool use_dense = dim > 0 && query.dense.size() == dim;
  const size_t depth = static_cast<size_t>(std::max(1, weights.depth));
  CandidateSet set;
  bool have_set = false;
  auto combine_fn = [&](const std::vector<CandidateScores>& own, CandidateSet* out) {
    set = Combine(own, delta_own, use_dense, depth);
    have_set = true;
    *out = set;
    return true;
  };
  const CandidateHook combine(combine_fn);
  std::vector<Hit> base_hits = base_->Search(query, structured, *base_keep, weights, k, &combine);
  if (!delta_kept) return base_hits;
  if (!have_set) set = Combine({}, delta_own, use_dense, depth);  // no base case kept

  // 3. The delta, ranked with the same set.
  auto give_fn = [&](const std::vector<CandidateScores>&, CandidateSet* out) {
    *out = set;
    return true;
  };
  const CandidateHook give(give_fn);
  std::vector<Hit> delta_hits = delta_->Search(query, structured, delta_keep, weights, k, &give);

  // Both best first (ties by position, which is id order within each):
  // merged by (score, case id).
  std::vector<Hit> hits;
  hits.reserve(std::min(k, base_hits.size() + delta_hits.size()));
  size_t b = 0, d = 0;
  while (hits.size() < k && (b < base_hits.size() || d < delta_hits.size())) {
    bool take_delta = b == base_hits.size();
    if (!take_delta && d < delta_hits.size()) {
      const Hit& x = base_hits[b];
      const Hit& y = delta_hits[d];
      take_delta = y.score != x.score
                       ? y.score > x.score
                       : delta_->doc(y.doc).case_id < base_->doc(x.doc).case_id;
    }
    if (take_delta) {
      hits.push_back(delta_hits[d++]);
      hits.back().doc += base_size_;
    } else {
      hits.push_back(base_hits[b++]);
    }
  }
  return hits;
}

}  // namespace peermatch
