#include "engine/internal/replica_follower.h"

#include <utility>

namespace peermatch::internal {

ReplicaFollower::ReplicaFollower(Store* store, absl::Duration every,
                                 std::function<absl::Status()> reload)
    : store_(store), every_(every), reload_(std::move(reload)) {}

ReplicaFollower::~ReplicaFollower() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void ReplicaFollower::Start() { thread_ = std::thread([this] { Loop(); }); }

void ReplicaFollower::Loop() {
  uint64_t seen = store_->LatestSequence();
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      // The refresh interval; a stop ends the wait at once.
      mu_.AwaitWithTimeout(absl::Condition(&stopping_), every_);
      if (stopping_) return;
    }
    if (!store_->CatchUp().ok()) continue;  // tried again next time
    const uint64_t now = store_->LatestSequence();
    if (now == seen) continue;
    if (reload_().ok()) seen = now;
  }
}

}  // namespace peermatch::internal
