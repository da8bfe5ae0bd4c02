// Backups end to end. The issue's done-when: "Backup, wipe, restore gives
// identical Match results", through the real binaries: peermatchd serving
// the demo data, `peermatch backup` while it serves, the data directory
// deleted, `peermatch restore`, peermatchd again, the same answers byte for
// byte. Also the offline round trip and CreateBackup's checks over gRPC.

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/store.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/peermatchd_process.h"
#include "tests/testing/run_command.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_server.h"

namespace peermatch {
namespace {

using ::testing::AllOf;
using testing::StatusIs;

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using testing::TempDir;

const std::string kBin = PEERMATCH_BIN_DIR;
const std::string kSrc = PEERMATCH_SOURCE_DIR;

using Result = testing::CommandResult;
using testing::RunCommand;

// build/bin/peermatchd on a data directory, on a free loopback port.
class Peermatchd : public testing::PeermatchdProcess {
 public:
  explicit Peermatchd(const std::string& data_dir)
      : PeermatchdProcess({"--data-dir", data_dir, "--quiet"}) {}
};

std::string DemoImport(const std::string& data_dir) {
  return kBin + "/peermatch import --data-dir " + data_dir + " --file " + kSrc +
         "/data/demo/cities.jsonl --file " + kSrc + "/data/demo/cases.jsonl";
}

// Queries whose --json answers must survive a backup and restore unchanged.
const std::vector<std::string> kQueries = {
    "match \"Since schools closed, many pupils in rural districts have no internet at home\" --k 5",
    "match --case bahir-dar-covid-pupils-offline --max-per-country 1",
    "match \"older adults online\" --region africa --exclude-country EG",
    "match \"family literacy programmes for parents\" --k 10 --only-theme families_communities",
    "similar \"family literacy programmes for parents\" --kind solution",
    "similar --case bahir-dar-covid-pupils-offline --kind challenge",
    "stats",
};

std::vector<std::string> Answers(const std::string& address) {
  std::vector<std::string> out;
  for (const std::string& q : kQueries) {
    Result r = RunCommand(kBin + "/peermatch --server " + address + " --json " + q);
    EXPECT_EQ(r.exit_code, 0) << q << "\n" << r.output;
    out.push_back(r.output);
  }
  return out;
}

// The id of the first peer city in a Match answer in JSON.
std::string FirstCityId(const std::string& json) {
  const std::string key = "\"city\":{\"id\":\"";
  const size_t at = json.find(key);
  if (at == std::string::npos) return "";
  const size_t start = at + key.size();
  return json.substr(start, json.find('"', start) - start);
}

TEST(Backup, BackupWipeRestoreGivesIdenticalMatchResults) {
  TempDir dir;
  const std::string db = dir.Sub("db");
  // Under peermatchd's default backup root, <data-dir>-backups.
  const std::string backups = db + "-backups/nightly";
  ASSERT_EQ(RunCommand(DemoImport(db)).exit_code, 0);

  std::vector<std::string> before;
  {
    Peermatchd server(db);
    ASSERT_FALSE(server.address().empty()) << "peermatchd did not start";
    before = Answers(server.address());
    ASSERT_THAT(before[0], HasSubstr("\"peers\""));
    Result backup = RunCommand(kBin + "/peermatch --server " + server.address() + " backup --to " +
                        backups + " --keep-last 3");
    ASSERT_EQ(backup.exit_code, 0) << backup.output;
    EXPECT_THAT(backup.output, StartsWith("backup 1 in " + backups + ": "));
    EXPECT_THAT(backup.output, HasSubstr("1 backup in the directory"));

    // Changes after the backup, which the restore must undo: the best peer
    // of the first query goes, with its cases.
    const std::string gone = FirstCityId(before[0]);
    ASSERT_FALSE(gone.empty()) << before[0];
    Result deleted = RunCommand(kBin + "/peermatch --server " + server.address() + " cities delete " +
                         gone + " --cascade --yes");
    ASSERT_EQ(deleted.exit_code, 0) << deleted.output;
    Result changed = RunCommand(kBin + "/peermatch --server " + server.address() + " --json " + kQueries[0]);
    EXPECT_NE(changed.output, before[0]);
    ASSERT_TRUE(server.Stop());
  }

  fs::remove_all(db);
  ASSERT_FALSE(fs::exists(db));
  Result restore = RunCommand(kBin + "/peermatch restore --from " + backups + " --data-dir " + db);
  ASSERT_EQ(restore.exit_code, 0) << restore.output;
  EXPECT_THAT(restore.output, StartsWith("restored backup 1 of " + backups));

  Peermatchd server(db);
  ASSERT_FALSE(server.address().empty()) << "peermatchd did not start on the restored data";
  const std::vector<std::string> after = Answers(server.address());
  // Byte for byte, model_version included: the model is stored with the data
  // and nothing changed since the restore, so no refit ran.
  for (size_t i = 0; i < kQueries.size(); ++i) EXPECT_EQ(after[i], before[i]) << kQueries[i];
  EXPECT_TRUE(server.Stop());
}

TEST(Backup, OfflineRoundTripThroughTheCli) {
  TempDir dir;
  const std::string db = dir.Sub("db");
  const std::string backups = dir.Sub("backups");
  ASSERT_EQ(RunCommand(DemoImport(db)).exit_code, 0);

  Result b1 = RunCommand(kBin + "/peermatch backup --to " + backups + " --data-dir " + db);
  ASSERT_EQ(b1.exit_code, 0) << b1.output;
  EXPECT_THAT(b1.output, StartsWith("backup 1 in "));
  Result b2 = RunCommand(kBin + "/peermatch --json backup --to " + backups + " --data-dir " + db);
  ASSERT_EQ(b2.exit_code, 0) << b2.output;
  EXPECT_THAT(b2.output, HasSubstr("\"backupId\":2"));
  Result listed = RunCommand(kBin + "/peermatch backups --dir " + backups);
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_THAT(listed.output, StartsWith("    ID  TAKEN"));
  EXPECT_THAT(listed.output, HasSubstr("\n     1  "));
  EXPECT_THAT(listed.output, HasSubstr("\n     2  "));

  const std::string copy = dir.Sub("copy");
  Result restored = RunCommand(kBin + "/peermatch restore --from " + backups + " --data-dir " + copy +
                        " --backup-id 1");
  ASSERT_EQ(restored.exit_code, 0) << restored.output;
  EXPECT_THAT(restored.output, StartsWith("restored backup 1 of "));
  {
    auto original = Store::Open(db);
    auto restored_store = Store::Open(copy);
    ASSERT_TRUE(original.ok() && restored_store.ok());
    EXPECT_EQ(testing::DumpStore(**restored_store), testing::DumpStore(**original));
  }

  Result again = RunCommand(kBin + "/peermatch restore --from " + backups + " --data-dir " + copy);
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_THAT(again.output, HasSubstr("is not empty"));
  Result overwritten = RunCommand(kBin + "/peermatch restore --from " + backups + " --data-dir " + copy +
                           " --overwrite");
  EXPECT_EQ(overwritten.exit_code, 0) << overwritten.output;
  EXPECT_THAT(overwritten.output, StartsWith("restored backup 2 of "));

  // While a server has the data directory open, offline tools stay out.
  Peermatchd server(db);
  ASSERT_FALSE(server.address().empty());
  Result busy = RunCommand(kBin + "/peermatch backup --to " + backups + " --data-dir " + db);
  EXPECT_EQ(busy.exit_code, 1);
  EXPECT_THAT(busy.output, HasSubstr("another peermatchd"));
  Result busy_restore = RunCommand(kBin + "/peermatch restore --from " + backups + " --data-dir " + db +
                            " --overwrite");
  EXPECT_EQ(busy_restore.exit_code, 1);
  EXPECT_THAT(busy_restore.output, HasSubstr("is in use"));
  EXPECT_TRUE(server.Stop());
}

TEST(Backup, CreateBackupChecksTokensAndArguments) {
  TempDir dir;
  testing::TestServerOptions options;
  options.tokens = true;
  options.backup_root = dir.Sub("root");
  testing::TestServer server(options);
  auto call = [&](const std::string& token, const std::string& to_dir, int keep_last,
                  v1::BackupInfo* info) {
    grpc::ClientContext ctx;
    if (!token.empty()) ctx.AddMetadata("authorization", "Bearer " + token);
    v1::CreateBackupRequest req;
    req.set_to_dir(to_dir);
    req.set_keep_last(keep_last);
    return server.stub().CreateBackup(&ctx, req, info);
  };
  v1::BackupInfo info;
  const std::string to = dir.Sub("root/nightly");
  EXPECT_THAT(call("", to, 0, &info), StatusIs(grpc::StatusCode::UNAUTHENTICATED));
  EXPECT_THAT(call(testing::kReadToken, to, 0, &info),
              StatusIs(grpc::StatusCode::PERMISSION_DENIED));
  grpc::Status s = call(testing::kWriteToken, "", 0, &info);
  EXPECT_THAT(s, StatusIs(grpc::StatusCode::INVALID_ARGUMENT, StartsWith("to_dir: ")));
  s = call(testing::kWriteToken, to, -1, &info);
  EXPECT_THAT(s, StatusIs(grpc::StatusCode::INVALID_ARGUMENT, StartsWith("keep_last: ")));
  EXPECT_FALSE(fs::exists(to));

  v1::City fermo = testing::City("fermo");
  fermo.set_name("Fermo");
  ASSERT_TRUE(server.store().PutCity(fermo).ok());
  s = call(testing::kWriteToken, to, 0, &info);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(info.backup_id(), 1u);
  EXPECT_EQ(info.backups_in_dir(), 1);
  EXPECT_GT(info.size_bytes(), 0);
  EXPECT_GT(info.timestamp(), 0);
  // A relative to_dir is under the root: the same directory.
  s = call(testing::kWriteToken, "nightly", 1, &info);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(info.backup_id(), 2u);
  EXPECT_EQ(info.backups_in_dir(), 1);

  // What the server wrote restores to what it holds.
  ASSERT_TRUE(RestoreBackup(to, dir.Sub("restored"), 0).ok());
  auto restored = Store::Open(dir.Sub("restored"));
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(testing::DumpStore(**restored), testing::DumpStore(server.store()));
}

// CreateBackup writes only under the backup root, and never into a
// directory that holds files it did not write.
TEST(Backup, CreateBackupStaysUnderItsRootAndLeavesForeignFilesAlone) {
  TempDir dir;
  testing::TestServerOptions options;
  options.tokens = true;
  options.backup_root = dir.Sub("root");
  testing::TestServer server(options);
  ASSERT_TRUE(server.store().PutCity(testing::City("fermo")).ok());
  auto call = [&](const std::string& to_dir) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", std::string("Bearer ") + testing::kWriteToken);
    v1::CreateBackupRequest req;
    req.set_to_dir(to_dir);
    v1::BackupInfo info;
    return server.stub().CreateBackup(&ctx, req, &info);
  };
  const std::string outside = dir.Sub("elsewhere");
  EXPECT_THAT(call(outside), StatusIs(grpc::StatusCode::PERMISSION_DENIED,
                                      AllOf(StartsWith("to_dir: "), HasSubstr("outside"))));
  EXPECT_THAT(call("../elsewhere"), StatusIs(grpc::StatusCode::PERMISSION_DENIED,
                                             StartsWith("to_dir: \"../elsewhere\" is outside")));
  EXPECT_THAT(call(dir.Sub("root/a/../../elsewhere")),
              StatusIs(grpc::StatusCode::PERMISSION_DENIED, HasSubstr("outside")));
  EXPECT_THAT(call("/"), StatusIs(grpc::StatusCode::PERMISSION_DENIED, HasSubstr("outside")));
  EXPECT_THAT(call(dir.Sub("root")),
              StatusIs(grpc::StatusCode::PERMISSION_DENIED, HasSubstr("the backup root itself")));
  EXPECT_FALSE(fs::exists(outside));
  // A symbolic link under the root that leads out of it.
  fs::create_directories(dir.Sub("root"));
  fs::create_directories(outside);
  fs::create_directory_symlink(outside, dir.Sub("root/link"));
  EXPECT_THAT(call("link/nightly"), StatusIs(grpc::StatusCode::PERMISSION_DENIED,
                                             HasSubstr("after resolving .. and symbolic links")));
  EXPECT_TRUE(fs::is_empty(outside));

  // A directory under the root that holds someone else's files.
  const std::string foreign = dir.Sub("root/photos");
  fs::create_directories(foreign);
  for (const char* name : {"holiday.jpg", "notes.txt", "LATEST_BACKUP"}) {
    FILE* f = std::fopen((foreign + "/" + name).c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("not peermatch's", f);
    std::fclose(f);
  }
  EXPECT_THAT(call("photos"), StatusIs(grpc::StatusCode::FAILED_PRECONDITION,
                                       AllOf(StartsWith("to_dir: "), HasSubstr("LATEST_BACKUP"))));
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(foreign)) left.push_back(e.path().filename());
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, (std::vector<std::string>{"LATEST_BACKUP", "holiday.jpg", "notes.txt"}));

  // A peermatch backup directory takes more backups; one a stranger wrote
  // into does not.
  ASSERT_TRUE(call("nightly").ok());
  ASSERT_TRUE(call("nightly").ok());
  FILE* planted = std::fopen(dir.Sub("root/nightly/README").c_str(), "w");
  ASSERT_NE(planted, nullptr);
  std::fclose(planted);
  EXPECT_THAT(call("nightly"),
              StatusIs(grpc::StatusCode::FAILED_PRECONDITION, HasSubstr("\"README\"")));
  EXPECT_TRUE(fs::exists(dir.Sub("root/nightly/README")));
  auto backups = ListBackups(dir.Sub("root/nightly"));
  ASSERT_TRUE(backups.ok()) << backups.status();
  EXPECT_EQ(backups->size(), 2u);
}

}  // namespace
}  // namespace peermatch
