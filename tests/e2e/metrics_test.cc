// --metrics-addr: the Prometheus endpoint of a running batch, scraped with a
// plain socket while a job runs; bad addresses and a port in use.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <csignal>
#include <regex>

#include "harness.h"

namespace headroom::e2e {
namespace {

// GET http://127.0.0.1:port/metrics with one request per connection; the
// whole response (headers and body), "" when nothing answered.
std::string Scrape(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "";
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    std::string request = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if (write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
      char buf[4096];
      for (;;) {
        pollfd ready{fd, POLLIN, 0};
        if (poll(&ready, 1, 5000) <= 0) break;
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n <= 0) break;
        response.append(buf, static_cast<size_t>(n));
      }
    }
  }
  close(fd);
  return response;
}

// The port of "headroom: metrics on http://127.0.0.1:PORT/metrics", or 0.
int PrintedPort(const std::string& err) {
  std::smatch m;
  std::regex line("headroom: metrics on http://127\\.0\\.0\\.1:([0-9]+)/metrics\n");
  return std::regex_search(err, m, line) ? std::atoi(m[1].str().c_str()) : 0;
}

class MetricsTest : public E2eTest {
 protected:
  // A job that waits for the file `go` in the test's directory.
  std::string WaitingJob() {
    return Script("wait.sh", "touch \"" + Path("started_") + "$1\"\nwhile [ ! -e \"" + Path("go") +
                                 "\" ]; do sleep 0.01; done\n");
  }
};

TEST_F(MetricsTest, ScrapedWhileAJobRuns) {
  auto p =
      Start({"run", "-j1", "--metrics-addr", "127.0.0.1:0", "--", WaitingJob(), ":::", "a", "b"});
  ASSERT_TRUE(p->PumpUntil([&] { return PrintedPort(p->err()) > 0; }, 10)) << p->err();
  int port = PrintedPort(p->err());
  ASSERT_TRUE(p->PumpUntil([&] { return FileExists(Path("started_a")); }, 10));

  // The job is running; the scheduler may take a moment to say so.
  std::string response;
  bool seen = p->PumpUntil(
      [&] {
        response = Scrape(port);
        return Contains(response, "\nheadroom_jobs{state=\"running\"} 1\n");
      },
      10);
  EXPECT_TRUE(seen) << response;
  EXPECT_TRUE(StartsWith(response, "HTTP/1.1 200 OK\r\n")) << response;
  EXPECT_TRUE(Contains(response, "\r\nContent-Type: text/plain; version=0.0.4\r\n")) << response;
  EXPECT_TRUE(Contains(response, "\nheadroom_jobs{state=\"queued\"} 1\n")) << response;
  EXPECT_TRUE(Contains(response, "\n# TYPE headroom_job_duration_seconds histogram\n"));
  EXPECT_TRUE(Contains(response, "\nheadroom_host_memory_total_bytes ")) << response;

  WriteFile(Path("go"), "");
  RunResult r = p->Wait(15);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // Nothing listens once the batch is over.
  EXPECT_EQ(Scrape(port), "");
}

// --metrics-linger: after the batch, the endpoint keeps serving its final
// state (a scrape every 15 s would miss it otherwise) until the time is up
// or Ctrl-C; the exit code stays the batch's.
TEST_F(MetricsTest, LingerServesTheFinalStateAfterTheBatch) {
  auto p = Start({"run", "-j2", "--metrics-addr", "127.0.0.1:0", "--metrics-linger", "5m", "--",
                  "sh", "-c", "exit $0", ":::", "0", "3"});
  ASSERT_TRUE(p->PumpUntil([&] { return Contains(p->err(), "serving the final metrics"); }, 30))
      << p->err();
  int port = PrintedPort(p->err());
  ASSERT_GT(port, 0) << p->err();
  std::string response = Scrape(port);
  EXPECT_TRUE(Contains(response, "\nheadroom_jobs_finished_total{outcome=\"succeeded\"} 1\n")) << response;
  EXPECT_TRUE(Contains(response, "\nheadroom_jobs_finished_total{outcome=\"failed\"} 1\n")) << response;
  p->Signal(SIGINT);
  RunResult r = p->Wait(15);
  EXPECT_EQ(r.exit_code, 1) << "the batch's exit code: " << r.err;
  EXPECT_EQ(Scrape(port), "");
}

TEST_F(MetricsTest, LingerWithoutAnEndpointIsAnError) {
  RunResult r = Hr({"run", "--metrics-linger", "30s", "--", "true", ":::", "a"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(Contains(r.err, "--metrics-linger '30s' needs --metrics-addr")) << r.err;
}

#ifdef HEADROOM_SIMGPU_BIN
// On the simulated GPU: one job that always runs out of memory, one that
// waits. While the second runs, the endpoint shows the out-of-memory retry,
// the lowered limit and the device.
TEST_F(MetricsTest, GpuReadingsRetriesAndLimits) {
  WriteFile(Path("sim.json"), "{\"devices\": [{\"name\": \"SimGPU\", \"memory_mib\": 10240}]}");
  std::string bin = HEADROOM_SIMGPU_BIN;
  RunOptions options = Opts();
  options.env.push_back("HEADROOM_GPU_SIM=" + Path("sim.json"));
  std::string job = Script("job.sh", "if [ \"$1\" = big ]; then exec \"" + bin +
                                         "\" alloc --mib 12288 --seconds 5; fi\n"
                                         "while [ ! -e \"" +
                                         Path("go") + "\" ]; do sleep 0.01; done\n");
  auto p = Start({"run", "-j2", "--metrics-addr", ":0", "--oom-retries", "1", "--retry-delay",
                  "0.1s", "--monitor-interval", "50ms", "--", job, ":::", "big", "wait"},
                 options);
  ASSERT_TRUE(p->PumpUntil([&] { return PrintedPort(p->err()) > 0; }, 10)) << p->err();
  int port = PrintedPort(p->err());
  std::string response;
  bool seen = p->PumpUntil(
      [&] {
        response = Scrape(port);
        return Contains(response, "\nheadroom_retries_total{cause=\"oom\"} 1\n");
      },
      10);
  EXPECT_TRUE(seen) << response;
  EXPECT_TRUE(Contains(response, "\nheadroom_concurrency_limit{gpu=\"0\"} 1\n")) << response;
  EXPECT_TRUE(Contains(response, "\nheadroom_retries_total{cause=\"failure\"} 0\n"));
  EXPECT_TRUE(Contains(response,
                       "\nheadroom_gpu_memory_total_bytes{gpu=\"0\",uuid=\"SIM-0\"} "
                       "10737418240\n"))
      << response;
  EXPECT_TRUE(
      Contains(response, "\nheadroom_gpu_temperature_celsius{gpu=\"0\",uuid=\"SIM-0\"} 40\n"))
      << response;
  EXPECT_TRUE(Contains(response, "\nheadroom_gpu_info{gpu=\"0\",uuid=\"SIM-0\",name=\"SimGPU\"} 1\n"))
      << response;
  EXPECT_TRUE(Contains(response, "\nheadroom_build_info{version=\"")) << response;
  EXPECT_TRUE(Contains(response, "\nheadroom_batch_info{batch=\"1\",command=\"")) << response;
  WriteFile(Path("go"), "");
  RunResult r = p->Wait(15);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;  // big ran out of memory for good
}
#endif  // HEADROOM_SIMGPU_BIN

TEST_F(MetricsTest, FromTheEnvironmentWithABarePort) {
  RunOptions options = Opts();
  options.env.push_back("HEADROOM_METRICS_ADDR=:0");
  RunResult r = Hr({"run", "--", "true", ":::", "a"}, options);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GT(PrintedPort(r.err), 0) << r.err;
}

TEST_F(MetricsTest, OffByDefault) {
  RunResult r = Hr({"run", "--", "true", ":::", "a"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(Contains(r.err, "metrics")) << r.err;
}

TEST_F(MetricsTest, BadAddressIsAUsageError) {
  std::string rec = RecorderScript();
  for (const char* bad : {"9464", "127.0.0.1:99999", "::1:9464"}) {
    RunResult r = Hr({"run", "--metrics-addr", bad, "--", rec, ":::", "a"});
    EXPECT_EQ(r.exit_code, 2) << bad;
    ASSERT_EQ(r.ErrLines().size(), 1u) << r.err;
    EXPECT_TRUE(StartsWith(r.err, std::string("headroom: error: --metrics-addr: '") + bad + "'"))
        << r.err;
  }
  EXPECT_TRUE(Recorded().empty());
}

TEST_F(MetricsTest, PortInUseIsAUsageError) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  std::string taken = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));

  std::string rec = RecorderScript();
  RunResult r = Hr({"run", "--metrics-addr", taken, "--", rec, ":::", "a"});
  close(fd);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "headroom: error: --metrics-addr " + taken + ": address in use\n");
  EXPECT_TRUE(Recorded().empty());
}

// --metrics-textfile: the final state stays in a file after headroom ends.
TEST_F(MetricsTest, TheTextfileKeepsTheFinalStateAfterTheBatch) {
  RunResult r = Hr({"run", "--metrics-textfile", Path("headroom.prom"), "--", "true", ":::", "a",
                    "b", "c"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string text = ReadFile(Path("headroom.prom"));
  EXPECT_TRUE(Contains(text, "headroom_jobs_finished_total{outcome=\"succeeded\"} 3\n")) << text;
  EXPECT_TRUE(Contains(text, "headroom_batch_info{batch=\"1\",command=\"true\"} 1\n")) << text;
  r = Hr({"run", "--metrics-textfile", Path("no/such/dir/x.prom"), "--", "true", ":::", "a"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(Contains(r.err, "--metrics-textfile: cannot write beside")) << r.err;
}

}  // namespace
}  // namespace headroom::e2e
