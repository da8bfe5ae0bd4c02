// The `peermatch` tool against a real peermatchd serving the demo data: what
// staff read (pair tables and labels, record views), what scripts read (CSV
// and JSON columns, re-importable records), the confirmation a cascading
// delete asks for, unknown cities, and TLS.
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/testing/peermatchd_process.h"
#include "tests/testing/run_command.h"
#include "tests/testing/temp_dir.h"

namespace peermatch {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::CommandResult;
using testing::RunCommand;
using testing::TempDir;

const std::string kBin = PEERMATCH_BIN_DIR;
const std::string kSrc = PEERMATCH_SOURCE_DIR;

// A peermatchd on a free loopback port over `data_dir`, stopped (SIGTERM)
// when destroyed.
class Daemon : public testing::PeermatchdProcess {
 public:
  Daemon(const std::string& data_dir, const std::vector<std::string>& flags = {})
      : PeermatchdProcess(Flags(data_dir, flags)) {}

 private:
  static std::vector<std::string> Flags(const std::string& data_dir,
                                        const std::vector<std::string>& more) {
    std::vector<std::string> flags = {"--data-dir", data_dir, "--quiet"};
    flags.insert(flags.end(), more.begin(), more.end());
    return flags;
  }
};

void WriteFile(const std::string& path, const std::string& text) {
  FILE* f = fopen(path.c_str(), "w");
  std::fputs(text.c_str(), f);
  fclose(f);
}

const char kExampleTown[] =
    R"({"city": {"id": "example-town", "name": "Example Town", "country": "IT", "region": "REGION_EUROPE_NORTH_AMERICA"}})"
    "\n"
    R"({"case": {"id": "example-town-radio", "cityId": "example-town", "kind": "CASE_KIND_SOLUTION", "title": "Radio lessons", "description": "Lessons on the local radio", "themes": ["THEME_LEARNING_TECHNOLOGIES"]}})"
    "\n"
    R"({"case": {"id": "example-town-offline", "cityId": "example-town", "kind": "CASE_KIND_CHALLENGE", "title": "Pupils offline", "description": "Pupils without internet at home", "themes": ["THEME_LEARNING_TECHNOLOGIES"]}})"
    "\n";

// One server with the demo data for the whole suite (loading it costs a
// few seconds).
class CliOutput : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    CommandResult load = RunCommand(kBin + "/peermatch import --data-dir " + dir_->Sub("db") +
                                    " --file " + kSrc + "/data/demo/cities.jsonl --file " + kSrc +
                                    "/data/demo/cases.jsonl");
    ASSERT_EQ(load.exit_code, 0) << load.output;
    daemon_ = new Daemon(dir_->Sub("db"));
  }
  static void TearDownTestSuite() {
    delete daemon_;
    delete dir_;
  }
  void SetUp() override { ASSERT_FALSE(daemon_->address().empty()); }

  static CommandResult Peermatch(const std::string& args) {
    return RunCommand(kBin + "/peermatch --server " + daemon_->address() + " " + args);
  }
  // Standard output only (stderr dropped).
  static CommandResult Stdout(const std::string& args) {
    return RunCommand("(" + kBin + "/peermatch --server " + daemon_->address() + " " + args +
                      " 2>/dev/null)");
  }

  static TempDir* dir_;
  static Daemon* daemon_;
};
TempDir* CliOutput::dir_ = nullptr;
Daemon* CliOutput::daemon_ = nullptr;

const char kPair[] = "pair --k 3 --capacity 3 --exclude-same-country";

TEST_F(CliOutput, PairTableNamesCitiesLabelsStrengthAndListsCitiesWithFewerPeers) {
  CommandResult r = Stdout(std::string(kPair) + " --format table");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("ASKING CITY"));
  EXPECT_THAT(r.output, HasSubstr("STRENGTH"));
  // The first asking city by id, named, with its country.
  EXPECT_THAT(r.output, HasSubstr("\nAl Rayyan (QA)  "));
  // The figures agree with each other and with the rows (checked against
  // each other, not pinned: they move with every change to the demo data or
  // the model).
  int pairs = 0, asking = 0, with_all = 0, fewer = 0;
  const size_t at = r.output.find("\npairs ");
  ASSERT_NE(at, std::string::npos) << r.output;
  ASSERT_EQ(std::sscanf(r.output.c_str() + at,
                        "\npairs %d, total score %*f; %d of %*d asking cities matched (%d with all",
                        &pairs, &asking, &with_all),
            3)
      << r.output.substr(at);
  const size_t f = r.output.find(" cities got fewer than 3 peers:\n", at);
  ASSERT_NE(f, std::string::npos);
  fewer = std::atoi(r.output.c_str() + r.output.rfind('\n', f) + 1);
  EXPECT_EQ(asking, 87);
  EXPECT_GT(with_all, 70);
  EXPECT_EQ(fewer, asking - with_all);
  // Each city with fewer peers, with the server's reason (issue 12: for
  // those with some peers too, PairingSummary.fewer_peers).
  int reasons = 0, at_capacity = 0;
  for (absl::string_view line : absl::StrSplit(r.output.substr(f), '\n')) {
    const size_t of = line.find(" of 3: ");
    if (of == absl::string_view::npos) continue;
    EXPECT_GT(line.size(), of + 10) << line;
    ++reasons;
    if (absl::StrContains(line, "at capacity (3 askers each)")) ++at_capacity;
  }
  EXPECT_EQ(reasons, fewer);
  EXPECT_GT(at_capacity, 0);
  // Every pair row carries the label its score earns.
  int rows = 0;
  for (absl::string_view line : absl::StrSplit(r.output, '\n')) {
    std::vector<std::string> cells = absl::StrSplit(line.substr(std::min<size_t>(58, line.size())),
                                                    ' ', absl::SkipEmpty());
    double score = 0;
    if (cells.size() < 2 || !absl::SimpleAtod(cells[0], &score)) continue;
    ++rows;
    EXPECT_EQ(cells[1], score >= 4 ? "strong" : score >= 2 ? "good" : "weak") << line;
  }
  EXPECT_EQ(rows, pairs);
}

TEST_F(CliOutput, PairCsvKeepsItsColumnsAndAddsNamesCountriesAndStrengthAtTheEnd) {
  CommandResult r = Stdout(kPair);  // not a terminal: CSV
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.substr(0, r.output.find('\n')),
            "asking_city,peer_city,score,challenge_id,solution_id,challenge_title,solution_title,"
            "lexical,subword,semantic,structure,shared_terms,kept,asking_city_name,asking_country,"
            "peer_city_name,peer_country,strength");
  EXPECT_THAT(r.output, HasSubstr("\nal-rayyan,contagem,4."));
  EXPECT_THAT(r.output, HasSubstr(",no,Al Rayyan,QA,Contagem,BR,strong\n"));
  // The summary and the short list went to stderr, not into the CSV.
  EXPECT_THAT(r.output, Not(HasSubstr("fewer than")));
  CommandResult both = Peermatch(kPair);
  EXPECT_THAT(both.output, HasSubstr(" cities got fewer than 3 peers:"));
}

TEST_F(CliOutput, PairJsonCarriesNamesCountriesStrengthAndTheCitiesWithFewerPeers) {
  CommandResult r = Stdout(std::string(kPair) + " --format json");
  ASSERT_EQ(r.exit_code, 0);
  google::protobuf::Struct json;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.output, &json).ok()) << r.output;
  const auto& pairs = json.fields().at("pairs").list_value().values();
  ASSERT_GT(pairs.size(), 240);
  const auto& first = pairs[0].struct_value().fields();
  EXPECT_EQ(first.at("askingCityId").string_value(), "al-rayyan");
  EXPECT_EQ(first.at("askingCityName").string_value(), "Al Rayyan");
  EXPECT_EQ(first.at("askingCountry").string_value(), "QA");
  EXPECT_EQ(first.at("peerCityName").string_value(), "Contagem");
  EXPECT_EQ(first.at("peerCountry").string_value(), "BR");
  EXPECT_EQ(first.at("strength").string_value(), "strong");
  const auto& summary = json.fields().at("summary").struct_value().fields();
  EXPECT_EQ(summary.at("pairs").number_value(), pairs.size());
  const auto& fewer = json.fields().at("fewerPeers").list_value().values();
  ASSERT_FALSE(fewer.empty());
  EXPECT_FALSE(fewer[0].struct_value().fields().at("cityName").string_value().empty());
  EXPECT_LT(fewer[0].struct_value().fields().at("peers").number_value(), 3);
  // The CLI's list is the server's: the summary's unmatched and fewerPeers.
  std::map<std::string, std::string> server;
  for (const char* list : {"unmatched", "fewerPeers"}) {
    if (summary.count(list) == 0) continue;
    for (const auto& u : summary.at(list).list_value().values()) {
      server[u.struct_value().fields().at("cityId").string_value()] =
          u.struct_value().fields().at("reason").string_value();
    }
  }
  ASSERT_EQ(server.size(), fewer.size());
  for (const auto& u : fewer) {
    const auto& f = u.struct_value().fields();
    EXPECT_EQ(f.at("reason").string_value(), server[f.at("cityId").string_value()]);
  }
}

TEST_F(CliOutput, GetShowsReadableRecordsAndItsJsonImportsBackUnchanged) {
  CommandResult city = Peermatch("cities get fermo");
  ASSERT_EQ(city.exit_code, 0) << city.output;
  EXPECT_EQ(city.output,
            "id            fermo\n"
            "name          Fermo\n"
            "country       IT\n"
            "region        Europe and North America\n"
            "population    37,000\n"
            "languages     it\n");
  CommandResult c = Peermatch("cases get wuhan-covid-air-classroom");
  ASSERT_EQ(c.exit_code, 0) << c.output;
  EXPECT_THAT(c.output, HasSubstr("city          Wuhan (CN) [wuhan]\nkind          solution\n"));
  // Long values wrap under themselves.
  EXPECT_THAT(c.output, HasSubstr("\nthemes        inclusive education, learning technologies, "
                                  "families and\n              communities\n"));

  CommandResult city_json = Stdout("--json cities get fermo");
  CommandResult case_json = Stdout("cases get wuhan-covid-air-classroom --json");
  ASSERT_EQ(city_json.exit_code, 0);
  ASSERT_EQ(case_json.exit_code, 0);
  EXPECT_THAT(city_json.output, HasSubstr("\"population\":37000,"));
  const std::string file = dir_->Sub("records.jsonl");
  WriteFile(file, city_json.output + case_json.output);
  // Identical records: the server finds nothing to write.
  CommandResult back = Peermatch("import --file " + file);
  EXPECT_EQ(back.exit_code, 0) << back.output;
  EXPECT_THAT(back.output, HasSubstr("imported: 0 cities and 0 cases written, 2 unchanged, 0 rejected"));
}

// Issue 13: a match names the language the query was read in and how it
// was chosen, and a match across languages shows its translations.
TEST_F(CliOutput, MatchNamesTheQueryLanguageAndShowsTranslations) {
  const std::string text =
      "\"Jóvenes desempleados necesitan formación profesional y aprendizaje en el trabajo\"";
  CommandResult detected = Stdout("match " + text + " --evidence 1 --k 3");
  ASSERT_EQ(detected.exit_code, 0) << detected.output;
  EXPECT_THAT(detected.output, ::testing::StartsWith("query language: es (detected, confidence 0."));
  EXPECT_THAT(detected.output, HasSubstr("translated: "));
  EXPECT_THAT(detected.output, HasSubstr("formación \u2192 training (peermatch glossary)"));
  CommandResult stated = Stdout("match " + text + " --language es --k 1");
  ASSERT_EQ(stated.exit_code, 0) << stated.output;
  EXPECT_THAT(stated.output, ::testing::StartsWith("query language: es (stated)\n"));
  // Too short to detect: the default, and what detection found.
  CommandResult fallback = Stdout("similar \"Hola\" --k 1");
  ASSERT_EQ(fallback.exit_code, 0) << fallback.output;
  EXPECT_THAT(fallback.output, ::testing::StartsWith("query language: en (default: "));
}

TEST_F(CliOutput, CasesOfAnUnknownCityIsNotFound) {
  CommandResult r = Peermatch("cases --city atlantis");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("no city with id \"atlantis\" (NOT_FOUND)"));
  EXPECT_THAT(r.output, Not(HasSubstr("TITLE")));
}

TEST_F(CliOutput, CascadingDeleteRefusesWithoutYesWhenItCannotAskAndAsksOnATerminal) {
  const std::string file = dir_->Sub("example-town.jsonl");
  WriteFile(file, kExampleTown);
  ASSERT_EQ(Peermatch("import --file " + file).exit_code, 0);

  CommandResult refused = Peermatch("cities delete example-town --cascade < /dev/null");
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_THAT(refused.output, HasSubstr("--cascade would delete city Example Town (IT) "
                                        "[example-town] and its 2 cases; nothing deleted. Add "
                                        "--yes to confirm"));
  EXPECT_EQ(Peermatch("cities get example-town").exit_code, 0);

  // On a terminal it asks; "n" keeps the city.
  auto on_terminal = [&](const std::string& answer) {
    int master = -1;
    const pid_t pid = forkpty(&master, nullptr, nullptr, nullptr);
    if (pid == 0) {
      const std::string bin = kBin + "/peermatch";
      execl(bin.c_str(), bin.c_str(), "--server", daemon_->address().c_str(), "cities", "delete",
            "example-town", "--cascade", static_cast<char*>(nullptr));
      _exit(127);
    }
    std::string seen;
    char buf[512];
    while (seen.find("[y/N]") == std::string::npos) {
      const ssize_t n = read(master, buf, sizeof buf);
      if (n <= 0) break;
      seen.append(buf, static_cast<size_t>(n));
    }
    EXPECT_EQ(write(master, answer.data(), answer.size()), static_cast<ssize_t>(answer.size()));
    for (ssize_t n; (n = read(master, buf, sizeof buf)) > 0;) seen.append(buf, static_cast<size_t>(n));
    int status = 0;
    waitpid(pid, &status, 0);
    close(master);
    return std::make_pair(WIFEXITED(status) ? WEXITSTATUS(status) : -1, seen);
  };
  auto [no_code, no_seen] = on_terminal("n\n");
  EXPECT_THAT(no_seen, HasSubstr("Delete city Example Town (IT) [example-town] and its 2 cases? "
                                 "This cannot be undone. [y/N]"));
  EXPECT_EQ(no_code, 1);
  EXPECT_THAT(no_seen, HasSubstr("nothing deleted"));
  EXPECT_EQ(Peermatch("cities get example-town").exit_code, 0);
  auto [yes_code, yes_seen] = on_terminal("y\n");
  EXPECT_EQ(yes_code, 0) << yes_seen;
  EXPECT_THAT(yes_seen, HasSubstr("deleted city example-town and 2 cases"));
  EXPECT_EQ(Peermatch("cities get example-town").exit_code, 1);

  // --yes deletes without asking; a city without cases needs no --yes.
  ASSERT_EQ(Peermatch("import --file " + file).exit_code, 0);
  CommandResult yes = Peermatch("cities delete example-town --cascade --yes < /dev/null");
  EXPECT_EQ(yes.exit_code, 0) << yes.output;
  EXPECT_THAT(yes.output, HasSubstr("deleted city example-town and 2 cases"));
  WriteFile(file, std::string(kExampleTown).substr(0, std::string(kExampleTown).find('\n') + 1));
  ASSERT_EQ(Peermatch("import --file " + file).exit_code, 0);
  CommandResult empty = Peermatch("cities delete example-town --cascade < /dev/null");
  EXPECT_EQ(empty.exit_code, 0) << empty.output;
  EXPECT_THAT(empty.output, HasSubstr("deleted city example-town and 0 cases"));
}

// A throwaway CA and a certificate it signed for "peermatch.test".
void MakeCertificates(const TempDir& dir) {
  const std::string d = dir.path();
  CommandResult r = RunCommand(
      "cd " + d +
      " && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 "
      "-subj /CN=peermatch-test-ca"
      " && openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr "
      "-subj /CN=peermatch.test"
      " && printf 'subjectAltName=DNS:peermatch.test\\n' > san.ext"
      " && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
      "-out server.pem -days 2 -extfile san.ext");
  ASSERT_EQ(r.exit_code, 0) << "openssl (Debian package openssl, in make deps) failed:\n"
                            << r.output;
}

TEST(CliTls, TalksToATlsServerWithTheCaAndServerNameFromFlagsOrEnvironment) {
  TempDir certs;
  MakeCertificates(certs);
  TempDir data;
  Daemon daemon(data.Sub("db"), {"--tls-cert", certs.Sub("server.pem"), "--tls-key",
                                 certs.Sub("server.key")});
  ASSERT_FALSE(daemon.address().empty());
  const std::string peermatch = kBin + "/peermatch --server " + daemon.address();
  CommandResult flags = RunCommand(peermatch + " --tls-ca " + certs.Sub("ca.pem") +
                                   " --tls-server-name peermatch.test stats");
  EXPECT_EQ(flags.exit_code, 0) << flags.output;
  EXPECT_THAT(flags.output, HasSubstr("cities 0, cases 0"));
  CommandResult env = RunCommand("PEERMATCH_TLS_CA=" + certs.Sub("ca.pem") +
                                 " PEERMATCH_TLS_SERVER_NAME=peermatch.test " + peermatch +
                                 " health");
  EXPECT_EQ(env.exit_code, 0) << env.output;
  EXPECT_EQ(env.output, "SERVING\n");
  // Plain text, or a name the certificate does not hold, fails.
  EXPECT_EQ(RunCommand(peermatch + " stats").exit_code, 1);
  CommandResult wrong_name = RunCommand(peermatch + " --tls-ca " + certs.Sub("ca.pem") +
                                        " --tls-server-name other.test stats");
  EXPECT_EQ(wrong_name.exit_code, 1) << wrong_name.output;
  CommandResult not_a_ca = RunCommand(peermatch + " --tls-ca " + kSrc + "/README.md stats");
  EXPECT_EQ(not_a_ca.exit_code, 2);
  EXPECT_THAT(not_a_ca.output, HasSubstr("--tls-ca: " + kSrc + "/README.md is not a readable PEM"));
}

}  // namespace
}  // namespace peermatch
