// MetricsServer: the HTTP endpoint of --metrics-addr. It serves GET /metrics
// with whatever its render function returns, as Content-Type
// "text/plain; version=0.0.4", from a thread of its own (two workers).
// httplib stays inside metrics_server.cc: it is a heavy header.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "util/status.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace headroom {

struct MetricsAddress {
  std::string host = "127.0.0.1";  // without brackets: "::1", "0.0.0.0", "localhost"
  int port = 0;                    // 0 = any free port
};

// Parses --metrics-addr: "HOST:PORT", ":PORT" (HOST = 127.0.0.1) or
// "[IPV6]:PORT", PORT from 0 to 65535. HOST is resolved only by Bind().
// Error: "'TEXT' is not HOST:PORT ..." naming the text.
Status ParseMetricsAddress(const std::string& text, MetricsAddress* address);

class MetricsServer {
 public:
  // `render` is called on a server thread for each scrape; it must be safe
  // to call from any thread until Stop() returns.
  explicit MetricsServer(std::function<std::string()> render);
  ~MetricsServer();  // Stop()
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Opens the listening socket. Errors (one line, without the option name):
  // "address in use", "cannot resolve 'HOST': ...", or bind(2)'s reason.
  Status Bind(const MetricsAddress& address);

  // Serves on a new thread. The server's threads inherit the caller's
  // signal mask: call it after the ProcessSet exists, so that they never
  // take SIGINT or SIGTERM. REQUIRES: Bind() succeeded.
  void Start();

  // Stops serving and joins the threads; a no-op when never bound.
  void Stop();

  int port() const { return port_; }  // the bound port, also after port 0
  std::string Url() const;            // "http://127.0.0.1:9464/metrics"

 private:
  std::function<std::string()> render_;
  std::unique_ptr<httplib::Server> server_;
  MetricsAddress address_;
  int port_ = 0;
  bool bound_ = false;
  std::thread thread_;
  std::atomic<bool> done_{false};  // the serving thread has returned
};

}  // namespace headroom
