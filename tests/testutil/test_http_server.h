// A one-thread HTTP test server on 127.0.0.1 (ephemeral port) whose answers a handler scripts,
// raw bytes and all: for clients that must cope with servers that fail, stall or lie.
// Thread safety: the handler runs on the server's thread; requests() and last_request() from any.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ironstone::testing {

namespace net = boost::asio;
using tcp = net::ip::tcp;

// Replies the handler can give besides a raw HTTP response.
inline const std::string kHang = "<hang>";    // keep the connection open, never answer
inline const std::string kClose = "<close>";  // close the connection without answering
// Prefix: write the rest of the reply in one write, then keep the connection open (never closed by the server).
inline const std::string kWriteThenHang = "<write-then-hang>";

// One-thread HTTP server: accepts connections one by one (hung ones are parked), reads a request (headers and
// Content-Length body), answers with handler(request, n) where n counts requests from 1.
class TestServer {
 public:
  using Handler = std::function<std::string(const std::string& request, int n)>;

  explicit TestServer(Handler handler) : handler_(std::move(handler)), acceptor_(ioc_) {
    tcp::endpoint ep(net::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { serve(); });
  }
  ~TestServer() {
    stop_ = true;
    boost::system::error_code ec;
    tcp::socket wake(ioc_);
    wake.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_), ec);
    thread_.join();
  }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  int requests() const { return requests_; }
  std::string last_request() const {
    std::lock_guard lock(mutex_);
    return last_;
  }

 private:
  void serve() {
    while (!stop_) {
      tcp::socket socket(ioc_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (ec || stop_) return;
      net::streambuf buf;
      std::size_t header_end = net::read_until(socket, buf, "\r\n\r\n", ec);
      if (ec) continue;
      std::string request(net::buffers_begin(buf.data()), net::buffers_end(buf.data()));
      std::string head = request.substr(0, header_end);
      std::size_t length = 0;
      if (auto p = head.find("Content-Length: "); p != std::string::npos) length = std::stoul(head.substr(p + 16));
      if (request.size() < header_end + length) {
        net::read(socket, buf, net::transfer_exactly(header_end + length - request.size()), ec);
        request.assign(net::buffers_begin(buf.data()), net::buffers_end(buf.data()));
      }
      int n = ++requests_;
      {
        std::lock_guard lock(mutex_);
        last_ = request;
      }
      std::string reply = handler_(request, n);
      if (reply == kHang) {
        hung_.push_back(std::move(socket));  // kept open, unanswered, until the server stops
      } else if (reply.rfind(kWriteThenHang, 0) == 0) {
        net::write(socket, net::buffer(reply.substr(kWriteThenHang.size())), ec);
        hung_.push_back(std::move(socket));
      } else if (reply != kClose) {
        net::write(socket, net::buffer(reply), ec);
      }
    }
  }

  Handler handler_;
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  mutable std::mutex mutex_;
  std::string last_;
  std::vector<tcp::socket> hung_;  // serve() thread only
  std::thread thread_;
};

// A whole HTTP/1.1 response with Content-Length and Connection: close.
inline std::string response(int status, const std::string& reason, const std::string& body,
                     const std::string& extra_headers = "") {
  return "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n" + extra_headers + "Connection: close\r\n\r\n" + body;
}

}  // namespace ironstone::testing
