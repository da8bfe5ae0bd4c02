// Backups of a peermatch database with RocksDB's BackupEngine.
//
// A backup directory holds any number of backups of one database. They are
// incremental: a table file (SST) already in the directory is not copied
// again, so each backup costs only what changed since the last one, and
// deleting old backups frees only the files no kept backup still needs.
// Every file is recorded with its size and CRC32C checksum.
//
//   Online:  Store::Backup(to_dir, keep_last) on the open store (in store.h);
//            writers and readers carry on while it runs.
//   Offline: RestoreBackup(from_dir, data_dir, id) into a directory no
//            process has open; ListBackups(dir).
//
// Example:
//   auto info = store->Backup("/var/backups/peermatch", /*keep_last=*/7);
//   ...
//   absl::Status s = RestoreBackup("/var/backups/peermatch", "/srv/peermatch",
//                                  /*backup_id=*/0, /*overwrite=*/false);
//
// Thread-safety: the functions here are thread-safe. Backups taken by one
// process are serialized; two *processes* must not write into the same
// backup directory at once (RocksDB leaves that unspecified).
#ifndef PEERMATCH_STORE_BACKUP_H_
#define PEERMATCH_STORE_BACKUP_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace peermatch {

// One backup in a backup directory.
struct BackupInfo {
  uint32_t id = 0;          // 1, 2, ... in the order taken; never reused in a directory
  int64_t timestamp = 0;    // when it was taken, Unix seconds
  uint64_t size_bytes = 0;  // bytes of all its files, shared ones included
  int backups_in_dir = 0;   // backups in the directory (after any purge)
};

// Restores backup `backup_id` (0: the latest) of `from_dir` into `data_dir`,
// which is created when missing; the write-ahead log goes there too. The
// backup is verified first (every file's size and checksum), so a damaged
// backup never half-overwrites anything.
//
// The target must be empty or missing, unless `overwrite`: then a directory
// that holds a (closed) RocksDB database is emptied and replaced. Files
// there that are not RocksDB's (notes.txt, subdirectories) are never
// deleted: such a directory is refused even with `overwrite`.
//
// Errors:
//   INVALID_ARGUMENT    from_dir or data_dir empty.
//   NOT_FOUND           from_dir does not exist or holds no backup; no
//                       backup `backup_id` there (the message lists the ids).
//   FAILED_PRECONDITION data_dir is open in a process (RocksDB's LOCK is
//                       held: stop peermatchd first; `overwrite` does not
//                       help); data_dir is not empty and !overwrite; it
//                       holds files that are not RocksDB's.
//   DATA_LOSS           the backup is damaged: a file missing, truncated or
//                       failing its checksum. data_dir is left untouched.
//   RESOURCE_EXHAUSTED  the disk filled up; INTERNAL other I/O errors.
// On an error after copying started (disk full, I/O), data_dir holds a
// partial database: restore again with `overwrite`.
absl::Status RestoreBackup(const std::string& from_dir, const std::string& data_dir,
                           uint32_t backup_id, bool overwrite = false);

// The backups in `dir`, oldest first (each with backups_in_dir set); empty
// when `dir` exists but holds none. NOT_FOUND when `dir` does not exist;
// INVALID_ARGUMENT when it is empty or not a directory.
absl::StatusOr<std::vector<BackupInfo>> ListBackups(const std::string& dir);

}  // namespace peermatch

#endif  // PEERMATCH_STORE_BACKUP_H_
