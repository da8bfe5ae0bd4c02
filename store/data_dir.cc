#include "store/data_dir.h"

#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"

namespace peermatch {

absl::Status CheckDataDirectory(const std::string& path, uint64_t min_free_bytes) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec || !std::filesystem::is_directory(path)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the data directory ", path, " cannot be created or is not a directory",
        ec ? absl::StrCat(" (", ec.message(), ")") : "", "; choose another with --data-dir"));
  }
  const std::string probe = path + "/.peermatch-write-probe";
  {
    std::ofstream out(probe);
    out << "probe";
    if (!out.flush()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the data directory ", path, " is not writable (", std::strerror(errno),
          "); fix its permissions or choose another with --data-dir"));
    }
  }
  std::filesystem::remove(probe, ec);
  struct statvfs fs;
  if (statvfs(path.c_str(), &fs) == 0) {
    const uint64_t free_bytes = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
    if (free_bytes < min_free_bytes) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "the disk of ", path, " is full: ", free_bytes >> 20, " MiB free, and peermatchd needs ",
          min_free_bytes >> 20, " MiB; free some space or choose another --data-dir"));
    }
  }
  return absl::OkStatus();
}

}  // namespace peermatch
