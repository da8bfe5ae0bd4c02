// Cancellation: a one-way flag that asks a piece of work to stop. Whoever
// starts the work keeps a shared_ptr to it and calls Cancel(); the work
// polls cancelled() at points where stopping is safe and returns
// absl::CancelledError when it sees it set.
//
//   auto cancel = std::make_shared<Cancellation>();
//   ... hand `*cancel` to the work ...
//   cancel->Cancel();                  // from any thread, any number of times
//
//   // inside the work, as often as it likes (one atomic load):
//   if (cancel.cancelled()) return absl::CancelledError("...");
//
// Thread-safety: every method may be called from any thread at any time.
#ifndef PEERMATCH_COMMON_CANCELLATION_H_
#define PEERMATCH_COMMON_CANCELLATION_H_

#include <atomic>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace peermatch {

class Cancellation {
 public:
  Cancellation() = default;
  Cancellation(const Cancellation&) = delete;
  Cancellation& operator=(const Cancellation&) = delete;

  // Asks the work to stop. Idempotent.
  void Cancel() {
    if (!requested_.exchange(true, std::memory_order_acq_rel)) cancelled_.Notify();
  }
  // True once Cancel() has been called. Cheap: poll it in inner loops.
  bool cancelled() const { return cancelled_.HasBeenNotified(); }
  // Blocks until Cancel() has been called.
  void Wait() const { cancelled_.WaitForNotification(); }
  // Blocks until Cancel() has been called or `timeout` has passed; true
  // when cancelled.
  bool WaitWithTimeout(absl::Duration timeout) const {
    return cancelled_.WaitForNotificationWithTimeout(timeout);
  }

 private:
  std::atomic<bool> requested_{false};  // Notify() may be called only once
  absl::Notification cancelled_;
};

}  // namespace peermatch

#endif  // PEERMATCH_COMMON_CANCELLATION_H_
