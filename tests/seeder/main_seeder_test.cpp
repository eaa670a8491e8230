// The ironstone-seeder binary: config file, serving, graceful exit on SIGTERM.
#include <gtest/gtest.h>

#include "tests/seeder/seeder_test_util.h"

namespace ironstone::seeder {
namespace {

using ironstone::testing::binary;
using ironstone::testing::run_command;
using ironstone::testing::TempDir;
using ironstone::testing::write_text;

TEST(SeederBinary, ReadsConfigFileServesAndExitsZeroOnSigterm) {
  const auto bin = binary("ironstone-seeder");
  if (!std::filesystem::exists(bin)) GTEST_SKIP() << "ironstone-seeder not built: " << bin;
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "store" / "releases");
  write_text(dir.path() / "seeder.toml", "store = \"" + (dir.path() / "store").string() +
                                             "\"\nlisten = \"127.0.0.1:0\"\nbt-listen = \"127.0.0.1:0\"\n"
                                             "no-bittorrent = true\nlog-level = \"debug\"\n");
  const std::string log = (dir.path() / "seeder.log").string();
  const std::string script =
      bin.string() + " --config " + (dir.path() / "seeder.toml").string() + " > " + log + " 2>&1 & pid=$!\n" +
      "for i in $(seq 100); do grep -q 'HTTP port' " + log + " && break; sleep 0.1; done\n" +
      "port=$(sed -n 's/.*HTTP port \\([0-9]*\\).*/\\1/p' " + log + ")\n" +
      "curl -sf http://127.0.0.1:$port/v1/fleet/summary > /dev/null || echo CURL-FAILED\n" +
      "kill -TERM $pid; wait $pid; echo exit=$?\n";
  write_text(dir.path() / "run.sh", script);
  std::string out;
  ASSERT_EQ(run_command("bash " + (dir.path() / "run.sh").string(), &out), 0) << out;
  EXPECT_NE(out.find("exit=0"), std::string::npos) << out << ironstone::testing::read_text(log);
  EXPECT_EQ(out.find("CURL-FAILED"), std::string::npos) << out;
  const std::string text = ironstone::testing::read_text(log);
  EXPECT_NE(text.find("SIGTERM received"), std::string::npos) << text;
  EXPECT_NE(text.find("GET /v1/fleet/summary -> 200"), std::string::npos) << text;
}

TEST(SeederBinary, MissingStoreFailsWithAMessage) {
  const auto bin = binary("ironstone-seeder");
  if (!std::filesystem::exists(bin)) GTEST_SKIP() << "ironstone-seeder not built: " << bin;
  std::string out;
  EXPECT_EQ(run_command(bin.string() + " --store /nonexistent/store --listen 127.0.0.1:0 --no-bittorrent", &out), 1);
  EXPECT_NE(out.find("store /nonexistent/store: not a directory"), std::string::npos) << out;
}

TEST(SeederBinary, FleetSubcommandPrintsTheFleetOfARunningDaemon) {
  const auto bin = binary("ironstone-seeder");
  if (!std::filesystem::exists(bin)) GTEST_SKIP() << "ironstone-seeder not built: " << bin;
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "store" / "releases");
  const std::string log = (dir.path() / "seeder.log").string();
  // The daemon as tools/demo.sh starts it, then the fleet view as the demo's last step.
  const std::string script =
      bin.string() + " --store " + (dir.path() / "store").string() +
      " --listen 127.0.0.1:0 --bt-listen 127.0.0.1:0 --upload-limit 100mbit --super-seed > " + log +
      " 2>&1 & pid=$!\n" +
      "for i in $(seq 100); do grep -q 'HTTP port' " + log + " && break; sleep 0.1; done\n" +
      "port=$(sed -n 's/.*HTTP port \\([0-9]*\\), BitTorrent port \\([0-9]*\\).*/\\1/p' " + log + ")\n" +
      "curl -sf -X POST -H 'Content-Type: application/json' "
      "-d '{\"board\":\"rpi5\",\"release\":\"1.0\",\"step\":\"linger\",\"state\":\"done\"}' "
      "http://127.0.0.1:$port/v1/nodes/demo-node-1/events > /dev/null || echo CURL-FAILED\n" +
      bin.string() + " fleet --url http://127.0.0.1:$port; echo fleet=$?\n" +
      bin.string() + " fleet --url http://127.0.0.1:$port --watch 0.2; echo watch=$?\n" +
      "kill -TERM $pid; wait $pid; echo exit=$?\n";
  write_text(dir.path() / "run.sh", script);
  std::string out;
  ASSERT_EQ(run_command("bash " + (dir.path() / "run.sh").string(), &out), 0) << out;
  const std::string text = ironstone::testing::read_text(log);
  EXPECT_EQ(out.find("CURL-FAILED"), std::string::npos) << out << text;
  EXPECT_NE(out.find("fleet=0"), std::string::npos) << out;
  EXPECT_NE(out.find("watch=0"), std::string::npos) << out;  // returns: every node is done
  EXPECT_NE(out.find("demo-node-1  -     rpi5   1.0      linger  done"), std::string::npos) << out;
  EXPECT_NE(out.find("1 nodes: 0 working, 1 done, 0 booted, 0 joined, 0 failed, 0 stale"), std::string::npos) << out;
  EXPECT_NE(out.find("exit=0"), std::string::npos) << out << text;
  EXPECT_NE(text.find("upload limited to 12500000 bytes/s"), std::string::npos) << text;
}

TEST(SeederBinary, FleetSubcommandFailsWhenTheSeederIsUnreachable) {
  const auto bin = binary("ironstone-seeder");
  if (!std::filesystem::exists(bin)) GTEST_SKIP() << "ironstone-seeder not built: " << bin;
  std::string out;
  EXPECT_EQ(run_command(bin.string() + " fleet --url http://127.0.0.1:1", &out), 1);
  EXPECT_NE(out.find("ironstone-seeder fleet: GET http://127.0.0.1:1/v1/fleet"), std::string::npos) << out;
}

TEST(SeederBinary, DaemonStillRequiresStoreAndChecksTheUploadLimit) {
  const auto bin = binary("ironstone-seeder");
  if (!std::filesystem::exists(bin)) GTEST_SKIP() << "ironstone-seeder not built: " << bin;
  std::string out;
  EXPECT_NE(run_command(bin.string() + " --listen 127.0.0.1:0 --no-bittorrent", &out), 0);
  EXPECT_NE(out.find("--store is required"), std::string::npos) << out;
  TempDir dir;
  out.clear();
  EXPECT_EQ(run_command(bin.string() + " --store " + dir.path().string() +
                            " --listen 127.0.0.1:0 --no-bittorrent --upload-limit 12X",
                        &out),
            1);
  EXPECT_NE(out.find("--upload-limit '12X'"), std::string::npos) << out;
}

TEST(SeederBinary, DiskIoIsMmapOrPosixAndAnythingElseIsRefusedNamingTheFlag) {
  const auto bin = binary("ironstone-seeder");
  if (!std::filesystem::exists(bin)) GTEST_SKIP() << "ironstone-seeder not built: " << bin;
  TempDir dir;
  std::string out;
  EXPECT_NE(run_command(bin.string() + " --store " + dir.path().string() + " --listen 127.0.0.1:0 --disk-io aio", &out),
            0);
  EXPECT_NE(out.find("--disk-io: aio not in {mmap,posix}"), std::string::npos) << out;
}

}  // namespace
}  // namespace ironstone::seeder
