// --upload-limit and --super-seed: the seeder's upload is the budget a swarm saves.
// The limit must hold for LAN peers too (libtorrent's local peer class ignores the
// session's global rate limit), so the client here connects over loopback.
#include <gtest/gtest.h>

#include <iostream>

#include <libtorrent/alert_types.hpp>
#include <libtorrent/load_torrent.hpp>
#include <libtorrent/session.hpp>
#include <libtorrent/torrent_status.hpp>

#include "swarm/lan_settings.h"
#include "tests/seeder/seeder_test_util.h"

namespace ironstone::seeder {
namespace {

using namespace ironstone::seeder::testing;
using ironstone::testing::TempDir;
namespace fs = std::filesystem;

// A LAN client session on loopback that downloads `release` straight from
// `seeder_port` (no tracker, no web seed). Returns the seconds it took, or -1.
double timed_download(const TestRelease& release, const fs::path& save, std::uint16_t seeder_port,
                      std::string& log) {
  swarm::LanOptions options;
  options.listen_interfaces = "127.0.0.1:0";
  lt::session session(lt::session_params(swarm::lan_settings(options)));
  swarm::apply_lan_peer_classes(session);
  lt::add_torrent_params atp = lt::load_torrent_buffer(
      lt::span<const char>(release.torrent.data(), static_cast<std::ptrdiff_t>(release.torrent.size())));
  atp.save_path = save.string();
  atp.trackers.clear();
  atp.url_seeds.clear();
  const auto start = std::chrono::steady_clock::now();
  lt::torrent_handle h = session.add_torrent(std::move(atp));
  h.connect_peer(lt::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), seeder_port));
  const auto deadline = start + std::chrono::seconds(60);
  auto next_connect = start + std::chrono::seconds(2);
  while (std::chrono::steady_clock::now() < deadline) {
    session.wait_for_alert(std::chrono::milliseconds(50));
    std::vector<lt::alert*> alerts;
    session.pop_alerts(&alerts);
    for (lt::alert* a : alerts) {
      if (a->category() & lt::alert_category::error) log += a->message() + "\n";
    }
    const auto st = h.status();
    if (st.is_seeding) {
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    if (st.num_peers == 0 && std::chrono::steady_clock::now() > next_connect) {
      h.connect_peer(lt::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), seeder_port));
      next_connect = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    }
  }
  log += "timed out at " + std::to_string(h.status().progress) + "\n";
  return -1;
}

TEST(UploadBudget, LimitHoldsForLanPeers) {
  TempDir dir;
  const fs::path store = dir.path() / "store";
  constexpr int kChunks = 8;
  constexpr std::size_t kChunk = 1024 * 1024;
  const auto release = make_release(store, "rpi5", "1.0", kChunks, kChunk, 21);
  auto config = loopback_config(store, true);
  config.upload_limit = 2 * 1024 * 1024;  // 8 MiB at 2 MiB/s: about 4 s
  Seeder seeder(config);
  seeder.start();
  ASSERT_TRUE(wait_until([&] { return !seeder.swarm()->stats().empty(); }));

  std::string log;
  const double seconds = timed_download(release, dir.path() / "client", seeder.bittorrent_port(), log);
  ASSERT_GT(seconds, 0) << log;
  std::cout << "8 MiB at 2 MiB/s: " << seconds << " s\n";
  const double expected = double(kChunks * kChunk) / double(config.upload_limit);
  EXPECT_GT(seconds, expected * 0.75) << "limit not obeyed: " << seconds << " s for " << expected << " s";
  // Connection set-up and seed mode's first hash check of each piece come on top.
  EXPECT_LT(seconds, expected * 2 + 4) << "far slower than the limit: " << seconds << " s";
  for (const auto& rel : release.chunk_relpaths) {
    EXPECT_EQ(ironstone::testing::read_file(dir.path() / "client" / rel),
              ironstone::testing::read_file(store / rel));
  }
}

TEST(UploadBudget, NoLimitIsFast) {
  TempDir dir;
  const fs::path store = dir.path() / "store";
  const auto release = make_release(store, "rpi5", "1.0", 8, 1024 * 1024, 22);
  Seeder seeder(loopback_config(store, true));
  seeder.start();
  ASSERT_TRUE(wait_until([&] { return !seeder.swarm()->stats().empty(); }));
  std::string log;
  const double seconds = timed_download(release, dir.path() / "client", seeder.bittorrent_port(), log);
  ASSERT_GT(seconds, 0) << log;
  std::cout << "8 MiB unlimited: " << seconds << " s\n";
  // Loopback, even under sanitizers: below LimitHoldsForLanPeers' lower bound (3 s),
  // so that test tells the limit apart from the set-up time.
  EXPECT_LT(seconds, 3.0) << "the unlimited case is too slow to tell the limit apart";
}

TEST(UploadBudget, SuperSeedingIsOnAndAClientStillGetsEverything) {
  TempDir dir;
  const fs::path store = dir.path() / "store";
  const auto release = make_release(store, "rpi5", "1.0", 8, 64 * 1024, 23);
  auto config = loopback_config(store, true);
  config.super_seed = true;
  Seeder seeder(config);
  seeder.start();
  ASSERT_TRUE(wait_until([&] {
    const auto s = seeder.swarm()->stats();
    return !s.empty() && s[0].super_seeding;
  })) << "torrent not in super seeding mode";
  std::string log;
  const double seconds = timed_download(release, dir.path() / "client", seeder.bittorrent_port(), log);
  ASSERT_GT(seconds, 0) << log;
  std::cout << "super seeding, one client, 8 pieces: " << seconds << " s\n";
  for (const auto& rel : release.chunk_relpaths) {
    EXPECT_EQ(ironstone::testing::read_file(dir.path() / "client" / rel),
              ironstone::testing::read_file(store / rel));
  }
}

TEST(UploadBudget, SuperSeedingIsOffByDefault) {
  TempDir dir;
  make_release(dir.path(), "rpi5", "1.0", 1, 16 * 1024, 24);
  Seeder seeder(loopback_config(dir.path(), true));
  seeder.start();
  ASSERT_TRUE(wait_until([&] { return !seeder.swarm()->stats().empty(); }));
  EXPECT_FALSE(seeder.swarm()->stats()[0].super_seeding);
}

}  // namespace
}  // namespace ironstone::seeder
