// Snapshot: a consistent, immutable view of the corpus for queries — the
// model and the index built with it (a base, a delta segment and
// tombstones, searched as one: index/segmented_index.h) — published by the
// engine's writers.
//
// Thread-safety: immutable; share as std::shared_ptr<const Snapshot>.
#ifndef PEERMATCH_ENGINE_SNAPSHOT_H_
#define PEERMATCH_ENGINE_SNAPSHOT_H_

#include <cstdint>
#include <memory>

#include "embed/model.h"
#include "engine/learned_fusion.h"
#include "index/segmented_index.h"

namespace peermatch {

struct Snapshot {
  std::shared_ptr<const Model> model;
  std::shared_ptr<const SegmentedIndex> index;
  uint64_t generation = 0;  // a new one for every published change
  // What the index holds (its live cases), counted when it was published
  // (GetStats reads these instead of scanning the store).
  struct Counts {
    int64_t cities = 0;
    int64_t cases = 0;
    int64_t challenges = 0;
    int64_t solutions = 0;
  };
  Counts counts;
  // The fusion weights Match, SimilarCases and pairings use, and how they
  // were chosen (issue 14); null only before the engine's first fit of
  // them (the engine then uses its default weights).
  std::shared_ptr<const FusionFit> fusion;
};

}  // namespace peermatch

#endif  // PEERMATCH_ENGINE_SNAPSHOT_H_
