// The swarm end to end: a real seeder (HTTP + tracker + BitTorrent) on loopback,
// flashers as processes (the real ironstone-flasher binary) or in-process
// run_flash(), file targets pre-filled with garbage, real libtorrent peers.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "api/node_event.h"
#include "api/paths.h"
#include "flasher/errc.h"
#include "swarm/http_client.h"
#include "tests/flasher/flash_rig.h"

namespace ironstone::flasher {
namespace {

using namespace ironstone::flasher::testing;
using ::testing::HasSubstr;

std::uint16_t unused_port() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor a(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();  // closed again when `a` goes: nobody listens there
}

class Swarm : public ::testing::Test {
 protected:
  void SetUp() override { spdlog::set_level(spdlog::level::warn); }
  void TearDown() override { spdlog::set_level(spdlog::level::info); }
  Rig rig;
};

// A seeder and four flasher processes: every target ends byte-identical to the image
// (zero ranges included, over garbage) and the fleet view sees four nodes done; with
// check_share, also that the rack fed itself (more bytes from peers than from the seeder).
// The body of the two tests below; `check_share` adds the assertions on where the bytes came from.
static void four_flashers(Rig& rig, bool check_share);

TEST_F(Swarm, FourFlasherProcessesFlashIdenticalImages) { four_flashers(rig, false); }

// Each node fetches its own stripe from the seeder over HTTP and the others' stripes
// from the other nodes (flasher/stripe.h, chunk_fetch.h): the NAS sends about one copy.
TEST_F(Swarm, FourFlashersGetMoreFromEachOtherThanFromTheSeeder) { four_flashers(rig, true); }

static void four_flashers(Rig& rig, bool check_share) {
  const auto image = make_image(48, 1);
  auto pub = rig.publish(image, "1.0");
  const std::uint64_t stored = pub.manifest.stored_bytes();
  // The seeder's upload is the rack's bottleneck, as a NAS link is: 1 MiB/s over all peers.
  auto& seeder = rig.start_seeder(true, 1 << 20);

  std::vector<std::unique_ptr<FlasherProcess>> nodes;
  for (int n = 0; n < 4; ++n) {
    const std::string name = "node" + std::to_string(n);
    fill_garbage(rig.dir() / (name + ".img"), image.size() + 3 * kChunk, 100 + n);
    auto args = rig.flasher_args(name);
    // Keep seeding while the rack still flashes (the seeder's fleet view says when to stop).
    *(std::find(args.begin(), args.end(), "--linger") + 1) = "30";
    // Peers and the (rate-limited) seeder can serve: the web seed is not needed here.
    args.insert(args.end(), {"--web-seed-after", "20000"});
    // A mixed rack: two nodes keep the chunks they seed in cache files, two in memory.
    args.insert(args.end(), {"--cache", n < 2 ? "disk" : "memory"});
    nodes.push_back(std::make_unique<FlasherProcess>(args, rig.dir(), name));
  }
  std::uint64_t sum_seeder = 0, sum_peers = 0;
  for (int n = 0; n < 4; ++n) {
    auto& p = *nodes[n];
    auto status = p.wait(std::chrono::seconds(120));
    ASSERT_TRUE(status.has_value()) << "node" << n << " did not finish\n" << p.err();
    ASSERT_EQ(*status, 0) << p.out() << p.err();
    auto s = p.summary();
    ASSERT_TRUE(s.found) << p.out();
    EXPECT_FALSE(s.already_current);
    EXPECT_EQ(s.total, pub.manifest.chunks.size());
    EXPECT_EQ(s.downloaded, pub.manifest.chunks.size());
    EXPECT_EQ(s.written, chunk_bytes(pub.manifest));
    EXPECT_GE(s.from_seeder + s.from_peers, stored * 9 / 10) << p.out();
    sum_seeder += s.from_seeder;
    sum_peers += s.from_peers;
    EXPECT_EQ(read_file(rig.dir() / ("node" + std::to_string(n) + ".img")), image) << "node" << n;
    const fs::path cache = rig.dir() / ("node" + std::to_string(n) + "-cache");
    EXPECT_EQ(fs::exists(cache) && !fs::is_empty(cache), n < 2)
        << "node" << n << ": cache files with --cache " << (n < 2 ? "disk" : "memory");
  }
  // The fleet view saw four nodes done.
  auto summary = seeder.fleet().summary();
  EXPECT_EQ(summary["releases"]["rpi5/1.0"]["done"], 4) << summary.dump();
  if (!check_share) return;
  // The flashers' own accounting: more from peers than from the seeder.
  EXPECT_GT(sum_peers, sum_seeder) << "from seeder " << sum_seeder << ", from peers " << sum_peers;
  // The seeder's own accounting (BitTorrent payload sent + web seed bytes) agrees.
  seeder.swarm()->scan_now();  // the torrent stats as of now (the flashers have exited)
  auto metrics = seeder.metrics();
  std::uint64_t seeder_bt = 0;
  for (const auto& t : metrics.torrents) seeder_bt += static_cast<std::uint64_t>(t.uploaded);
  const std::uint64_t seeder_sent = metrics.chunk_bytes_served + seeder_bt;
  // The flashers hide the seeder's BitTorrent pieces (flasher/seeder_filter.h): nothing
  // went that way, every byte from the seeder was a stripe over HTTP.
  EXPECT_EQ(seeder_bt, 0u);
  // Each node takes its own stripe from the seeder's HTTP store and the rest from the
  // others: about one copy, where unicast to four nodes sends four.
  std::cout << "seeder sent " << seeder_sent << " bytes for a release of " << stored << "\n";
  // (A node that starts alone takes everything until the others show up in the fleet
  // view, within 2 s: on loopback that can be a good part of this small release.)
  EXPECT_LT(seeder_sent, 2 * stored) << "the seeder sent " << seeder_sent << " bytes of " << 4 * stored
                                     << " the rack received";
}

// A peer serving corrupt chunk data (a libtorrent session seeding garbage without
// checking it): every bad piece is caught by the piece hash, the peer is banned,
// the flash completes over HTTP from the seeder's chunk store (the fallback that took
// the web seed's place, flasher/swarm_download.h) and the target holds the image.
// The flasher runs as a process: with a v2-only torrent libtorrent 2.0.8 crashed here
// (hash_picker::hashes_rejected after the block-hash request a failed piece causes; see
// manifest/torrent.h), which must fail this test, not take the whole test binary down.
static void lying_peer(Rig& rig, bool in_memory);
TEST_F(Swarm, LyingPeerIsBannedAndNothingCorruptIsWritten) { lying_peer(rig, false); }
TEST_F(Swarm, LyingPeerIsBannedAndNothingCorruptIsWrittenWithChunksInMemory) { lying_peer(rig, true); }

static void lying_peer(Rig& rig, bool in_memory) {
  const auto image = make_image(24, 2);
  auto pub = rig.publish(image, "1.0");
  rig.start_seeder(/*bittorrent=*/false);  // the liar is the only BitTorrent peer
  write_corrupt_chunks(rig.store(), pub.manifest, rig.dir() / "liar");
  RawSeed liar(torrent_of(rig.store(), pub.manifest), rig.dir() / "liar");

  const fs::path target = rig.dir() / "n1.img";
  fill_garbage(target, image.size(), 5);
  auto args = rig.flasher_args("n1");
  // Over BitTorrent only: the liar is then the only source until the web seed comes in.
  args.insert(args.end(), {"--peer", liar.endpoint(), "--web-seed-after", "1500", "--bittorrent-only"});
  if (in_memory) args.insert(args.end(), {"--cache", "memory"});
  FlasherProcess node(args, rig.dir(), "n1");
  auto status = node.wait(std::chrono::seconds(60));
  ASSERT_TRUE(status.has_value()) << node.out() << node.err();
  EXPECT_GT(liar.uploaded(), 0) << "the liar never got to send anything";
  const std::string log = node.out() + node.err();
  ASSERT_EQ(*status, 0) << log;
  auto s = node.summary();
  ASSERT_TRUE(s.found) << log;
  EXPECT_EQ(read_file(target), image);
  EXPECT_THAT(log, HasSubstr("failed the piece hash"));
  EXPECT_THAT(log, HasSubstr("peers banned"));
  EXPECT_TRUE(s.web_seed_used);
  EXPECT_EQ(s.downloaded, pub.manifest.chunks.size());
  // Every chunk written exactly once, at each of its offsets: nothing was written and then repaired.
  EXPECT_EQ(s.written, chunk_bytes(pub.manifest));
}

// The seeder's BitTorrent side is off and the only peer given is a port nobody
// listens on: with --bittorrent-only the flash degrades to HTTP (the fallback once
// called the web seed: web_seed_used) and completes.
TEST_F(Swarm, UnreachableSeederBitTorrentFallsBackToWebSeed) {
  const auto image = make_image(16, 3);
  auto pub = rig.publish(image, "1.0");
  auto& seeder = rig.start_seeder(/*bittorrent=*/false);
  ASSERT_EQ(seeder.bittorrent_port(), 0);

  FlashOptions o = rig.flash_options("n1");
  fill_garbage(o.target, image.size(), 6);
  o.peers = {"127.0.0.1:" + std::to_string(unused_port())};
  o.web_seed_after = std::chrono::milliseconds(500);
  o.http_stripe = false;
  FlashResult r = run_flash(o);

  EXPECT_EQ(read_file(o.target), image);
  EXPECT_TRUE(r.web_seed_used);
  EXPECT_EQ(r.from_peers, 0u);
  EXPECT_GE(r.from_seeder, pub.manifest.stored_bytes() * 9 / 10);
  EXPECT_GE(seeder.metrics().chunk_bytes_served, pub.manifest.stored_bytes());
  EXPECT_EQ(r.chunks_downloaded, pub.manifest.chunks.size());
}

// The fleet view names a second node working on the release that never joins the swarm
// (it hung before its download, say): this node fetches its own stripe over HTTP, waits
// for the other stripe in vain, then takes the rest from the seeder too (the fallback,
// flasher/stripe.h). The flash completes; the ghost cost time, not the flash.
TEST_F(Swarm, ANodeThatNeverJoinsCostsTimeNotTheFlash) {
  const auto image = make_image(16, 5);
  auto pub = rig.publish(image, "1.0");
  auto& seeder = rig.start_seeder(/*bittorrent=*/true);
  swarm::RequestOptions ro;
  ro.timeout = std::chrono::seconds(5);
  api::NodeEvent ghost;
  ghost.node_id = "aaa-ghost";
  ghost.board = "rpi5";
  ghost.release = "1.0";
  ghost.step = "download";
  ghost.state = "working";
  const auto posted = swarm::http_post_json(rig.seeder_url() + api::node_events_path(ghost.node_id),
                                            api::serialize_node_event(ghost), ro);
  ASSERT_EQ(posted.status / 100, 2u) << posted.body;

  FlashOptions o = rig.flash_options("n1");  // "aaa-ghost" < "n1": stripe 2 of 2
  // The web seed's wait far beyond the fallback's 2 s of quiet, so that a slow own stripe
  // (a loaded machine) cannot let the web seed win the race this test is not about.
  o.web_seed_after = std::chrono::seconds(60);
  fill_garbage(o.target, image.size(), 9);
  const auto start = std::chrono::steady_clock::now();
  FlashResult r = run_flash(o);
  const auto took = std::chrono::steady_clock::now() - start;

  EXPECT_EQ(read_file(o.target), image);
  EXPECT_EQ(r.chunks_downloaded, pub.manifest.chunks.size());
  EXPECT_EQ(r.from_peers, 0u);
  EXPECT_GE(r.from_seeder, pub.manifest.stored_bytes());
  EXPECT_FALSE(r.web_seed_used);  // the fallback is the HTTP stripe fetcher, before the web seed's wait
  EXPECT_EQ(r.cpu.copied_in, 0u) << "HTTP chunks are vouched for to the disk I/O: compared, not copied";
  EXPECT_GE(took, std::chrono::seconds(2)) << "the fallback waits 2 s of quiet after the own stripe";
  EXPECT_GE(seeder.metrics().chunk_bytes_served, pub.manifest.stored_bytes());
}

// A node flashing alone while another node that holds the release still seeds (a disk
// replaced in a flashed rack): it takes the release from that node, not from the NAS.
// (The seeder's 1 MiB/s budget paces the HTTP stripe, flasher/chunk_fetch.h: on loopback
// an unpaced fetcher would take everything before the first look at the neighbour.)
TEST_F(Swarm, ANodeFlashingAloneTakesTheReleaseFromANodeThatHasIt) {
  const auto image = make_image(32, 6);
  auto pub = rig.publish(image, "1.0");
  const std::uint64_t stored = pub.manifest.stored_bytes();
  auto& seeder = rig.start_seeder(/*bittorrent=*/true, 1 << 20);
  RawSeed neighbour(torrent_of(rig.store(), pub.manifest), rig.store());

  FlashOptions o = rig.flash_options("n1");
  fill_garbage(o.target, image.size(), 10);
  o.peers = {neighbour.endpoint()};
  FlashResult r = run_flash(o);

  EXPECT_EQ(read_file(o.target), image);
  EXPECT_EQ(r.chunks_downloaded, pub.manifest.chunks.size());
  EXPECT_GE(r.from_peers, stored * 7 / 10) << "from the seeder " << r.from_seeder;
  EXPECT_LT(seeder.metrics().chunk_bytes_served, stored * 3 / 10);
  EXPECT_GT(neighbour.uploaded(), 0);
}

// A flasher process killed (SIGKILL) in the middle of the flash, then started again:
// the second run completes and downloads only the chunks the first did not write.
TEST_F(Swarm, KilledFlasherResumesAndDownloadsOnlyWhatWasMissing) {
  const auto image = make_image(32, 4);
  auto pub = rig.publish(image, "1.0");
  const auto& m = pub.manifest;
  rig.start_seeder(/*bittorrent=*/false);
  // The first run's only source: an honest seed limited to 512 KiB/s (a few seconds for the image).
  auto slow = std::make_unique<RawSeed>(torrent_of(rig.store(), m), rig.store(), 512 * 1024);
  const fs::path target = rig.dir() / "n1.img";
  fill_garbage(target, image.size(), 7);

  auto args = rig.flasher_args("n1");
  auto first_args = args;
  first_args.insert(first_args.end(),
                    {"--peer", slow->endpoint(), "--web-seed-after", "60000", "--bittorrent-only"});
  std::size_t missing = m.chunks.size();
  {
    FlasherProcess first(first_args, rig.dir(), "n1-first");
    const bool partly = wait_until(
        [&] { return !first.running() || chunks_missing(m, image, target) <= m.chunks.size() - 6; },
        std::chrono::seconds(30), std::chrono::milliseconds(50));
    ASSERT_TRUE(partly) << "no chunk was written in 30 s\n" << first.err();
    ASSERT_TRUE(first.running()) << "the first run ended before it could be killed\n" << first.out();
    first.kill();
    missing = chunks_missing(m, image, target);
  }
  slow.reset();
  ASSERT_GT(missing, 0u);
  ASSERT_LT(missing, m.chunks.size());

  // The second run: same target, state file and cache; the web seed supplies what is missing.
  auto second_args = args;
  second_args.insert(second_args.end(), {"--web-seed-after", "200"});
  FlasherProcess second(second_args, rig.dir(), "n1-second");
  auto status = second.wait(std::chrono::seconds(60));
  ASSERT_TRUE(status.has_value()) << second.err();
  ASSERT_EQ(*status, 0) << second.out() << second.err();
  auto s = second.summary();
  ASSERT_TRUE(s.found) << second.out();
  EXPECT_FALSE(s.already_current);
  EXPECT_EQ(s.total, m.chunks.size());
  EXPECT_EQ(s.downloaded, missing) << "chunks missing after the kill: " << missing;
  EXPECT_LT(s.written, chunk_bytes(m));
  EXPECT_EQ(read_file(target), image);
}

}  // namespace
}  // namespace ironstone::flasher
