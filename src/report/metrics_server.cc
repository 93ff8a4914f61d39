#include "report/metrics_server.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <httplib.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

namespace headroom {
namespace {

constexpr size_t kWorkers = 24;
constexpr std::chrono::milliseconds kReadTimeout{500};
constexpr std::chrono::seconds kWriteTimeout{2};

constexpr char kContentType[] = "text/plain; version=0.0.4";
constexpr char kDefaultHost[] = "127.0.0.1";

Status NotAnAddress(const std::string& text, const std::string& why) {
  return Status::Error(fmt::format("'{}' is not HOST:PORT{} (e.g. 127.0.0.1:9464 or :9464)", text,
                                   why.empty() ? "" : ": " + why));
}

bool ParsePort(const std::string& text, int* port) {
  if (text.empty() || text.size() > 5) return false;
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  if (value > 65535) return false;
  *port = value;
  return true;
}

// Why `address` cannot be bound: what bind(2) says when tried again here
// (httplib only says that it failed).
Status BindError(const MetricsAddress& address) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  std::string port = std::to_string(address.port);
  int rc = getaddrinfo(address.host.c_str(), port.c_str(), &hints, &found);
  if (rc != 0) {
    return Status::Error(fmt::format("cannot resolve '{}': {}", address.host, gai_strerror(rc)));
  }
  int err = 0;
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      err = errno;
      continue;
    }
    int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    err = bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 ? 0 : errno;
    close(fd);
    if (err != EADDRINUSE) break;
  }
  freeaddrinfo(found);
  if (err == EADDRINUSE) return Status::Error("address in use");
  if (err == 0) return Status::Error("cannot listen there");
  return Status::Error(std::strerror(err));
}

}  // namespace

Status ParseMetricsAddress(const std::string& text, MetricsAddress* address) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos) return NotAnAddress(text, "no port");
  std::string host = text.substr(0, colon);
  MetricsAddress parsed;
  if (!ParsePort(text.substr(colon + 1), &parsed.port)) {
    return NotAnAddress(text, "the port must be a number from 0 to 65535");
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    if (host.find(':') == std::string::npos) return NotAnAddress(text, "brackets are for IPv6");
  } else if (host.find_first_of("[]:") != std::string::npos) {
    return NotAnAddress(text, "write an IPv6 address in brackets: [::1]:9464");
  }
  parsed.host = host.empty() ? kDefaultHost : host;
  *address = parsed;
  return Status::Ok();
}

MetricsServer::MetricsServer(std::function<std::string()> render) : render_(std::move(render)) {}

MetricsServer::~MetricsServer() { Stop(); }

Status MetricsServer::Bind(const MetricsAddress& address) {
  address_ = address;
  done_ = false;
  server_ = std::make_unique<httplib::Server>();
  // Prometheus scrapes every few seconds, but a client that connects and
  // sends nothing (or half a request) holds a worker until the read times
  // out: enough workers and a short timeout that idle connections never
  // starve a scrape.
  server_->new_task_queue = [] { return new httplib::ThreadPool(kWorkers); };
  server_->set_read_timeout(kReadTimeout);
  server_->set_write_timeout(kWriteTimeout);
  // One request per connection: a job spawned while a connection is open
  // inherits its socket (httplib does not accept with SOCK_CLOEXEC), and
  // then it must not hold a keep-alive connection the scraper would reuse.
  server_->set_keep_alive_max_count(1);
  // httplib's default adds SO_REUSEPORT, which would let a second headroom
  // share the port; the listener must not leak into jobs either.
  server_->set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    fcntl(sock, F_SETFD, FD_CLOEXEC);
  });
  server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& response) {
    response.set_content(render_(), kContentType);
  });
  int port = address.port;
  bool ok = port == 0 ? (port = server_->bind_to_any_port(address.host)) > 0
                      : server_->bind_to_port(address.host, port);
  if (!ok) {
    server_.reset();
    return BindError(address);
  }
  port_ = port;
  bound_ = true;
  return Status::Ok();
}

void MetricsServer::Start() {
  if (!bound_ || thread_.joinable()) return;
  thread_ = std::thread([this] {
    server_->listen_after_bind();
    done_ = true;
  });
}

void MetricsServer::Stop() {
  if (!bound_) return;
  // A bound server that never served still holds its socket; serving and
  // stopping at once is how httplib closes it.
  Start();
  // stop() does nothing before the thread marks the server running, which
  // is the first thing it does.
  while (!server_->is_running() && !done_) std::this_thread::yield();
  server_->stop();
  thread_.join();
  server_.reset();
  bound_ = false;
}

std::string MetricsServer::Url() const {
  if (address_.host.find(':') != std::string::npos) {  // IPv6
    return fmt::format("http://[{}]:{}/metrics", address_.host, port_);
  }
  return fmt::format("http://{}:{}/metrics", address_.host, port_);
}

}  // namespace headroom
