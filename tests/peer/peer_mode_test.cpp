// Peer mode (seeder/peer_follower.h) on loopback: an upstream seeder (the Rig's), peers that
// are each a PeerFollower plus a Seeder over the peer's own store, and real flashes from them.
// No sleeps: every round is poll_now(); waits are for a condition only.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdio>
#include <fstream>

#include "api/peer_report.h"
#include "seeder/fleet_view.h"
#include "seeder/peer_follower.h"
#include "swarm/http_client.h"
#include "util/hex.h"
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

// One provisioned node: its follower (verify_store() first, as main does) and its seeder, which
// announces to `tracker` as main's does to the upstream's (empty: none).
struct Peer {
  Peer(const fs::path& store, const std::string& upstream, const fs::path& key, std::uint64_t max_store = 0,
       std::size_t keep = 2, const std::string& tracker = "")
      : guard(std::make_shared<seeder::ChunkGuard>()), seeder(peer_config(loopback(store), tracker, guard)) {
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
    o.guard = guard;
    o.on_change = [this] {
      if (seeder.swarm()) seeder.swarm()->scan_now();
    };
    follower = std::make_unique<seeder::PeerFollower>(o);
    dropped = follower->verify_store();
    seeder.start();
  }
  ~Peer() {
    follower->stop();  // no rescan of a stopped seeder
    seeder.stop();     // no chunk check after the follower is gone
    follower.reset();
  }
  static seeder::SeederConfig peer_config(seeder::SeederConfig c, const std::string& tracker,
                                         std::shared_ptr<seeder::ChunkGuard> guard) {
    c.upstream_tracker = tracker;
    c.peer_mode = true;  // as main sets it for --peer-of
    c.chunk_check = seeder::ChunkGuard::checker(std::move(guard));
    return c;
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(seeder.http_port()); }
  std::string get(const std::string& path) const { return swarm::http_get(url() + path).body; }

  std::shared_ptr<seeder::ChunkGuard> guard;
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

TEST_F(PeerMode, APeerKeepsTheReleasesAuditTrailCheckedAndServesIt) {
  write_text(rig.dir() / "gold.spdx.json", R"({"spdxVersion":"SPDX-2.3","packages":[]})");
  write_text(rig.dir() / "rpi5.yaml", "board: rpi5\n");
  write_text(rig.dir() / "gold.log", "gold: step 1\n");
  builder::PublishOptions o = rig.publish_options("1.0");
  o.sbom = rig.dir() / "gold.spdx.json";
  o.recipe = rig.dir() / "rpi5.yaml";
  o.build_log = rig.dir() / "gold.log";
  rig.publish(make_image(6, 31), o);
  rig.start_seeder();
  Peer a(rig.dir() / "peer-a", rig.seeder_url(), rig.public_key());
  auto r = a.follower->poll_now();
  ASSERT_TRUE(r.ok()) << r.errors.front();
  for (const char* f : {"sbom.spdx.json", "recipe.yaml", "build.log"})
    EXPECT_EQ(peer_file(rig.dir() / "peer-a", std::string("releases/rpi5/1.0/") + f),
              upstream_file(std::string("releases/rpi5/1.0/") + f))
        << f;
  EXPECT_EQ(a.get("/v1/releases/rpi5/1.0/build.log"), "gold: step 1\n");
}

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

// Item 2 of the issue at run time: a byte flipped in place (the same inode libtorrent maps) in
// a running peer's store. Its HTTP chunk store refuses the chunk (404, never the bad bytes), a
// flasher flashing from it (and a second peer) writes the image byte-identical, the peer counts
// the chunk, and its next poll deletes it, takes the release out and fetches it again.
TEST_F(PeerMode, AChunkFlippedInARunningPeersStoreIsNeverServedAndIsFetchedAgain) {
  const auto image = make_image(12, 13);
  auto pub = rig.publish(image, "1.0");
  rig.start_seeder();
  Peer a(rig.dir() / "peer-a", rig.seeder_url(), rig.public_key());
  Peer b(rig.dir() / "peer-b", rig.seeder_url(), rig.public_key());
  ASSERT_TRUE(a.follower->poll_now().ok());
  ASSERT_TRUE(b.follower->poll_now().ok());
  const std::string hex = to_hex(pub.manifest.chunks[3].hash.bytes);
  const std::string rel = manifest::layout::chunk_relpath(pub.manifest.chunks[3].hash);
  const std::string good = upstream_file(rel);
  ASSERT_EQ(a.get("/" + rel), good);  // served while right
  {
    std::fstream f(rig.dir() / "peer-a" / rel, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(good.size() / 2));
    f.put(static_cast<char>(good[good.size() / 2] ^ 0x10));
  }

  FlashOptions o = rig.flash_options("n1");
  o.seeder_url = a.url();  // the tampered peer serves the run (HTTP stripe, web seed, tracker)
  o.more_seeders = {b.url()};
  fill_garbage(o.target, image.size() + 2 * kChunk, 21);
  FlashResult r = run_flash(o);
  auto written = read_file(o.target);
  written.resize(image.size());
  EXPECT_TRUE(written == image);
  EXPECT_EQ(r.chunks_downloaded, r.chunks_total);

  // Never the flipped bytes: a 404 while the file is bad, or the right bytes when the peer's
  // BitTorrent side has already had the piece again from the swarm (that timing is the load's).
  const auto direct = swarm::http_get(a.url() + "/" + rel);
  if (direct.status == 200u) {
    EXPECT_TRUE(direct.body == good) << "a 200 must carry the signed bytes";
  } else {
    EXPECT_EQ(direct.status, 404u);
    EXPECT_THAT(direct.body, HasSubstr("chunk " + hex + " failed verification"));
  }
  EXPECT_GE(a.guard->bad_found(), 1u);
  auto round = a.follower->poll_now();
  ASSERT_TRUE(round.ok()) << round.errors.front();
  EXPECT_THAT(round.dropped, ElementsAre("chunk " + hex, "rpi5/1.0"));
  EXPECT_THAT(round.installed, ElementsAre("rpi5/1.0"));
  EXPECT_EQ(peer_file(rig.dir() / "peer-a", rel), good);
  EXPECT_EQ(a.get("/" + rel), good);
  EXPECT_EQ(a.get("/v1/channels/rpi5/stable.json"), upstream_file("channels/rpi5/stable.json"));
}

// A chunk file that no release of the peer lists (left over, or planted) is not served either;
// a listed one is, with the web seed's Range requests answered from the checked bytes.
TEST_F(PeerMode, APeerServesOnlyChunksItsReleasesListAndHonoursRanges) {
  auto pub = rig.publish(make_image(6, 14), "1.0");
  rig.start_seeder();
  Peer a(rig.dir() / "peer-a", rig.seeder_url(), rig.public_key());
  const std::string rel = manifest::layout::chunk_relpath(pub.manifest.chunks[0].hash);
  fs::create_directories((rig.dir() / "peer-a" / rel).parent_path());
  write_text(rig.dir() / "peer-a" / rel, upstream_file(rel));  // right bytes, but not (yet) verified here
  EXPECT_EQ(swarm::http_get(a.url() + "/" + rel).status, 404u);
  ASSERT_TRUE(a.follower->poll_now().ok());
  const std::string whole = upstream_file(rel);
  EXPECT_EQ(a.get("/" + rel), whole);
  EXPECT_EQ(a.guard->bad_found(), 0u);
  swarm::RequestOptions ro;
  ro.headers = {{"Range", "bytes=10-19"}};
  const auto part = swarm::http_get(a.url() + "/" + rel, ro);
  EXPECT_EQ(part.status, 206u);
  EXPECT_EQ(part.body, whole.substr(10, 10));
  ro.headers = {{"Range", "bytes=" + std::to_string(whole.size()) + "-"}};
  EXPECT_EQ(swarm::http_get(a.url() + "/" + rel, ro).status, 416u);
  EXPECT_EQ(a.seeder.metrics().chunk_bytes_served, whole.size() + 10);
}

// The rack of the issue: the NAS seeder's upload capped to a trickle, two provisioned nodes
// holding the release (they took it from a staging seeder of the same store, and announce to
// the NAS's tracker as `--peer-of` does). New flashers pointed at the NAS alone get most of
// their bytes from the peers, by their own accounting, and write the image byte-identical.
TEST_F(PeerMode, WithTheNasUploadCappedToATrickleNewFlashersGetMostBytesFromThePeers) {
  const auto image = make_image(32, 11);
  const auto pub = rig.publish(image, "1.0");
  const std::uint64_t stored = pub.manifest.stored_bytes();
  constexpr std::int64_t kTrickle = 128 * 1024;  // bytes/s: the ~3 MiB release alone takes the NAS ~25 s
  seeder::Seeder& nas = rig.start_seeder(/*bittorrent=*/true, kTrickle);
  auto staging_config = loopback(rig.store());
  staging_config.fleet_db = rig.dir() / "staging-fleet.sqlite";  // not the NAS's
  seeder::Seeder staging(staging_config);
  staging.start();
  const std::string tracker = nas.base_url() + "announce";
  const std::string from = "http://127.0.0.1:" + std::to_string(staging.http_port());
  Peer a(rig.dir() / "peer-a", from, rig.public_key(), 0, 2, tracker);
  Peer b(rig.dir() / "peer-b", from, rig.public_key(), 0, 2, tracker);
  ASSERT_TRUE(a.follower->poll_now().ok());
  ASSERT_TRUE(b.follower->poll_now().ok());
  staging.stop();
  ASSERT_TRUE(wait_until([&] { return a.seeder.swarm()->torrent_count() == 1 && b.seeder.swarm()->torrent_count() == 1; },
                         std::chrono::seconds(10)));

  std::uint64_t from_nas = 0, from_peers = 0;
  for (const std::string node : {"n1", "n2"}) {
    FlashOptions o = rig.flash_options(node);
    o.web_seed_after = std::chrono::seconds(60);  // the swarm and the paced HTTP stripe only
    o.stall_timeout = std::chrono::seconds(60);
    fill_garbage(o.target, image.size() + 2 * kChunk, 20);
    FlashResult r = run_flash(o);
    auto written = read_file(o.target);
    written.resize(image.size());
    EXPECT_TRUE(written == image) << node;
    EXPECT_EQ(r.chunks_downloaded, r.chunks_total) << node;
    EXPECT_GE(r.from_seeder + r.from_peers, stored * 9 / 10) << node;
    EXPECT_GT(r.from_peers, 3 * r.from_seeder) << node << ": from the NAS " << r.from_seeder << ", from peers "
                                                << r.from_peers;
    from_nas += r.from_seeder;
    from_peers += r.from_peers;
  }
  EXPECT_GT(from_peers, stored * 3 / 2) << "of two copies, from the NAS " << from_nas;
  // The peers' own count (their seeders' stats are refreshed once a second).
  const auto served = [&] { return seeder::bytes_served_by(a.seeder) + seeder::bytes_served_by(b.seeder); };
  EXPECT_TRUE(wait_until([&] { return served() > stored * 3 / 2; }, std::chrono::seconds(10))) << served();
}

// `ironstone-seeder --peer-of … --upload-limit 3M`: the peer's libtorrent session holds the
// budget (GET /v1/info reads it back from the session's peer class), and the peer follows.
TEST_F(PeerMode, ThePeerBinaryAppliesItsUploadLimitToItsSession) {
  const auto bin = ironstone::testing::binary("ironstone-seeder");
  if (!fs::exists(bin)) GTEST_SKIP() << "ironstone-seeder not built: " << bin;
  rig.publish(make_image(6, 12), "1.0");
  rig.start_seeder();
  const fs::path store = rig.dir() / "peer-bin";
  const std::string log = (rig.dir() / "peer.log").string();
  const std::string script =
      bin.string() + " --peer-of " + rig.seeder_url() + " --store " + store.string() + " --public-key " +
      rig.public_key().string() + " --board rpi5 --listen 127.0.0.1:0 --bt-listen 127.0.0.1:0 --poll-interval 1 "
      "--upload-limit 3M --max-store 1G > " + log + " 2>&1 & pid=$!\n" +
      "for i in $(seq 300); do grep -q 'HTTP port' " + log + " && break; sleep 0.1; done\n" +
      "port=$(sed -n 's/.*HTTP port \\([0-9]*\\).*/\\1/p' " + log + ")\n" +
      "for i in $(seq 300); do curl -sf http://127.0.0.1:$port/v1/info | grep -q '\"releases\":1' && break; "
      "sleep 0.1; done\n"
      "curl -sf http://127.0.0.1:$port/v1/info; echo\n"
      "kill -TERM $pid; wait $pid; echo exit=$?\n";
  write_text(rig.dir() / "run.sh", script);
  std::string out;
  ASSERT_EQ(ironstone::testing::run_command("bash " + (rig.dir() / "run.sh").string(), &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("\"upload_limit\":3145728")) << out << read_text(log);
  EXPECT_THAT(out, HasSubstr("\"releases\":1")) << out << read_text(log);
  EXPECT_THAT(out, HasSubstr("exit=0")) << out;
  EXPECT_THAT(read_text(log), HasSubstr("upload limited to 3145728 bytes/s")) << read_text(log);
}

TEST(PeerBinary, ABadMaxStoreIsRefusedNamingTheFlag) {
  const auto bin = ironstone::testing::binary("ironstone-seeder");
  if (!fs::exists(bin)) GTEST_SKIP() << "ironstone-seeder not built: " << bin;
  ironstone::testing::TempDir dir;
  fs::create_directories(dir.path() / "store");
  write_text(dir.path() / "k.pub", "untrusted comment: x\nRWQ\n");
  std::string out;
  EXPECT_EQ(ironstone::testing::run_command(bin.string() + " --peer-of http://127.0.0.1:9 --store " +
                                                (dir.path() / "store").string() + " --public-key " +
                                                (dir.path() / "k.pub").string() +
                                                " --board rpi5 --listen 127.0.0.1:0 --no-bittorrent --max-store 20X",
                                            &out),
            1);
  EXPECT_THAT(out, HasSubstr("--max-store '20X': unknown unit 'x' (use K, M, G, T)")) << out;
}

// Not a test: the cost of the peer's checked chunk serving (docs/performance.md, "Peer mode: checked
// chunk serving"). Every chunk of a 64 MiB release of 4 MiB chunks over loopback HTTP, from the NAS
// (served from the file) and from a peer (read whole, decoded, BLAKE2b, served from memory).
TEST_F(PeerMode, DISABLED_BenchCheckedChunkServing) {
  auto o = rig.publish_options("1.0");
  o.chunk_size = 4u << 20;
  std::vector<std::uint8_t> image;
  for (std::size_t k = 0; k < 16; ++k) {
    const auto c = pseudo_random(o.chunk_size, 7000 + k, k % 2 == 0);  // half compressible, half not
    image.insert(image.end(), c.begin(), c.end());
  }
  const auto pub = rig.publish(image, o);
  rig.start_seeder();
  Peer a(rig.dir() / "peer-a", rig.seeder_url(), rig.public_key());
  ASSERT_TRUE(a.follower->poll_now().ok());
  const auto fetch_all = [&](const std::string& base) {
    std::uint64_t bytes = 0;
    const auto start = std::chrono::steady_clock::now();
    for (const auto& c : pub.manifest.chunks) {
      const auto r = swarm::http_get(base + "/" + manifest::layout::chunk_relpath(c.hash));
      EXPECT_EQ(r.status, 200u);
      bytes += r.body.size();
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return std::pair{bytes, s};
  };
  for (int round = 0; round < 5; ++round) {
    const auto [nb, ns] = fetch_all(rig.seeder_url());
    const auto [pb, ps] = fetch_all(a.url());
    std::printf("round %d: %zu chunks, %.1f MiB stored; NAS (unchecked) %.1f MiB/s, %.2f ms/chunk; "
                "peer (checked) %.1f MiB/s, %.2f ms/chunk\n",
                round, pub.manifest.chunks.size(), nb / 1048576.0, nb / 1048576.0 / ns,
                1000 * ns / pub.manifest.chunks.size(), pb / 1048576.0 / ps, 1000 * ps / pub.manifest.chunks.size());
  }
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
