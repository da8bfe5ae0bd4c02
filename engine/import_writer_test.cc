// ImportWriter and Engine::ImportEach (issue 16: group-commit imports), over
// real RocksDB: a bad record changes nothing and leaves its group's other
// records alone, the group size changes nothing but the number of syncs,
// an acknowledged record is durable (a killed import keeps it) and
// matchable.
#include "engine/import_writer.h"

#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/engine.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace peermatch {
namespace {

using ::testing::ElementsAre;
using testing::IsOk;

v1::ImportRecord CityRecord(const std::string& id) {
  v1::ImportRecord r;
  *r.mutable_city() = testing::City(id);
  return r;
}

// Case i of a small corpus in `city`: each about its own pair of words, so a
// question names exactly one case.
v1::ImportRecord CaseRecord(int i, const std::string& city = "fermo") {
  static const char* kWords[] = {"radio",   "tablets", "library", "garden", "bicycles",
                                 "bakery",  "theatre", "harbour", "orchard", "choir",
                                 "museum",  "market",  "tram",    "bridge", "forest"};
  const std::string word = kWords[i % 15];
  v1::ImportRecord r;
  *r.mutable_case_() =
      testing::Solution(absl::StrCat(city, "-case-", i), city, absl::StrCat("The ", word, " ", i),
                        absl::StrCat("Neighbours share the ", word, " every week, case ", i));
  return r;
}

// Every record's outcome as text, by stream index: "created", "unchanged",
// or the error.
using Outcomes = std::map<int, std::string>;

std::string Text(const absl::StatusOr<PutResult>& r) {
  if (!r.ok()) return std::string(r.status().message());
  return *r == PutResult::kCreated ? "created" : *r == PutResult::kUpdated ? "updated" : "unchanged";
}

// Opens a store (synced) and an engine over `dir`, with groups of
// `max_records`.
struct Opened {
  Opened(const std::string& dir, int max_records) {
    auto s = Store::Open(dir);
    EXPECT_TRUE(s.ok()) << s.status();
    store = *std::move(s);
    EngineOptions eo;
    eo.background_refit = false;
    eo.import_group.max_records = max_records;
    eo.import_group.max_wait = absl::InfiniteDuration();  // groups by count only
    auto e = Engine::Open(store.get(), eo);
    EXPECT_TRUE(e.ok()) << e.status();
    engine = *std::move(e);
  }
  ~Opened() { engine.reset(); }
  std::unique_ptr<Store> store;
  std::unique_ptr<Engine> engine;
};

// A stream with bad records inside groups: a case with an SDG that is not
// one, a case of an unknown city, a case updated twice, and a case whose
// city comes earlier in the same group.
std::vector<v1::ImportRecord> MixedStream() {
  std::vector<v1::ImportRecord> out = {CityRecord("fermo")};
  for (int i = 0; i < 12; ++i) out.push_back(CaseRecord(i));
  out[4].mutable_case_()->add_sdgs(18);
  out[7] = CaseRecord(7, "atlantis");
  out.push_back(CaseRecord(2));
  out.back().mutable_case_()->set_title("The library, again");
  out.push_back(CityRecord("wuhan"));
  out.push_back(CaseRecord(20, "wuhan"));
  return out;
}

// Whether `id` is among the cases SimilarCases finds for `text`.
bool Finds(const Engine& engine, const std::string& text, const std::string& id) {
  SimilarQuery q;
  q.about.text = text;
  q.k = 50;
  auto r = engine.SimilarCases(q);
  EXPECT_THAT(r.status(), IsOk());
  if (!r.ok()) return false;
  for (const SimilarCase& c : r->cases.items) {
    if (c.record.id() == id) return true;
  }
  return false;
}

std::string TextOf(const v1::ImportRecord& r) {
  return r.case_().title() + ". " + r.case_().description();
}

struct Imported {
  Outcomes outcomes;
  int64_t commits = 0;
  std::string stored;  // every case id and title, in id order
};

Imported ImportThrough(const std::string& dir, int max_records,
                       const std::vector<v1::ImportRecord>& records) {
  Opened opened(dir, max_records);
  Imported out;
  ImportWriter writer(opened.engine.get(), opened.engine->import_group(),
                      [&](int index, const v1::ImportRecord&, const absl::StatusOr<PutResult>& r) {
                        EXPECT_EQ(out.outcomes.count(index), 0u) << "acknowledged twice";
                        out.outcomes[index] = Text(r);
                      });
  for (size_t i = 0; i < records.size(); ++i) writer.Add(static_cast<int>(i), records[i]);
  writer.Flush();
  out.commits = writer.commits();
  EXPECT_EQ(writer.acknowledged(), static_cast<int64_t>(records.size()));
  EXPECT_THAT(opened.store->ForEachCase([&](const v1::Case& c) {
    absl::StrAppend(&out.stored, c.id(), ": ", c.title(), "\n");
    return absl::OkStatus();
  }), IsOk());
  return out;
}

TEST(ImportWriter, ABadRecordGetsItsOwnErrorAndTheRestOfItsGroupIsWritten) {
  testing::TempDir dir;
  const std::vector<v1::ImportRecord> records = MixedStream();
  Imported got = ImportThrough(dir.Sub("db"), 256, records);
  EXPECT_EQ(got.commits, 1);  // all 16 records in one group: one synced write
  ASSERT_EQ(got.outcomes.size(), records.size());
  EXPECT_THAT(got.outcomes[4], ::testing::HasSubstr("sdgs"));  // fermo-case-3
  EXPECT_EQ(got.outcomes[7],
            "case.city_id: no city with id \"atlantis\"; put the city first");
  EXPECT_EQ(got.outcomes[13], "updated");  // the second write of fermo-case-2
  EXPECT_EQ(got.outcomes[15], "created");  // its city is record 14
  for (int i : {0, 1, 2, 3, 5, 6, 8, 9, 10, 11, 12, 14}) EXPECT_EQ(got.outcomes[i], "created") << i;
  EXPECT_THAT(got.stored, ::testing::Not(::testing::HasSubstr("fermo-case-3:")));
  EXPECT_THAT(got.stored, ::testing::Not(::testing::HasSubstr("atlantis")));
  EXPECT_THAT(got.stored, ::testing::HasSubstr("fermo-case-2: The library, again\n"));
}

TEST(ImportWriter, TheGroupSizeChangesOnlyTheNumberOfSyncs) {
  const std::vector<v1::ImportRecord> records = MixedStream();
  testing::TempDir one, three, all;
  Imported each = ImportThrough(one.Sub("db"), 1, records);
  Imported by3 = ImportThrough(three.Sub("db"), 3, records);
  Imported whole = ImportThrough(all.Sub("db"), 256, records);
  EXPECT_EQ(each.commits, 16);
  EXPECT_EQ(by3.commits, 6);
  EXPECT_EQ(whole.commits, 1);
  EXPECT_EQ(by3.outcomes, each.outcomes);
  EXPECT_EQ(whole.outcomes, each.outcomes);
  EXPECT_EQ(by3.stored, each.stored);
  EXPECT_EQ(whole.stored, each.stored);
}

// Every record that was acknowledged is in the store after the importing
// process dies at once (no close, no flush: as kill -9), and matchable once
// an engine opens the store again.
TEST(ImportWriter, AnImportKilledAfterAnAcknowledgementKeepsEveryAcknowledgedRecord) {
  testing::TempDir dir;
  const std::string db = dir.Sub("db");
  constexpr int kDieAt = 20;  // the stream index acknowledged last
  const pid_t pid = fork();  // before this process starts any RocksDB thread
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    Opened opened(db, 8);
    ImportWriter writer(opened.engine.get(), opened.engine->import_group(),
                        [](int index, const v1::ImportRecord&, const absl::StatusOr<PutResult>& r) {
                          if (!r.ok()) _exit(2);
                          if (index == kDieAt) _exit(0);
                        });
    writer.Add(0, CityRecord("fermo"));
    for (int i = 1; i < 40; ++i) writer.Add(i, CaseRecord(i));
    _exit(3);  // never acknowledged record kDieAt
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;

  Opened reopened(db, 8);
  for (int i = 1; i <= kDieAt; ++i) {
    EXPECT_THAT(reopened.store->GetCase(absl::StrCat("fermo-case-", i)), IsOk()) << i;
  }
  // Matchable once an engine has opened the store again.
  for (int i : {1, 9, kDieAt}) {
    EXPECT_TRUE(Finds(*reopened.engine, TextOf(CaseRecord(i)), absl::StrCat("fermo-case-", i)))
        << i;
  }
}

// Acknowledged records are matchable once the writer's caller publishes,
// without a refit, and the store holds them after a reopen.
TEST(ImportWriter, AcknowledgedRecordsAreMatchableAfterPublishAndDurable) {
  testing::TempDir dir;
  const std::string db = dir.Sub("db");
  {
    Opened opened(db, 4);
    ASSERT_THAT(opened.engine->PutCity(testing::City("fermo")).status(), IsOk());
    for (int i = 0; i < 15; ++i) {  // every word of the cases imported below
      ASSERT_THAT(opened.engine->Apply(CaseRecord(100 + i)).status(), IsOk());
    }
    ASSERT_THAT(opened.engine->Refit(), IsOk());
    std::vector<int> acknowledged;
    ImportWriter writer(opened.engine.get(), opened.engine->import_group(),
                        [&](int index, const v1::ImportRecord&, const absl::StatusOr<PutResult>& r) {
                          EXPECT_THAT(r.status(), IsOk());
                          acknowledged.push_back(index);
                        });
    for (int i = 0; i < 10; ++i) writer.Add(i, CaseRecord(i));
    EXPECT_THAT(acknowledged, ElementsAre(0, 1, 2, 3, 4, 5, 6, 7));  // two groups of 4
    writer.Flush();
    // Deferred until the caller publishes, as the import's reply waits for.
    EXPECT_FALSE(Finds(*opened.engine, TextOf(CaseRecord(5)), "fermo-case-5"));
    opened.engine->Publish();
    for (int i = 0; i < 10; ++i) {
      EXPECT_TRUE(Finds(*opened.engine, TextOf(CaseRecord(i)), absl::StrCat("fermo-case-", i)))
          << i;
    }
  }
  Opened reopened(db, 4);
  for (int i = 0; i < 10; ++i) {
    EXPECT_THAT(reopened.store->GetCase(absl::StrCat("fermo-case-", i)), IsOk()) << i;
  }
}

}  // namespace
}  // namespace peermatch
