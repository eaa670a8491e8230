// Peer mode (seeder/peer_follower.h) on loopback: an upstream seeder (the Rig's), peers that
// are each a PeerFollower plus a Seeder over the peer's own store, and real flashes from them.
// No sleeps: every round is poll_now(); waits are for a condition only.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "api/peer_report.h"
#include "seeder/fleet_view.h"
#include "seeder/peer_follower.h"
#include "swarm/http_client.h"
#include "tests/flasher/flash_rig.h"

namespace ironstone::flasher {
namespace {

using namespace ironstone::flasher::testing;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::uint16_t free_port() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor a(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

seeder::SeederConfig loopback(const fs::path& store, std::uint16_t http_port = 0) {
  seeder::SeederConfig c;
  c.store = store;
  c.http = {"127.0.0.1", http_port};
  c.bittorrent = {"127.0.0.1", 0};
  c.http_threads = 2;
  c.scan_interval = std::chrono::milliseconds(200);
  c.request_timeout = std::chrono::seconds(5);
  c.announce_interval = std::chrono::seconds(2);
  c.enable_uploads = false;
  return c;
}

// One provisioned node: its follower (verify_store() first, as main does) and its seeder.
struct Peer {
  Peer(const fs::path& store, const std::string& upstream, const fs::path& key, std::uint64_t max_store = 0,
       std::size_t keep = 2)
      : seeder(loopback(store)) {
    seeder::PeerFollowerOptions o;
    o.peer_id = store.filename().string();
    o.own_url = [this] { return seeder.base_url(); };
    o.bytes_served = [this] { return seeder::bytes_served_by(seeder); };
    o.upstream = upstream;
    o.store = store;
    o.public_keys = {key};
    o.follow = {{"rpi5", "stable"}};
    o.keep = keep;
    o.max_store = max_store;
    o.bt_listen = "127.0.0.1:0";
    o.web_seed_after = std::chrono::milliseconds(1500);
    o.stall_timeout = std::chrono::seconds(30);
    o.retry = RetryPolicy{1, std::chrono::milliseconds(50), std::chrono::milliseconds(50),
                          std::chrono::milliseconds(2000)};
    o.min_backoff = std::chrono::milliseconds(50);
    o.max_backoff = std::chrono::milliseconds(400);
    o.on_change = [this] {
      if (seeder.swarm()) seeder.swarm()->scan_now();
    };
    follower = std::make_unique<seeder::PeerFollower>(o);
    dropped = follower->verify_store();
    seeder.start();
  }
  ~Peer() {
    follower.reset();
    seeder.stop();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(seeder.http_port()); }
  std::string get(const std::string& path) const { return swarm::http_get(url() + path).body; }

  seeder::Seeder seeder;
  std::unique_ptr<seeder::PeerFollower> follower;
  std::size_t dropped = 0;
};

class PeerMode : public ::testing::Test {
 protected:
  void SetUp() override { spdlog::set_level(spdlog::level::warn); }
  void TearDown() override { spdlog::set_level(spdlog::level::info); }
  std::string upstream_file(const std::string& rel) const { return read_text(rig.store() / rel); }
  std::string peer_file(const fs::path& store, const std::string& rel) const { return read_text(store / rel); }
  Rig rig;
};

TEST_F(PeerMode, TwoPeersFollowingASeederServeANewReleaseWithoutRestart) {
  rig.publish(make_image(10, 1), "1.0");
  rig.start_seeder();
  Peer a(rig.dir() / "peer-a", rig.seeder_url(), rig.public_key());
  Peer b(rig.dir() / "peer-b", rig.seeder_url(), rig.public_key());
  for (Peer* p : {&a, &b}) {
    auto r = p->follower->poll_now();
    ASSERT_TRUE(r.ok()) << r.errors.front();
    EXPECT_THAT(r.installed, ElementsAre("rpi5/1.0"));
  }
  auto pub = rig.publish(make_image(10, 2), "2.0");
  rig.seeder().swarm()->scan_now();
  for (Peer* p : {&a, &b}) {
    auto r = p->follower->poll_now();
    ASSERT_TRUE(r.ok()) << r.errors.front();
    EXPECT_THAT(r.installed, ElementsAre("rpi5/2.0"));
    EXPECT_EQ(p->get("/v1/channels/rpi5/stable.json"), upstream_file("channels/rpi5/stable.json"));
    EXPECT_EQ(p->get("/v1/releases/rpi5/2.0/manifest.json"), upstream_file("releases/rpi5/2.0/manifest.json"));
    for (const auto& c : pub.manifest.chunks) {
      const std::string rel = manifest::layout::chunk_relpath(c.hash);
      EXPECT_EQ(p->get("/" + rel), upstream_file(rel)) << rel;
    }
    EXPECT_EQ(p->seeder.swarm()->torrent_count(), 2u);
    EXPECT_TRUE(p->follower->poll_now().installed.empty());  // nothing new: nothing fetched again
  }
  // The upstream's fleet view lists both peers apart from flashing nodes.
  const auto view = rig.seeder().fleet().view();
  EXPECT_TRUE(view["nodes"].empty()) << view.dump();
  ASSERT_EQ(view["peers"].size(), 2u) << view.dump();
  EXPECT_EQ(view["peers"][0]["peer_id"], "peer-a");
  EXPECT_EQ(view["peers"][0]["url"], a.seeder.base_url());
  EXPECT_EQ(view["peers"][1]["releases"], nlohmann::json::array({"rpi5/1.0", "rpi5/2.0"}));
  EXPECT_THAT(seeder::format_fleet(view), HasSubstr("peers: 2"));
}

TEST_F(PeerMode, WithTheNasStoppedAFlasherGivenThePeersAsSeedersFlashesByteIdentical) {
  const auto image = make_image(12, 3);
  rig.publish(image, "1.0");
  rig.start_seeder();
  const std::string nas = rig.seeder_url();
  Peer a(rig.dir() / "peer-a", nas, rig.public_key());
  Peer b(rig.dir() / "peer-b", nas, rig.public_key());
  ASSERT_TRUE(a.follower->poll_now().ok());
  ASSERT_TRUE(b.follower->poll_now().ok());
  FlashOptions o = rig.flash_options("n1");
  rig.stop_seeder();
  o.seeder_url = nas;  // first in the list, and down
  o.more_seeders = {a.url(), b.url()};
  fill_garbage(o.target, image.size() + 2 * kChunk, 5);
  FlashResult r = run_flash(o);
  EXPECT_EQ(r.version, "1.0");
  EXPECT_EQ(r.chunks_downloaded, r.chunks_total);
  auto written = read_file(o.target);
  written.resize(image.size());
  EXPECT_TRUE(written == image);
  // The peer that served the run has the flash in its own fleet view.
  EXPECT_EQ(a.seeder.fleet().view()["nodes"].size(), 1u);
}

TEST_F(PeerMode, APeerWhoseChunkWasFlippedOnDiskDropsItAndServesOnlyVerifiedBytes) {
  auto pub = rig.publish(make_image(8, 4), "1.0");
  rig.start_seeder();
  const fs::path store = rig.dir() / "peer-a";
  { Peer a(store, rig.seeder_url(), rig.public_key()); ASSERT_TRUE(a.follower->poll_now().ok()); }
  const std::string rel = manifest::layout::chunk_relpath(pub.manifest.chunks[2].hash);
  auto bytes = read_file(store / rel);
  bytes[bytes.size() / 2] ^= 0x40;
  write_file(store / rel, bytes);

  Peer a(store, rig.seeder_url(), rig.public_key());
  EXPECT_EQ(a.dropped, 1u);
  EXPECT_FALSE(fs::exists(store / rel));
  EXPECT_TRUE(a.follower->releases().empty());  // nothing of the damaged release is served
  EXPECT_EQ(swarm::http_get(a.url() + "/" + rel).status, 404u);
  auto r = a.follower->poll_now();
  ASSERT_TRUE(r.ok()) << r.errors.front();
  EXPECT_THAT(r.installed, ElementsAre("rpi5/1.0"));
  EXPECT_EQ(a.get("/" + rel), upstream_file(rel));
}

TEST_F(PeerMode, APeerNeverFollowsAChannelPointerWithALowerSequence) {
  rig.publish(make_image(6, 5), "1.0");
  const std::string old_ptr = upstream_file("channels/rpi5/stable.json");
  const std::string old_sig = upstream_file("channels/rpi5/stable.json.minisig");
  rig.publish(make_image(6, 6), "2.0");
  rig.start_seeder();
  Peer a(rig.dir() / "peer-a", rig.seeder_url(), rig.public_key());
  ASSERT_TRUE(a.follower->poll_now().ok());
  const std::string followed = a.get("/v1/channels/rpi5/stable.json");
  write_text(rig.store() / "channels/rpi5/stable.json.minisig", old_sig);  // the upstream rolled back
  write_text(rig.store() / "channels/rpi5/stable.json", old_ptr);
  auto r = a.follower->poll_now();
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_THAT(r.errors[0], HasSubstr("sequence"));
  EXPECT_TRUE(r.installed.empty());
  EXPECT_EQ(a.get("/v1/channels/rpi5/stable.json"), followed);
  EXPECT_THAT(a.follower->releases(), ElementsAre("rpi5/2.0"));
}

TEST_F(PeerMode, OverMaxStoreTheOldestReleaseIsEvictedKeepingN) {
  auto one = rig.publish(make_image(6, 7), "1.0");
  rig.start_seeder();
  Peer a(rig.dir() / "peer-a", rig.seeder_url(), rig.public_key(), /*max_store=*/1, /*keep=*/1);
  ASSERT_TRUE(a.follower->poll_now().ok());
  EXPECT_THAT(a.follower->releases(), ElementsAre("rpi5/1.0"));  // keep 1: never below it
  auto two = rig.publish(make_image(6, 8), "2.0");
  rig.seeder().swarm()->scan_now();
  auto r = a.follower->poll_now();
  ASSERT_TRUE(r.ok()) << r.errors.front();
  EXPECT_THAT(a.follower->releases(), ElementsAre("rpi5/2.0"));
  for (const auto& c : one.manifest.chunks) {
    bool shared = false;
    for (const auto& d : two.manifest.chunks) shared = shared || d.hash == c.hash;
    EXPECT_EQ(fs::exists(rig.dir() / "peer-a" / manifest::layout::chunk_relpath(c.hash)), shared);
  }
  EXPECT_TRUE(wait_until([&] { return a.seeder.swarm()->torrent_count() == 1; }, std::chrono::seconds(10)));
}

TEST_F(PeerMode, WithTheUpstreamDownAtStartUpAPeerKeepsServingAndFollowsOnceItIsUp) {
  rig.publish(make_image(6, 9), "1.0");
  const std::uint16_t port = free_port();
  Peer a(rig.dir() / "peer-a", "http://127.0.0.1:" + std::to_string(port), rig.public_key());
  auto r = a.follower->poll_now();
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_THAT(r.errors[0], HasSubstr("127.0.0.1:" + std::to_string(port)));
  EXPECT_EQ(swarm::http_get(a.url() + "/v1/info").status, 200u);  // still serving
  a.follower->start();  // retries with back-off
  seeder::Seeder upstream(loopback(rig.store(), port));
  upstream.start();
  EXPECT_TRUE(wait_until([&] { return !a.follower->releases().empty(); }, std::chrono::seconds(60)));
  a.follower->stop();
  EXPECT_THAT(a.follower->releases(), ElementsAre("rpi5/1.0"));
}

TEST(PeerReport, RoundTripsAndIsParsedStrictly) {
  api::PeerReport r{"rack1-n01", "http://10.0.0.21:8080/", {"rpi5/1.0", "rpi5/1.1"}, 12345};
  EXPECT_EQ(api::parse_peer_report("rack1-n01", api::peer_report_json(r), "test"), r);
  EXPECT_THROW(api::parse_peer_report("rack1-n01", R"({"url":"http://x/","releases":[],"bytes_served":1,"x":1})",
                                      "test"),
               Error);
  EXPECT_THROW(api::parse_peer_report("rack1-n01", R"({"url":"ftp://x/","releases":[],"bytes_served":1})", "test"),
               Error);
  EXPECT_THROW(api::parse_peer_report("rack1-n01", R"({"url":"http://x/","releases":["../x"],"bytes_served":1})",
                                      "test"),
               Error);
  EXPECT_THROW(api::parse_peer_report("../bad", R"({"url":"http://x/","releases":[],"bytes_served":1})", "test"),
               Error);
}

}  // namespace
}  // namespace ironstone::flasher
