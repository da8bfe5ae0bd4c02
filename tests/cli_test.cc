// End to end through the real binaries: `peermatch import` into a data
// directory (twice), `peermatchd` answering the health check, and a clean
// stop on SIGTERM.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "records/case_language.h"
#include "records/records.h"
#include "store/store.h"
#include "tests/testing/run_command.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace peermatch {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using testing::TempDir;
using testing::StatusIs;

const std::string kBin = PEERMATCH_BIN_DIR;
const std::string kSrc = PEERMATCH_SOURCE_DIR;

using Result = testing::CommandResult;
using testing::RunCommand;

std::string DemoImport(const std::string& dir) {
  return kBin + "/peermatch import --data-dir " + dir + " --file " + kSrc +
         "/data/demo/cities.jsonl --file " + kSrc + "/data/demo/cases.jsonl";
}

TEST(Cli, HelpExplainsAndUnknownCommandFails) {
  Result help = RunCommand(kBin + "/peermatch --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.output, HasSubstr("import"));
  Result import_help = RunCommand(kBin + "/peermatch import --help");
  EXPECT_EQ(import_help.exit_code, 0);
  EXPECT_THAT(import_help.output, HasSubstr("--data-dir"));
  Result unknown = RunCommand(kBin + "/peermatch frobnicate");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_THAT(unknown.output, HasSubstr("unknown command"));
  Result bad_flag = RunCommand(kBin + "/peermatch import --bogus 1");
  EXPECT_EQ(bad_flag.exit_code, 2);
  EXPECT_THAT(bad_flag.output, HasSubstr("unknown flag --bogus"));
}

TEST(Cli, DemoDataImportsCleanlyAndTwiceChangesNothing) {
  TempDir dir;
  const std::string db = dir.Sub("db");
  Result first = RunCommand(DemoImport(db));
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_THAT(first.output, HasSubstr("0 unchanged, 0 rejected"));
  Result second = RunCommand(DemoImport(db));
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_THAT(second.output, StartsWith("imported: 0 cities and 0 cases written"));

  auto store = Store::Open(db);
  ASSERT_TRUE(store.ok()) << store.status();
  auto counts = (*store)->Count();
  EXPECT_GE(counts->cities, 80);
  EXPECT_GE(counts->cases, 300);
  EXPECT_GT(counts->challenges, 0);
  EXPECT_GT(counts->solutions, 0);
  // All five regions, and the cities of the COVID-19 webinars.
  std::set<int> regions;
  bool more = false;
  auto cities = (*store)->ListCities("", 10000, nullptr, &more);
  for (const auto& c : *cities) regions.insert(c.region());
  EXPECT_EQ(regions.size(), 5u);
  for (const char* id : {"beijing", "shanghai", "wuhan", "fermo", "turin", "kashan", "manizales",
                         "osan", "sao-paulo"}) {
    EXPECT_TRUE((*store)->GetCity(id).ok()) << id;
  }
}

void WriteFile(const std::string& path, const std::string& text) {
  FILE* f = fopen(path.c_str(), "w");
  std::fputs(text.c_str(), f);
  fclose(f);
}

// Line 1 a good city, 2 blank, 3 a bad city, 4 blank, 5 a case whose SDG is
// out of range, 6 an object that is not a record.
const char kMixed[] =
    R"({"city": {"id": "example-town", "name": "Example Town", "country": "IT", "region": "REGION_EUROPE_NORTH_AMERICA"}})"
    "\n\n"
    R"({"city": {"id": "bad", "name": "Bad", "country": "ITA", "region": "REGION_EUROPE_NORTH_AMERICA"}})"
    "\n   \n"
    R"({"case": {"id": "example-town-radio", "cityId": "example-town", "kind": "CASE_KIND_SOLUTION", "title": "Radio", "description": "Lessons on the radio", "themes": ["THEME_WORKPLACE"], "sdgs": [18]}})"
    "\n"
    R"({"case": {"cityid": "example-town"}})"
    "\n";

TEST(Cli, ImportErrorsNameTheFileTheLineAndTheFieldAndTheRestIsWritten) {
  TempDir dir;
  const std::string file = dir.Sub("in.jsonl");
  WriteFile(file, kMixed);
  Result r = RunCommand(kBin + "/peermatch import --data-dir " + dir.Sub("db") + " --file " + file);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("imported: 1 cities and 0 cases written, 0 unchanged, 3 rejected"));
  EXPECT_THAT(r.output, HasSubstr(file + ":3: city.country: \"ITA\""));
  EXPECT_THAT(r.output, HasSubstr(file + ":5: case.sdgs[0]: 18 is outside 1-17 "
                                         "(example-town-radio, INVALID_ARGUMENT)"));
  EXPECT_THAT(r.output, HasSubstr(file + ":6: not a valid record: (case) cityid: Cannot find field."));
  EXPECT_THAT(r.output, HasSubstr("3 records rejected; the rest is written"));
  auto store = Store::Open(dir.Sub("db"));
  ASSERT_TRUE(store.ok());
  EXPECT_TRUE((*store)->GetCity("example-town").ok());
  EXPECT_THAT((*store)->GetCity("bad"), StatusIs(absl::StatusCode::kNotFound));
}

TEST(Cli, ImportRefusesAFileThatIsNotJsonLinesBeforeWritingAnything) {
  TempDir dir;
  // The README holds a line or two that parse as records (its examples).
  Result r = RunCommand(kBin + "/peermatch import --data-dir " + dir.Sub("db") + " --file " +
                        kSrc + "/README.md");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("/README.md is not JSON Lines: "));
  EXPECT_THAT(r.output, HasSubstr("(the first is line 1: # peermatch). Nothing was imported."));
  auto store = Store::Open(dir.Sub("db"));
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->Count()->cities + (*store)->Count()->cases, 0);
}

TEST(Cli, DryRunAndAllOrNothingWriteNothingWhenARecordIsBad) {
  TempDir dir;
  const std::string file = dir.Sub("in.jsonl");
  WriteFile(file, kMixed);
  const std::string import =
      kBin + "/peermatch import --data-dir " + dir.Sub("db") + " --file " + file;
  Result dry = RunCommand(import + " --dry-run");
  EXPECT_EQ(dry.exit_code, 1);
  EXPECT_THAT(dry.output, HasSubstr("dry run: would write 1 cities and 0 cases, 0 unchanged, "
                                    "3 rejected; nothing was written"));
  EXPECT_THAT(dry.output, HasSubstr(file + ":5: case.sdgs[0]"));
  Result batch = RunCommand(import + " --all-or-nothing");
  EXPECT_EQ(batch.exit_code, 1);
  EXPECT_THAT(batch.output, HasSubstr("nothing written (--all-or-nothing): 3 of 4 records rejected"));
  EXPECT_THAT(batch.output, HasSubstr(file + ":3: city.country"));
  auto store = Store::Open(dir.Sub("db"));
  ASSERT_TRUE(store.ok());
  EXPECT_THAT((*store)->GetCity("example-town"), StatusIs(absl::StatusCode::kNotFound));
  store->reset();
  // The good line alone: the dry run says what would be written, then the
  // batch writes it.
  WriteFile(file, std::string(kMixed).substr(0, std::string(kMixed).find('\n')) + "\n");
  dry = RunCommand(import + " --dry-run");
  EXPECT_EQ(dry.exit_code, 0) << dry.output;
  EXPECT_THAT(dry.output, HasSubstr("dry run: would write 1 cities and 0 cases"));
  batch = RunCommand(import + " --all-or-nothing");
  EXPECT_EQ(batch.exit_code, 0) << batch.output;
  EXPECT_THAT(batch.output, HasSubstr("imported: 1 cities and 0 cases written"));
  store = Store::Open(dir.Sub("db"));
  ASSERT_TRUE(store.ok());
  EXPECT_TRUE((*store)->GetCity("example-town").ok());
}

// What `make serve` runs before it starts the server.
std::string ServeLoad(const std::string& db) {
  return kBin + "/peermatch import --data-dir " + db + " --load-marker demo --file " + kSrc +
         "/data/demo/cities.jsonl --file " + kSrc + "/data/demo/cases.jsonl";
}

TEST(Cli, MakeServeRunsTheLoadThisTestInterrupts) {
  std::FILE* f = std::fopen((kSrc + "/Makefile").c_str(), "r");
  ASSERT_NE(f, nullptr);
  std::string makefile;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, f)) > 0;) makefile.append(buf, n);
  fclose(f);
  EXPECT_THAT(makefile, HasSubstr("bin/peermatch import --data-dir $(DATA_DIR) --load-marker demo \\\n"
                                  "\t  --file data/demo/cities.jsonl --file data/demo/cases.jsonl"));
}

TEST(Cli, AnInterruptedFirstLoadIsCompletedByTheNextOne) {
  TempDir dir;
  const std::string db = dir.Sub("db");
  // The load pauses after 150 of its 472 records (93 cities, then cases);
  // SIGINT then stops it as Ctrl-C stops `make serve`.
  int err[2];
  ASSERT_EQ(pipe(err), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    dup2(err[1], STDERR_FILENO);
    close(err[0]);
    signal(SIGINT, SIG_DFL);  // a background test runner may have ignored it
    setenv("PEERMATCH_IMPORT_PAUSE_AFTER", "150", 1);
    execl("/bin/sh", "sh", "-c", ("exec " + ServeLoad(db) + " >/dev/null").c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(err[1]);
  FILE* in = fdopen(err[0], "r");
  char line[512] = {0};
  ASSERT_NE(fgets(line, sizeof line, in), nullptr);
  EXPECT_THAT(std::string(line), HasSubstr("paused after 150 records"));
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  fclose(in);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGINT);
  {
    auto store = Store::Open(db);
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_EQ((*store)->Count()->cities, 93);
    EXPECT_EQ((*store)->Count()->cases, 57);
    EXPECT_THAT((*store)->GetLoadMarker("demo"), StatusIs(absl::StatusCode::kNotFound));
  }
  // The next start completes the load, and writes the marker.
  Result resumed = RunCommand(ServeLoad(db));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_THAT(resumed.output, HasSubstr("resuming the load \"demo\""));
  EXPECT_THAT(resumed.output, HasSubstr("0 cities and 322 cases written, 150 unchanged, 0 rejected"));
  EXPECT_THAT(resumed.output, HasSubstr("the load \"demo\" is complete"));
  {
    auto store = Store::Open(db);
    ASSERT_TRUE(store.ok());
    EXPECT_EQ((*store)->Count()->cities, 93);
    EXPECT_EQ((*store)->Count()->cases, 379);
    EXPECT_TRUE((*store)->GetLoadMarker("demo").ok());
    // Every demo city and case, as the files have them (a case with the
    // language fields every write sets).
    for (const char* file : {"/data/demo/cities.jsonl", "/data/demo/cases.jsonl"}) {
      absl::Status s = cli::ForEachRecord(
          kSrc + file, [&](int line, absl::StatusOr<v1::ImportRecord> r) {
            EXPECT_TRUE(r.ok()) << line;
            if (r->has_city()) {
              auto got = (*store)->GetCity(r->city().id());
              EXPECT_TRUE(got.ok() && got->SerializeAsString() == r->city().SerializeAsString())
                  << r->city().id();
            } else {
              auto got = (*store)->GetCase(r->case_().id());
              v1::Case expected = r->case_();
              SetCaseLanguage(&expected);
              EXPECT_TRUE(got.ok() && got->SerializeAsString() == expected.SerializeAsString())
                  << r->case_().id();
            }
            return absl::OkStatus();
          });
      EXPECT_TRUE(s.ok()) << s;
    }
  }
  // A finished load is not run again.
  Result again = RunCommand(ServeLoad(db));
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_THAT(again.output, HasSubstr("already holds the load \"demo\""));
  EXPECT_THAT(again.output, HasSubstr("nothing imported"));
  Result old_flag = RunCommand(DemoImport(db) + " --if-empty");
  EXPECT_EQ(old_flag.exit_code, 1);
  EXPECT_THAT(old_flag.output, HasSubstr("replaced by --load-marker NAME"));
}

TEST(Cli, ServerAnswersHealthAndStopsCleanlyOnSigterm) {
  TempDir dir;
  ASSERT_EQ(RunCommand(DemoImport(dir.Sub("db"))).exit_code, 0);
  int out[2];
  ASSERT_EQ(pipe(out), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    const std::string bin = kBin + "/peermatchd";
    const std::string data = dir.Sub("db");
    execl(bin.c_str(), bin.c_str(), "--data-dir", data.c_str(), "--listen", "127.0.0.1:0",
          "--http-listen", "127.0.0.1:0",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  FILE* in = fdopen(out[0], "r");
  char line[512] = {0};
  ASSERT_NE(fgets(line, sizeof line, in), nullptr);
  const std::string first(line);
  ASSERT_THAT(first, HasSubstr("serving peermatch.v1.Peermatch on 127.0.0.1:"));
  const size_t at = first.find("127.0.0.1:");
  const std::string address = first.substr(at, first.find(' ', at) - at);

  Result health = RunCommand(kBin + "/peermatch --server " + address + " health");
  EXPECT_EQ(health.exit_code, 0) << health.output;
  EXPECT_EQ(health.output, "SERVING\n");
  Result stats = RunCommand(kBin + "/peermatch --server " + address + " --json stats");
  EXPECT_EQ(stats.exit_code, 0) << stats.output;
  Result match = RunCommand(kBin + "/peermatch --server " + address +
                            " match \"pupils without internet when schools closed\" --k 3");
  EXPECT_EQ(match.exit_code, 0) << match.output;
  EXPECT_THAT(match.output, HasSubstr(" 1. "));
  EXPECT_THAT(match.output, HasSubstr("shared: "));
  Result exported = RunCommand(kBin + "/peermatch --server " + address + " export --file " +
                               dir.Sub("export.jsonl"));
  EXPECT_EQ(exported.exit_code, 0) << exported.output;
  EXPECT_THAT(exported.output, HasSubstr("exported 93 cities and 379 cases"));

  kill(pid, SIGTERM);
  std::string rest;
  while (fgets(line, sizeof line, in) != nullptr) rest += line;
  fclose(in);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_THAT(rest, HasSubstr("stopped cleanly"));
  // The store was closed: it opens again. The export loads into an equal store.
  Result reimport = RunCommand(kBin + "/peermatch import --data-dir " + dir.Sub("copy") +
                               " --file " + dir.Sub("export.jsonl"));
  ASSERT_EQ(reimport.exit_code, 0) << reimport.output;
  auto original = Store::Open(dir.Sub("db"));
  auto copy = Store::Open(dir.Sub("copy"));
  ASSERT_TRUE(original.ok() && copy.ok());
  auto records = [](Store& store) {
    std::string out;
    bool more;
    const auto cities = store.ListCities("", 1000, nullptr, &more);
    for (const auto& c : *cities) out += c.SerializeAsString();
    EXPECT_TRUE(store.ForEachCase([&](const v1::Case& c) {
      out += c.SerializeAsString();
      return absl::OkStatus();
    }).ok());
    return out;
  };
  EXPECT_EQ(records(**original), records(**copy));
}

TEST(Cli, ServerSaysWhyItCannotUseTheDataDirectory) {
  TempDir dir;
  // Locked by another server.
  ASSERT_EQ(RunCommand(DemoImport(dir.Sub("db"))).exit_code, 0);
  const std::string serve = kBin + "/peermatchd --listen 127.0.0.1:0 --http-listen off --quiet ";
  FILE* first = popen((serve + "--data-dir " + dir.Sub("db") + " 2>&1").c_str(), "r");
  char line[512];
  ASSERT_NE(fgets(line, sizeof line, first), nullptr);  // serving
  Result locked = RunCommand(serve + "--data-dir " + dir.Sub("db"));
  EXPECT_EQ(locked.exit_code, 1);
  EXPECT_THAT(locked.output, HasSubstr("another peermatchd"));
  // Not a directory.
  RunCommand("touch " + dir.Sub("file"));
  Result not_dir = RunCommand(serve + "--data-dir " + dir.Sub("file") + "/db");
  EXPECT_EQ(not_dir.exit_code, 1);
  EXPECT_THAT(not_dir.output, HasSubstr("not a directory"));
  // Not enough free space (asked for more than any disk has).
  Result full = RunCommand(serve + "--data-dir " + dir.Sub("other") + " --min-free-mb 999999999");
  EXPECT_EQ(full.exit_code, 1);
  EXPECT_THAT(full.output, HasSubstr("is full"));
  // A malformed size is refused before anything is opened.
  Result bad_cache = RunCommand(serve + "--data-dir " + dir.Sub("other") + " --reply-cache-mb lots");
  EXPECT_EQ(bad_cache.exit_code, 2);
  EXPECT_THAT(bad_cache.output, HasSubstr("--reply-cache-mb"));
  RunCommand("kill $(pgrep -f 'peermatchd --listen 127.0.0.1:0 --http-listen off --quiet --data-dir " +
             dir.Sub("db") + "')");
  pclose(first);
}

TEST(Cli, UnreachableServerSaysWhatToDo) {
  Result r = RunCommand(kBin + "/peermatch --server 127.0.0.1:1 stats");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("make serve"));
}

}  // namespace
}  // namespace peermatch
