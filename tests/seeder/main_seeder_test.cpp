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

}  // namespace
}  // namespace ironstone::seeder
