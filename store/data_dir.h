// Checks on a data directory before the store opens it, so that a server
// that cannot work says why at start instead of failing on the first write.
//
// Thread-safety: a pure function of the file system.
#ifndef PEERMATCH_STORE_DATA_DIR_H_
#define PEERMATCH_STORE_DATA_DIR_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace peermatch {

// Creates `path` (and its parents) when missing, then checks that it is a
// directory this process can write (by creating and removing a file) and
// that its file system has at least `min_free_bytes` free.
// FAILED_PRECONDITION for a path that is not a directory or not writable;
// RESOURCE_EXHAUSTED for too little free space. The messages say what to do.
absl::Status CheckDataDirectory(const std::string& path, uint64_t min_free_bytes);

}  // namespace peermatch

#endif  // PEERMATCH_STORE_DATA_DIR_H_
