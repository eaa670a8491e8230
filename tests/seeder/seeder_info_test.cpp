// GET /v1/info: the seeder's identity and ports, as the flasher reads them
// (flasher/seeder_client.cpp info(): an integer "bt_port", absent when off).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <optional>
#include <thread>

#include "seeder/errc.h"
#include "tests/testutil/expect_error.h"
#include "tests/seeder/seeder_test_util.h"

namespace ironstone::seeder {
namespace {

using namespace ironstone::seeder::testing;
using ironstone::testing::TempDir;
namespace fs = std::filesystem;

TEST(SeederInfo, HttpOnlySeederHasNoBitTorrentPort) {
  TempDir dir;
  make_release(dir.path(), "rpi5", "1.0", 1, 1024, 1);
  make_release(dir.path(), "rock5b", "2.0", 1, 1024, 2);
  Seeder seeder(loopback_config(dir.path(), false));
  seeder.start();
  const auto r = http_get(seeder.http_port(), "/v1/info");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("content-type"), "application/json");
  const auto doc = nlohmann::json::parse(r.body);
  EXPECT_EQ(doc["name"], "ironstone-seeder");
  EXPECT_EQ(doc["version"], IRONSTONE_VERSION);
  EXPECT_EQ(doc["http_port"], seeder.http_port());
  EXPECT_EQ(doc["base_url"], seeder.base_url());
  EXPECT_EQ(doc["releases"], 2);
  EXPECT_FALSE(doc.contains("bt_port")) << r.body;
  EXPECT_EQ(doc["upload_limit"], 0);
  EXPECT_EQ(doc["super_seed"], false);
  EXPECT_EQ(doc["auto_super_seed"], false);  // no BitTorrent side
  EXPECT_EQ(http_request(seeder.http_port(), "HEAD", "/v1/info").status, 200);
  EXPECT_EQ(http_request(seeder.http_port(), "POST", "/v1/info").status, 405);
}

TEST(SeederInfo, ReportsTheBitTorrentPortAsTheFlasherParsesIt) {
  TempDir dir;
  make_release(dir.path(), "rpi5", "1.0", 1, 1024, 3);
  auto config = loopback_config(dir.path(), true);
  config.upload_limit = 5'000'000;
  config.super_seed = true;
  Seeder seeder(config);
  seeder.start();
  const auto r = http_get(seeder.http_port(), "/v1/info");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto doc = nlohmann::json::parse(r.body);
  ASSERT_NE(seeder.bittorrent_port(), 0);
  // What flasher/seeder_client.cpp does with it:
  ASSERT_TRUE(doc.contains("bt_port") && doc["bt_port"].is_number_integer()) << r.body;
  EXPECT_EQ(doc["bt_port"].get<int>(), seeder.bittorrent_port());
  EXPECT_EQ(doc["releases"], 1);
  EXPECT_EQ(doc["upload_limit"], 5'000'000);
  EXPECT_EQ(doc["super_seed"], true);
  EXPECT_EQ(doc["auto_super_seed"], false);  // always on instead
}

TEST(SeederInfo, SuperSeedingIsOffByDefaultWithBitTorrent) {
  TempDir dir;
  make_release(dir.path(), "rpi5", "1.0", 1, 1024, 3);
  Seeder seeder(loopback_config(dir.path(), true));
  seeder.start();
  const auto doc = nlohmann::json::parse(http_get(seeder.http_port(), "/v1/info").body);
  ASSERT_TRUE(doc.contains("bt_port"));
  EXPECT_EQ(doc["super_seed"], false);
  EXPECT_EQ(doc["auto_super_seed"], false);  // it would defeat the flashers' stripes
}

// A free port: bind an ephemeral one, then close it.
std::uint16_t free_port() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor a(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

TEST(SeederInfo, InfoAskedAsSoonAsThePortIsBoundIsAlreadyComplete) {
  // A client that connects the moment the port is bound must not be answered before the base URL and the
  // BitTorrent side are set (the handler read both while start() was still writing them: a data race and,
  // in practice, an answer with an empty base_url and no bt_port).
  TempDir dir;
  make_release(dir.path(), "rpi5", "1.0", 1, 1024, 3);
  auto config = loopback_config(dir.path(), true);
  config.http.port = free_port();
  Seeder seeder(config);
  std::thread starter([&] { seeder.start(); });
  std::optional<HttpReply> first;
  for (int i = 0; i < 20000 && !first; ++i) {  // bounded: connect attempts until the port is bound
    try {
      first = http_get(config.http.port, "/v1/info");
    } catch (const std::exception&) {
      std::this_thread::yield();
    }
  }
  starter.join();
  ASSERT_TRUE(first) << "the seeder's port never answered";
  ASSERT_EQ(first->status, 200) << first->body;
  const auto doc = nlohmann::json::parse(first->body);
  EXPECT_EQ(doc["base_url"], seeder.base_url()) << first->body;
  EXPECT_NE(doc["base_url"], "") << first->body;
  ASSERT_TRUE(doc.contains("bt_port")) << first->body;
  EXPECT_EQ(doc["bt_port"].get<int>(), seeder.bittorrent_port());
}

TEST(SeederInfo, EmptyStoreHasZeroReleases) {
  TempDir dir;
  Seeder seeder(loopback_config(dir.path(), false));
  seeder.start();
  const auto doc = nlohmann::json::parse(http_get(seeder.http_port(), "/v1/info").body);
  EXPECT_EQ(doc["releases"], 0);
}

TEST(ParseRate, AcceptsBytesBinaryUnitsAndBits) {
  EXPECT_EQ(parse_rate("0", "--upload-limit"), 0);
  EXPECT_EQ(parse_rate("2000000", "--upload-limit"), 2'000'000);
  EXPECT_EQ(parse_rate("12M", "--upload-limit"), 12 * 1024 * 1024);
  EXPECT_EQ(parse_rate("12MiB/s", "--upload-limit"), 12 * 1024 * 1024);
  EXPECT_EQ(parse_rate("512k", "--upload-limit"), 512 * 1024);
  EXPECT_EQ(parse_rate("1.5G", "--upload-limit"), 1536 * 1024 * 1024);
  EXPECT_EQ(parse_rate("100mbit", "--upload-limit"), 12'500'000);
  EXPECT_EQ(parse_rate("100Mbps", "--upload-limit"), 12'500'000);
  EXPECT_EQ(parse_rate("1gbit/s", "--upload-limit"), 125'000'000);
  EXPECT_EQ(parse_rate("800kbit", "--upload-limit"), 100'000);
}

TEST(ParseRate, RejectsGarbageWithTheFlagName) {
  for (const char* bad : {"", "fast", "-1", "12X", "1e3", "3G", "M", "1..2M", "0.1bit"}) {
    try {
      parse_rate(bad, "--upload-limit");
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), make_error_code(Errc::kConfig)) << bad;
      EXPECT_NE(std::string(e.what()).find("--upload-limit"), std::string::npos) << e.what();
    }
  }
}

TEST(ParseSize, AcceptsBytesAndBinaryUnits) {
  EXPECT_EQ(parse_size("0", "--max-store"), 0u);
  EXPECT_EQ(parse_size("4096", "--max-store"), 4096u);
  EXPECT_EQ(parse_size("12b", "--max-store"), 12u);
  EXPECT_EQ(parse_size("500M", "--max-store"), 500ull << 20);
  EXPECT_EQ(parse_size("500mb", "--max-store"), 500ull << 20);
  EXPECT_EQ(parse_size("20GiB", "--max-store"), 20ull << 30);
  EXPECT_EQ(parse_size("1.5G", "--max-store"), 1536ull << 20);
  EXPECT_EQ(parse_size("2T", "--max-store"), 2ull << 40);
  EXPECT_EQ(parse_size("64k", "--max-store"), 64ull << 10);
}

TEST(ParseSize, RejectsGarbageNamingTheFlagTheTextAndWhy) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "--max-store '': expected a size, e.g. 20G or 500M"},
      {"big", "--max-store 'big': expected a size, e.g. 20G or 500M"},
      {"-1G", "--max-store '-1G': expected a size, e.g. 20G or 500M"},
      {"1..2G", "--max-store '1..2G': expected a size, e.g. 20G or 500M"},
      {"20X", "--max-store '20X': unknown unit 'x' (use K, M, G, T)"},
      {"20 G", "--max-store '20 G': unknown unit ' g' (use K, M, G, T)"},
      {"1e3", "--max-store '1e3': unknown unit 'e3' (use K, M, G, T)"},
      {"0.4", "--max-store '0.4': below 1 byte"},
      {"99999999T", "--max-store '99999999T': too large (at most 16 EiB)"},
  };
  for (const auto& [text, message] : cases) EXPECT_ERROR_EQ(parse_size(text, "--max-store"), Errc::kConfig, message);
}

}  // namespace
}  // namespace ironstone::seeder
