#include "store/store.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <random>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

#ifndef PEERMATCH_CRASH_WRITER
#error "PEERMATCH_CRASH_WRITER must name the store_crash_writer binary"
#endif

namespace peermatch {

// In test_support.cc: rewrites the schema key with raw RocksDB.
void SetSchemaVersionForTest(const std::string& path, const std::string& v);
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::City;
using testing::TempDir;
using testing::StatusIs;

// A case whose title and text name it.
v1::Case MakeCase(const std::string& id, const std::string& city,
                  v1::CaseKind kind = v1::CASE_KIND_CHALLENGE) {
  return testing::Case(id, city, kind, "Title of " + id, "Description of " + id,
                       v1::THEME_WORKPLACE);
}

std::unique_ptr<Store> OpenOrDie(const std::string& path) {
  auto s = Store::Open(path);
  EXPECT_TRUE(s.ok()) << s.status();
  return *std::move(s);
}

// Renders everything the store holds for a case as one string.
std::string Dump(const Store& store) {
  std::string out;
  bool more = false;
  auto cities = store.ListCities("", 1000, nullptr, &more);
  for (const auto& c : *cities) out += "city:" + c.id() + ";";
  auto cases = store.ListCases("", "", 1000, nullptr, &more);
  for (const auto& c : *cases) {
    out += "case:" + c.id() + "@" + c.city_id() + ";";
    for (uint64_t v : {0, 1, 2}) {
      auto vec = store.GetVector(v, c.id());
      if (vec.ok()) out += "vec" + std::to_string(v) + ":" + *vec + ";";
    }
  }
  return out;
}

TEST(Store, ReadYourWrites) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  ASSERT_EQ(*store->PutCity(City("fermo")), PutResult::kCreated);
  EXPECT_EQ(store->GetCity("fermo")->name(), "fermo");
  ASSERT_EQ(*store->PutCase(MakeCase("fermo-a", "fermo")), PutResult::kCreated);
  EXPECT_EQ(store->GetCase("fermo-a")->title(), "Title of fermo-a");
  v1::City renamed = City("fermo");
  renamed.set_name("Fermo");
  EXPECT_EQ(*store->PutCity(renamed), PutResult::kUpdated);
  EXPECT_EQ(store->GetCity("fermo")->name(), "Fermo");
}

TEST(Store, IdenticalPutChangesNothing) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  ASSERT_TRUE(store->PutCity(City("turin")).ok());
  EXPECT_EQ(*store->PutCity(City("turin")), PutResult::kUnchanged);
  ASSERT_EQ(*store->PutCase(MakeCase("turin-a", "turin")), PutResult::kCreated);
  EXPECT_EQ(*store->PutCase(MakeCase("turin-a", "turin")), PutResult::kUnchanged);
  CaseVector vec{0, "v0"};
  EXPECT_EQ(*store->PutCase(MakeCase("turin-a", "turin"), &vec), PutResult::kUpdated)
      << "a vector was missing, so the put must write it";
  EXPECT_EQ(*store->PutCase(MakeCase("turin-a", "turin"), &vec), PutResult::kUnchanged);
}

TEST(Store, UnknownIdsAreNotFound) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  EXPECT_THAT(store->GetCity("nowhere"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store->GetCase("nothing"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store->DeleteCase("nothing"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store->DeleteCity("nowhere", true), StatusIs(absl::StatusCode::kNotFound));
}

TEST(Store, CaseForUnknownCityIsRefusedAndWritesNothing) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  const auto r = store->PutCase(MakeCase("ghost-a", "ghost"));
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kNotFound, HasSubstr("case.city_id")));
  EXPECT_EQ(Dump(*store), "");
}

TEST(Store, InvalidRecordWritesNothing) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  ASSERT_TRUE(store->PutCity(City("osan", "KR")).ok());
  ASSERT_TRUE(store->PutCase(MakeCase("osan-a", "osan")).ok());
  const std::string before = Dump(*store);
  v1::Case bad = MakeCase("osan-a", "osan");
  bad.add_sdgs(18);
  CaseVector vec{1, "new"};
  EXPECT_THAT(store->PutCase(bad, &vec), StatusIs(absl::StatusCode::kInvalidArgument));
  v1::City bad_city = City("osan", "KOR");
  EXPECT_THAT(store->PutCity(bad_city), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(Dump(*store), before);
}

TEST(Store, DeleteCaseRemovesVectorsAndIndexEntry) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  ASSERT_TRUE(store->PutCity(City("kashan", "IR")).ok());
  CaseVector vec{0, "vector-bytes"};
  ASSERT_TRUE(store->PutCase(MakeCase("kashan-a", "kashan"), &vec).ok());
  ASSERT_TRUE(store->PutCase(MakeCase("kashan-b", "kashan")).ok());
  EXPECT_EQ(*store->GetVector(0, "kashan-a"), "vector-bytes");
  ASSERT_TRUE(store->DeleteCase("kashan-a").ok());
  EXPECT_THAT(store->GetCase("kashan-a"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store->GetVector(0, "kashan-a"), StatusIs(absl::StatusCode::kNotFound));
  bool more = true;
  auto listed = store->ListCases("kashan", "", 10, nullptr, &more);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].id(), "kashan-b");
  EXPECT_FALSE(more);
}

TEST(Store, ChangingCaseTextDropsStaleVectors) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  ASSERT_TRUE(store->PutCity(City("wuhan", "CN")).ok());
  CaseVector vec{0, "old"};
  ASSERT_TRUE(store->PutCase(MakeCase("wuhan-a", "wuhan"), &vec).ok());
  v1::Case changed = MakeCase("wuhan-a", "wuhan");
  changed.set_title("A new title");
  ASSERT_EQ(*store->PutCase(changed), PutResult::kUpdated);
  EXPECT_THAT(store->GetVector(0, "wuhan-a"), StatusIs(absl::StatusCode::kNotFound));
}

TEST(Store, MovingCaseToAnotherCityMovesIndexEntry) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  ASSERT_TRUE(store->PutCity(City("beijing", "CN")).ok());
  ASSERT_TRUE(store->PutCity(City("shanghai", "CN")).ok());
  ASSERT_TRUE(store->PutCase(MakeCase("c1", "beijing")).ok());
  ASSERT_TRUE(store->PutCase(MakeCase("c1", "shanghai")).ok());
  bool more;
  EXPECT_TRUE(store->ListCases("beijing", "", 10, nullptr, &more)->empty());
  EXPECT_EQ(store->ListCases("shanghai", "", 10, nullptr, &more)->size(), 1u);
  EXPECT_EQ(*store->DeleteCity("beijing", false), 0);
}

TEST(Store, DeleteCityWithCasesNeedsCascade) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  ASSERT_TRUE(store->PutCity(City("manizales", "CO")).ok());
  ASSERT_TRUE(store->PutCity(City("turin")).ok());
  CaseVector vec{0, "v"};
  ASSERT_TRUE(store->PutCase(MakeCase("m-a", "manizales"), &vec).ok());
  ASSERT_TRUE(store->PutCase(MakeCase("m-b", "manizales")).ok());
  ASSERT_TRUE(store->PutCase(MakeCase("t-a", "turin")).ok());
  const std::string before = Dump(*store);
  const auto refused = store->DeleteCity("manizales", false);
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("2 cases")));
  EXPECT_EQ(Dump(*store), before);
  EXPECT_EQ(*store->DeleteCity("manizales", true), 2);
  EXPECT_EQ(Dump(*store), "city:turin;case:t-a@turin;");
}

TEST(Store, ListingPagesInIdOrderWithFilter) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  for (const char* id : {"e", "a", "d", "c", "b"}) ASSERT_TRUE(store->PutCity(City(id)).ok());
  bool more = false;
  auto page = store->ListCities("", 2, nullptr, &more);
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].id(), "a");
  EXPECT_TRUE(more);
  page = store->ListCities("b", 2, nullptr, &more);
  EXPECT_EQ((*page)[0].id(), "c");
  EXPECT_EQ((*page)[1].id(), "d");
  EXPECT_TRUE(more);
  page = store->ListCities("d", 2, nullptr, &more);
  ASSERT_EQ(page->size(), 1u);
  EXPECT_FALSE(more);
  page = store->ListCities("", 10, [](const v1::City& c) { return c.id() > "c"; }, &more);
  EXPECT_EQ(page->size(), 2u);
}

TEST(Store, UnknownSchemaVersionIsRefusedAtOpen) {
  TempDir dir;
  { auto store = OpenOrDie(dir.path()); }
  {
    // Rewrite the schema key as a future release would.
    auto store = OpenOrDie(dir.path());
    ASSERT_TRUE(store->PutCity(City("fermo")).ok());
  }
  // Tamper with the meta column family through RocksDB's own API via a second
  // Store-compatible write: simplest is a raw RocksDB open in the test.
  SetSchemaVersionForTest(dir.path(), "99");
  auto reopened = Store::Open(dir.path());
  EXPECT_THAT(reopened,
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("schema version \"99\"")));
}

TEST(Store, SecondOpenOfSameDirectoryIsUnavailable) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  auto second = Store::Open(dir.path());
  EXPECT_THAT(second, StatusIs(absl::StatusCode::kUnavailable));
}

TEST(Store, ReplicaFollowsTheWriterAndRefusesWrites) {
  TempDir dir;
  auto writer = OpenOrDie(dir.Sub("primary"));
  ASSERT_TRUE(writer->PutCity(City("fermo")).ok());
  auto replica = Store::OpenReplica(dir.Sub("primary"), dir.Sub("replica"));
  ASSERT_TRUE(replica.ok()) << replica.status();
  EXPECT_TRUE((*replica)->read_only());
  EXPECT_TRUE((*replica)->GetCity("fermo").ok());
  ASSERT_TRUE(writer->PutCity(City("turin")).ok());
  ASSERT_TRUE(writer->PutCase(MakeCase("turin-a", "turin")).ok());
  const uint64_t before = (*replica)->LatestSequence();
  ASSERT_TRUE((*replica)->CatchUp().ok());
  EXPECT_GT((*replica)->LatestSequence(), before);
  EXPECT_TRUE((*replica)->GetCity("turin").ok());
  EXPECT_EQ((*replica)->Count()->cases, 1);
  bool more;
  EXPECT_EQ((*replica)->ListCases("turin", "", 10, nullptr, &more)->size(), 1u);
  const auto refused = (*replica)->PutCity(City("osan", "KR"));
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("read replica")));
  EXPECT_THAT(writer->GetCity("osan"), StatusIs(absl::StatusCode::kNotFound));
}

TEST(Store, ModelCommitReplacesOtherVersions) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  ASSERT_TRUE(store->PutCity(City("fermo")).ok());
  CaseVector v1{1, "one"};
  ASSERT_TRUE(store->PutCase(MakeCase("f-a", "fermo"), &v1).ok());
  ASSERT_TRUE(store->CommitModel(1, "model-1").ok());
  ASSERT_TRUE(store->PutStagedVectors(2, {{"f-a", "two"}, {"gone", "x"}}).ok());
  EXPECT_EQ(*store->CurrentModelVersion(), 1u);
  EXPECT_EQ(*store->GetVector(1, "f-a"), "one");
  ASSERT_TRUE(store->CommitModel(2, "model-2").ok());
  EXPECT_EQ(*store->CurrentModelVersion(), 2u);
  EXPECT_EQ(*store->GetModel(2), "model-2");
  EXPECT_THAT(store->GetModel(1), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store->GetVector(1, "f-a"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store->GetVector(2, "gone"), StatusIs(absl::StatusCode::kNotFound));
  std::vector<std::string> ids;
  ASSERT_TRUE(store->ForEachVector(2, [&](absl::string_view id, absl::string_view) {
    ids.emplace_back(id);
    return absl::OkStatus();
  }).ok());
  EXPECT_THAT(ids, ElementsAre("f-a"));
}

// Issue 16: a refit stages a vector for every case; once the model is
// committed they must not stay in the memtable (resident memory grew by them
// refit after refit until the 64 MB write buffer filled).
TEST(Store, ModelCommitLeavesNoStagedVectorsInMemory) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  ASSERT_TRUE(store->PutCity(City("fermo")).ok());
  std::vector<std::pair<std::string, std::string>> staged;
  for (int i = 0; i < 500; ++i) {
    const std::string id = absl::StrCat("f-", i);
    ASSERT_TRUE(store->PutCase(MakeCase(id, "fermo")).ok());
    staged.emplace_back(id, std::string(4096, static_cast<char>('a' + i % 26)));
  }
  ASSERT_TRUE(store->PutStagedVectors(1, staged).ok());
  const uint64_t before = store->MemtableBytes();
  ASSERT_GT(before, 500u * 4096);
  ASSERT_TRUE(store->CommitModel(1, "model-1").ok());
  EXPECT_LT(store->MemtableBytes(), before / 10);
  EXPECT_EQ(*store->GetVector(1, "f-499"), std::string(4096, static_cast<char>('a' + 499 % 26)));
}

TEST(Store, ForEachCaseWithVectorPairsEachCaseWithItsVector) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  ASSERT_TRUE(store->PutCity(City("fermo")).ok());
  CaseVector one{1, "one"}, other{2, "other version"};
  ASSERT_TRUE(store->PutCase(MakeCase("a", "fermo"), &one).ok());
  ASSERT_TRUE(store->PutCase(MakeCase("ab", "fermo")).ok());  // no vector
  ASSERT_TRUE(store->PutCase(MakeCase("b", "fermo"), &other).ok());
  CaseVector empty{1, ""};
  ASSERT_TRUE(store->PutCase(MakeCase("c", "fermo"), &empty).ok());
  ASSERT_TRUE(store->PutStagedVectors(1, {{"b", "b-one"}}).ok());
  std::vector<std::string> seen;
  ASSERT_TRUE(store->ForEachCaseWithVector(1, [&](v1::Case& c, const absl::string_view* v) {
    seen.push_back(absl::StrCat(c.id(), "=", v == nullptr ? "(none)" : *v));
    return absl::OkStatus();
  }).ok());
  EXPECT_THAT(seen, ElementsAre("a=one", "ab=(none)", "b=b-one", "c="));
  // fn's error stops the scan.
  int calls = 0;
  absl::Status s = store->ForEachCaseWithVector(1, [&](v1::Case&, const absl::string_view*) {
    ++calls;
    return absl::AbortedError("stop");
  });
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kAborted));
  EXPECT_EQ(calls, 1);
}

TEST(Store, CountsByKind) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  ASSERT_TRUE(store->PutCity(City("fermo")).ok());
  ASSERT_TRUE(store->PutCase(MakeCase("a", "fermo", v1::CASE_KIND_CHALLENGE)).ok());
  ASSERT_TRUE(store->PutCase(MakeCase("b", "fermo", v1::CASE_KIND_SOLUTION)).ok());
  ASSERT_TRUE(store->PutCase(MakeCase("c", "fermo", v1::CASE_KIND_SOLUTION)).ok());
  auto counts = store->Count();
  EXPECT_EQ(counts->cities, 1);
  EXPECT_EQ(counts->cases, 3);
  EXPECT_EQ(counts->challenges, 1);
  EXPECT_EQ(counts->solutions, 2);
}

// A writer process puts cases one at a time and prints each id once the put
// returned OK. We SIGKILL it at a random moment, then every id it printed
// must be in the reopened store. 20 rounds, fixed seed.
TEST(Store, KilledWriterLosesNoAcknowledgedCase) {
  TempDir dir;
  std::mt19937 rng(20261125);
  std::set<std::string> acknowledged;
  for (int round = 0; round < 20; ++round) {
    int pipe_fds[2];
    ASSERT_EQ(pipe(pipe_fds), 0);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      dup2(pipe_fds[1], STDOUT_FILENO);
      close(pipe_fds[0]);
      execl(PEERMATCH_CRASH_WRITER, PEERMATCH_CRASH_WRITER, dir.path().c_str(),
            std::to_string(round).c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    close(pipe_fds[1]);
    FILE* in = fdopen(pipe_fds[0], "r");
    const int kill_after = std::uniform_int_distribution<int>(1, 150)(rng);
    char line[256];
    int seen = 0;
    while (seen < kill_after && fgets(line, sizeof line, in) != nullptr) {
      std::string id(line);
      if (!id.empty() && id.back() == '\n') id.pop_back();
      acknowledged.insert(id);
      ++seen;
    }
    kill(pid, SIGKILL);
    // Anything already in the pipe was acknowledged before the kill.
    while (fgets(line, sizeof line, in) != nullptr) {
      std::string id(line);
      if (!id.empty() && id.back() == '\n') id.pop_back();
      if (!id.empty()) acknowledged.insert(id);
    }
    fclose(in);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 0))
        << "writer failed in round " << round;

    auto store = Store::Open(dir.path());
    ASSERT_TRUE(store.ok()) << store.status();
    for (const std::string& id : acknowledged) {
      auto c = (*store)->GetCase(id);
      ASSERT_TRUE(c.ok()) << "round " << round << ": acknowledged case " << id << " lost";
      ASSERT_TRUE((*store)->GetVector(0, id).ok()) << "vector of " << id << " lost";
    }
  }
  EXPECT_GT(acknowledged.size(), 20u);
}

}  // namespace
}  // namespace peermatch
