// Which blink code a failed flash shows (flasher/failed_step.h, docs/leds.md): 2 for the
// node's network, 3 for the seeder, 4 for a release that fails trust.
#include "flasher/failed_step.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include "flasher/errc.h"
#include "tests/boards/fake_root.h"
#include "tests/flasher/flash_rig.h"

namespace ironstone::flasher {
namespace {

using boards::FailedStep;
using namespace ironstone::flasher::testing;
namespace bt = boards::testing;

void put_link(const fs::path& root, const std::string& iface, const std::string& operstate) {
  bt::put(root, "sys/class/net/" + iface + "/operstate", operstate + "\n");
  bt::put(root, "sys/class/net/" + iface + "/address", "dc:a6:32:01:02:03\n");
}
void put_route(const fs::path& root, const std::string& iface) {
  bt::put(root, "proc/net/route",
          "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n" + iface +
              "\t00000000\t0100A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n");
}

TEST(FailedStep, SeederUnreachableOnAWorkingNetworkIsCode3) {
  TempDir root;
  bt::put(root.path(), "sys/class/net/lo/operstate", "unknown\n");
  put_link(root.path(), "end0", "up");
  put_route(root.path(), "end0");
  EXPECT_FALSE(network_state(root.path()).down);
  EXPECT_EQ(failed_step_for(FailedStep::kRelease, error(Errc::kSeeder, "GET ...: connection refused"), root.path()),
            FailedStep::kSeeder);
}

TEST(FailedStep, NoLinkIsCode2) {
  TempDir root;
  put_link(root.path(), "end0", "down");
  put_link(root.path(), "eth1", "lowerlayerdown");
  NetworkState s = network_state(root.path());
  EXPECT_TRUE(s.down);
  EXPECT_EQ(s.reason, "no link on end0, eth1");
  EXPECT_EQ(failed_step_for(FailedStep::kRelease, error(Errc::kSeeder, "x"), root.path()), FailedStep::kNetwork);
}

TEST(FailedStep, LinkWithoutAddressIsCode2) {
  TempDir root;
  put_link(root.path(), "end0", "up");
  bt::put(root.path(), "proc/net/route", "Iface\tDestination\n");
  bt::put(root.path(), "proc/net/if_inet6", "fe80000000000000dea632fffe010203 02 40 20 80 end0\n");  // link-local only
  EXPECT_EQ(network_state(root.path()).reason, "no IPv4 route or global IPv6 address on end0 (DHCP?)");
  EXPECT_EQ(failed_step_for(FailedStep::kRelease, error(Errc::kSeeder, "x"), root.path()), FailedStep::kNetwork);
}

TEST(FailedStep, UnknownNetworkNeverBlamesTheNetwork) {
  TempDir root;  // no sys/class/net at all
  EXPECT_FALSE(network_state(root.path()).down);
  put_link(root.path(), "end0", "up");  // link, but no proc/net files: addresses unknown
  EXPECT_FALSE(network_state(root.path()).down);
  EXPECT_EQ(failed_step_for(FailedStep::kRelease, error(Errc::kSeeder, "x"), root.path()), FailedStep::kSeeder);
}

TEST(FailedStep, TrustFailuresAndOtherStepsKeepTheirCode) {
  TempDir root;
  put_link(root.path(), "end0", "down");
  EXPECT_EQ(failed_step_for(FailedStep::kRelease, error(Errc::kPolicy, "signature"), root.path()), FailedStep::kRelease);
  EXPECT_EQ(failed_step_for(FailedStep::kRelease, error(Errc::kStateParse, "x"), root.path()), FailedStep::kRelease);
  EXPECT_EQ(failed_step_for(FailedStep::kWrite, error(Errc::kSeeder, "x"), root.path()), FailedStep::kWrite);
  EXPECT_EQ(failed_step_for(FailedStep::kIdentity, error(Errc::kSeeder, "x"), root.path()), FailedStep::kIdentity);
}

// The code a whole run's failure shows: run_flash() fails in its "release" step (planned code
// 4) and flash.cpp's step() shows failed_step_for() of the error it rethrows. (The LED files of
// a fake root cannot show it: after "working" a plain trigger file no longer lists the
// kernel's triggers, so the code is blinked by a thread that ends with the run.)
FailedStep code_of_failed_run(const FlashOptions& o) {
  try {
    run_flash(o);
    ADD_FAILURE() << "expected the run to fail";
  } catch (const Error& e) {
    EXPECT_THAT(std::string(e.what()), ::testing::StartsWith("release: "));
    return failed_step_for(FailedStep::kRelease, e, o.root);
  }
  return FailedStep::kBoard;
}

class FailedRun : public ::testing::Test {
 protected:
  void SetUp() override { spdlog::set_level(spdlog::level::off); }
  void TearDown() override { spdlog::set_level(spdlog::level::info); }
  // A Pi 5 fake root with its LEDs.
  void pi_root(FlashOptions& o) {
    bt::put_compatible(o.root, {"raspberrypi,5-model-b", "brcm,bcm2712"});
    o.board = "auto";
    bt::put_led(o.root, "PWR", "none [default-on]");
    bt::put_led(o.root, "ACT", "none [mmc0] timer heartbeat pattern");
  }
  Rig rig;
};

TEST_F(FailedRun, UnreachableSeederShowsCode3NotCode4) {
  rig.start_seeder(false);  // flash_options() names it; the run is pointed elsewhere
  FlashOptions o = rig.flash_options("n");
  o.seeder_url = "http://127.0.0.1:1";  // nothing listens there
  o.retry.attempts = 1;
  pi_root(o);
  put_link(o.root, "eth0", "up");
  put_route(o.root, "eth0");
  EXPECT_EQ(code_of_failed_run(o), FailedStep::kSeeder);
}

TEST_F(FailedRun, NodeWithoutLinkShowsCode2) {
  rig.start_seeder(false);
  FlashOptions o = rig.flash_options("n");
  o.seeder_url = "http://198.18.0.1:8080";  // never reached: the node has no link
  o.retry.attempts = 1;
  o.retry.timeout = std::chrono::milliseconds(200);
  pi_root(o);
  put_link(o.root, "eth0", "down");
  EXPECT_EQ(code_of_failed_run(o), FailedStep::kNetwork);
}

TEST_F(FailedRun, ReleaseFailingTrustShowsCode4) {
  if (auto why = ironstone::testing::missing_disk_tools(); !why.empty()) GTEST_SKIP() << why;
  rig.publish(make_partitioned_image(rig.dir(), "gold.img"), "1.0");
  ASSERT_FALSE(HasFatalFailure());
  rig.start_seeder();
  FlashOptions o = rig.flash_options("n");
  pi_root(o);
  const fs::path other_key = rig.dir() / "other.pub";
  write_text(other_key, manifest::serialize_public_key(test_key(0x17).public_key()));
  o.public_keys = {other_key};
  EXPECT_EQ(code_of_failed_run(o), FailedStep::kRelease);
}

}  // namespace
}  // namespace ironstone::flasher
