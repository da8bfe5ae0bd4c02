#include "store/backup.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>

#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/store.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace peermatch {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::TempDir;

using ::peermatch::testing::StatusIs;

std::unique_ptr<Store> OpenOrDie(const std::string& path) {
  auto s = Store::Open(path);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *std::move(s) : nullptr;
}

// Text that does not compress to nothing, so that file sizes mean something.
std::string Words(std::mt19937* rng, int n) {
  static const char* const kWords[] = {"pupils",  "rural",   "internet", "literacy", "families",
                                        "radio",   "lessons", "older",    "adults",   "workplace",
                                        "library", "district", "closure", "tablets",  "mentors"};
  std::string out;
  for (int i = 0; i < n; ++i) {
    if (i > 0) out += ' ';
    out += kWords[(*rng)() % 15];
    out += std::to_string((*rng)() % 1000);
  }
  return out;
}

std::string Blob(std::mt19937* rng, size_t bytes) {
  std::string out(bytes, '\0');
  for (char& c : out) c = static_cast<char>((*rng)() & 0xff);
  return out;
}

v1::City MakeCity(const std::string& id) {
  v1::City c = testing::City(id);
  c.set_name("City " + id);
  return c;
}

// A solution of 80 random words.
v1::Case MakeCase(const std::string& id, const std::string& city, std::mt19937* rng) {
  return testing::Solution(id, city, "Title of " + id, Words(rng, 80));
}

// Everything the store holds, leveldb-style as one string: every city, every
// case with its vector under the current model, the model and its version.
std::string Dump(const Store& store) {
  std::string out;
  bool more = false;
  auto cities = store.ListCities("", 100000, nullptr, &more);
  EXPECT_TRUE(cities.ok()) << cities.status();
  for (const auto& c : *cities) out += "city " + c.ShortDebugString() + "\n";
  const uint64_t version = *store.CurrentModelVersion();
  EXPECT_TRUE(store.ForEachCase([&](const v1::Case& c) {
    out += "case " + c.ShortDebugString() + "\n";
    auto v = store.GetVector(version, c.id());
    out += "  vector " + (v.ok() ? absl::CEscape(*v) : std::string("none")) + "\n";
    return absl::OkStatus();
  }).ok());
  auto model = store.GetModel(version);
  out += "model " + std::to_string(version) + " " +
         (model.ok() ? absl::CEscape(*model) : std::string("none")) + "\n";
  return out;
}

uint64_t DirBytes(const std::string& dir) {
  uint64_t total = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) total += e.file_size();
  }
  return total;
}

// The largest table file of the backups in `dir` (shared between backups).
std::string LargestSharedFile(const std::string& dir) {
  std::string best;
  uintmax_t best_size = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().extension() == ".sst" && e.file_size() > best_size) {
      best = e.path().string();
      best_size = e.file_size();
    }
  }
  return best;
}

// Point A: 20 cities of 10 cases each, vectors and a model of version 1.
void WritePointA(Store* store) {
  std::mt19937 rng(7);
  for (int i = 0; i < 20; ++i) {
    const std::string city = "city-" + std::to_string(i);
    ASSERT_TRUE(store->PutCity(MakeCity(city)).ok());
    for (int j = 0; j < 10; ++j) {
      CaseVector v{1, Blob(&rng, 256)};
      ASSERT_TRUE(store->PutCase(MakeCase(city + "-case-" + std::to_string(j), city, &rng), &v).ok());
    }
  }
  ASSERT_TRUE(store->CommitModel(1, Blob(&rng, 4096)).ok());
}

// Point B, from A: two more cities and ten cases, one case deleted, a city
// renamed, and a refit to model 2 (new vectors for every case). Takes no
// snapshot (see IncrementalBackupsRestoreEachPointInTime).
void WritePointB(Store* store) {
  std::mt19937 rng(8);
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    for (int j = 0; j < 10; ++j) {
      ids.push_back("city-" + std::to_string(i) + "-case-" + std::to_string(j));
    }
  }
  for (int i = 20; i < 22; ++i) {
    const std::string city = "city-" + std::to_string(i);
    ASSERT_TRUE(store->PutCity(MakeCity(city)).ok());
    for (int j = 0; j < 5; ++j) {
      CaseVector v{1, Blob(&rng, 256)};
      ids.push_back(city + "-case-" + std::to_string(j));
      ASSERT_TRUE(store->PutCase(MakeCase(ids.back(), city, &rng), &v).ok());
    }
  }
  ASSERT_TRUE(store->DeleteCase("city-3-case-4").ok());
  v1::City renamed = MakeCity("city-5");
  renamed.set_name("Renamed");
  ASSERT_TRUE(store->PutCity(renamed).ok());
  std::vector<std::pair<std::string, std::string>> blobs;
  for (const std::string& id : ids) blobs.emplace_back(id, Blob(&rng, 32));
  ASSERT_TRUE(store->PutStagedVectors(2, blobs).ok());
  ASSERT_TRUE(store->CommitModel(2, Blob(&rng, 1024)).ok());
}

// The expected state at each point comes from reference stores written the
// same way. Nothing reads the source through a snapshot between the two
// backups: releasing one lets RocksDB rewrite the freshly flushed files once
// (to drop their sequence numbers), and the second backup would then copy
// those again. That is RocksDB's business, not the backup's; it is
// measured with it out of the way.
TEST(Backup, IncrementalBackupsRestoreEachPointInTime) {
  TempDir dir;
  const std::string backups = dir.Sub("backups");
  uint64_t growth = 0;
  BackupInfo first, second;
  {
    auto store = OpenOrDie(dir.Sub("db"));
    WritePointA(store.get());
    auto b1 = store->Backup(backups, /*keep_last=*/0);
    ASSERT_TRUE(b1.ok()) << b1.status();
    first = *b1;
    const uint64_t after_first = DirBytes(backups);
    WritePointB(store.get());
    auto b2 = store->Backup(backups, /*keep_last=*/0);
    ASSERT_TRUE(b2.ok()) << b2.status();
    second = *b2;
    growth = DirBytes(backups) - after_first;
  }
  std::string dump_a, dump_b;
  {
    auto ref = OpenOrDie(dir.Sub("ref_a"));
    WritePointA(ref.get());
    dump_a = Dump(*ref);
  }
  {
    auto ref = OpenOrDie(dir.Sub("ref_b"));
    WritePointA(ref.get());
    WritePointB(ref.get());
    dump_b = Dump(*ref);
  }
  ASSERT_NE(dump_a, dump_b);
  EXPECT_EQ(Dump(*OpenOrDie(dir.Sub("db"))), dump_b);

  EXPECT_EQ(first.id, 1u);
  EXPECT_EQ(first.backups_in_dir, 1);
  EXPECT_EQ(second.id, 2u);
  EXPECT_EQ(second.backups_in_dir, 2);
  EXPECT_GT(first.timestamp, 1600000000);
  EXPECT_GE(second.timestamp, first.timestamp);
  // Incremental: the second backup copied what changed, not the whole store.
  EXPECT_GT(first.size_bytes, 100000u);
  EXPECT_GT(second.size_bytes, first.size_bytes);
  EXPECT_GT(growth, 0u);
  EXPECT_LT(growth, second.size_bytes / 2) << "second backup " << second.size_bytes
                                           << " bytes, of which new " << growth;

  auto listed = ListBackups(backups);
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].id, 1u);
  EXPECT_EQ((*listed)[0].size_bytes, first.size_bytes);
  EXPECT_EQ((*listed)[1].id, 2u);
  EXPECT_EQ((*listed)[1].backups_in_dir, 2);

  ASSERT_TRUE(RestoreBackup(backups, dir.Sub("latest"), /*backup_id=*/0).ok());
  ASSERT_TRUE(RestoreBackup(backups, dir.Sub("older"), /*backup_id=*/1).ok());
  EXPECT_EQ(Dump(*OpenOrDie(dir.Sub("latest"))), dump_b);
  EXPECT_EQ(Dump(*OpenOrDie(dir.Sub("older"))), dump_a);
}

TEST(Backup, RestoreRefusesAnOpenOrNonEmptyTarget) {
  TempDir dir;
  const std::string backups = dir.Sub("backups");
  auto store = OpenOrDie(dir.Sub("db"));
  WritePointA(store.get());
  const std::string dump = Dump(*store);
  ASSERT_TRUE(store->Backup(backups, 0).ok());

  // The live database: refused, with or without overwrite.
  for (bool overwrite : {false, true}) {
    absl::Status s = RestoreBackup(backups, dir.Sub("db"), 0, overwrite);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("in use")));
  }
  EXPECT_EQ(Dump(*store), dump);

  // Somebody else's files: refused, and never deleted.
  fs::create_directories(dir.Sub("other"));
  std::ofstream(dir.Sub("other/notes.txt")) << "keep me";
  absl::Status s = RestoreBackup(backups, dir.Sub("other"), 0);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("not empty")));
  s = RestoreBackup(backups, dir.Sub("other"), 0, /*overwrite=*/true);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("notes.txt")));
  EXPECT_TRUE(fs::exists(dir.Sub("other/notes.txt")));

  // A closed database that has moved on: replaced only with overwrite.
  ASSERT_TRUE(RestoreBackup(backups, dir.Sub("copy"), 0).ok());
  {
    auto copy = OpenOrDie(dir.Sub("copy"));
    ASSERT_TRUE(copy->DeleteCity("city-0", /*cascade=*/true).ok());
  }
  s = RestoreBackup(backups, dir.Sub("copy"), 0);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("overwrite")));
  ASSERT_TRUE(RestoreBackup(backups, dir.Sub("copy"), 0, /*overwrite=*/true).ok());
  EXPECT_EQ(Dump(*OpenOrDie(dir.Sub("copy"))), dump);
}

// Damage is reported as DATA_LOSS, found by VerifyBackup before the target
// is touched.
TEST(Backup, DamagedBackupIsDataLossAndRestoresNothing) {
  TempDir dir;
  auto store = OpenOrDie(dir.Sub("db"));
  WritePointA(store.get());

  // A flipped byte: same size, wrong checksum.
  const std::string flipped = dir.Sub("flipped");
  ASSERT_TRUE(store->Backup(flipped, 0).ok());
  const std::string victim = LargestSharedFile(flipped);
  ASSERT_FALSE(victim.empty());
  {
    std::fstream f(victim, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(fs::file_size(victim) / 2));
    char c = 0;
    f.get(c);
    f.seekp(static_cast<std::streamoff>(fs::file_size(victim) / 2));
    f.put(static_cast<char>(c ^ 0x55));
  }
  absl::Status s = RestoreBackup(flipped, dir.Sub("target"), 0);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kDataLoss, HasSubstr("hecksum")));
  EXPECT_FALSE(fs::exists(dir.Sub("target")));

  // A truncated file.
  const std::string truncated = dir.Sub("truncated");
  ASSERT_TRUE(store->Backup(truncated, 0).ok());
  fs::resize_file(LargestSharedFile(truncated), 100);
  s = RestoreBackup(truncated, dir.Sub("target"), 0);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_FALSE(fs::exists(dir.Sub("target")));

  // A missing file.
  const std::string missing = dir.Sub("missing");
  ASSERT_TRUE(store->Backup(missing, 0).ok());
  fs::remove(LargestSharedFile(missing));
  s = RestoreBackup(missing, dir.Sub("target"), 1);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_FALSE(fs::exists(dir.Sub("target")));
}

TEST(Backup, KeepLastDeletesTheOldest) {
  TempDir dir;
  auto store = OpenOrDie(dir.Sub("db"));
  WritePointA(store.get());
  const std::string backups = dir.Sub("backups");
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(store->PutCity(MakeCity("extra-" + std::to_string(i))).ok());
    auto b = store->Backup(backups, /*keep_last=*/2);
    ASSERT_TRUE(b.ok()) << b.status();
    EXPECT_EQ(b->id, static_cast<uint32_t>(i + 1));
    EXPECT_EQ(b->backups_in_dir, std::min(i + 1, 2));
  }
  auto listed = ListBackups(backups);
  ASSERT_TRUE(listed.ok()) << listed.status();
  std::vector<uint32_t> ids;
  for (const auto& b : *listed) ids.push_back(b.id);
  EXPECT_THAT(ids, ElementsAre(2u, 3u));
  absl::Status s = RestoreBackup(backups, dir.Sub("target"), 1);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kNotFound, HasSubstr("holds 2, 3")));
}

TEST(Backup, ErrorsNameTheProblem) {
  TempDir dir;
  auto store = OpenOrDie(dir.Sub("db"));
  auto b = store->Backup("", 0);
  EXPECT_THAT(b.status(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("to_dir")));
  b = store->Backup(dir.Sub("backups"), -1);
  EXPECT_THAT(b.status(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("keep_last")));
  b = store->Backup(dir.Sub("db/backups"), 0);
  EXPECT_THAT(b.status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("inside the data directory")));
  std::ofstream(dir.Sub("file")) << "x";
  b = store->Backup(dir.Sub("file"), 0);
  EXPECT_THAT(b.status(), StatusIs(absl::StatusCode::kFailedPrecondition));

  auto listed = ListBackups(dir.Sub("nowhere"));
  EXPECT_THAT(listed.status(), StatusIs(absl::StatusCode::kNotFound));
  fs::create_directories(dir.Sub("empty"));
  listed = ListBackups(dir.Sub("empty"));
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_TRUE(listed->empty());

  absl::Status s = RestoreBackup(dir.Sub("empty"), dir.Sub("target"), 0);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kNotFound, HasSubstr("no backup in")));
  s = RestoreBackup(dir.Sub("nowhere"), dir.Sub("target"), 0);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kNotFound));
  ASSERT_TRUE(store->Backup(dir.Sub("backups"), 0).ok());
  s = RestoreBackup(dir.Sub("backups"), dir.Sub("target"), 7);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kNotFound, HasSubstr("no backup 7")));
  EXPECT_FALSE(fs::exists(dir.Sub("target")));
}

// A backup taken while a writer runs is one point in time: the writer puts
// cases in order, each with its vector in the same batch, so the restored
// store holds a prefix of them, every one with its vector.
TEST(Backup, OnlineBackupIsOnePointInTime) {
  TempDir dir;
  auto store = OpenOrDie(dir.Sub("db"));
  ASSERT_TRUE(store->PutCity(MakeCity("fermo")).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::thread writer([&] {
    std::mt19937 rng(3);
    for (int i = 0; !stop || written < 50; ++i) {
      char id[32];
      std::snprintf(id, sizeof id, "case-%06d", i);
      CaseVector v{0, Blob(&rng, 64)};
      if (!store->PutCase(MakeCase(id, "fermo", &rng), &v).ok()) return;
      written = i + 1;
    }
  });
  while (written < 50) std::this_thread::yield();
  auto b = store->Backup(dir.Sub("backups"), 0);
  stop = true;
  writer.join();
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_TRUE(RestoreBackup(dir.Sub("backups"), dir.Sub("restored"), 0).ok());
  auto restored = OpenOrDie(dir.Sub("restored"));
  int n = 0;
  ASSERT_TRUE(restored->ForEachCase([&](const v1::Case& c) {
    char id[32];
    std::snprintf(id, sizeof id, "case-%06d", n++);
    EXPECT_EQ(c.id(), id);
    EXPECT_TRUE(restored->GetVector(0, c.id()).ok()) << c.id();
    return absl::OkStatus();
  }).ok());
  EXPECT_GE(n, 50);
  EXPECT_LE(n, written.load());
}

}  // namespace
}  // namespace peermatch
