// Store::Backup, RestoreBackup and ListBackups over RocksDB's BackupEngine.
#include "store/backup.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <memory>
#include <system_error>

#include "absl/base/const_init.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/utilities/backup_engine.h"
#include "store/store.h"

namespace peermatch {
namespace {

namespace fs = std::filesystem;

// BackupEngine leaves concurrent writers of one backup directory
// unspecified; one backup at a time per process rules that out in a server.
ABSL_CONST_INIT absl::Mutex backup_mu(absl::kConstInit);

// How RocksDB's errors read here. Corruption is DATA_LOSS: the caller should
// not trust that backup.
absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  const std::string msg = absl::StrCat(what, ": ", s.ToString());
  if (s.IsNoSpace()) return absl::ResourceExhaustedError(absl::StrCat(msg, " (the disk is full)"));
  if (s.IsCorruption()) return absl::DataLossError(msg);
  if (s.IsNotFound()) return absl::NotFoundError(msg);
  if (s.IsNotSupported()) return absl::FailedPreconditionError(msg);
  return absl::InternalError(msg);
}

// Every engine on a directory must be opened with the same options: these.
// Table files are shared between backups and named by their content, which
// makes backups incremental and lets VerifyBackup check their checksums.
rocksdb::BackupEngineOptions EngineOptions(const std::string& dir) {
  rocksdb::BackupEngineOptions options(dir);
  options.share_table_files = true;
  options.share_files_with_checksum = true;
  options.sync = true;                    // a backup that returned survives a power cut
  options.max_background_operations = 1; // leave the other core to the server
  return options;
}

// NOT_FOUND / INVALID_ARGUMENT unless `dir` is an existing directory.
absl::Status RequireBackupDir(const std::string& dir) {
  std::error_code ec;
  const fs::file_status st = fs::status(dir, ec);
  if (!fs::exists(st)) return absl::NotFoundError(absl::StrCat("no backup directory at ", dir));
  if (!fs::is_directory(st)) {
    return absl::InvalidArgumentError(absl::StrCat(dir, " is not a directory"));
  }
  return absl::OkStatus();
}

// BackupEngine keeps its index in `dir`/meta, made by the first backup.
bool HasBackupIndex(const std::string& dir) {
  std::error_code ec;
  return fs::is_directory(fs::path(dir) / "meta", ec);
}

// The directory's backups, read-only. NOT_FOUND when it has none.
absl::StatusOr<std::unique_ptr<rocksdb::BackupEngineReadOnly>> OpenReadOnly(
    const std::string& dir) {
  if (absl::Status s = RequireBackupDir(dir); !s.ok()) return s;
  if (!HasBackupIndex(dir)) return absl::NotFoundError(absl::StrCat("no backup in ", dir));
  rocksdb::BackupEngineReadOnly* raw = nullptr;
  rocksdb::IOStatus s =
      rocksdb::BackupEngineReadOnly::Open(EngineOptions(dir), rocksdb::Env::Default(), &raw);
  if (!s.ok()) return FromRocks(s, absl::StrCat("reading the backups in ", dir));
  return std::unique_ptr<rocksdb::BackupEngineReadOnly>(raw);
}

BackupInfo FromRocksInfo(const rocksdb::BackupInfo& info, int backups_in_dir) {
  BackupInfo out;
  out.id = info.backup_id;
  out.timestamp = info.timestamp;
  out.size_bytes = info.size;
  out.backups_in_dir = backups_in_dir;
  return out;
}

// `path` as an absolute, normalized string without a trailing '/'.
std::string Normalized(const std::string& path) {
  std::error_code ec;
  std::string s = fs::weakly_canonical(fs::absolute(path), ec).lexically_normal().string();
  if (ec) s = fs::absolute(path).lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

bool IsInside(const std::string& path, const std::string& dir) {
  const std::string p = Normalized(path), d = Normalized(dir);
  return p == d || absl::StartsWith(p, d == "/" ? d : d + "/");
}

// Names RocksDB gives the files of a database directory, and peermatchd's
// start-up write probe (see data_dir.cc). A restore with `overwrite`
// deletes these and nothing else.
bool IsDatabaseFile(const std::string& name) {
  if (name == "CURRENT" || name == "IDENTITY" || name == "LOCK" || name == "LOG" ||
      name == ".peermatch-write-probe") {
    return true;
  }
  for (const char* prefix : {"LOG.old.", "MANIFEST-", "OPTIONS-"}) {
    if (absl::StartsWith(name, prefix)) return true;
  }
  for (const char* suffix : {".sst", ".log", ".blob", ".dbtmp"}) {
    if (absl::EndsWith(name, suffix) && name.size() > strlen(suffix) &&
        std::all_of(name.begin(), name.end() - strlen(suffix),
                    [](char c) { return c >= '0' && c <= '9'; })) {
      return true;
    }
  }
  return false;
}

// RocksDB's own LOCK on a database directory, held by this process while a
// restore writes there, so that a peermatchd starting meanwhile fails to
// open it instead of reading half a database.
class DirLock {
 public:
  DirLock() = default;
  ~DirLock() {
    if (lock_ != nullptr) rocksdb::Env::Default()->UnlockFile(lock_).PermitUncheckedError();
  }
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

  // FAILED_PRECONDITION when a process (this one included) holds it.
  absl::Status Acquire(const std::string& data_dir) {
    rocksdb::Status s = rocksdb::Env::Default()->LockFile(data_dir + "/LOCK", &lock_);
    if (s.ok()) return absl::OkStatus();
    lock_ = nullptr;
    return absl::FailedPreconditionError(absl::StrCat(
        data_dir, " is in use: a process has its database open (", s.ToString(),
        "); stop peermatchd before restoring into it"));
  }
  bool held() const { return lock_ != nullptr; }

 private:
  rocksdb::FileLock* lock_ = nullptr;
};

// Checks that a restore may write into `data_dir` (see RestoreBackup) and,
// when a database is there, takes its lock.
absl::Status CheckTarget(const std::string& data_dir, bool overwrite, DirLock* lock) {
  std::error_code ec;
  const fs::file_status st = fs::status(data_dir, ec);
  if (!fs::exists(st)) return absl::OkStatus();
  if (!fs::is_directory(st)) {
    return absl::FailedPreconditionError(
        absl::StrCat("data_dir: ", data_dir, " exists and is not a directory"));
  }
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(data_dir, ec)) {
    names.push_back(entry.path().filename().string());
  }
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("data_dir: cannot read ", data_dir, ": ", ec.message()));
  }
  if (names.empty()) return absl::OkStatus();
  if (std::find(names.begin(), names.end(), "LOCK") != names.end()) {
    if (absl::Status s = lock->Acquire(data_dir); !s.ok()) return s;
  }
  if (!overwrite) {
    return absl::FailedPreconditionError(absl::StrCat(
        "data_dir: ", data_dir, " is not empty; restore into an empty directory, or pass "
        "overwrite (peermatch restore --overwrite) to replace the database there"));
  }
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    if (!IsDatabaseFile(name) || fs::is_directory(fs::path(data_dir) / name, ec)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "data_dir: ", data_dir, " holds \"", name, "\", which is not a database file; "
          "refusing to overwrite it (restore into an empty directory)"));
    }
  }
  return absl::OkStatus();
}

// The id to restore: `requested`, or the newest when 0, checked against
// what the directory holds.
absl::StatusOr<rocksdb::BackupID> ChooseBackup(const rocksdb::BackupEngineReadOnly& engine,
                                               const std::string& dir, uint32_t requested) {
  std::vector<rocksdb::BackupInfo> good;
  engine.GetBackupInfo(&good);
  std::vector<rocksdb::BackupID> corrupt;
  engine.GetCorruptedBackups(&corrupt);
  rocksdb::BackupID newest_good = 0, newest_corrupt = 0;
  std::vector<std::string> ids;
  for (const auto& b : good) {
    newest_good = std::max(newest_good, b.backup_id);
    ids.push_back(std::to_string(b.backup_id));
  }
  for (rocksdb::BackupID id : corrupt) newest_corrupt = std::max(newest_corrupt, id);
  const bool is_corrupt =
      std::find(corrupt.begin(), corrupt.end(), requested) != corrupt.end();
  if (requested == 0) {
    // Silently falling back to an older backup would restore older data
    // than the operator expects.
    if (newest_corrupt > newest_good) {
      return absl::DataLossError(absl::StrCat(
          "the newest backup in ", dir, " (", newest_corrupt, ") is damaged",
          good.empty() ? std::string(" and there is no other")
                       : absl::StrCat("; restore an older one by id (", absl::StrJoin(ids, ", "),
                                      ")")));
    }
    if (good.empty()) return absl::NotFoundError(absl::StrCat("no backup in ", dir));
    return newest_good;
  }
  if (is_corrupt) {
    return absl::DataLossError(absl::StrCat("backup ", requested, " in ", dir, " is damaged"));
  }
  for (const auto& b : good) {
    if (b.backup_id == requested) return requested;
  }
  return absl::NotFoundError(absl::StrCat(
      "no backup ", requested, " in ", dir,
      good.empty() ? std::string(" (it holds none)")
                   : absl::StrCat(" (it holds ", absl::StrJoin(ids, ", "), ")")));
}

}  // namespace

absl::StatusOr<BackupInfo> Store::Backup(const std::string& to_dir, int keep_last) {
  if (to_dir.empty()) return absl::InvalidArgumentError("to_dir: name a backup directory");
  if (keep_last < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("keep_last: ", keep_last, " is negative (0 keeps every backup)"));
  }
  if (IsInside(to_dir, db_->GetName())) {
    return absl::InvalidArgumentError(
        absl::StrCat("to_dir: ", to_dir, " is inside the data directory ", db_->GetName(),
                     "; keep backups elsewhere, ideally on another disk"));
  }
  std::error_code ec;
  fs::create_directories(to_dir, ec);
  if (ec || !fs::is_directory(to_dir, ec)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "to_dir: cannot create the directory ", to_dir, ec ? ": " + ec.message() : ""));
  }

  absl::MutexLock lock(&backup_mu);
  rocksdb::BackupEngine* raw = nullptr;
  rocksdb::IOStatus s =
      rocksdb::BackupEngine::Open(EngineOptions(to_dir), rocksdb::Env::Default(), &raw);
  if (!s.ok()) return FromRocks(s, absl::StrCat("opening the backup directory ", to_dir));
  std::unique_ptr<rocksdb::BackupEngine> engine(raw);

  rocksdb::CreateBackupOptions options;
  // Flushing first means the backup carries little write-ahead log, and the
  // flushed table files are what the next backup shares.
  options.flush_before_backup = true;
  rocksdb::BackupID id = 0;
  s = engine->CreateNewBackup(options, db_.get(), &id);
  if (!s.ok()) return FromRocks(s, absl::StrCat("backing up into ", to_dir));
  if (keep_last > 0) {
    s = engine->PurgeOldBackups(static_cast<uint32_t>(keep_last));
    if (!s.ok()) {
      return FromRocks(s, absl::StrCat("backup ", id, " was taken, but deleting old backups in ",
                                       to_dir, " failed"));
    }
  }
  rocksdb::BackupInfo info;
  if (rocksdb::Status g = engine->GetBackupInfo(id, &info); !g.ok()) {
    return FromRocks(g, absl::StrCat("reading backup ", id, " in ", to_dir));
  }
  std::vector<rocksdb::BackupInfo> all;
  engine->GetBackupInfo(&all);
  return FromRocksInfo(info, static_cast<int>(all.size()));
}

absl::Status RestoreBackup(const std::string& from_dir, const std::string& data_dir,
                           uint32_t backup_id, bool overwrite) {
  if (from_dir.empty()) return absl::InvalidArgumentError("from_dir: name the backup directory");
  if (data_dir.empty()) return absl::InvalidArgumentError("data_dir: name the data directory");
  auto engine = OpenReadOnly(from_dir);
  if (!engine.ok()) return engine.status();
  auto id = ChooseBackup(**engine, from_dir, backup_id);
  if (!id.ok()) return id.status();

  DirLock lock;
  if (absl::Status s = CheckTarget(data_dir, overwrite, &lock); !s.ok()) return s;
  // Before anything in data_dir changes: every file there, with the size
  // and checksum recorded when it was backed up. A missing file is as
  // damaged as a corrupt one.
  rocksdb::IOStatus v = (*engine)->VerifyBackup(*id, /*verify_with_checksum=*/true);
  if (!v.ok()) {
    return absl::DataLossError(absl::StrCat("backup ", *id, " in ", from_dir,
                                            " is damaged; nothing was restored: ", v.ToString()));
  }
  std::error_code ec;
  fs::create_directories(data_dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("data_dir: cannot create ", data_dir, ": ", ec.message()));
  }
  if (!lock.held()) {
    if (absl::Status s = lock.Acquire(data_dir); !s.ok()) return s;
  }
  // keep_log_files = false: the target's own write-ahead logs go, or they
  // would be replayed over the restored data.
  rocksdb::RestoreOptions options(/*keep_log_files=*/false);
  rocksdb::IOStatus r = (*engine)->RestoreDBFromBackup(options, *id, data_dir, data_dir);
  return FromRocks(r, absl::StrCat("restoring backup ", *id, " of ", from_dir, " into ", data_dir));
}

absl::StatusOr<std::vector<BackupInfo>> ListBackups(const std::string& dir) {
  if (dir.empty()) return absl::InvalidArgumentError("dir: name the backup directory");
  if (absl::Status s = RequireBackupDir(dir); !s.ok()) return s;
  if (!HasBackupIndex(dir)) return std::vector<BackupInfo>();
  auto engine = OpenReadOnly(dir);
  if (!engine.ok()) return engine.status();
  std::vector<rocksdb::BackupInfo> infos;
  (*engine)->GetBackupInfo(&infos);
  std::sort(infos.begin(), infos.end(),
            [](const auto& a, const auto& b) { return a.backup_id < b.backup_id; });
  std::vector<BackupInfo> out;
  for (const auto& info : infos) out.push_back(FromRocksInfo(info, static_cast<int>(infos.size())));
  return out;
}

}  // namespace peermatch
