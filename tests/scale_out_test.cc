// Scale-out: the local cluster of deploy/local-cluster (a writer, two read
// replicas, nginx as a gRPC load balancer over the replicas) on free loopback
// ports, started and stopped by its own up/down scripts.
//
// 1. Failover: 2,000 Match calls over about 20 s from 2 client threads go
//    through nginx while one replica is killed with SIGKILL and restarted (by
//    running `up` again). Each call has a deadline and is retried on
//    UNAVAILABLE up to 4 more times; no call may fail.
// 2. Replication delay: cases written to the writer must become visible on
//    every replica, read directly (GetCase, and Match), within 3 s (the
//    replicas catch up every 500 ms). The measured delays are printed.
//
// The cluster is stopped (deploy/local-cluster/down) and its directory
// removed when the test ends, also when it fails; if the test process dies
// (a crash, a ctest timeout), a detached watchdog process does it.
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "peermatch/v1/peermatch.grpc.pb.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/run_command.h"
#include "tests/testing/temp_dir.h"

#ifndef PEERMATCH_BIN_DIR
#error "PEERMATCH_BIN_DIR must name the directory of the built binaries"
#endif

namespace peermatch {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

const std::string kBin = PEERMATCH_BIN_DIR;
const std::string kSource = PEERMATCH_SOURCE_DIR;

// The load and the bounds.
constexpr int kClientThreads = 2;
constexpr int kCallsPerThread = 1000;             // 2,000 calls in all
constexpr auto kTrafficDuration = std::chrono::seconds(20);
constexpr auto kKillAt = std::chrono::seconds(5);  // into the traffic
constexpr auto kRestartAt = std::chrono::seconds(8);
constexpr auto kCallDeadline = milliseconds(3000);
constexpr int kMaxAttempts = 5;                   // 1 + 4 retries on UNAVAILABLE
constexpr int kReplicationProbes = 5;
constexpr auto kReplicationBound = milliseconds(3000);
constexpr auto kGiveUp = milliseconds(15000);     // stop polling a replica after this

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }
double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

using Output = testing::CommandResult;
using testing::RunCommand;

// Free loopback ports, chosen by the kernel (all held open until all are
// chosen, so that they differ).
std::vector<int> FreePorts(int n) {
  std::vector<int> fds, ports;
  for (int i = 0; i < n; ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "cannot find a free loopback port";
      return {};
    }
    fds.push_back(fd);
    ports.push_back(ntohs(addr.sin_port));
  }
  for (int fd : fds) close(fd);
  return ports;
}

// A local cluster in a temporary directory, on free ports; stopped and removed
// on destruction.
class LocalCluster {
 public:
  LocalCluster() {
    const std::vector<int> ports = FreePorts(4);
    if (ports.size() != 4) return;
    writer_port_ = ports[0];
    replica_ports_ = {ports[1], ports[2]};
    lb_port_ = ports[3];
    // Only this test's settings: no tokens or nginx from the caller's environment.
    env_ = absl::StrCat(
        "env -u PEERMATCH_TOKENS_FILE -u PEERMATCH_WRITE_TOKEN -u PEERMATCH_READ_TOKEN",
        " -u PEERMATCH_TOKEN -u PEERMATCH_TLS_CERT -u PEERMATCH_TLS_KEY -u PEERMATCH_CLUSTER_NGINX",
        " PEERMATCH_CLUSTER_DIR=", dir_.path(), " PEERMATCH_BIN_DIR=", kBin,
        " PEERMATCH_CLUSTER_WRITER_PORT=", writer_port_, " PEERMATCH_CLUSTER_WRITER_HTTP=off",
        " PEERMATCH_CLUSTER_REPLICA_PORTS='", replica_ports_[0], " ", replica_ports_[1], "'",
        " PEERMATCH_CLUSTER_LB_PORT=", lb_port_, " PEERMATCH_CLUSTER_REFRESH_MS=500 ");
    StartWatchdog();
  }
  ~LocalCluster() {
    if (!env_.empty()) {
      Output down = Down();
      if (down.exit_code != 0) ADD_FAILURE() << "down failed:\n" << down.output;
    }
  }
  LocalCluster(const LocalCluster&) = delete;
  LocalCluster& operator=(const LocalCluster&) = delete;

  bool ok() const { return !env_.empty(); }
  Output Up() { return RunCommand(env_ + kSource + "/deploy/local-cluster/up"); }
  Output Down() { return RunCommand(env_ + kSource + "/deploy/local-cluster/down"); }

  std::string writer() const { return absl::StrCat("127.0.0.1:", writer_port_); }
  std::string replica(int i) const { return absl::StrCat("127.0.0.1:", replica_ports_[i]); }
  std::string balancer() const { return absl::StrCat("127.0.0.1:", lb_port_); }
  int replica_port(int i) const { return replica_ports_[i]; }
  std::string Path(const std::string& rel) const { return dir_.Sub(rel); }

  // The PID that `up` recorded for a member (replica-1, ...), 0 when none.
  pid_t Pid(const std::string& name) const {
    std::ifstream in(dir_.Sub("run/" + name + ".pid"));
    long pid = 0;
    in >> pid;
    return static_cast<pid_t>(pid);
  }

 private:
  // A detached process (outside this process's tree, so that a ctest timeout
  // that kills the tree does not kill it) that waits for this process to end
  // -- end of file on a pipe whose only writer is this process -- and then
  // stops the cluster and removes its directory. After a normal end it finds
  // nothing left to do.
  void StartWatchdog() {
    const std::string script = absl::StrCat(env_, kSource, "/deploy/local-cluster/down; rm -rf '",
                                            dir_.path(), "'");
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return;
    const pid_t child = fork();
    if (child == 0) {
      // Only async-signal-safe calls from here to exec.
      setsid();
      if (fork() != 0) _exit(0);
      const int null = open("/dev/null", O_RDWR);
      dup2(null, 0);
      dup2(null, 1);
      dup2(null, 2);
      for (int fd = 3; fd < 1024; ++fd) {
        if (fd != fds[0]) close(fd);
      }
      char c;
      for (;;) {
        const ssize_t r = read(fds[0], &c, 1);
        if (r == 0 || (r < 0 && errno != EINTR)) break;
      }
      execl("/bin/bash", "bash", "-c", script.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    close(fds[0]);
    if (child > 0) waitpid(child, nullptr, 0);
    // fds[1] stays open (close-on-exec) until this process ends.
  }

  testing::TempDir dir_;
  int writer_port_ = 0;
  std::vector<int> replica_ports_;
  int lb_port_ = 0;
  std::string env_;
};

std::unique_ptr<v1::Peermatch::Stub> Stub(const std::string& address) {
  return v1::Peermatch::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
}

bool Serving(const std::string& address) {
  auto stub = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
  grpc::health::v1::HealthCheckRequest req;
  grpc::health::v1::HealthCheckResponse resp;
  return stub->Check(&ctx, req, &resp).ok() &&
         resp.status() == grpc::health::v1::HealthCheckResponse::SERVING;
}

// Lines of nginx's access log from byte `from` on:
// "TIME URI STATUS upstream=A[, B] upstream_status=S[, S] ...".
std::vector<std::string> AccessLog(const LocalCluster& cluster, std::streamoff from = 0) {
  std::ifstream in(cluster.Path("log/nginx-access.log"));
  in.seekg(from);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}
std::streamoff AccessLogSize(const LocalCluster& cluster) {
  std::ifstream in(cluster.Path("log/nginx-access.log"), std::ios::ate);
  return in ? static_cast<std::streamoff>(in.tellg()) : 0;
}

const char* const kQueries[] = {
    "Since schools closed, many pupils in rural districts have no internet at home",
    "older adults are isolated and cannot use online public services",
    "young people leave school without skills that employers need",
    "migrant families do not find adult language courses",
    "family literacy programmes for parents",
};

TEST(ScaleOut, NoFailedCallsWhileAReplicaIsKilledAndReplicasCatchUpWithinABound) {
  LocalCluster cluster;
  ASSERT_TRUE(cluster.ok());
  {
    Output up = cluster.Up();
    ASSERT_EQ(up.exit_code, 0) << up.output;
    std::printf("%s", up.output.c_str());
  }
  ASSERT_TRUE(Serving(cluster.balancer()));
  const pid_t killed_pid = cluster.Pid("replica-1");
  ASSERT_GT(killed_pid, 0);

  // --- 1. Failover ----------------------------------------------------------
  std::atomic<int> ok_first_try{0}, ok_after_retry{0}, failed{0}, unavailable_attempts{0};
  std::mutex mu;
  std::vector<std::string> failures;
  std::vector<double> latencies_ms;
  const Clock::time_point start = Clock::now();
  auto client = [&](int thread) {
    auto stub = Stub(cluster.balancer());
    std::vector<double> mine;
    for (int i = 0; i < kCallsPerThread; ++i) {
      // Evenly paced: call i of each thread at i * 20 ms.
      std::this_thread::sleep_until(start + milliseconds(kTrafficDuration) * i / kCallsPerThread);
      v1::MatchRequest req;
      req.set_text(kQueries[(i + thread) % std::size(kQueries)]);
      req.set_k(5);
      const Clock::time_point call_start = Clock::now();
      grpc::Status status;
      int attempt = 0;
      for (; attempt < kMaxAttempts; ++attempt) {
        if (attempt > 0) std::this_thread::sleep_for(milliseconds(100 * attempt));
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + kCallDeadline);
        v1::MatchResponse resp;
        status = stub->Match(&ctx, req, &resp);
        if (status.ok() && resp.peers_size() == 0) {
          status = grpc::Status(grpc::StatusCode::INTERNAL, "an empty answer");
        }
        if (status.error_code() != grpc::StatusCode::UNAVAILABLE) break;
        ++unavailable_attempts;
      }
      mine.push_back(Ms(Clock::now() - call_start));
      if (status.ok()) {
        ++(attempt == 0 ? ok_first_try : ok_after_retry);
      } else {
        ++failed;
        std::lock_guard<std::mutex> lock(mu);
        failures.push_back(absl::StrCat("thread ", thread, " call ", i, " at ",
                                        Seconds(call_start - start), " s: code ",
                                        status.error_code(), " ", status.error_message()));
      }
    }
    std::lock_guard<std::mutex> lock(mu);
    latencies_ms.insert(latencies_ms.end(), mine.begin(), mine.end());
  };
  std::vector<std::thread> clients;
  for (int t = 0; t < kClientThreads; ++t) clients.emplace_back(client, t);

  std::this_thread::sleep_until(start + kKillAt);
  // Our own process (started by up above), by the PID file up wrote. (No
  // ASSERT while the client threads run: they must be joined.)
  EXPECT_EQ(kill(killed_pid, SIGKILL), 0);
  const double killed_at = Seconds(Clock::now() - start);
  std::this_thread::sleep_until(start + kRestartAt);
  Output restart = cluster.Up();  // starts what is not running: replica-1
  const double restarted_at = Seconds(Clock::now() - start);
  const std::streamoff log_at_restart = AccessLogSize(cluster);
  for (auto& t : clients) t.join();
  const double traffic_s = Seconds(Clock::now() - start);

  EXPECT_EQ(restart.exit_code, 0) << restart.output;
  const pid_t restarted_pid = cluster.Pid("replica-1");
  EXPECT_NE(restarted_pid, killed_pid);
  EXPECT_TRUE(Serving(cluster.replica(0)));

  std::sort(latencies_ms.begin(), latencies_ms.end());
  auto pct = [&](double p) {
    return latencies_ms.empty() ? 0.0 : latencies_ms[static_cast<size_t>(p * (latencies_ms.size() - 1))];
  };
  // What nginx saw: calls it passed to a second replica, and calls answered
  // by the restarted replica after its restart.
  int nginx_failovers = 0, to_restarted = 0, matches_logged = 0;
  for (const std::string& line : AccessLog(cluster)) {
    if (line.find("/peermatch.v1.Peermatch/Match") == std::string::npos) continue;
    ++matches_logged;
    if (line.find("upstream=") != std::string::npos &&
        line.find(", ", line.find("upstream=")) < line.find(" upstream_status=")) {
      ++nginx_failovers;
    }
  }
  const std::string restarted_addr = "upstream=" + cluster.replica(0);
  for (const std::string& line : AccessLog(cluster, log_at_restart)) {
    if (line.find("/peermatch.v1.Peermatch/Match") != std::string::npos &&
        line.find(restarted_addr) != std::string::npos) {
      ++to_restarted;
    }
  }
  std::printf(
      "\nfailover: %d Match calls through nginx (%s) from %d threads in %.1f s; replica-1 "
      "(pid %d) SIGKILLed at %.1f s, restarted by `up` (pid %d) and healthy at %.1f s\n"
      "  ok on the first attempt: %d, ok after client retries: %d, failed: %d "
      "(UNAVAILABLE attempts retried: %d)\n"
      "  latency per call incl. retries: p50 %.1f ms, p99 %.1f ms, max %.1f ms\n"
      "  nginx: %d Match requests logged, %d passed on to the other replica after an error; "
      "%d answered by the restarted replica after its restart\n",
      kClientThreads * kCallsPerThread, cluster.balancer().c_str(), kClientThreads, traffic_s,
      killed_pid, killed_at, restarted_pid, restarted_at, ok_first_try.load(),
      ok_after_retry.load(), failed.load(), unavailable_attempts.load(), pct(0.5), pct(0.99),
      latencies_ms.empty() ? 0.0 : latencies_ms.back(), matches_logged, nginx_failovers,
      to_restarted);
  {
    // nginx's own account of the failover (errors and warnings only).
    std::ifstream in(cluster.Path("log/nginx-error.log"));
    int shown = 0;
    for (std::string line; std::getline(in, line) && shown < 12; ++shown) {
      std::printf("  nginx: %s\n", line.substr(0, 240).c_str());
    }
  }
  EXPECT_EQ(failed.load(), 0) << absl::StrJoin(failures, "\n");
  EXPECT_EQ(ok_first_try + ok_after_retry, kClientThreads * kCallsPerThread);
  // The balancer takes the restarted replica back (passive health: after
  // fail_timeout) -- when the traffic went on long enough after the restart.
  if (traffic_s - restarted_at > 8.0) {
    EXPECT_GT(to_restarted, 0) << "nginx never sent a call to the restarted replica";
  }

  // --- 2. Replication delay -------------------------------------------------
  auto writer = Stub(cluster.writer());
  const std::vector<std::string> replicas = {cluster.replica(0), cluster.replica(1)};
  {
    // A city of its own (no demo city is in Iceland), so that a Match
    // filtered to IS finds only the probe cases.
    v1::PutCityRequest req;
    *req.mutable_city() = testing::City("scale-out-probe-city", "IS");
    req.mutable_city()->set_name("Probe City");
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::PutCityResponse resp;
    grpc::Status s = writer->PutCity(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  struct Delay {
    double get_ms = -1, match_ms = -1;
  };
  std::vector<std::vector<Delay>> delays(kReplicationProbes, std::vector<Delay>(replicas.size()));
  for (int probe = 0; probe < kReplicationProbes; ++probe) {
    const std::string id = absl::StrCat("scale-out-probe-", probe);
    const std::string description = absl::StrCat(
        "Probe ", probe, ": a floating library boat brings evening reading circles to the fjord "
        "villages, and volunteers teach seafarers digital skills on board.");
    v1::PutCaseRequest req;
    *req.mutable_case_() =
        testing::Solution(id, "scale-out-probe-city", absl::StrCat("Library boat ", probe),
                          description, v1::THEME_CULTURE_OF_LEARNING);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::PutCaseResponse resp;
    grpc::Status s = writer->PutCase(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    const Clock::time_point written = Clock::now();  // acknowledged by the writer

    std::vector<std::thread> pollers;
    for (size_t r = 0; r < replicas.size(); ++r) {
      pollers.emplace_back([&, r] {
        auto stub = Stub(replicas[r]);
        Delay& d = delays[probe][r];
        while ((d.get_ms < 0 || d.match_ms < 0) && Clock::now() - written < kGiveUp) {
          if (d.get_ms < 0) {
            grpc::ClientContext gctx;
            gctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
            v1::GetCaseRequest get;
            get.set_id(id);
            v1::Case got;
            if (stub->GetCase(&gctx, get, &got).ok()) d.get_ms = Ms(Clock::now() - written);
          }
          if (d.match_ms < 0) {
            grpc::ClientContext mctx;
            mctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
            v1::MatchRequest match;
            match.set_text(description);
            match.mutable_filters()->add_countries("IS");
            match.set_evidence_per_city(10);
            v1::MatchResponse answer;
            if (stub->Match(&mctx, match, &answer).ok()) {
              for (const auto& peer : answer.peers()) {
                for (const auto& e : peer.evidence()) {
                  if (e.case_id() == id) d.match_ms = Ms(Clock::now() - written);
                }
              }
            }
          }
          std::this_thread::sleep_for(milliseconds(10));
        }
      });
    }
    for (auto& t : pollers) t.join();
  }
  std::printf("\nreplication delay: a case written to the writer (%s), until visible on each "
              "replica read directly (refresh 500 ms; bound %.0f ms):\n",
              cluster.writer().c_str(), Ms(kReplicationBound));
  double worst = 0;
  for (int probe = 0; probe < kReplicationProbes; ++probe) {
    std::printf("  probe %d:", probe);
    for (size_t r = 0; r < replicas.size(); ++r) {
      const Delay& d = delays[probe][r];
      std::printf("  replica-%zu GetCase %6.0f ms, Match %6.0f ms;", r + 1, d.get_ms, d.match_ms);
      EXPECT_GE(d.get_ms, 0) << "probe " << probe << " never visible (GetCase) on " << replicas[r];
      EXPECT_GE(d.match_ms, 0) << "probe " << probe << " never visible (Match) on " << replicas[r];
      EXPECT_LE(d.get_ms, Ms(kReplicationBound)) << "probe " << probe << " on " << replicas[r];
      EXPECT_LE(d.match_ms, Ms(kReplicationBound)) << "probe " << probe << " on " << replicas[r];
      worst = std::max({worst, d.get_ms, d.match_ms});
    }
    std::printf("\n");
  }
  std::printf("  worst: %.0f ms\n", worst);
  std::fflush(stdout);
}

}  // namespace
}  // namespace peermatch
