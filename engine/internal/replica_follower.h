// ReplicaFollower: on a read replica (Store::OpenReplica), catches up with
// the writer's store every `every` and, when its data changed, calls
// `reload` (the engine reloads the model and every case's vectors and
// publishes them as one snapshot). A failed catch-up or reload keeps the
// previous state serving; the next round retries.
//
// Thread-safety: owns one thread, started by Start() and joined by the
// destructor.
#ifndef PEERMATCH_ENGINE_INTERNAL_REPLICA_FOLLOWER_H_
#define PEERMATCH_ENGINE_INTERNAL_REPLICA_FOLLOWER_H_

#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "store/store.h"

namespace peermatch::internal {

class ReplicaFollower {
 public:
  // Borrows `store` (a replica), which must outlive this.
  ReplicaFollower(Store* store, absl::Duration every, std::function<absl::Status()> reload);
  ~ReplicaFollower();
  ReplicaFollower(const ReplicaFollower&) = delete;
  ReplicaFollower& operator=(const ReplicaFollower&) = delete;

  void Start();

 private:
  void Loop();

  Store* const store_;
  const absl::Duration every_;
  const std::function<absl::Status()> reload_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace peermatch::internal

#endif  // PEERMATCH_ENGINE_INTERNAL_REPLICA_FOLLOWER_H_
