// The node identity on the flasher's side: the NoCloud seed it renders, and writing it into
// the FAT boot partition of a real partitioned image file, read back with mtools.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/errc.h"
#include "flasher/errc.h"
#include "flasher/identity.h"
#include "flasher/nocloud.h"
#include "swarm/errc.h"
#include "tests/flasher/flash_rig.h"
#include "tests/testutil/expect_error.h"

namespace ironstone::flasher {
namespace {

using namespace ironstone::flasher::testing;
using ::testing::HasSubstr;
using nlohmann::json;

api::NodeIdentity agent() {
  api::NodeIdentity id;
  id.mac = "dc:a6:32:01:02:03";
  id.hostname = "rack1-n01";
  id.role = "agent";
  id.labels = {{"rack", "1"}, {"ironstone.dev/zone", "a"}};
  id.k3s = api::K3sJoin{"https://10.0.0.10:6443", "K10\"quoted\"token", false};
  id.ssh_authorized_keys = {"ssh-ed25519 AAAAC3Nza ops@example"};
  id.user_data = json{{"timezone", "Etc/UTC"}, {"runcmd", json::array({json::array({"touch", "/run/x"})})},
                      {"hostname", "ignored"}};
  return id;
}

SeedContext flash() { return SeedContext{"node-dca632010203", "http://nas:8080/", "rpi5", "2026.11.1", 12}; }

std::string file_of(const std::vector<SeedFile>& files, const std::string& name) {
  for (const auto& f : files)
    if (f.name == name) return f.content;
  ADD_FAILURE() << "no " << name;
  return "";
}

TEST(NoCloudSeed, K3sConfigHasServerTokenNodeNameAndLabels) {
  EXPECT_EQ(k3s_config_yaml(agent()),
            "# Written by ironstone-flasher from the seeder's inventory (docs/first-boot.md).\n"
            "server: \"https://10.0.0.10:6443\"\n"
            "token: \"K10\\\"quoted\\\"token\"\n"
            "node-name: \"rack1-n01\"\n"
            "node-label:\n"
            "  - \"ironstone.dev/zone=a\"\n"
            "  - \"rack=1\"\n");
  api::NodeIdentity first = agent();
  first.role = "server";
  first.k3s = api::K3sJoin{"", "t", true};
  first.labels.clear();
  EXPECT_EQ(k3s_config_yaml(first),
            "# Written by ironstone-flasher from the seeder's inventory (docs/first-boot.md).\n"
            "cluster-init: true\ntoken: \"t\"\nnode-name: \"rack1-n01\"\n");
}

TEST(NoCloudSeed, MetaDataAndUserDataCarryHostnameK3sJoinAndMergedUserData) {
  const auto files = nocloud_seed(agent(), flash());
  ASSERT_EQ(files.size(), 2u);  // no network-config without one in the identity
  const std::string meta = file_of(files, "meta-data");
  EXPECT_THAT(meta, ::testing::MatchesRegex("instance-id: \"ironstone-dca632010203-[0-9a-f]{16}\"\n"
                                            "local-hostname: \"rack1-n01\"\n"));
  const std::string user = file_of(files, "user-data");
  ASSERT_EQ(user.rfind("#cloud-config\n", 0), 0u) << user;
  const json cc = json::parse(user.substr(14));  // JSON is YAML: cloud-init reads it as such
  EXPECT_EQ(cc["hostname"], "rack1-n01");  // the inventory's, not user_data's
  EXPECT_EQ(cc["preserve_hostname"], false);
  EXPECT_EQ(cc["timezone"], "Etc/UTC");
  EXPECT_EQ(cc["ssh_authorized_keys"], json::array({"ssh-ed25519 AAAAC3Nza ops@example"}));
  ASSERT_EQ(cc["write_files"].size(), 2u);
  EXPECT_EQ(cc["write_files"][0]["path"], "/etc/rancher/k3s/config.yaml");
  EXPECT_EQ(cc["write_files"][0]["owner"], "root:root");
  EXPECT_EQ(cc["write_files"][0]["permissions"], "0600");
  EXPECT_EQ(cc["write_files"][0]["content"], k3s_config_yaml(agent()));
  EXPECT_EQ(cc["write_files"][1]["path"], "/etc/ironstone/node.env");
  EXPECT_EQ(cc["write_files"][1]["owner"], "root:root");
  EXPECT_EQ(cc["write_files"][1]["permissions"], "0644");
  EXPECT_EQ(cc["write_files"][1]["content"], node_env(agent(), flash()));
  // The seed does not start k3s: the gold image's ironstone-k3s-init.service does, once.
  EXPECT_EQ(cc["runcmd"], json::parse(R"([["touch","/run/x"]])"));

  // A changed identity is a new cloud-init instance; the same one is not.
  api::NodeIdentity renamed = agent();
  renamed.hostname = "rack1-n09";
  EXPECT_NE(file_of(nocloud_seed(renamed, flash()), "meta-data").substr(0, 50), meta.substr(0, 50));
  EXPECT_EQ(file_of(nocloud_seed(agent(), flash()), "meta-data"), meta);
}

TEST(NoCloudSeed, NodeEnvNamesTheNodeSeederReleaseAndK3sRole) {
  EXPECT_EQ(node_env(agent(), flash()),
            "# Written by ironstone-flasher (docs/first-boot.md): read by ironstone-firstboot.service.\n"
            "IRONSTONE_NODE_ID=node-dca632010203\n"
            "IRONSTONE_SEEDER_URL=http://nas:8080\n"
            "IRONSTONE_BOARD=rpi5\n"
            "IRONSTONE_RELEASE=2026.11.1\n"
            "IRONSTONE_SEQUENCE=12\n"
            "IRONSTONE_K3S_ROLE=agent\n");
  api::NodeIdentity server = agent();
  server.role = "server";
  EXPECT_THAT(node_env(server, flash()), HasSubstr("\nIRONSTONE_K3S_ROLE=server\n"));
  api::NodeIdentity plain = agent();
  plain.k3s.reset();
  EXPECT_THAT(node_env(plain, flash()), ::testing::Not(HasSubstr("K3S_ROLE")));
  // Whatever the URL holds stays one quoted EnvironmentFile line.
  SeedContext odd = flash();
  odd.seeder_url = "http://nas:8080/a b$`\"\n";
  EXPECT_THAT(node_env(plain, odd), HasSubstr("\nIRONSTONE_SEEDER_URL=\"http://nas:8080/a b\\$\\`\\\"\"\n"));
}

TEST(NoCloudSeed, NetworkConfigAndNoJoinWithoutK3s) {
  api::NodeIdentity id = agent();
  id.k3s.reset();
  id.user_data = nullptr;
  id.network_config = json{{"version", 2}, {"ethernets", {{"eth0", {{"dhcp4", true}}}}}};
  const auto files = nocloud_seed(id, flash());
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(json::parse(file_of(files, "network-config")), id.network_config);
  const json cc = json::parse(file_of(files, "user-data").substr(14));
  ASSERT_EQ(cc["write_files"].size(), 1u);  // node.env only: no k3s config
  EXPECT_EQ(cc["write_files"][0]["path"], "/etc/ironstone/node.env");
  EXPECT_FALSE(cc.contains("runcmd"));
}

TEST(NoCloudSeed, UserDataIsYamlThatCloudInitCanRead) {
  if (ironstone::testing::run_command("python3 -c 'import yaml'") != 0) GTEST_SKIP() << "python3 with PyYAML not installed";
  ironstone::testing::TempDir dir;
  ironstone::testing::write_text(dir / "user-data", file_of(nocloud_seed(agent(), flash()), "user-data"));
  std::string out;
  ASSERT_EQ(ironstone::testing::run_command(
                "python3 -c 'import sys, yaml; d = yaml.safe_load(open(sys.argv[1])); "
                "print(d[\"hostname\"], yaml.safe_load(d[\"write_files\"][0][\"content\"])[\"token\"])' " +
                    (dir / "user-data").string(),
                &out),
            0)
      << out;
  EXPECT_EQ(out, "rack1-n01 K10\"quoted\"token\n");
}

TEST(ParseIdentity, WhatTheSeederServesParsesBackAndBadDocumentsAreNamed) {
  const api::NodeIdentity id = agent();
  EXPECT_EQ(api::parse_node_identity(api::serialize_node_identity(id), "reply"), id);
  auto doc = api::to_json(id);
  doc["mac"] = "DC:A6:32:01:02:03";
  EXPECT_ERROR_EQ(api::parse_node_identity(doc.dump(), "reply"), api::Errc::kIdentity,
                  "reply: field 'mac': expected a lower-case MAC address like dc:a6:32:01:02:03");
  doc = api::to_json(id);
  doc["k3s"]["server"] = "http://10.0.0.10:6443";
  EXPECT_ERROR_EQ(api::parse_node_identity(doc.dump(), "reply"), api::Errc::kIdentity,
                  "reply: field 'k3s': 'server' must start with https://");
  doc = api::to_json(id);
  doc["k3s"]["cluster_init"] = true;
  EXPECT_ERROR_EQ(api::parse_node_identity(doc.dump(), "reply"), api::Errc::kIdentity,
                  "reply: field 'k3s': 'cluster_init' is only for role \"server\"");
  doc = api::to_json(id);
  doc["owner"] = "x";
  EXPECT_ERROR_EQ(api::parse_node_identity(doc.dump(), "reply"), api::Errc::kIdentity,
                  "reply: field 'owner': unknown field");
}

class SeedIntoImage : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = ironstone::testing::missing_disk_tools(); !why.empty()) GTEST_SKIP() << why;
  }
  std::unique_ptr<Target> open(const fs::path& p) {
    TargetOptions o;
    o.image_size = fs::file_size(p);
    return open_target(p, o);
  }
  ironstone::testing::TempDir dir;
};

TEST_F(SeedIntoImage, SeedFilesLandInTheFatBootPartitionBesideItsFiles) {
  const auto image = make_partitioned_image(dir.path(), "disk.img");
  ASSERT_FALSE(HasFatalFailure());
  const fs::path img = dir / "disk.img";
  auto target = open(img);
  const auto files = nocloud_seed(agent(), flash());
  disk::Partition boot = write_seed(*target, img, image.size(), files);
  target->flush();
  EXPECT_EQ(boot.number, 1u);
  EXPECT_EQ(boot.offset, kBootOffset);

  EXPECT_EQ(fat_file(img, kBootOffset, "meta-data"), file_of(files, "meta-data"));
  EXPECT_EQ(fat_file(img, kBootOffset, "user-data"), file_of(files, "user-data"));
  EXPECT_EQ(fat_file(img, kBootOffset, "config.txt"), "arm_64bit=1\n");  // the image's own file stays
  EXPECT_EQ(fat_file(img, kBootOffset, "network-config"), std::nullopt);
  std::string listing;
  ASSERT_EQ(ironstone::testing::run_command("MTOOLS_SKIP_CHECK=1 mdir -b -i '" + img.string() + "@@" +
                                                std::to_string(kBootOffset) + "' ::/",
                                            &listing),
            0);
  EXPECT_THAT(listing, HasSubstr("::/meta-data"));
  EXPECT_THAT(listing, HasSubstr("::/user-data"));

  // Everything outside the boot partition is untouched.
  const auto after = ironstone::testing::read_file(img);
  const std::uint64_t boot_end = boot.offset + boot.size;
  EXPECT_TRUE(std::equal(image.begin() + static_cast<std::ptrdiff_t>(boot_end), image.end(),
                         after.begin() + static_cast<std::ptrdiff_t>(boot_end)));
  EXPECT_TRUE(std::equal(image.begin(), image.begin() + 512, after.begin())) << "the partition table changed";

  // Writing again (a re-run) replaces the files.
  api::NodeIdentity renamed = agent();
  renamed.hostname = "rack1-n09";
  write_seed(*target, img, image.size(), nocloud_seed(renamed, flash()));
  EXPECT_THAT(*fat_file(img, kBootOffset, "meta-data"), HasSubstr("local-hostname: \"rack1-n09\""));
}

TEST_F(SeedIntoImage, ImageWithoutFatPartitionFailsNamingTargetAndTable) {
  ironstone::testing::DiskSpec spec = partitioned_spec();
  spec.with_boot = false;
  ironstone::testing::make_disk_image(spec, dir / "noboot.img");
  ASSERT_FALSE(HasFatalFailure());
  const fs::path img = dir / "noboot.img";
  auto target = open(img);
  EXPECT_ERROR_EQ(write_seed(*target, img, fs::file_size(img), nocloud_seed(agent(), flash())), Errc::kIdentity,
                  img.string() + ": no FAT boot partition for the cloud-init seed in the image's MBR table: "
                                 "1 unknown 8.0 MiB, 2 ext4 4.0 MiB");
}

TEST_F(SeedIntoImage, ImageWithoutPartitionTableFails) {
  const fs::path img = dir / "raw.img";
  ironstone::testing::write_file(img, ironstone::testing::pseudo_random(1 << 20, 3));
  auto target = open(img);
  EXPECT_ERROR_EQ(write_seed(*target, img, 1 << 20, nocloud_seed(agent(), flash())), Errc::kIdentity,
                  target->description() +
                      ": no partition table (no MBR signature, no GPT) and no ext filesystem: cannot find the boot "
                      "partition for the cloud-init seed");
}

TEST(BootOnlyChanges, OnlyChunksOverlappingTheBootPartitionCount) {
  manifest::Manifest m;
  m.chunks.resize(3);
  for (auto& c : m.chunks) c.length = 1 << 20;
  m.zero_ranges = {{4u << 20, 1u << 20}};
  disk::Partition boot;
  boot.offset = 1 << 20;
  boot.size = 2 << 20;  // [1 MiB, 3 MiB)
  using P = std::vector<std::vector<std::uint64_t>>;
  EXPECT_TRUE(boot_only_changes(m, P{{}, {1u << 20}, {2u << 20}}, {true}, boot));
  m.chunks[0].length = 2 << 20;  // a chunk that holds the partition table and the partition's start
  EXPECT_TRUE(boot_only_changes(m, P{{0}, {}, {}}, {true}, boot));
  m.chunks[0].length = 1 << 20;
  EXPECT_FALSE(boot_only_changes(m, P{{}, {}, {}}, {true}, boot)) << "nothing changed";
  EXPECT_FALSE(boot_only_changes(m, P{{3u << 20}, {}, {}}, {true}, boot)) << "a root-partition chunk changed";
  EXPECT_FALSE(boot_only_changes(m, P{{0}, {}, {}}, {false}, boot)) << "a zero range outside changed";
}

}  // namespace
}  // namespace ironstone::flasher
