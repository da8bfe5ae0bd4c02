// Library logs: the lines protobuf and gRPC print on their own (a
// "libprotobuf ERROR ... invalid UTF-8" for every malformed request, gRPC's
// transport errors), which a client could otherwise use to flood the
// server's stderr.
//
//   LibraryLogOptions logs;
//   logs.quiet = args.Has("quiet");
//   RouteLibraryLogs(logs);  // first in main(), before any thread logs
//
// Under `quiet` they are dropped (fatal ones excepted: protobuf aborts after
// them). Otherwise at most `lines_per_minute` are printed in any minute
// (counted from the first line of the minute); the first one over the limit
// prints "peermatchd: more than N library log lines this minute; dropping
// them until <time>", and the first one after the minute reports how many
// were dropped.
//
// Thread-safety: RouteLibraryLogs installs process-wide handlers and must
// be called before any thread logs (protobuf's SetLogHandler is not
// thread-safe); the handlers themselves are thread-safe. LogRateLimiter is
// thread-safe.
#ifndef PEERMATCH_SERVICE_LIBRARY_LOGS_H_
#define PEERMATCH_SERVICE_LIBRARY_LOGS_H_

#include <cstdint>
#include <cstdio>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace peermatch {

struct LibraryLogOptions {
  bool quiet = false;         // drop every library line (but fatal ones)
  int lines_per_minute = 20;  // otherwise, print at most this many a minute
  FILE* out = stderr;         // borrowed; must outlive the process's logging
};

// Installs protobuf's and gRPC's log handlers. Later calls replace the
// options.
void RouteLibraryLogs(const LibraryLogOptions& options);

// At most `limit` lines per `window`; a window opens at the first line
// after the previous one closed.
class LogRateLimiter {
 public:
  LogRateLimiter(int limit, absl::Duration window) : limit_(limit), window_(window) {}

  struct Verdict {
    bool print = false;           // print this line
    bool announce_drop = false;   // this is the first line dropped in its window: say so
    int64_t dropped_before = 0;   // this line opens a window after one that dropped this many
    absl::Time window_end;        // when the current window closes
  };
  Verdict Admit(absl::Time now) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const int limit_;
  const absl::Duration window_;
  absl::Mutex mu_;
  absl::Time window_end_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  int printed_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace peermatch

#endif  // PEERMATCH_SERVICE_LIBRARY_LOGS_H_
