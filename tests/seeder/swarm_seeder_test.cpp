// The BitTorrent side: the seeder picks up releases (at start, later, removal) and
// a libtorrent client on loopback downloads a release from it, over BitTorrent and
// from the web seed alone.
#include <gtest/gtest.h>

#include <libtorrent/alert_types.hpp>
#include <libtorrent/load_torrent.hpp>
#include <libtorrent/session.hpp>
#include <libtorrent/torrent_status.hpp>

#include "swarm/lan_settings.h"
#include "tests/seeder/seeder_test_util.h"

namespace ironstone::seeder {
namespace {

using namespace ironstone::seeder::testing;
using ironstone::testing::read_file;
using ironstone::testing::TempDir;
using ironstone::testing::rewrite_text;
using ironstone::testing::write_text;
namespace fs = std::filesystem;

std::vector<std::string> seeded_releases(Seeder& seeder) {
  std::vector<std::string> out;
  for (const auto& t : seeder.swarm()->stats()) out.push_back(t.board + "/" + t.version + " " + t.state);
  std::sort(out.begin(), out.end());
  return out;
}

TEST(SwarmSeeder, SeedsReleasesPresentAtStartWithoutRechecking) {
  TempDir dir;
  make_release(dir.path(), "rpi5", "1.0", 3, 50 * 1024, 1);
  Seeder seeder(loopback_config(dir.path(), true));
  seeder.start();
  EXPECT_NE(seeder.bittorrent_port(), 0);
  ASSERT_TRUE(wait_until([&] {
    return seeded_releases(seeder) == std::vector<std::string>{"rpi5/1.0 seeding"};
  })) << ::testing::PrintToString(seeded_releases(seeder));
}

// libtorrent announces a hybrid torrent under its v1 info-hash and its truncated v2
// info-hash: the tracker must know both, and nothing else.
TEST(SwarmSeeder, TrackerKnowsTheV1AndTheTruncatedV2InfoHashOfAHybridTorrent) {
  TempDir dir;
  auto r = make_release(dir.path(), "rpi5", "1.0", 2, 20 * 1024, 3);
  Seeder seeder(loopback_config(dir.path(), true));
  seeder.start();
  ASSERT_TRUE(wait_until([&] { return seeder.swarm()->torrent_count() == 1; }));
  lt::torrent_info ti(lt::span<const char>(r.torrent.data(), static_cast<long>(r.torrent.size())),
                      lt::load_torrent_limits{}, lt::from_span);
  ASSERT_TRUE(ti.info_hashes().has_v1());
  InfoHash20 v1{}, v2{}, other{};
  std::copy_n(reinterpret_cast<const std::uint8_t*>(ti.info_hashes().v1.data()), 20, v1.begin());
  std::copy_n(reinterpret_cast<const std::uint8_t*>(ti.info_hashes().v2.data()), 20, v2.begin());
  other.fill(0x42);
  EXPECT_TRUE(seeder.swarm()->knows(v1));
  EXPECT_TRUE(seeder.swarm()->knows(v2));
  EXPECT_FALSE(seeder.swarm()->knows(other));
  EXPECT_EQ(seeder.swarm()->torrent_count(), 1u);  // one torrent, two names
}

TEST(SwarmSeeder, PicksUpPublishedReleasesAndDropsVanishedOnes) {
  TempDir dir;
  fs::create_directories(dir.path() / "releases");
  Seeder seeder(loopback_config(dir.path(), true));
  seeder.start();
  EXPECT_TRUE(seeded_releases(seeder).empty());

  make_release(dir.path(), "rock5b", "2.0", 2, 40 * 1024, 2);
  ASSERT_TRUE(wait_until([&] { return seeded_releases(seeder).size() == 1; }));
  make_release(dir.path(), "rpi5", "3.0", 2, 40 * 1024, 3);
  ASSERT_TRUE(wait_until([&] { return seeded_releases(seeder).size() == 2; }));
  EXPECT_EQ(seeder.metrics().torrents.size(), 2u);

  fs::remove_all(dir.path() / "releases" / "rock5b" / "2.0");
  ASSERT_TRUE(wait_until([&] { return seeded_releases(seeder).size() == 1; }));
  EXPECT_EQ(seeder.swarm()->stats().at(0).board, "rpi5");
  // The chunks stay: they may be shared with other releases.
  EXPECT_FALSE(fs::is_empty(dir.path() / "chunks"));
}

TEST(SwarmSeeder, SkipsBrokenTorrentsAndHiddenDirectories) {
  TempDir dir;
  fs::create_directories(dir.path() / "releases" / "rpi5" / "bad");
  write_text(dir.path() / "releases" / "rpi5" / "bad" / "release.torrent", "d4:junke");
  fs::create_directories(dir.path() / "releases" / "rpi5" / ".tmp-9");
  write_text(dir.path() / "releases" / "rpi5" / ".tmp-9" / "release.torrent", "x");
  make_release(dir.path(), "rpi5", "1.0", 1, 20 * 1024, 4);
  SeederConfig config = loopback_config(dir.path(), true);
  config.scan_interval = std::chrono::hours(1);  // only the scans this test asks for
  Seeder seeder(config);
  seeder.start();
  ASSERT_TRUE(
      wait_until([&] { return seeded_releases(seeder) == std::vector<std::string>{"rpi5/1.0 seeding"}; }));
  // Rescans skip them again, also a broken torrent that changed (and is still broken)...
  seeder.swarm()->scan_now();
  rewrite_text(dir.path() / "releases" / "rpi5" / "bad" / "release.torrent", "d5:junk2e");
  seeder.swarm()->scan_now();
  EXPECT_EQ(seeder.swarm()->torrent_count(), 1u);
  EXPECT_EQ(seeded_releases(seeder), std::vector<std::string>{"rpi5/1.0 seeding"});
  // ... and do take a good release published since.
  make_release(dir.path(), "rpi5", "2.0", 1, 20 * 1024, 6);
  seeder.swarm()->scan_now();
  EXPECT_EQ(seeder.swarm()->torrent_count(), 2u);
  ASSERT_TRUE(wait_until([&] {
    return seeded_releases(seeder) == std::vector<std::string>{"rpi5/1.0 seeding", "rpi5/2.0 seeding"};
  })) << ::testing::PrintToString(seeded_releases(seeder));
}

TEST(SwarmSeeder, ReleasesWithIdenticalChunksShareOneTorrent) {
  TempDir dir;
  auto a = make_release(dir.path(), "rpi5", "1.0", 2, 20 * 1024, 5);
  auto b = make_release(dir.path(), "rpi5", "1.0-rebuild", 2, 20 * 1024, 5);
  ASSERT_EQ(a.torrent, b.torrent);
  Seeder seeder(loopback_config(dir.path(), true));
  seeder.start();
  ASSERT_TRUE(wait_until([&] { return seeded_releases(seeder).size() == 2; }));
  fs::remove_all(dir.path() / "releases" / "rpi5" / "1.0");
  ASSERT_TRUE(wait_until(
      [&] { return seeded_releases(seeder) == std::vector<std::string>{"rpi5/1.0-rebuild seeding"}; }));
}

// Downloads `release` into `save` with a fresh client session; true when complete.
bool client_download(const TestRelease& release, const fs::path& save, std::vector<std::string> trackers,
                     std::vector<std::string> url_seeds, std::string& log) {
  swarm::LanOptions options;
  options.listen_interfaces = "127.0.0.1:0";
  lt::session session(lt::session_params(swarm::lan_settings(options)));
  swarm::apply_lan_peer_classes(session);
  lt::add_torrent_params atp = lt::load_torrent_buffer(
      lt::span<const char>(release.torrent.data(), static_cast<std::ptrdiff_t>(release.torrent.size())));
  atp.save_path = save.string();
  atp.trackers = std::move(trackers);
  atp.url_seeds = std::move(url_seeds);
  lt::torrent_handle h = session.add_torrent(std::move(atp));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    session.wait_for_alert(std::chrono::milliseconds(100));
    std::vector<lt::alert*> alerts;
    session.pop_alerts(&alerts);
    for (lt::alert* a : alerts) {
      if (a->category() & lt::alert_category::error) log += a->message() + "\n";
    }
    if (h.status().is_seeding) return true;
  }
  log += "timed out at " + std::to_string(h.status().progress) + "\n";
  return false;
}

void expect_same_files(const TestRelease& release, const fs::path& store, const fs::path& client) {
  for (const auto& rel : release.chunk_relpaths) {
    ASSERT_TRUE(fs::exists(client / rel)) << rel;
    EXPECT_EQ(read_file(client / rel), read_file(store / rel)) << rel;
  }
}

TEST(SwarmDownload, ClientDownloadsFromTheSeederOverBitTorrent) {
  TempDir dir;
  const fs::path store = dir.path() / "store";
  const auto release = make_release(store, "rpi5", "1.0", 4, 200 * 1024, 6);
  Seeder seeder(loopback_config(store, true));
  seeder.start();
  ASSERT_TRUE(wait_until([&] { return seeded_releases(seeder).size() == 1; }));

  // The client finds the seeder through the built-in tracker; no web seed.
  std::string log;
  ASSERT_TRUE(client_download(release, dir.path() / "client", {seeder.base_url() + "announce"}, {}, log))
      << log;
  expect_same_files(release, store, dir.path() / "client");
  EXPECT_EQ(seeder.metrics().chunk_bytes_served, 0u);
  EXPECT_TRUE(wait_until([&] { return seeder.swarm()->stats().at(0).uploaded >= 4 * 200 * 1024; }))
      << seeder.swarm()->stats().at(0).uploaded;
}

TEST(SwarmDownload, ASeederOnPosixDiskIoServesTheSameBytesAndSaysSoInItsInfo) {
  TempDir dir;
  const fs::path store = dir.path() / "store";
  const auto release = make_release(store, "rpi5", "1.0", 4, 200 * 1024, 8);
  SeederConfig config = loopback_config(store, true);
  config.disk_backend = swarm::DiskBackend::kPosix;  // a peer seeder's: pread, nothing mapped
  Seeder seeder(config);
  seeder.start();
  EXPECT_EQ(seeder.info()["disk_io"], "posix");
  ASSERT_TRUE(wait_until([&] { return seeded_releases(seeder).size() == 1; }));
  std::string log;
  ASSERT_TRUE(client_download(release, dir.path() / "client", {seeder.base_url() + "announce"}, {}, log)) << log;
  expect_same_files(release, store, dir.path() / "client");
}

TEST(SwarmDownload, ClientDownloadsFromTheWebSeedAloneWhenBitTorrentIsUnreachable) {
  TempDir dir;
  const fs::path store = dir.path() / "store";
  const auto release = make_release(store, "rpi5", "1.0", 3, 300 * 1024, 7);
  Seeder seeder(loopback_config(store, false));  // no BitTorrent listener at all
  seeder.start();

  std::string log;
  ASSERT_TRUE(client_download(release, dir.path() / "client", {}, {seeder.base_url()}, log)) << log;
  expect_same_files(release, store, dir.path() / "client");
  EXPECT_GE(seeder.metrics().chunk_bytes_served, 3u * 300 * 1024);
}

}  // namespace
}  // namespace ironstone::seeder
