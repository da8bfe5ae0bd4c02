#include "index/internal/graph_slot.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <utility>

#include "absl/types/span.h"

namespace peermatch::internal {
namespace {

// The graph build runs beside Match: at nice 10 (as merges and refits do),
// or lower if the thread already is. hnswlib's build threads are started
// from this one and inherit it.
void LowerThisThreadTo(int nice) {
  const auto tid = static_cast<id_t>(syscall(SYS_gettid));
  errno = 0;
  const int now = getpriority(PRIO_PROCESS, tid);
  if (errno == 0 && now >= nice) return;
  setpriority(PRIO_PROCESS, tid, nice);  // best effort: a failure only costs priority
}

std::atomic<size_t> builds_started{0};

}  // namespace

GraphSlot::~GraphSlot() {
  cancel_ = true;
  std::thread thread;
  {
    absl::MutexLock lock(&mu_);
    thread = std::move(thread_);
  }
  if (thread.joinable()) thread.join();
}

size_t GraphSlot::BuildsStarted() { return builds_started.load(); }

std::shared_ptr<const AnnIndex> GraphSlot::Get() const {
  absl::MutexLock lock(&mu_);
  return graph_;
}

void GraphSlot::Attach(std::shared_ptr<const AnnIndex> graph) {
  cancel_ = true;  // a build in progress stops at its next row and publishes nothing
  absl::MutexLock lock(&mu_);
  graph_ = std::move(graph);
}

bool GraphSlot::StartBuild(const float* rows, size_t n, size_t dim, AnnIndexOptions options) {
  absl::MutexLock lock(&mu_);
  if (info_.started || graph_ != nullptr) return false;
  info_.started = true;
  builds_started.fetch_add(1);
  options.cancel = &cancel_;
  thread_ = std::thread([this, rows, n, dim, options] {
    LowerThisThreadTo(10);
    const auto start = std::chrono::steady_clock::now();
    absl::StatusOr<std::unique_ptr<AnnIndex>> built =
        AnnIndex::Build(absl::MakeConstSpan(rows, n * dim), dim, options);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    absl::MutexLock lock(&mu_);
    info_.done = true;
    info_.seconds = seconds;
    info_.status = built.status();
    // Attach() since the build started wins: its graph stays.
    if (built.ok() && !cancel_) graph_ = std::move(*built);
  });
  return true;
}

void GraphSlot::Wait() const {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](const BuildInfo* info) { return !info->started || info->done; }, &info_));
}

GraphSlot::BuildInfo GraphSlot::build_info() const {
  absl::MutexLock lock(&mu_);
  return info_;
}

}  // namespace peermatch::internal
