#include "service/library_logs.h"

#include <string>

#include "absl/base/const_init.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "google/protobuf/stubs/logging.h"
#include "grpc/support/log.h"

namespace peermatch {

LogRateLimiter::Verdict LogRateLimiter::Admit(absl::Time now) {
  absl::MutexLock lock(&mu_);
  Verdict v;
  if (now >= window_end_) {
    v.dropped_before = dropped_;
    window_end_ = now + window_;
    printed_ = 0;
    dropped_ = 0;
  }
  v.window_end = window_end_;
  if (printed_ < limit_) {
    ++printed_;
    v.print = true;
  } else {
    v.announce_drop = dropped_ == 0;
    ++dropped_;
  }
  return v;
}

namespace {

ABSL_CONST_INIT absl::Mutex options_mu(absl::kConstInit);
LibraryLogOptions* options ABSL_GUARDED_BY(options_mu) = nullptr;
LogRateLimiter* limiter ABSL_GUARDED_BY(options_mu) = nullptr;

// One line from `library` ("libprotobuf", "grpc"), as that library would
// print it, unless quiet or over the rate.
void Emit(const char* library, const char* severity, bool fatal, const char* file, int line,
          const std::string& message) {
  FILE* out;
  LogRateLimiter::Verdict v;
  {
    absl::MutexLock lock(&options_mu);
    if (options == nullptr) return;
    out = options->out;
    if (options->quiet && !fatal) return;
    if (fatal) {
      v.print = true;
    } else {
      v = limiter->Admit(absl::Now());
    }
  }
  if (v.dropped_before > 0) {
    absl::FPrintF(out, "peermatchd: dropped %d library log lines in the last minute\n",
                  v.dropped_before);
  }
  if (v.print) {
    absl::FPrintF(out, "[%s %s %s:%d] %s\n", library, severity, file, line, message);
  } else if (v.announce_drop) {
    absl::FPrintF(out,
                  "peermatchd: more library log lines than the limit this minute; dropping them "
                  "until %s\n",
                  absl::FormatTime("%H:%M:%S UTC", v.window_end, absl::UTCTimeZone()));
  }
  std::fflush(out);
}

void ProtobufLine(google::protobuf::LogLevel level, const char* file, int line,
                  const std::string& message) {
  static const char* const kLevels[] = {"INFO", "WARNING", "ERROR", "FATAL"};
  Emit("libprotobuf", kLevels[level], level == google::protobuf::LOGLEVEL_FATAL, file, line,
       message);
}

void GrpcLine(gpr_log_func_args* args) {
  Emit("grpc", gpr_log_severity_string(args->severity), false, args->file, args->line,
       args->message);
}

}  // namespace

void RouteLibraryLogs(const LibraryLogOptions& new_options) {
  {
    absl::MutexLock lock(&options_mu);
    delete options;
    delete limiter;
    options = new LibraryLogOptions(new_options);
    limiter = new LogRateLimiter(new_options.lines_per_minute, absl::Minutes(1));
  }
  google::protobuf::SetLogHandler(&ProtobufLine);
  gpr_set_log_function(&GrpcLine);
}

}  // namespace peermatch
