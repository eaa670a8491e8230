// Store routes over real loopback sockets: files, Range, HEAD, listings, dashboard.
#include <gtest/gtest.h>

#include "tests/seeder/seeder_test_util.h"

namespace ironstone::seeder {
namespace {

using namespace ironstone::seeder::testing;
using ironstone::testing::TempDir;
using ironstone::testing::write_text;
namespace fs = std::filesystem;

class HttpRoutes : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = dir_.path() / "store";
    const fs::path rel = store_ / "releases" / "rpi5" / "2026.11.1";
    fs::create_directories(rel / "firmware");
    fs::create_directories(store_ / "channels" / "rpi5");
    fs::create_directories(store_ / "chunks" / hex_.substr(0, 2));
    write_text(rel / "manifest.json", manifest_);
    write_text(rel / "manifest.json.minisig", "untrusted comment: sig\nRWQ...\n");
    write_text(rel / "release.torrent", "d4:infod4:name6:chunksee");
    write_text(rel / "firmware" / "pieeprom.bin", "EEPROM");
    write_text(rel / "recipe.yaml", "board: rpi5\n");
    write_text(rel / "build.log", "step 1\n");
    write_text(store_ / "channels" / "rpi5" / "stable.json", R"({"version":"2026.11.1"})");
    write_text(store_ / "channels" / "rpi5" / "stable.json.minisig", "sig");
    write_text(store_ / "chunks" / hex_.substr(0, 2) / (hex_ + ".zst"), chunk_);
    seeder_ = std::make_unique<Seeder>(loopback_config(store_, false));
    seeder_->start();
    port_ = seeder_->http_port();
  }

  TempDir dir_;
  fs::path store_;
  std::string hex_ = std::string(2, 'a') + std::string(62, '0');
  std::string manifest_ = R"({"board":"rpi5","version":"2026.11.1"})";
  std::string chunk_ = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::unique_ptr<Seeder> seeder_;
  std::uint16_t port_ = 0;
};

TEST_F(HttpRoutes, ServesReleaseFilesWithLengthAndType) {
  auto r = http_get(port_, "/v1/releases/rpi5/2026.11.1/manifest.json");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, manifest_);
  EXPECT_EQ(r.header("content-length"), std::to_string(manifest_.size()));
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_EQ(r.header("accept-ranges"), "bytes");

  EXPECT_EQ(http_get(port_, "/v1/releases/rpi5/2026.11.1/manifest.json.minisig").status, 200);
  auto t = http_get(port_, "/v1/releases/rpi5/2026.11.1/release.torrent");
  EXPECT_EQ(t.status, 200);
  EXPECT_EQ(t.header("content-type"), "application/x-bittorrent");
  EXPECT_EQ(http_get(port_, "/v1/releases/rpi5/2026.11.1/firmware/pieeprom.bin").body, "EEPROM");
}

TEST_F(HttpRoutes, ServesTheReleasesRecipeAndBuildLogAsText) {
  auto r = http_get(port_, "/v1/releases/rpi5/2026.11.1/recipe.yaml");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "board: rpi5\n");
  EXPECT_EQ(r.header("content-type"), "text/plain; charset=utf-8");
  auto l = http_get(port_, "/v1/releases/rpi5/2026.11.1/build.log");
  EXPECT_EQ(l.status, 200);
  EXPECT_EQ(l.body, "step 1\n");
  EXPECT_EQ(http_get(port_, "/v1/releases/rpi5/9.9/build.log").status, 404);
}

TEST_F(HttpRoutes, ServesChannelPointerAndSignature) {
  auto r = http_get(port_, "/v1/channels/rpi5/stable.json");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"version":"2026.11.1"})");
  EXPECT_EQ(http_get(port_, "/v1/channels/rpi5/stable.json.minisig").body, "sig");
  EXPECT_EQ(http_get(port_, "/v1/channels/rpi5/beta.json").status, 404);
}

TEST_F(HttpRoutes, ServesChunksAsWebSeedWithRange) {
  const std::string path = "/chunks/aa/" + hex_ + ".zst";
  auto whole = http_get(port_, path);
  EXPECT_EQ(whole.status, 200);
  EXPECT_EQ(whole.body, chunk_);

  auto part = http_get(port_, path, {{"Range", "bytes=2-5"}});
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body, "2345");
  EXPECT_EQ(part.header("content-range"), "bytes 2-5/" + std::to_string(chunk_.size()));
  EXPECT_EQ(part.header("content-length"), "4");

  auto open_ended = http_get(port_, path, {{"Range", "bytes=30-"}});
  EXPECT_EQ(open_ended.status, 206);
  EXPECT_EQ(open_ended.body, chunk_.substr(30));

  auto suffix = http_get(port_, path, {{"Range", "bytes=-3"}});
  EXPECT_EQ(suffix.status, 206);
  EXPECT_EQ(suffix.body, "xyz");

  auto clamped = http_get(port_, path, {{"Range", "bytes=34-1000"}});
  EXPECT_EQ(clamped.status, 206);
  EXPECT_EQ(clamped.body, "yz");
}

TEST_F(HttpRoutes, UnsatisfiableRangeGets416WithSize) {
  auto r = http_get(port_, "/chunks/aa/" + hex_ + ".zst", {{"Range", "bytes=100-200"}});
  EXPECT_EQ(r.status, 416);
  EXPECT_EQ(r.header("content-range"), "bytes */" + std::to_string(chunk_.size()));
}

TEST_F(HttpRoutes, MultiRangeOrInvalidRangeSendsWholeFile) {
  auto multi = http_get(port_, "/chunks/aa/" + hex_ + ".zst", {{"Range", "bytes=0-1,4-5"}});
  EXPECT_EQ(multi.status, 200);
  EXPECT_EQ(multi.body, chunk_);
  auto junk = http_get(port_, "/chunks/aa/" + hex_ + ".zst", {{"Range", "lines=1-2"}});
  EXPECT_EQ(junk.status, 200);
}

TEST_F(HttpRoutes, HeadSendsHeadersOnly) {
  const std::string raw =
      raw_exchange(port_,
                   "HEAD /v1/releases/rpi5/2026.11.1/manifest.json HTTP/1.1\r\nHost: x\r\n"
                   "Connection: close\r\n\r\n");
  EXPECT_EQ(raw_status(raw), 200);
  EXPECT_NE(raw.find("Content-Length: " + std::to_string(manifest_.size())), std::string::npos);
  EXPECT_TRUE(raw.ends_with("\r\n\r\n")) << raw;

  auto ranged = http_request(port_, "HEAD", "/chunks/aa/" + hex_ + ".zst", {{"Range", "bytes=0-9"}});
  EXPECT_EQ(ranged.status, 206);
  EXPECT_EQ(ranged.header("content-length"), "10");
  EXPECT_TRUE(ranged.body.empty());
}

TEST_F(HttpRoutes, KeepAliveServesSeveralRequestsOnOneConnection) {
  const std::string req = "GET /v1/channels/rpi5/stable.json.minisig HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string raw =
      raw_exchange(port_, req + req + "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  std::size_t count = 0;
  for (std::size_t pos = 0; (pos = raw.find("HTTP/1.1 200", pos)) != std::string::npos; ++pos) ++count;
  EXPECT_EQ(count, 3u);
}

TEST_F(HttpRoutes, ListsReleases) {
  auto r = http_get(port_, "/v1/releases");
  ASSERT_EQ(r.status, 200);
  auto doc = nlohmann::json::parse(r.body);
  ASSERT_EQ(doc["releases"].size(), 1u);
  EXPECT_EQ(doc["releases"][0]["board"], "rpi5");
  EXPECT_EQ(doc["releases"][0]["version"], "2026.11.1");
  EXPECT_EQ(doc["releases"][0]["torrent"], "/v1/releases/rpi5/2026.11.1/release.torrent");
  EXPECT_EQ(doc["releases"][0]["signed"], true);
}

TEST_F(HttpRoutes, ServesEmbeddedDashboardAtRoot) {
  auto r = http_get(port_, "/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "text/html; charset=utf-8");
  EXPECT_NE(r.body.find("/v1/fleet"), std::string::npos);
}

TEST_F(HttpRoutes, WrongMethodGets405WithAllow) {
  auto r = http_request(port_, "POST", "/v1/fleet", {}, "{}");
  EXPECT_EQ(r.status, 405);
  EXPECT_NE(r.header("allow").find("GET"), std::string::npos);
  EXPECT_EQ(http_request(port_, "DELETE", "/v1/releases/rpi5/2026.11.1/manifest.json").status, 405);
}

TEST_F(HttpRoutes, UnknownPathsAndMissingFilesGet404) {
  EXPECT_EQ(http_get(port_, "/v1/nothing").status, 404);
  EXPECT_EQ(http_get(port_, "/v1/releases/rpi5/2026.11.2/manifest.json").status, 404);
  EXPECT_EQ(http_get(port_, "/v1/releases/rpi5/2026.11.1/firmware/missing.bin").status, 404);
  EXPECT_EQ(http_get(port_, "/chunks/aa/" + std::string(2, 'a') + std::string(62, '1') + ".zst").status, 404);
}

}  // namespace
}  // namespace ironstone::seeder
