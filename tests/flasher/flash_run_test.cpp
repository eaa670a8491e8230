// The flasher's whole run (run_flash) against a real in-process seeder on loopback:
// re-runs on a target that already holds the release, delta upgrades, the
// zero-touch Pi 5 run on a fake device tree with simulated EEPROM and power, and a
// flash while hostile clients hammer the seeder's HTTP port.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include "api/paths.h"
#include "boards/eeprom.h"
#include "boards/power.h"
#include "flasher/errc.h"
#include "swarm/http_client.h"
#include "tests/boards/fake_root.h"
#include "tests/flasher/flash_rig.h"

namespace ironstone::flasher {
namespace {

using namespace ironstone::flasher::testing;
using ::testing::HasSubstr;

struct timespec mtime_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mtim;
}
bool same_time(const struct timespec& a, const struct timespec& b) {
  return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

class FlashRun : public ::testing::Test {
 protected:
  void SetUp() override { spdlog::set_level(spdlog::level::warn); }
  void TearDown() override { spdlog::set_level(spdlog::level::info); }
  Rig rig;
};

// The fleet view keeps what a node got from where after it is done: the verification
// step after the download used to report its progress with zero bytes by source.
TEST_F(FlashRun, TheDoneReportKeepsTheBytesBySource) {
  const auto image = make_image(12, 12);
  rig.publish(image, "1.0");
  auto& seeder = rig.start_seeder();
  FlashOptions o = rig.flash_options("n1");
  fill_garbage(o.target, image.size(), 3);
  FlashResult r = run_flash(o);
  ASSERT_GT(r.from_seeder + r.from_peers, 0u);
  const auto view = seeder.fleet().view();
  bool found = false;
  for (const auto& n : view["nodes"]) {
    if (n["node_id"] != "n1") continue;
    found = true;
    EXPECT_EQ(n["state"], "done") << n.dump();
    EXPECT_EQ(n["bytes_from_seeder"].get<std::uint64_t>(), r.from_seeder) << n.dump();
    EXPECT_EQ(n["bytes_from_peers"].get<std::uint64_t>(), r.from_peers) << n.dump();
  }
  EXPECT_TRUE(found) << view.dump();
}

// The installer run again on a node that already holds the release: the target is
// read and hashed, nothing is downloaded and nothing is written (contents and mtime).
TEST_F(FlashRun, TargetAlreadyHoldingTheReleaseIsNeitherDownloadedNorWritten) {
  const auto image = make_image(16, 11);
  auto pub = rig.publish(image, "1.0");
  rig.start_seeder();
  FlashOptions first = rig.flash_options("n1");
  fill_garbage(first.target, image.size(), 8);
  FlashResult r1 = run_flash(first);
  ASSERT_EQ(read_file(first.target), image);
  EXPECT_FALSE(r1.already_current);
  EXPECT_EQ(r1.bytes_written, chunk_bytes(pub.manifest));

  // An hour back: any write moves the modification time.
  fs::last_write_time(first.target, fs::file_time_type::clock::now() - std::chrono::hours(1));
  const auto before = mtime_of(first.target);
  // A seeder that has sent nothing yet (what it sent for the first run is then not in its counters).
  rig.stop_seeder();
  auto& seeder = rig.start_seeder();
  auto sent = [&] {
    seeder.swarm()->scan_now();  // the torrent stats as of now
    auto mt = seeder.metrics();
    std::uint64_t n = mt.chunk_bytes_served;
    for (const auto& t : mt.torrents) n += static_cast<std::uint64_t>(t.uploaded);
    return n;
  };
  ASSERT_EQ(sent(), 0u);

  // A fresh installer: new state file and an empty cache, the same disk.
  FlashOptions again = rig.flash_options("n1-again");
  again.target = first.target;
  FlashResult r2 = run_flash(again);
  EXPECT_TRUE(r2.already_current);
  EXPECT_EQ(r2.chunks_total, pub.manifest.chunks.size());
  EXPECT_EQ(r2.chunks_downloaded, 0u);
  EXPECT_EQ(r2.bytes_written, 0u);
  EXPECT_EQ(r2.from_seeder + r2.from_peers, 0u);
  EXPECT_FALSE(r2.web_seed_used);
  EXPECT_EQ(read_file(first.target), image);
  EXPECT_TRUE(same_time(mtime_of(first.target), before)) << "the target was written to";
  EXPECT_EQ(sent(), 0u) << "the seeder sent chunk data to a node that needed none";
  EXPECT_EQ(r2.sequence, r1.sequence);
}

// An upgrade transfers only the chunks that changed; the target ends byte-identical.
TEST_F(FlashRun, UpgradeDownloadsOnlyTheChangedChunks) {
  auto image = make_image(24, 12);
  rig.publish(image, "1.0");
  rig.start_seeder();
  FlashOptions o = rig.flash_options("n1");
  fill_garbage(o.target, image.size(), 9);
  FlashResult r1 = run_flash(o);
  ASSERT_EQ(read_file(o.target), image);

  // 2.0: three chunks change (one of them was a zero chunk), one zero range appears, the first chunk changes.
  auto v2 = image;
  for (std::size_t k : {0u, 9u, 13u}) {
    auto c = pseudo_random(kChunk, 5000 + k);
    std::copy(c.begin(), c.end(), v2.begin() + static_cast<std::ptrdiff_t>(k * kChunk));
  }
  std::fill_n(v2.begin() + 17 * static_cast<std::ptrdiff_t>(kChunk), kChunk, 0);
  auto pub2 = rig.publish(v2, "2.0");
  ASSERT_EQ(pub2.manifest.sequence, r1.sequence + 1);
  ASSERT_TRUE(wait_until([&] { return rig.seeder().swarm()->torrent_count() == 2; }, std::chrono::seconds(10)));

  FlashResult r2 = run_flash(o);
  EXPECT_EQ(r2.version, "2.0");
  EXPECT_FALSE(r2.already_current);
  EXPECT_EQ(r2.chunks_downloaded, 3u);
  EXPECT_EQ(r2.bytes_written, 3u * kChunk);
  EXPECT_LT(r2.from_seeder + r2.from_peers, pub2.manifest.stored_bytes() / 2);
  EXPECT_EQ(read_file(o.target), v2);
}

// True when the bytes of `image` outside [from, to) are those of `target` (the boot
// partition, which holds the node identity after a flash).
bool same_outside(const std::vector<std::uint8_t>& image, const fs::path& target, std::uint64_t from, std::uint64_t to) {
  const auto t = read_file(target);
  if (t.size() < image.size()) return false;
  return std::equal(image.begin(), image.begin() + static_cast<std::ptrdiff_t>(from), t.begin()) &&
         std::equal(image.begin() + static_cast<std::ptrdiff_t>(to), image.end(), t.begin() + static_cast<std::ptrdiff_t>(to));
}

// Zero touch (issue 5): board "auto" on a fake Pi 5 root, the default target device
// (<root>/dev/nvme0n1, a file here), the simulated EEPROM gets NVMe-first boot order,
// the node's identity from the seeder's inventory lands in the boot partition as a
// cloud-init seed, the seeder sees the node (id from its MAC) done, the LEDs show
// "done", power off.
TEST_F(FlashRun, ZeroTouchPi5RunFlashesFixesEepromWritesIdentityReportsAndPowersOff) {
  if (auto why = ironstone::testing::missing_disk_tools(); !why.empty()) GTEST_SKIP() << why;
  const auto image = make_partitioned_image(rig.dir(), "gold.img");
  ASSERT_FALSE(HasFatalFailure());
  rig.publish(image, "1.0");
  write_text(rig.dir() / "inventory.json", R"({"format_version":1,
    "cluster":{"k3s":{"server":"https://10.0.0.10:6443","token":"K10zerotouch"}},
    "nodes":{"DC:A6:32:01:02:03":{"hostname":"rack1-n01","labels":{"rack":"1"}}}})");
  rig.set_inventory(rig.dir() / "inventory.json");
  auto& seeder = rig.start_seeder();

  FlashOptions o = rig.flash_options("pi");
  const fs::path root = o.root;
  boards::testing::put_compatible(root, {"raspberrypi,5-model-b", "brcm,bcm2712"});
  const fs::path act = boards::testing::put_led(root, "ACT", "none [mmc0] timer heartbeat pattern");
  const fs::path pwr = boards::testing::put_led(root, "PWR", "none [default-on]");
  boards::testing::put(root, "sys/class/net/lo/address", "00:00:00:00:00:00\n");
  boards::testing::put(root, "sys/class/net/eth0/address", "DC:A6:32:01:02:03\n");
  boards::testing::put(root, "dev/nvme0n1", "");
  fill_garbage(root / "dev/nvme0n1", image.size() + kChunk, 10);

  auto eeprom = std::make_shared<boards::SimulatedEeprom>("[all]\nBOOT_UART=1\nBOOT_ORDER=0xf41\n");
  auto power = std::make_shared<boards::FakePowerControl>();
  o.board = "auto";
  o.target.clear();
  o.node_id.clear();
  o.skip_firmware = false;
  o.power.reset();
  o.board_parts = [&] {
    boards::BoardParts parts;
    parts.firmware = std::make_unique<boards::EepromUpdater>(boards::EepromParams{"0xf416", false},
                                                             std::make_unique<SharedEeprom>(eeprom));
    parts.power = std::make_unique<SharedPower>(power);
    return parts;
  };
  FlashResult r = run_flash(o);

  EXPECT_EQ(r.board, "rpi5");
  EXPECT_EQ(r.version, "1.0");
  const auto boot = partitioned_spec();
  EXPECT_TRUE(same_outside(image, root / "dev/nvme0n1", boot.boot_start, boot.root_start()));
  // The identity: the seed in the boot partition, read back with mtools.
  EXPECT_EQ(r.identity, "rack1-n01 (agent, joins https://10.0.0.10:6443): NoCloud seed written to partition 1 (FAT) of " +
                            (root / "dev/nvme0n1").string());
  auto meta = fat_file(root / "dev/nvme0n1", kBootOffset, "meta-data");
  ASSERT_TRUE(meta);
  EXPECT_THAT(*meta, HasSubstr("local-hostname: \"rack1-n01\"\n"));
  auto user = fat_file(root / "dev/nvme0n1", kBootOffset, "user-data");
  ASSERT_TRUE(user);
  const auto cc = nlohmann::json::parse(user->substr(user->find('\n')));
  EXPECT_EQ(cc["hostname"], "rack1-n01");
  EXPECT_THAT(cc["write_files"][0]["content"].get<std::string>(),
              HasSubstr("server: \"https://10.0.0.10:6443\"\ntoken: \"K10zerotouch\"\nnode-name: \"rack1-n01\"\n"
                        "node-label:\n  - \"rack=1\"\n"));
  EXPECT_EQ(fat_file(root / "dev/nvme0n1", kBootOffset, "config.txt"), "arm_64bit=1\n");
  EXPECT_THAT(r.firmware, HasSubstr("updated"));
  EXPECT_EQ(eeprom->read_back(), "[all]\nBOOT_UART=1\nBOOT_ORDER=0xf416\n");
  EXPECT_EQ(power->requests(), (std::vector<boards::PowerAction>{boards::PowerAction::kPowerOff}));
  EXPECT_EQ(read_text(act / "trigger"), "none");
  EXPECT_EQ(read_text(act / "brightness"), "1");
  EXPECT_EQ(read_text(pwr / "brightness"), "0");
  auto view = seeder.fleet().view();
  ASSERT_EQ(view["nodes"].size(), 1u) << view.dump();
  EXPECT_EQ(view["nodes"][0]["node_id"], "node-dca632010203");
  EXPECT_EQ(view["nodes"][0]["mac"], "dc:a6:32:01:02:03");
  EXPECT_EQ(view["nodes"][0]["state"], "done");
  EXPECT_EQ(view["nodes"][0]["board"], "rpi5");
  EXPECT_EQ(view["nodes"][0]["release"], "1.0");
  bool identity_reported = false;
  for (const auto& e : view["events"]) identity_reported |= e["step"] == "identity";
  EXPECT_TRUE(identity_reported) << view["events"].dump();
  // The rollback state was recorded.
  EXPECT_THAT(read_text(o.state_file), HasSubstr("\"sequence\":1"));
}

// A re-run after a flash that wrote an identity: the boot-partition chunks the seed changed
// are found, fetched and written again (and nothing else), the run says so, and the
// identity (changed meanwhile in the inventory) is written again.
TEST_F(FlashRun, RerunRestoresTheBootPartitionChunksAndRewritesTheIdentity) {
  if (auto why = ironstone::testing::missing_disk_tools(); !why.empty()) GTEST_SKIP() << why;
  const auto image = make_partitioned_image(rig.dir(), "gold.img");
  ASSERT_FALSE(HasFatalFailure());
  auto pub = rig.publish(image, "1.0");
  const fs::path inventory = rig.dir() / "inventory.json";
  write_text(inventory, R"({"format_version":1,"nodes":{"02:00:00:00:00:01":{"hostname":"n-one"}}})");
  rig.set_inventory(inventory);
  rig.start_seeder();
  FlashOptions o = rig.flash_options("n1");
  boards::testing::put(o.root, "sys/class/net/eth0/address", "02:00:00:00:00:01\n");
  fill_garbage(o.target, image.size(), 8);

  FlashResult r1 = run_flash(o);
  EXPECT_THAT(r1.identity, HasSubstr("n-one (agent, joins no cluster)"));
  EXPECT_FALSE(r1.boot_only_changed);
  const auto boot = partitioned_spec();
  EXPECT_TRUE(same_outside(image, o.target, boot.boot_start, boot.root_start()));
  const std::size_t changed = chunks_missing(pub.manifest, image, o.target);
  EXPECT_GE(changed, 1u) << "the seed changed no chunk?";

  rewrite_text(inventory, R"({"format_version":1,"nodes":{"02:00:00:00:00:01":{"hostname":"n-two"}}})");
  FlashResult r2 = run_flash(o);
  EXPECT_FALSE(r2.already_current);
  EXPECT_TRUE(r2.boot_only_changed);
  EXPECT_GE(r2.chunks_downloaded, 1u);
  EXPECT_LE(r2.chunks_downloaded, changed);
  EXPECT_LT(r2.chunks_downloaded, r2.chunks_total);
  EXPECT_THAT(r2.identity, HasSubstr("n-two (agent, joins no cluster)"));
  EXPECT_THAT(*fat_file(o.target, kBootOffset, "meta-data"), HasSubstr("local-hostname: \"n-two\""));
  EXPECT_TRUE(same_outside(image, o.target, boot.boot_start, boot.root_start()));

  // --no-identity: the signed image, byte for byte.
  o.write_identity = false;
  FlashResult r3 = run_flash(o);
  EXPECT_TRUE(r3.boot_only_changed);
  EXPECT_EQ(r3.identity, "");
  EXPECT_EQ(chunks_missing(pub.manifest, image, o.target), 0u);
}

// The seeder answers 404 for a MAC not in its inventory: the step is skipped, the flash
// succeeds with the signed image untouched. An identity for an image without a FAT boot
// partition fails the step (reported to the seeder), naming target and table.
TEST_F(FlashRun, UnknownMacSkipsTheIdentityAndAnImageWithoutBootPartitionFailsIt) {
  const auto image = make_image(8, 15);
  rig.publish(image, "1.0");
  write_text(rig.dir() / "inventory.json", R"({"format_version":1,"nodes":{"02:00:00:00:00:01":{"hostname":"known"}}})");
  rig.set_inventory(rig.dir() / "inventory.json");
  auto& seeder = rig.start_seeder(/*bittorrent=*/false);

  FlashOptions unknown = rig.flash_options("stranger");
  boards::testing::put(unknown.root, "sys/class/net/eth0/address", "02:00:00:00:00:09\n");
  unknown.web_seed_after = std::chrono::milliseconds(100);
  FlashResult r = run_flash(unknown);
  EXPECT_EQ(r.identity, "skipped: no identity for 02:00:00:00:00:09: not in the inventory inventory.json");
  EXPECT_EQ(read_file(unknown.target), image);

  FlashOptions known = rig.flash_options("known");
  boards::testing::put(known.root, "sys/class/net/eth0/address", "02:00:00:00:00:01\n");
  known.web_seed_after = std::chrono::milliseconds(100);
  try {
    run_flash(known);
    FAIL() << "expected the identity step to fail";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(Errc::kIdentity));
    EXPECT_THAT(std::string(e.what()), HasSubstr("identity: " + known.target.string() + " (file, "));
    EXPECT_THAT(std::string(e.what()), HasSubstr(": no partition table (no MBR signature, no GPT) and no ext "
                                                 "filesystem: cannot find the boot partition for the cloud-init seed"));
  }
  EXPECT_EQ(read_file(known.target), image) << "the signed image was written and verified before the step";
  auto view = seeder.fleet().view();
  bool failed_at_identity = false;
  for (const auto& n : view["nodes"]) failed_at_identity |= n["node_id"] == "known" && n["step"] == "identity" &&
                                                            n["state"] == "failed";
  EXPECT_TRUE(failed_at_identity) << view.dump();
}

// Garbage, half requests and bad events sent to the seeder while a node flashes from
// its HTTP chunk store: every one is refused with 4xx (or dropped), the flash completes and
// the seeder keeps serving.
TEST_F(FlashRun, FlashCompletesWhileHostileClientsHammerTheSeeder) {
  const auto image = make_image(16, 14);
  const auto pub = rig.publish(image, "1.0");
  auto& seeder = rig.start_seeder(/*bittorrent=*/false);
  const std::uint16_t port = seeder.http_port();

  std::atomic<bool> stop{false};
  std::atomic<int> sent{0}, not_4xx{0};
  std::thread hostile([&] {
    namespace net = boost::asio;
    const std::vector<std::string> junk = {
        "GARBAGE\r\n\r\n",
        "GET /v1/releases/rpi5/../../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "GET /chunks/zz/" + std::string(64, 'g') + ".zst HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "POST /v1/nodes/n1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
        "17\r\nConnection: close\r\n\r\n{\"step\":\"x\",\"z\":1",
        "GET /v1/releases/rpi5/1.0/%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "GET /v1/releases/rpi5/1.0/manifest.json HTTP/1.1\r\nHost: x\r\n",  // never completed
    };
    std::size_t i = 0;
    while (!stop.load()) {
      const std::string& req = junk[i++ % junk.size()];
      try {
        net::io_context ioc;
        net::ip::tcp::socket s(ioc);
        s.connect({net::ip::make_address("127.0.0.1"), port});
        net::write(s, net::buffer(req));
        if (req.find("\r\n\r\n") == std::string::npos) continue;  // dropped half-request
        timeval tv{2, 0};
        setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        char buf[64] = {};
        const ssize_t n = ::recv(s.native_handle(), buf, sizeof buf - 1, 0);
        ++sent;
        const std::string head(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
        if (head.rfind("HTTP/1.1 4", 0) != 0) ++not_4xx;
      } catch (const std::exception&) {
        ++not_4xx;
      }
    }
  });

  FlashOptions o = rig.flash_options("n1");
  o.web_seed_after = std::chrono::milliseconds(200);
  FlashResult r;
  try {
    r = run_flash(o);
  } catch (...) {
    stop = true;
    hostile.join();
    throw;
  }
  stop = true;
  hostile.join();
  EXPECT_EQ(read_file(o.target), image);
  EXPECT_GE(r.from_seeder, pub.manifest.stored_bytes());
  EXPECT_GE(seeder.metrics().chunk_bytes_served, pub.manifest.stored_bytes());
  EXPECT_GT(sent.load(), 0);
  EXPECT_EQ(not_4xx.load(), 0);
  swarm::RequestOptions ro;
  ro.timeout = std::chrono::seconds(5);
  ro.max_body = 1 << 20;
  EXPECT_EQ(swarm::http_get(rig.seeder_url() + api::manifest_path("rpi5", "1.0"), ro).status, 200);
  auto summary = seeder.fleet().summary();
  EXPECT_EQ(summary["releases"]["rpi5/1.0"]["done"], 1) << summary.dump();
}

}  // namespace
}  // namespace ironstone::flasher
