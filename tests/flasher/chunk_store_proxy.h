// ChunkStoreProxy: an HTTP front for an in-process seeder whose chunk store goes bad
// while the rest of its API (and its BitTorrent side, not proxied) stays honest. Every
// request but GET /chunks/... is passed to the seeder (swarm::http_send) and its answer
// relayed; a chunk request is answered by the mode:
//   kLie:   200 with the seeder's bytes, every 97th byte flipped (the signed size, wrong data);
//   kStall: nothing, the connection held open until release() or the destructor.
// One request per connection (the flasher's client sends "Connection: close").
// Header-only (tests/CMakeLists.txt globs only *_test.cpp into flasher_tests).
//
// Thread safety: release(), chunk_requests() and url() from any thread; one thread
// accepts, one thread per connection answers; the destructor releases and joins them.
#pragma once

#include <atomic>
#include <boost/asio/buffers_iterator.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "swarm/http_client.h"

namespace ironstone::flasher::testing {

class ChunkStoreProxy {
 public:
  enum class Mode { kLie, kStall };

  ChunkStoreProxy(std::string seeder_url, Mode mode)
      : seeder_(std::move(seeder_url)), mode_(mode), acceptor_(ioc_) {
    namespace net = boost::asio;
    const net::ip::tcp::endpoint ep(net::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(ep.protocol());
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    accepter_ = std::thread([this] { accept(); });
  }
  ~ChunkStoreProxy() {
    stop_ = true;
    release();
    boost::system::error_code ec;
    boost::asio::ip::tcp::socket wake(ioc_);
    wake.connect({boost::asio::ip::make_address("127.0.0.1"), port_}, ec);
    accepter_.join();
    for (auto& t : workers_) t.join();
  }
  ChunkStoreProxy(const ChunkStoreProxy&) = delete;
  ChunkStoreProxy& operator=(const ChunkStoreProxy&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // Ends every stalled chunk request (its connection is closed without an answer).
  void release() {
    {
      std::lock_guard lock(mu_);
      released_ = true;
    }
    cv_.notify_all();
  }
  int chunk_requests() const { return chunk_requests_.load(); }

 private:
  using Socket = boost::asio::ip::tcp::socket;

  void accept() {
    while (!stop_) {
      auto socket = std::make_shared<Socket>(ioc_);
      boost::system::error_code ec;
      acceptor_.accept(*socket, ec);
      if (ec || stop_) return;
      workers_.emplace_back([this, socket] { answer(*socket); });
    }
  }

  // Reads one request (head and Content-Length body) and answers it.
  void answer(Socket& socket) {
    namespace net = boost::asio;
    boost::system::error_code ec;
    net::streambuf buf;
    const std::size_t head_end = net::read_until(socket, buf, "\r\n\r\n", ec);
    if (ec) return;
    std::string request(net::buffers_begin(buf.data()), net::buffers_end(buf.data()));
    const std::string head = request.substr(0, head_end);
    std::size_t length = 0;
    if (auto p = head.find("Content-Length: "); p != std::string::npos) length = std::stoul(head.substr(p + 16));
    if (request.size() < head_end + length) {
      net::read(socket, buf, net::transfer_exactly(head_end + length - request.size()), ec);
      request.assign(net::buffers_begin(buf.data()), net::buffers_end(buf.data()));
    }
    const std::string method = head.substr(0, head.find(' '));
    const std::size_t path_at = head.find(' ') + 1;
    const std::string path = head.substr(path_at, head.find(' ', path_at) - path_at);
    const bool chunk = method == "GET" && path.rfind("/chunks/", 0) == 0;
    if (chunk) ++chunk_requests_;
    if (chunk && mode_ == Mode::kStall) {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return released_; });
      return;
    }
    swarm::HttpResponse r;
    try {
      swarm::RequestOptions o;
      if (auto ct = head.find("Content-Type: "); ct != std::string::npos)
        o.content_type = head.substr(ct + 14, head.find("\r\n", ct) - ct - 14);
      r = swarm::http_send(swarm::parse_url(seeder_ + path), method, request.substr(head_end), o);
    } catch (const std::exception&) {
      return;  // the seeder is gone: the connection closes unanswered
    }
    if (chunk && r.status == 200)
      for (std::size_t i = 0; i < r.body.size(); i += 97) r.body[i] = static_cast<char>(r.body[i] ^ 0x5A);
    std::string reply = "HTTP/1.1 " + std::to_string(r.status) + " " + r.reason + "\r\n";
    if (auto ct = r.header("Content-Type")) reply += "Content-Type: " + *ct + "\r\n";
    reply += "Content-Length: " + std::to_string(r.body.size()) + "\r\nConnection: close\r\n\r\n" + r.body;
    net::write(socket, net::buffer(reply), ec);
  }

  const std::string seeder_;
  const Mode mode_;
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> chunk_requests_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
  std::thread accepter_;
  std::vector<std::thread> workers_;  // touched by the accepting thread only, joined after it
};

}  // namespace ironstone::flasher::testing
