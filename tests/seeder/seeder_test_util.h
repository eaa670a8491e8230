// Helpers for the seeder tests: a blocking HTTP client on real loopback sockets,
// raw socket exchanges for hostile input, and a tiny release store with a v2
// torrent built directly with libtorrent.
// Header-only: tests/CMakeLists.txt globs only *_test.cpp into seeder_tests.
#pragma once

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <filesystem>
#include <gtest/gtest.h>
#include <libtorrent/create_torrent.hpp>
#include <libtorrent/file_storage.hpp>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "manifest/hash.h"
#include "seeder/seeder.h"
#include "tests/testutil/testutil.h"
#include "util/hex.h"

namespace ironstone::seeder::testing {

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// One request on a fresh connection (Connection: close). Throws on socket errors.
inline HttpReply http_request(std::uint16_t port, const std::string& method, const std::string& target,
                              const std::map<std::string, std::string>& headers = {},
                              const std::string& body = {}) {
  namespace net = boost::asio;
  namespace bh = boost::beast::http;
  net::io_context ioc;
  net::ip::tcp::socket socket(ioc);
  socket.connect({net::ip::make_address("127.0.0.1"), port});
  bh::request<bh::string_body> req{bh::string_to_verb(method), target, 11};
  req.set(bh::field::host, "127.0.0.1");
  req.set(bh::field::connection, "close");
  for (const auto& [k, v] : headers) req.set(k, v);
  if (!body.empty() || method == "POST") {
    req.body() = body;
    req.prepare_payload();
  }
  bh::write(socket, req);
  boost::beast::flat_buffer buffer;
  bh::response_parser<bh::string_body> parser;
  parser.body_limit(256 * 1024 * 1024);
  if (method == "HEAD") parser.skip(true);
  bh::read(socket, buffer, parser);
  HttpReply reply;
  reply.status = static_cast<int>(parser.get().result_int());
  for (const auto& f : parser.get()) {
    std::string name(f.name_string());
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    reply.headers[name] = std::string(f.value());
  }
  reply.body = parser.get().body();
  return reply;
}
inline HttpReply http_get(std::uint16_t port, const std::string& target,
                          const std::map<std::string, std::string>& headers = {}) {
  return http_request(port, "GET", target, headers);
}

// Sends `raw` bytes, then reads until the server closes or `timeout` passes.
inline std::string raw_exchange(std::uint16_t port, const std::string& raw,
                                std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  namespace net = boost::asio;
  net::io_context ioc;
  net::ip::tcp::socket socket(ioc);
  socket.connect({net::ip::make_address("127.0.0.1"), port});
  timeval tv{static_cast<time_t>(timeout.count() / 1000),
             static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  boost::system::error_code ec;
  net::write(socket, net::buffer(raw), ec);
  std::string out;
  char buf[4096];
  while (true) {
    const ssize_t n = ::recv(socket.native_handle(), buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

// Status code of the first response in raw bytes ("HTTP/1.1 400 ..."), 0 if none.
inline int raw_status(const std::string& response) {
  if (response.rfind("HTTP/1.1 ", 0) != 0 || response.size() < 12) return 0;
  return std::stoi(response.substr(9, 3));
}

struct TestRelease {
  std::string board;
  std::string version;
  std::vector<std::string> chunk_relpaths;  // "chunks/aa/<hex>.zst"
  std::vector<char> torrent;                // bencoded release.torrent
};

// Writes `count` chunk files of `size` bytes (seeded pseudo-random data) under
// <store>/chunks and a hybrid v1+v2 torrent like publish makes (name "chunks") over exactly those files to
// releases/<board>/<version>/release.torrent (+ a small manifest.json), renaming
// the release directory into place atomically.
inline TestRelease make_release(const std::filesystem::path& store, const std::string& board,
                                const std::string& version, int count, std::size_t size, std::uint64_t seed) {
  namespace fs = std::filesystem;
  ironstone::init_crypto();
  TestRelease r{board, version, {}, {}};
  lt::file_storage files;
  for (int i = 0; i < count; ++i) {
    const auto data = ironstone::testing::pseudo_random(size, seed * 1000 + static_cast<std::uint64_t>(i));
    std::string hex = to_hex(blake2b256(data).bytes);
    const std::string rel = "chunks/" + hex.substr(0, 2) + "/" + hex + ".zst";
    fs::create_directories((store / rel).parent_path());
    ironstone::testing::write_file(store / rel, data);
    r.chunk_relpaths.push_back(rel);
  }
  std::sort(r.chunk_relpaths.begin(), r.chunk_relpaths.end());
  for (const auto& rel : r.chunk_relpaths) files.add_file(rel, static_cast<std::int64_t>(size));
  int piece = 16 * 1024;
  while (static_cast<std::size_t>(piece) < size) piece *= 2;
  lt::create_torrent ct(files, piece, lt::create_flags_t{});
  ct.set_priv(true);
  ct.set_creation_date(0);
  lt::set_piece_hashes(ct, store.string());
  r.torrent = ct.generate_buf();
  const fs::path staging = store / "releases" / board / (".tmp-" + version);
  fs::create_directories(staging);
  ironstone::testing::write_file(staging / "release.torrent",
                                 std::vector<std::uint8_t>(r.torrent.begin(), r.torrent.end()));
  ironstone::testing::write_text(staging / "manifest.json", "{\"board\":\"" + board + "\"}");
  fs::rename(staging, store / "releases" / board / version);
  return r;
}

// Config for an in-process seeder on 127.0.0.1 with ephemeral ports.
inline SeederConfig loopback_config(const std::filesystem::path& store, bool bittorrent) {
  SeederConfig c;
  c.store = store;
  c.http = {"127.0.0.1", 0};
  c.bittorrent = {"127.0.0.1", 0};
  c.enable_bittorrent = bittorrent;
  c.http_threads = 2;
  c.scan_interval = std::chrono::milliseconds(200);
  c.request_timeout = std::chrono::seconds(5);
  return c;
}

// A fixture with a temporary directory and an in-process seeder the test starts with
// start(config) (loopback_config() above); the seeder stops when the fixture goes.
class LoopbackSeederTest : public ::testing::Test {
 protected:
  void start(const SeederConfig& config) {
    seeder_ = std::make_unique<Seeder>(config);
    seeder_->start();
    port_ = seeder_->http_port();
  }
  ironstone::testing::TempDir dir_;
  std::unique_ptr<Seeder> seeder_;
  std::uint16_t port_ = 0;
};

// Polls `pred` every 20 ms until true or `timeout`; returns its last value.
template <class Pred>
bool wait_until(Pred pred, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

}  // namespace ironstone::seeder::testing
