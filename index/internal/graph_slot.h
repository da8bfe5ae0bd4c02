// GraphSlot: where an Index keeps the HNSW graph of its dense rows (issue
// 16; index.h "Approximate dense top"). The graph is built on a background
// thread of the slot's own after the index is built, or attached ready
// (loaded from a file, or built by a test); until then the slot is empty
// and the index searches exactly.
//
// A reader's Get() returns null or a complete graph, never one being built:
// the graph is published under the slot's lock only once Build() returned,
// and a graph is immutable after that (AnnIndex). A reader keeps the graph
// it got alive (shared_ptr) even if another is attached meanwhile.
//
// Ownership: the rows given to StartBuild must outlive the slot (they are
// the owning Index's matrix, destroyed after the slot). The destructor
// cancels a build in progress and joins its thread (AnnIndexOptions::
// cancel is checked before every inserted row, so that is quick).
//
// Thread-safety: every method may be called from any thread at once.
// StartBuild starts at most one build in the slot's life: a second call (or
// one after Attach) does nothing and returns false, so no base ever has two
// graphs built for it.
#ifndef PEERMATCH_INDEX_INTERNAL_GRAPH_SLOT_H_
#define PEERMATCH_INDEX_INTERNAL_GRAPH_SLOT_H_

#include <atomic>
#include <cstddef>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "index/ann_index.h"

namespace peermatch::internal {

class GraphSlot {
 public:
  GraphSlot() = default;
  ~GraphSlot();
  GraphSlot(const GraphSlot&) = delete;
  GraphSlot& operator=(const GraphSlot&) = delete;

  // The graph, or null while none is built or attached.
  std::shared_ptr<const AnnIndex> Get() const;
  // Makes `graph` the slot's graph (it must index the owner's rows in their
  // order); a build in progress is cancelled and its result dropped.
  void Attach(std::shared_ptr<const AnnIndex> graph);
  // Builds a graph over rows [0, n) of `rows` (n * dim floats, row-major)
  // on a new thread, which lowers itself to nice 10 (never raises), and
  // publishes it when done; true when that build was started. False (and
  // nothing done) when a build was started before or a graph attached. A
  // failed or cancelled build leaves the slot empty (the index stays exact)
  // and says why in build_info().
  bool StartBuild(const float* rows, size_t n, size_t dim, AnnIndexOptions options);
  // Blocks until a build started by StartBuild has ended (at once when none).
  void Wait() const;

  struct BuildInfo {
    bool started = false, done = false;
    absl::Status status;   // of the build, once done
    double seconds = 0;    // wall time of the build, once done
  };
  BuildInfo build_info() const;

  // Builds started by StartBuild in every slot of the process since it
  // began (tests count them: a base must get one build, never two).
  static size_t BuildsStarted();

 private:
  mutable absl::Mutex mu_;
  std::shared_ptr<const AnnIndex> graph_ ABSL_GUARDED_BY(mu_);
  BuildInfo info_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> cancel_{false};
  std::thread thread_ ABSL_GUARDED_BY(mu_);  // joined by the destructor
};

}  // namespace peermatch::internal

#endif  // PEERMATCH_INDEX_INTERNAL_GRAPH_SLOT_H_
