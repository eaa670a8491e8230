// Hostile and malformed HTTP: traversal, huge bodies, garbage, slow clients.
// The server answers 4xx, never serves a file outside the store, and keeps serving.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "tests/seeder/seeder_test_util.h"

namespace ironstone::seeder {
namespace {

using namespace ironstone::seeder::testing;
using ironstone::testing::TempDir;
using ironstone::testing::write_text;
namespace fs = std::filesystem;

constexpr const char* kSecret = "TOP-SECRET-OUTSIDE-THE-STORE";

class HttpHostile : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = dir_.path() / "store";
    fs::create_directories(store_ / "releases" / "rpi5" / "1.0");
    fs::create_directories(store_ / "channels" / "rpi5");
    write_text(store_ / "releases" / "rpi5" / "1.0" / "manifest.json", "{}");
    fs::create_directories(dir_.path() / "secret");
    write_text(dir_.path() / "secret" / "manifest.json", kSecret);
    write_text(dir_.path() / "secret.json", kSecret);
    fs::create_symlink(dir_.path() / "secret.json", store_ / "channels" / "rpi5" / "evil.json");
    start(std::chrono::milliseconds(700));
  }
  // (Re)starts the seeder on the store with `request_timeout`.
  void start(std::chrono::milliseconds request_timeout) {
    seeder_.reset();
    SeederConfig config = loopback_config(store_, false);
    config.request_timeout = request_timeout;
    seeder_ = std::make_unique<Seeder>(config);
    seeder_->start();
    port_ = seeder_->http_port();
  }
  // `n` connections that send half a request and then nothing.
  std::vector<boost::asio::ip::tcp::socket> slow_clients(boost::asio::io_context& ioc, int n) {
    namespace net = boost::asio;
    std::vector<net::ip::tcp::socket> slow;
    for (int i = 0; i < n; ++i) {
      slow.emplace_back(ioc);
      slow.back().connect({net::ip::make_address("127.0.0.1"), port_});
      net::write(slow.back(), net::buffer(std::string("GET /v1/releases HTTP/1.1\r\nHost: x\r\n")));
    }
    return slow;
  }

  void expect_refused(const std::string& target) {
    const std::string raw =
        raw_exchange(port_, "GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    const int status = raw_status(raw);
    EXPECT_GE(status, 400) << target;
    EXPECT_LT(status, 500) << target;
    EXPECT_EQ(raw.find(kSecret), std::string::npos) << target;
  }

  TempDir dir_;
  fs::path store_;
  std::unique_ptr<Seeder> seeder_;
  std::uint16_t port_ = 0;
};

TEST_F(HttpHostile, PathTraversalNeverLeavesTheStore) {
  expect_refused("/v1/releases/rpi5/../../secret/manifest.json");
  expect_refused("/v1/releases/rpi5/..%2f..%2fsecret/manifest.json");
  expect_refused("/v1/releases/rpi5/%2e%2e/manifest.json");
  expect_refused("/v1/releases/%2e%2e/%2e%2e/manifest.json");
  expect_refused("/v1/releases/rpi5/1.0/firmware/..%2F..%2F..%2Fsecret.json");
  expect_refused("/v1/releases/rpi5/1.0/firmware/%2e%2e");
  expect_refused("/v1/channels/rpi5/..%2f..%2f..%2fsecret.json");
  expect_refused("/../secret.json");
  expect_refused("//etc/passwd");
  expect_refused("/etc/passwd");
  expect_refused("http://127.0.0.1/../secret.json");
  expect_refused("*");
  expect_refused("/v1/releases/rpi5/1.0/manifest.json%00.txt");
  expect_refused("/v1/releases/rpi5/1.0/%zz");
}

TEST_F(HttpHostile, SymlinkPointingOutOfTheStoreIsNotFollowed) {
  auto r = http_get(port_, "/v1/channels/rpi5/evil.json");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body.find(kSecret), std::string::npos);
}

TEST_F(HttpHostile, BadChunkNamesGet404) {
  const std::string hex(64, 'a');
  expect_refused("/chunks/aa/" + std::string(64, 'A') + ".zst");  // upper case
  expect_refused("/chunks/aa/" + hex.substr(0, 63) + ".zst");     // short
  expect_refused("/chunks/aa/" + hex + "g.zst");
  expect_refused("/chunks/bb/" + hex + ".zst");  // wrong directory
  expect_refused("/chunks/aa/" + hex);           // no suffix
  expect_refused("/chunks/aa/");                 // directory listing
  expect_refused("/chunks/");
}

TEST_F(HttpHostile, HugeBodyGets413) {
  const std::string raw =
      raw_exchange(port_,
                   "POST /v1/nodes/n1/events HTTP/1.1\r\nHost: x\r\n"
                   "Content-Type: application/json\r\nContent-Length: 100000000\r\n\r\n{\"step\":");
  EXPECT_EQ(raw_status(raw), 413);
}

TEST_F(HttpHostile, BodyJustOverTheLimitGets413) {
  std::string body(64 * 1024 + 1, ' ');
  const auto r = http_request(port_, "POST", "/v1/nodes/n1/events", {}, body);
  EXPECT_EQ(r.status, 413);
}

TEST_F(HttpHostile, HugeHeadersGet431) {
  const std::string raw =
      raw_exchange(port_, "GET / HTTP/1.1\r\nHost: x\r\nX-Junk: " + std::string(64 * 1024, 'j') + "\r\n\r\n");
  EXPECT_EQ(raw_status(raw), 431);
}

TEST_F(HttpHostile, MalformedRequestLineGets400AndServerKeepsServing) {
  const std::vector<std::string> garbage_requests = {
      "GARBAGE\r\n\r\n", "GET\r\n\r\n", "GET / HTTP/9.9\r\n\r\n", "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
      std::string("\x16\x03\x01\x02\x00\r\n\r\n", 9)};
  for (const std::string& garbage : garbage_requests) {
    const std::string raw = raw_exchange(port_, garbage);
    EXPECT_EQ(raw_status(raw), 400) << garbage;
  }
  EXPECT_EQ(http_get(port_, "/v1/releases/rpi5/1.0/manifest.json").status, 200);
}

// More slow clients than server threads do not block the others: with a request timeout
// far longer than the test, the requests are served while every slow connection is still
// open (a server blocked behind them would serve them only once it closed those). No
// wall-clock bound: the order of events is what is checked.
TEST_F(HttpHostile, SlowClientsDoNotBlockOthers) {
  start(std::chrono::minutes(10));
  boost::asio::io_context ioc;
  auto slow = slow_clients(ioc, 8);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(http_get(port_, "/v1/releases/rpi5/1.0/manifest.json").status, 200);
  for (auto& s : slow) {
    char buf[256];
    const ssize_t n = ::recv(s.native_handle(), buf, sizeof buf, MSG_DONTWAIT);
    EXPECT_EQ(n, -1) << "a slow connection was answered or closed";
    EXPECT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK) << std::strerror(errno);
  }
  EXPECT_EQ(seeder_->metrics().http->timeouts.load(), 0u);
}

// After the request timeout (700 ms, counted from their connection) the server closes the
// slow connections and counts them.
TEST_F(HttpHostile, SlowClientsAreClosedAfterTheRequestTimeout) {
  const auto start = std::chrono::steady_clock::now();  // before they connect
  boost::asio::io_context ioc;
  auto slow = slow_clients(ioc, 8);
  for (auto& s : slow) {
    timeval tv{30, 0};
    setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[256];
    const ssize_t n = ::recv(s.native_handle(), buf, sizeof buf, 0);
    EXPECT_EQ(n, 0) << "expected the server to close the connection";
  }
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(700));
  EXPECT_TRUE(wait_until([&] { return seeder_->metrics().http->timeouts.load() >= 8u; }));
}

TEST_F(HttpHostile, ManyConcurrentClientsAreAllServed) {
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int i = 0; i < 16; ++i) {
    clients.emplace_back([&] {
      for (int j = 0; j < 10; ++j) {
        if (http_get(port_, "/v1/releases/rpi5/1.0/manifest.json").status == 200) ++ok;
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), 160);
}

}  // namespace
}  // namespace ironstone::seeder
