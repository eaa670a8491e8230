// The seeder's HTTP/1.1 server on Boost.Beast: many concurrent connections on a
// small thread pool, keep-alive, hard limits against hostile clients.
//
//  - Every request must arrive completely (headers and body) within request_timeout,
//    else the connection is closed: a slow client holds one socket, never a thread.
//  - Headers over header_limit -> 431; a body over body_limit (or its route's BodyRule) -> 413; a malformed
//    request line or header -> 400; each such response closes that connection only.
//  - Over max_connections open connections, new ones get 503 and are closed.
//  - A handler that throws gets a 500 (logged); the server keeps serving.
//
// Lifetime and thread safety: construct, start() once, stop() once (also called by
// the destructor). stop() may be called from any thread except a handler: it stops
// accepting, lets requests in progress finish for up to drain_timeout, then closes
// everything and joins the threads. stats() may be read from any thread.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <string>
#include <thread>
#include <vector>

#include "seeder/http_types.h"

namespace ironstone::seeder {

// A larger body limit and more time for the requests of some routes (pushed releases,
// seeder/routes.h upload_body_rule): chosen from method and target once the header is read.
struct BodyRule {
  std::size_t limit = 0;
  std::chrono::milliseconds timeout{0};  // to receive the whole request, instead of request_timeout
};

struct HttpServerOptions {
  std::string address = "0.0.0.0";
  std::uint16_t port = 8080;  // 0: an ephemeral port, see local_endpoint()
  int threads = 4;
  std::chrono::milliseconds request_timeout{10'000};
  std::chrono::milliseconds write_timeout{300'000};  // one response (a 64 MiB chunk to a slow client)
  std::chrono::milliseconds drain_timeout{5'000};
  std::size_t header_limit = 16 * 1024;
  std::size_t body_limit = 64 * 1024;
  std::size_t max_connections = 2048;
  std::string server_name = "ironstone-seeder";
  // Unset, or nullopt for a request: body_limit and request_timeout. A Content-Length over the
  // limit is refused (413) before any body byte is read.
  std::function<std::optional<BodyRule>(http::verb, std::string_view target)> body_rule;
};

// Counters, updated with relaxed atomics.
struct HttpStats {
  std::atomic<std::uint64_t> connections_total{0};
  std::atomic<std::uint64_t> connections_open{0};
  std::atomic<std::uint64_t> requests_total{0};
  std::atomic<std::uint64_t> responses_by_class[6]{};  // index = status / 100
  std::atomic<std::uint64_t> timeouts{0};
  std::atomic<std::uint64_t> rejected{0};  // 4xx from the server itself (parse errors, limits)
  std::atomic<std::uint64_t> body_bytes_sent{0};
};

namespace detail {
struct HttpShared;
}

class HttpServer {
 public:
  using Dispatch = std::function<Response(const Request&)>;

  HttpServer(HttpServerOptions options, Dispatch dispatch);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens without accepting: local_endpoint() is known, connections wait in
  // the kernel's backlog and no handler runs until start(). Throws Error(Errc::kListen)
  // naming the address. Optional; start() does it when it has not been done.
  void listen();
  // Listens (if not yet), starts accepting and the threads.
  void start();
  void stop();

  boost::asio::ip::tcp::endpoint local_endpoint() const { return endpoint_; }
  const HttpStats& stats() const { return *stats_; }

 private:
  void accept();

  HttpServerOptions options_;
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::ip::tcp::endpoint endpoint_;
  std::shared_ptr<HttpStats> stats_;
  std::shared_ptr<detail::HttpShared> shared_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopped_{false};
  bool listening_ = false;
  bool started_ = false;
};

}  // namespace ironstone::seeder
