// Engine::Load: reading every case and its stored vectors at start-up (and
// on a replica's refresh) into the engine's entries and a first index.
//
// One sequential pass over the store (Store::ForEachCaseWithVector) feeds
// batches of cases to two worker threads, which decode the vectors in place
// (DecodeVectorView), copy each dense vector straight into its row of the
// index's matrix, and build the entries. Term ids must come out exactly as
// if the cases had been interned one after the other in id order (the
// dictionary is append-only and ids break ties in explanations), so a
// worker looks terms up without adding any; terms the dictionary does not
// have yet get batch-local ids, and batches are committed strictly in order:
// a batch's new terms are interned (first occurrence first), then its
// entries that used local ids are renumbered and sorted.
#include <algorithm>
#include <limits>
#include <deque>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "index/dense_rows.h"
#include "engine/engine.h"
#include "engine/internal/query_util.h"
#include "embed/vector_codec.h"

namespace peermatch {
namespace {

constexpr size_t kBatchCases = 1024;
constexpr int kWorkers = 2;
constexpr size_t kBatches = 4;  // read-ahead: batches being filled, queued or processed
// Marks a batch-local term id (the dictionary never gets near 2^31 terms).
constexpr uint32_t kLocal = 1u << 31;

struct Batch {
  size_t first = 0;  // position of cases[0] among all cases
  size_t size = 0;
  std::vector<v1::Case> cases = std::vector<v1::Case>(kBatchCases);
  std::vector<std::string> blobs = std::vector<std::string>(kBatchCases);
  std::vector<char> has_blob = std::vector<char>(kBatchCases);
  // Filled by a worker.
  std::vector<std::shared_ptr<IndexEntry>> entries;  // null: embed the case
  std::vector<absl::string_view> terms;              // every case's words, then grams
  std::vector<float> weights;                        // weights[k] for terms[k]
  std::vector<uint32_t> ids;                         // ids[k] for terms[k]
  std::vector<uint32_t> bounds;  // per case: [words begin, grams begin, end) in terms
  std::deque<std::string> owned_terms;  // terms of vectors the general decoder read
  std::vector<std::string> local_terms;  // by local id
  absl::flat_hash_map<std::string, uint32_t> local_ids;
  std::vector<uint32_t> renumber;  // cases whose entries use local ids
};

SparseIds Pairs(const uint32_t* ids, const float* weights, size_t n) {
  SparseIds out(n);
  for (size_t k = 0; k < n; ++k) out[k] = {ids[k], weights[k]};
  return out;
}

class CaseLoader {
 public:
  CaseLoader(TermDictionary* terms, DenseRows* dense) : terms_(terms), dense_(dense) {
    for (size_t i = 0; i < kBatches; ++i) free_.push_back(std::make_unique<Batch>());
    for (int w = 0; w < kWorkers; ++w) workers_.emplace_back([this] { Work(); });
  }
  ~CaseLoader() {
    {
      absl::MutexLock lock(&mu_);
      done_ = true;
    }
    for (std::thread& t : workers_) t.join();
  }

  // Called by the store's scan, in id order.
  void Add(v1::Case& c, const absl::string_view* vector) {
    if (filling_ == nullptr) Start();
    Batch& b = *filling_;
    b.cases[b.size].Swap(&c);
    b.has_blob[b.size] = vector != nullptr;
    if (vector != nullptr) b.blobs[b.size].assign(vector->data(), vector->size());
    if (++b.size == kBatchCases) Submit();
  }

  // Waits for every case added; then the results below are complete.
  void Finish() {
    if (filling_ != nullptr) Submit();
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(this, &CaseLoader::AllCommitted));
  }

  size_t num_cases() const { return next_position_; }
  // By position (id order); null for the cases in `unembedded`.
  std::vector<std::shared_ptr<const IndexEntry>> entries;
  // Cases without a usable vector, by position.
  std::vector<std::pair<size_t, v1::Case>> unembedded;

 private:
  bool AllCommitted() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return next_commit_ == submitted_;
  }

  // Takes a free batch for the next cases, growing the dense matrix first
  // when it could overflow (with no batch in flight: rows then move).
  void Start() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](CaseLoader* l) ABSL_EXCLUSIVE_LOCKS_REQUIRED(l->mu_) { return !l->free_.empty(); },
        this));
    if (next_position_ + kBatchCases > dense_->capacity()) {
      mu_.Await(absl::Condition(this, &CaseLoader::AllCommitted));
      dense_->Reserve(std::max(2 * dense_->capacity(), next_position_ + kBatchCases));
    }
    filling_ = std::move(free_.back());
    free_.pop_back();
    filling_->first = next_position_;
    filling_->size = 0;
  }

  void Submit() {
    next_position_ += filling_->size;
    absl::MutexLock lock(&mu_);
    queue_.push_back(std::move(filling_));
    ++submitted_;
  }

  void Work() {
    VectorView view;  // this worker's, reused
    for (;;) {
      std::unique_ptr<Batch> b;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](CaseLoader* l) ABSL_EXCLUSIVE_LOCKS_REQUIRED(l->mu_) {
              return l->done_ || !l->queue_.empty();
            },
            this));
        if (queue_.empty()) return;
        b = std::move(queue_.front());
        queue_.pop_front();
      }
      Process(*b, &view);
      absl::MutexLock lock(&mu_);
      processed_.push_back(std::move(b));
      // Commit in order; whoever finishes the next batch commits it and any
      // later ones already processed.
      for (;;) {
        auto it = std::find_if(processed_.begin(), processed_.end(), [&](const auto& p) {
          return p->first == committed_position_;
        });
        if (it == processed_.end()) break;
        std::unique_ptr<Batch> next = std::move(*it);
        processed_.erase(it);
        Commit(*next);
        committed_position_ += next->size;
        ++next_commit_;
        free_.push_back(std::move(next));
      }
    }
  }

  // Decodes a batch's vectors and builds its entries (no lock held but the
  // dictionary's reader lock, once).
  void Process(Batch& b, VectorView* view) {
    b.entries.assign(b.size, nullptr);
    b.terms.clear();
    b.weights.clear();
    b.bounds.assign(3 * b.size, 0);
    b.owned_terms.clear();
    const size_t dim = dense_->cols();
    for (size_t i = 0; i < b.size; ++i) {
      b.bounds[3 * i] = b.bounds[3 * i + 1] = b.bounds[3 * i + 2] =
          static_cast<uint32_t>(b.terms.size());
      if (!b.has_blob[i] || !DecodeVectorView(b.blobs[i], view).ok()) continue;
      b.entries[i] = std::make_shared<IndexEntry>();
      auto add = [&](const std::vector<absl::string_view>& terms,
                     const std::vector<float>& weights) {
        for (size_t k = 0; k < terms.size(); ++k) {
          // The general decoder's strings live in the view, which the next
          // case overwrites.
          if (!view->read_in_place) {
            b.terms.push_back(b.owned_terms.emplace_back(terms[k]));
          } else {
            b.terms.push_back(terms[k]);
          }
        }
        b.weights.insert(b.weights.end(), weights.begin(), weights.end());
      };
      add(view->words, view->word_weights);
      b.bounds[3 * i + 1] = static_cast<uint32_t>(b.terms.size());
      add(view->grams, view->gram_weights);
      b.bounds[3 * i + 2] = static_cast<uint32_t>(b.terms.size());
      // A vector of another dimension gets a zero row, as Index::Build gives.
      if (dim > 0 && view->dense_size() == dim) view->CopyDense(dense_->row(b.first + i));
    }
    b.ids.resize(b.terms.size());
    terms_->FindAll(b.terms, b.ids.data());
    b.local_terms.clear();
    b.local_ids.clear();
    for (size_t k = 0; k < b.terms.size(); ++k) {
      if (b.ids[k] != TermDictionary::kUnknown) continue;
      auto [it, added] =
          b.local_ids.emplace(b.terms[k], static_cast<uint32_t>(b.local_terms.size()));
      if (added) b.local_terms.emplace_back(b.terms[k]);
      b.ids[k] = kLocal | it->second;
    }
    b.renumber.clear();
    for (size_t i = 0; i < b.size; ++i) {
      if (b.entries[i] == nullptr) continue;
      IndexEntry& e = *b.entries[i];
      e.info = internal::MakeDocInfo(b.cases[i]);
      const uint32_t wb = b.bounds[3 * i], gb = b.bounds[3 * i + 1], end = b.bounds[3 * i + 2];
      e.words = Pairs(b.ids.data() + wb, b.weights.data() + wb, gb - wb);
      e.grams = Pairs(b.ids.data() + gb, b.weights.data() + gb, end - gb);
      const bool local = std::any_of(b.ids.data() + wb, b.ids.data() + end,
                                     [](uint32_t id) { return (id & kLocal) != 0; });
      if (local) {
        b.renumber.push_back(static_cast<uint32_t>(i));
      } else {
        std::sort(e.words.begin(), e.words.end());
      }
    }
  }

  // Interns the batch's new terms and hands its results over; in batch order.
  void Commit(Batch& b) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!b.local_terms.empty()) {
      std::vector<absl::string_view> views(b.local_terms.begin(), b.local_terms.end());
      std::vector<uint32_t> global(views.size());
      terms_->InternAll(views, global.data());
      auto renumber = [&](SparseIds& ids) {
        for (auto& [id, w] : ids) {
          if (id & kLocal) id = global[id & ~kLocal];
        }
      };
      for (uint32_t i : b.renumber) {
        renumber(b.entries[i]->words);
        renumber(b.entries[i]->grams);
        std::sort(b.entries[i]->words.begin(), b.entries[i]->words.end());  // grams: any order
      }
    }
    for (size_t i = 0; i < b.size; ++i) {
      if (b.entries[i] == nullptr) unembedded.emplace_back(b.first + i, std::move(b.cases[i]));
      entries.push_back(std::move(b.entries[i]));
    }
  }

  TermDictionary* const terms_;
  DenseRows* const dense_;
  std::unique_ptr<Batch> filling_;  // producer's
  size_t next_position_ = 0;        // producer's

  absl::Mutex mu_;
  std::vector<std::unique_ptr<Batch>> free_ ABSL_GUARDED_BY(mu_);
  std::deque<std::unique_ptr<Batch>> queue_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<Batch>> processed_ ABSL_GUARDED_BY(mu_);
  size_t submitted_ ABSL_GUARDED_BY(mu_) = 0;
  size_t next_commit_ ABSL_GUARDED_BY(mu_) = 0;
  size_t committed_position_ ABSL_GUARDED_BY(mu_) = 0;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_;
};

}  // namespace

absl::Status Engine::Load() {
  std::map<std::string, CityInfo> cities;
  std::string after;
  for (bool more = true; more;) {
    auto page = store_->ListCities(after, 1000, nullptr, &more);
    if (!page.ok()) return page.status();
    for (const auto& c : *page) {
      cities.emplace(c.id(), CityInfo{c.id(), c.country(), c.region(),
                                      std::make_shared<v1::City>(c)});
    }
    if (!page->empty()) after = page->back().id();
  }

  auto version = store_->CurrentModelVersion();
  if (!version.ok()) return version.status();
  std::shared_ptr<const Model> model = Model::Empty(options_.model);
  if (*version > 0) {
    auto blob = store_->GetModel(*version);
    if (!blob.ok()) return blob.status();
    auto parsed = Model::Parse(*blob, options_.model);
    if (!parsed.ok()) return parsed.status();
    model = *std::move(parsed);
  }
  // Issue 13: vectors embedded with other lexicons do not compare with
  // today's queries: start from no model (every case is re-embedded and the
  // model refitted, as on a first start).
  uint64_t vectors_of = *version;
  if (*version > 0 && model->LexiconsChanged()) {
    model = Model::Empty(options_.model);
    vectors_of = 0;
  }

  // Room for every case's dense vector; only rows written cost memory.
  const size_t expected =
      std::max<size_t>(store_->EstimateCaseCount(), model->num_docs()) * 5 / 4 + 4 * kBatchCases;
  DenseRows dense(static_cast<size_t>(model->dense_dim()), expected);
  std::vector<std::shared_ptr<const IndexEntry>> loaded;  // by position
  std::vector<std::pair<size_t, v1::Case>> unembedded;
  {
    // The loader's batches go before anything else is allocated.
    CaseLoader loader(&terms_, &dense);
    absl::Status s = store_->ForEachCaseWithVector(
        vectors_of, [&](v1::Case& c, const absl::string_view* vector) {
          loader.Add(c, vector);
          return absl::OkStatus();
        });
    loader.Finish();
    if (!s.ok()) return s;
    dense.SetRows(loader.num_cases());
    loaded = std::move(loader.entries);
    unembedded = std::move(loader.unembedded);
  }

  // Cases written without vectors (or under another model): embed them now
  // (and store the vectors, unless this is a read replica).
  for (auto& [position, c] : unembedded) {
    Embedding e = model->Embed(c);
    if (!store_->read_only()) {
      CaseVector vec{model->version(), model->EncodeVector(e)};
      auto r = store_->PutCase(c, &vec);
      if (!r.ok()) return r.status();
    }
    loaded[position] = MakeEntry(c, e);
    if (dense.cols() > 0 && static_cast<size_t>(e.dense.size()) == dense.cols()) {
      std::copy(e.dense.data(), e.dense.data() + e.dense.size(), dense.row(position));
    }
  }

  const int64_t num_cases = static_cast<int64_t>(loaded.size());
  std::vector<CityInfo> city_list;
  city_list.reserve(cities.size());
  for (const auto& [id, c] : cities) city_list.push_back(c);
  std::shared_ptr<const Index> index =
      Index::Build(std::move(loaded), std::move(dense), city_list, terms_.size());
  const int64_t num_docs = model->num_docs();
  // A model fitted with other analysis rules (an older build): any case's
  // terms may differ, so it counts as every case changed and is refitted.
  const bool other_rules = num_docs > 0 && model->analyzer_version() != kAnalyzerVersion;
  snapshots_.Install(std::move(model), std::move(city_list), std::move(index));

  refits_.Refitted(other_rules ? std::numeric_limits<int32_t>::max()
                               : static_cast<int64_t>(unembedded.size()) +
                                     std::abs(num_cases - num_docs));
  // The fusion weights are fitted for this model and these judgements.
  return RefitFusion();
}

}  // namespace peermatch
