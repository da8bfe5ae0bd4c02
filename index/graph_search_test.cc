// The approximate dense top (index.h "Approximate dense top", issue 16):
// an Index with an HNSW graph against the exhaustive ranking on random
// corpora with fixed seeds (recall with a floor that a broken graph fails),
// tombstoned cases never returned through the graph, and searches during a
// background graph build and delta publishes each answering one published
// state, with or without the graph, never a mix.
#include <algorithm>
#include <cstdio>
#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "index/ann_index.h"
#include "index/index.h"
#include "index/segmented_index.h"
#include "index/testing/random_cases.h"

namespace peermatch {
namespace {

using testing::Case;
using testing::CaseId;
using testing::Corpus;
using testing::Generator;

constexpr int kDim = 16;

// A graph over the index's dense rows, row i of the graph for position
// `order[i]` (identity: the right graph; anything else: a broken one).
std::shared_ptr<const AnnIndex> GraphOf(const Index& index, const std::vector<uint32_t>& order,
                                        AnnIndexOptions options = {}) {
  std::vector<float> rows(index.size() * kDim);
  for (size_t i = 0; i < index.size(); ++i) {
    std::copy_n(index.dense_row(order[i]), kDim, rows.begin() + i * kDim);
  }
  options.seed = 7;
  options.num_threads = 1;
  auto graph = AnnIndex::Build(rows, kDim, options);
  EXPECT_TRUE(graph.ok()) << graph.status();
  return graph.ok() ? std::shared_ptr<const AnnIndex>(std::move(*graph)) : nullptr;
}

std::vector<uint32_t> Identity(size_t n) {
  std::vector<uint32_t> order(n);
  for (uint32_t i = 0; i < n; ++i) order[i] = i;
  return order;
}

Corpus RandomCorpus(Generator& gen, int n) {
  Corpus corpus;
  for (int i = 0; i < n; ++i) corpus[CaseId(i)] = gen.MakeCase(CaseId(i));
  return corpus;
}

// Recall@k of `got` against `want`, summed over queries by the caller.
size_t Found(const std::vector<Hit>& got, const std::vector<Hit>& want) {
  size_t found = 0;
  for (const Hit& w : want) {
    for (const Hit& g : got) found += g.doc == w.doc ? 1 : 0;
  }
  return found;
}

struct Recall {
  double dense_only = 0;  // queries with a dense vector alone
  double mixed = 0;       // words, grams and a dense vector
};

Recall Measure(const Index& index, Generator& gen, const std::vector<bool>& keep) {
  size_t found[2] = {0, 0}, wanted[2] = {0, 0};
  for (int q = 0; q < 60; ++q) {
    for (int kind = 0; kind < 2; ++kind) {
      IndexQuery query = gen.Query(kind == 0 ? 0 : 6, kind == 0 ? 0 : 12);
      if (kind == 0) query.words.clear(), query.grams.clear();
      const std::vector<Hit> got = index.Search(query, {}, keep, ScoreWeights(), 10);
      const std::vector<Hit> want = index.SearchExhaustive(query, {}, keep, ScoreWeights(), 10);
      found[kind] += Found(got, want);
      wanted[kind] += want.size();
      // The re-ranking is exact: a case found by both has the same cosine.
      for (const Hit& g : got) {
        for (const Hit& w : want) {
          if (g.doc == w.doc) {
            EXPECT_EQ(g.semantic, w.semantic) << "query " << q;
          }
        }
      }
    }
  }
  return {static_cast<double>(found[0]) / wanted[0], static_cast<double>(found[1]) / wanted[1]};
}

TEST(GraphSearchTest, RecallAgainstExhaustiveHasAFloorThatABrokenGraphMisses) {
  Generator gen(1601, kDim);
  const Corpus corpus = RandomCorpus(gen, 3000);
  const std::shared_ptr<const Index> index = testing::BuildIndex(corpus, testing::Cities(), kDim);
  ASSERT_EQ(index->graph(), nullptr);  // below GraphPolicy::min_cases: none built
  std::vector<bool> solutions(index->size());
  for (uint32_t d = 0; d < index->size(); ++d) {
    solutions[d] = index->attributes(d).kind == v1::CASE_KIND_SOLUTION;
  }

  // Without a graph: exact.
  Generator queries_exact(77, kDim);
  const Recall exact = Measure(*index, queries_exact, solutions);
  EXPECT_EQ(exact.dense_only, 1.0);
  EXPECT_EQ(exact.mixed, 1.0);

  index->AttachGraph(GraphOf(*index, Identity(index->size())));
  ASSERT_NE(index->graph(), nullptr);
  Generator queries(77, kDim);
  const Recall with_graph = Measure(*index, queries, solutions);
  std::printf("recall@10 with the graph: dense only %.3f, mixed %.3f\n", with_graph.dense_only,
              with_graph.mixed);
  EXPECT_GE(with_graph.dense_only, 0.95);
  EXPECT_GE(with_graph.mixed, 0.95);

  // A graph whose rows are not the index's (reversed): the same floors fail.
  std::vector<uint32_t> reversed = Identity(index->size());
  std::reverse(reversed.begin(), reversed.end());
  index->AttachGraph(GraphOf(*index, reversed));
  Generator queries_broken(77, kDim);
  const Recall broken = Measure(*index, queries_broken, solutions);
  std::printf("recall@10 with a broken graph: dense only %.3f, mixed %.3f\n", broken.dense_only,
              broken.mixed);
  EXPECT_LT(broken.dense_only, 0.5);
}

TEST(GraphSearchTest, TombstonedCaseNeverShowsThroughTheGraph) {
  Generator gen(1602, kDim);
  Corpus corpus = RandomCorpus(gen, 2000);
  const std::shared_ptr<const Index> base = testing::BuildIndex(corpus, testing::Cities(), kDim);
  base->AttachGraph(GraphOf(*base, Identity(base->size())));
  // Dense-only queries that are cases' own vectors: each case is its own
  // best hit while it lives.
  for (uint32_t victim : {5u, 777u, 1999u}) {
    if (corpus.at(CaseId(victim)).dense.empty()) continue;
    IndexQuery query;
    query.dense = Eigen::Map<const Eigen::VectorXf>(base->dense_row(victim), kDim);
    std::vector<Hit> hits = base->Search(query, {}, {}, ScoreWeights(), 20);
    ASSERT_FALSE(hits.empty());
    EXPECT_EQ(hits[0].doc, victim);

    SegmentedIndex::Parts parts;
    parts.base = base;
    parts.tombstones = {victim};
    // The same id written again with another vector (in the delta).
    Corpus delta;
    delta[CaseId(victim)] = gen.MakeCase(CaseId(victim));
    parts.delta = testing::BuildIndex(delta, {}, kDim);
    parts.cities = CityTable::Make(testing::Cities());
    const auto view = SegmentedIndex::Make(std::move(parts));
    for (size_t k : {1, 10, 300}) {
      for (const Hit& h : view->Search(query, {}, {}, ScoreWeights(), k)) {
        EXPECT_NE(h.doc, victim) << "deleted base case " << victim << " returned, k " << k;
      }
    }
  }
}

// With a graph search that explores the whole graph, the graph's top is
// the exact top, so Search with the graph ranks as the exact path does, bit
// for bit, also with tombstones and a filter: the graph searches among the
// kept live rows only (a dead or filtered row among its top would change the
// candidate set's moments, so every score).
TEST(GraphSearchTest, ExhaustiveGraphRanksAsTheExactPathWithTombstonesAndFilters) {
  Generator gen(1604, kDim);
  const Corpus corpus = RandomCorpus(gen, 3000);
  const std::shared_ptr<const Index> with_graph =
      testing::BuildIndex(corpus, testing::Cities(), kDim);
  const std::shared_ptr<const Index> plain = testing::BuildIndex(corpus, testing::Cities(), kDim);
  AnnIndexOptions whole;
  whole.ef_search = 4000;
  whole.graph_candidate_cost = 0;
  with_graph->AttachGraph(GraphOf(*with_graph, Identity(with_graph->size()), whole));
  std::vector<uint32_t> dead;
  for (uint32_t d = 3; d < 3000; d += 7) dead.push_back(d);
  auto view_of = [&](std::shared_ptr<const Index> base) {
    SegmentedIndex::Parts parts;
    parts.base = std::move(base);
    parts.tombstones = dead;
    parts.cities = CityTable::Make(testing::Cities());
    return SegmentedIndex::Make(std::move(parts));
  };
  const auto a = view_of(with_graph), b = view_of(plain);
  const std::vector<bool> solutions = [&] {
    std::vector<bool> keep(a->num_positions());
    for (uint32_t d = 0; d < a->num_positions(); ++d) {
      keep[d] = a->live(d) && a->attributes(d).kind == v1::CASE_KIND_SOLUTION;
    }
    return keep;
  }();
  int compared = 0;
  for (int q = 0; q < 40; ++q) {
    const IndexQuery query = gen.Query(6, 12);
    const std::vector<bool> none;  // every live case
    for (const std::vector<bool>* keep : {&solutions, &none}) {
      const std::vector<bool>& k = *keep;
      const std::vector<Hit> got = a->Search(query, {}, k, ScoreWeights(), 10);
      const std::vector<Hit> want = b->Search(query, {}, k, ScoreWeights(), 10);
      ASSERT_EQ(got.size(), want.size()) << "query " << q;
      for (size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i].doc, want[i].doc) << "query " << q << " rank " << i;
        EXPECT_EQ(got[i].score, want[i].score) << "query " << q << " rank " << i;
      }
      ++compared;
    }
  }
  EXPECT_EQ(compared, 80);
}

// Searches on two threads while the base's graph builds in the background
// and a writer publishes views (the base with ever larger deltas): every
// result is the ranking of one published view, with the graph or without
// it, never a mix of two.
TEST(GraphSearchTest, PublishDuringGraphBuildShowsNoTornRead) {
  Generator gen(1603, kDim);
  Corpus corpus = RandomCorpus(gen, 3000);
  const std::vector<IndexQuery> queries = [&] {
    std::vector<IndexQuery> q;
    for (int i = 0; i < 4; ++i) q.push_back(gen.Query(6, 12));
    return q;
  }();
  // The deltas of the views, written one after the other.
  std::vector<Corpus> deltas(1);
  for (int v = 1; v < 6; ++v) {
    deltas.push_back(deltas.back());
    for (int i = 0; i < 20; ++i) {
      const std::string id = CaseId(10000 + v * 100 + i);
      deltas.back()[id] = gen.MakeCase(id);
    }
  }
  auto view_of = [&](std::shared_ptr<const Index> base, int v) {
    SegmentedIndex::Parts parts;
    parts.base = std::move(base);
    parts.delta = testing::BuildIndex(deltas[v], {}, kDim);
    parts.cities = CityTable::Make(testing::Cities());
    return SegmentedIndex::Make(std::move(parts));
  };
  // A graph search that explores the whole graph (ef past the size, never
  // a scan instead): with the graph, the ranking is reproducible.
  AnnIndexOptions exhaustive_graph;
  exhaustive_graph.ef_search = 4000;
  exhaustive_graph.graph_candidate_cost = 0;
  exhaustive_graph.num_threads = 1;
  // The base has a graph, the deltas none.
  const std::shared_ptr<const Index> base = testing::BuildIndex(corpus, testing::Cities(), kDim);
  ASSERT_TRUE(base->StartGraphBuild(exhaustive_graph));
  ASSERT_TRUE(base->graph_build_info().started);

  // The readers' results, by (view, query), checked after.
  struct Read {
    int view, query;
    std::vector<Hit> hits;
  };
  std::vector<std::shared_ptr<const SegmentedIndex>> published;
  published.reserve(deltas.size());  // never reallocated while read
  std::atomic<int> current_view{0};
  published.push_back(view_of(base, 0));
  std::atomic<bool> stop{false};
  std::vector<Read> reads[2];
  auto reader = [&](int r) {
    for (int i = 0; !stop || i < 50; ++i) {
      const int v = current_view.load();
      const std::shared_ptr<const SegmentedIndex> view = published[v];
      const int q = i % static_cast<int>(queries.size());
      reads[r].push_back({v, q, view->Search(queries[q], {}, {}, ScoreWeights(), 10)});
    }
  };
  std::thread readers[2] = {std::thread(reader, 0), std::thread(reader, 1)};
  for (size_t v = 1; v < deltas.size(); ++v) {
    published.push_back(view_of(base, static_cast<int>(v)));
    current_view = static_cast<int>(v);
  }
  base->WaitForGraph();
  stop = true;
  for (std::thread& t : readers) t.join();
  ASSERT_TRUE(base->graph_build_info().status.ok()) << base->graph_build_info().status;
  ASSERT_NE(base->graph(), nullptr);

  // What each view answers with the graph (now built) and without one (a
  // base over the same cases, built with no graph).
  const std::shared_ptr<const Index> plain = testing::BuildIndex(corpus, testing::Cities(), kDim);
  ASSERT_FALSE(plain->graph_build_info().started);
  auto same = [](const std::vector<Hit>& a, const std::vector<Hit>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (a[i].doc != b[i].doc || a[i].score != b[i].score) return false;
    }
    return true;
  };
  std::vector<std::shared_ptr<const SegmentedIndex>> plain_views;
  for (size_t v = 0; v < deltas.size(); ++v) plain_views.push_back(view_of(plain, static_cast<int>(v)));
  size_t checked = 0;
  for (const std::vector<Read>& rs : reads) {
    for (const Read& read : rs) {
      const std::vector<Hit> with_graph =
          published[read.view]->Search(queries[read.query], {}, {}, ScoreWeights(), 10);
      const std::vector<Hit> without =
          plain_views[read.view]->Search(queries[read.query], {}, {}, ScoreWeights(), 10);
      EXPECT_TRUE(same(read.hits, with_graph) || same(read.hits, without))
          << "view " << read.view << " query " << read.query;
      ++checked;
    }
  }
  EXPECT_GE(checked, 100u);
}

}  // namespace
}  // namespace peermatch
