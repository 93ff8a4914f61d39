#include "report/metrics_server.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "report/metrics.h"

namespace headroom {
namespace {

MetricsAddress Loopback(int port) {
  MetricsAddress address;
  address.port = port;
  return address;
}

std::string ParseError(const std::string& text) {
  MetricsAddress address;
  Status status = ParseMetricsAddress(text, &address);
  EXPECT_FALSE(status.ok()) << text;
  return status.message();
}

MetricsAddress Parsed(const std::string& text) {
  MetricsAddress address;
  address.host = "unset";
  address.port = -1;
  Status status = ParseMetricsAddress(text, &address);
  EXPECT_TRUE(status.ok()) << text << ": " << status.message();
  return address;
}

TEST(ParseMetricsAddressTest, Accepted) {
  EXPECT_EQ(Parsed("127.0.0.1:9464").host, "127.0.0.1");
  EXPECT_EQ(Parsed("127.0.0.1:9464").port, 9464);
  EXPECT_EQ(Parsed(":9464").host, "127.0.0.1");  // loopback unless named
  EXPECT_EQ(Parsed(":0").port, 0);
  EXPECT_EQ(Parsed("0.0.0.0:65535").host, "0.0.0.0");
  EXPECT_EQ(Parsed("0.0.0.0:65535").port, 65535);
  EXPECT_EQ(Parsed("[::1]:9464").host, "::1");
  EXPECT_EQ(Parsed("localhost:1").host, "localhost");
}

TEST(ParseMetricsAddressTest, RejectedWithTheText) {
  EXPECT_EQ(ParseError("9464"), "'9464' is not HOST:PORT: no port (e.g. 127.0.0.1:9464 or :9464)");
  EXPECT_EQ(ParseError("host:"),
            "'host:' is not HOST:PORT: the port must be a number from 0 to 65535 (e.g. "
            "127.0.0.1:9464 or :9464)");
  EXPECT_NE(ParseError("host:65536").find("'host:65536'"), std::string::npos);
  EXPECT_NE(ParseError("host:-1").find("from 0 to 65535"), std::string::npos);
  EXPECT_NE(ParseError("host:94x").find("from 0 to 65535"), std::string::npos);
  EXPECT_NE(ParseError("::1:9464").find("[::1]:9464"), std::string::npos);
  EXPECT_NE(ParseError("[1.2.3.4]:9464").find("brackets are for IPv6"), std::string::npos);
}

class MetricsServerTest : public ::testing::Test {
 protected:
  std::atomic<int> scrapes_{0};
  MetricsServer server_{[this] {
    ++scrapes_;
    return std::string("headroom_jobs{state=\"running\"} 1\n");
  }};
};

TEST_F(MetricsServerTest, ServesMetricsOnAnyFreePort) {
  ASSERT_TRUE(server_.Bind(Loopback(0)).ok());
  ASSERT_GT(server_.port(), 0);
  EXPECT_EQ(server_.Url(), "http://127.0.0.1:" + std::to_string(server_.port()) + "/metrics");
  server_.Start();

  httplib::Client client("127.0.0.1", server_.port());
  httplib::Result result = client.Get("/metrics");
  ASSERT_TRUE(result) << httplib::to_string(result.error());
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->get_header_value("Content-Type"), "text/plain; version=0.0.4");
  EXPECT_EQ(result->body, "headroom_jobs{state=\"running\"} 1\n");
  result = client.Get("/metrics");
  ASSERT_TRUE(result);
  EXPECT_EQ(scrapes_, 2);

  result = client.Get("/");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 404);
  server_.Stop();
  server_.Stop();  // twice is fine
}

// Clients that connect and send half a request must not starve a scrape.
TEST_F(MetricsServerTest, IdleConnectionsDoNotHoldUpAScrape) {
  ASSERT_TRUE(server_.Bind(Loopback(0)).ok());
  server_.Start();
  std::vector<int> idle;
  for (int i = 0; i < 16; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<uint16_t>(server_.port()));
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)), 0);
    ASSERT_EQ(write(fd, "GET /metr", 9), 9);
    idle.push_back(fd);
  }
  httplib::Client client("127.0.0.1", server_.port());
  auto start = std::chrono::steady_clock::now();
  httplib::Result result = client.Get("/metrics");
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(result) << httplib::to_string(result.error());
  EXPECT_EQ(result->status, 200);
  // A server that served connections one at a time would answer only after
  // the 16 idle ones timed out (16 x 0.5 s = 8 s); 3 s leaves room for a
  // loaded machine (a sanitizer build beside a compile took 1.03 s once).
  EXPECT_LT(took, std::chrono::seconds(3));
  for (int fd : idle) close(fd);
  server_.Stop();
}

TEST_F(MetricsServerTest, ServesARealMetricsRendering) {
  Metrics metrics;
  Counts counts;
  counts.total = 3;
  counts.running = 1;
  metrics.OnJobStart(Job(), AttemptStart(), counts);
  MetricsServer server([&metrics] { return metrics.Render(); });
  ASSERT_TRUE(server.Bind(Loopback(0)).ok());
  server.Start();
  httplib::Client client("127.0.0.1", server.port());
  httplib::Result result = client.Get("/metrics");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->body, metrics.Render());
  EXPECT_NE(result->body.find("\nheadroom_jobs{state=\"running\"} 1\n"), std::string::npos);
}

TEST_F(MetricsServerTest, PortInUse) {
  ASSERT_TRUE(server_.Bind(Loopback(0)).ok());
  server_.Start();
  MetricsServer second([] { return std::string(); });
  Status status = second.Bind(Loopback(server_.port()));
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.message(), "address in use");
}

TEST_F(MetricsServerTest, AListenerOfAnotherProgramIsInUseToo) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  Status status = server_.Bind(Loopback(ntohs(addr.sin_port)));
  close(fd);
  EXPECT_EQ(status.message(), "address in use");
}

TEST_F(MetricsServerTest, StopWithoutStartFreesThePort) {
  ASSERT_TRUE(server_.Bind(Loopback(0)).ok());
  int port = server_.port();
  server_.Stop();
  MetricsServer again([] { return std::string(); });
  EXPECT_TRUE(again.Bind(Loopback(port)).ok());
}

TEST_F(MetricsServerTest, UnresolvableHost) {
  MetricsAddress address;
  address.host = "no-such-host.invalid";
  Status status = server_.Bind(address);
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.message().rfind("cannot resolve 'no-such-host.invalid': ", 0), 0u)
      << status.message();
}

TEST_F(MetricsServerTest, AddressNotOnThisMachine) {
  MetricsAddress address;
  address.host = "192.0.2.1";  // TEST-NET-1: never a local address
  Status status = server_.Bind(address);
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.message(), "Cannot assign requested address");
}

}  // namespace
}  // namespace headroom
