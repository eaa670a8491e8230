// `ironstone-build gold` on a base image the test makes itself (MBR, FAT boot + ext4 root
// shaped like Raspberry Pi OS, unsealed on purpose): every "what every gold image gets" item
// is checked inside the result with debugfs, never mounted.
#include "builder/gold.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>

#include "builder/errc.h"
#include "builder/seal_check.h"
#include "tests/testutil/disk_image.h"
#include "tests/testutil/testutil.h"

namespace ironstone::builder {
namespace {

namespace fs = std::filesystem;
using testing::read_text;
using testing::run_command;
using testing::TempDir;
using testing::write_text;

constexpr std::uint64_t kBootStart = 1ull << 20;
constexpr std::uint64_t kBootSize = 64ull << 20;
constexpr std::uint64_t kRootStart = kBootStart + kBootSize;
// sha256 of "#!/bin/sh\necho k3s\n"
constexpr const char* kK3sText = "#!/bin/sh\necho k3s\n";

std::string debugfs(const fs::path& img, const std::string& request) {
  std::string out;
  run_command("(debugfs -R '" + request + "' '" + img.string() + "?offset=" + std::to_string(kRootStart) + "' 2>/dev/null)", &out);
  return out;
}

fs::path make_base(const TempDir& t, bool with_locale_gen = false) {
  const fs::path root = t / (with_locale_gen ? "rootfs-locales" : "rootfs");
  for (const char* d : {"etc/ssh", "etc/systemd/system", "usr/lib/systemd/system", "var/lib/cloud/instances/i-1",
                        "var/lib/apt/lists/partial", "var/cache/apt/archives", "var/lib/dpkg", "var/lib/dbus",
                        "usr/share/doc/libc6", "usr/share/doc/curl", "root", "home"})
    fs::create_directories(root / d);
  write_text(root / "etc/passwd", "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534::/nonexistent:/usr/sbin/nologin\n");
  write_text(root / "etc/group", "root:x:0:\nadm:x:4:\nshadow:x:42:\nsudo:x:27:\n");
  write_text(root / "etc/shadow", "root:*:19000:0:99999:7:::\n");
  write_text(root / "etc/fstab", "PARTUUID=1-01 /boot/firmware vfat defaults 0 2\nPARTUUID=1-02 / ext4 defaults 0 1\n");
  write_text(root / "etc/machine-id", "0123456789abcdef0123456789abcdef\n");
  write_text(root / "var/lib/dbus/machine-id", "0123456789abcdef0123456789abcdef\n");
  write_text(root / "etc/ssh/ssh_host_ed25519_key", "secret\n");
  write_text(root / "etc/ssh/sshd_config", "PermitRootLogin no\n");
  write_text(root / "var/lib/cloud/instances/i-1/boot-finished", "x\n");
  fs::create_symlink("/var/lib/cloud/instances/i-1", root / "var/lib/cloud/instance");
  write_text(root / "var/lib/apt/lists/mirror.example_debian_dists_bookworm_InRelease", "x\n");
  write_text(root / "var/cache/apt/pkgcache.bin", "x\n");
  write_text(root / "var/cache/apt/archives/curl_7.88_arm64.deb", "x\n");
  write_text(root / "root/.bash_history", "ls\n");
  write_text(root / "usr/lib/systemd/system/ssh.service", "[Service]\nExecStart=/usr/sbin/sshd\n[Install]\nWantedBy=multi-user.target\n");
  write_text(root / "var/lib/dpkg/status",
             "Package: libc6\nStatus: install ok installed\nArchitecture: arm64\nSource: glibc\nVersion: 2.36-9+deb12u4\n\n"
             "Package: curl\nStatus: install ok installed\nArchitecture: arm64\nVersion: 7.88.1-10+deb12u5\n"
             "Description: a tool\n multi-line\n\n"
             "Package: removed\nStatus: deinstall ok config-files\nArchitecture: arm64\nVersion: 1\n");
  write_text(root / "usr/share/doc/libc6/copyright",
             "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: LGPL-2.1+\n");
  write_text(root / "usr/share/doc/curl/copyright", "This is not machine-readable. License: curl\n");
  if (with_locale_gen) {
    fs::create_directories(root / "usr/sbin");
    write_text(root / "usr/sbin/locale-gen", "#!/bin/sh\n");
  }
  testing::DiskSpec disk;
  disk.boot_start = kBootStart;
  disk.boot_size = kBootSize;
  disk.root_size = 48ull << 20;
  disk.boot_files = {{"cmdline.txt", "console=tty1 root=PARTUUID=1-02\n"}};
  disk.rootfs = root;
  const fs::path base = t / "base.img";
  testing::make_disk_image(disk, base);
  return base;
}

class Gold : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = testing::missing_disk_tools(); !why.empty()) GTEST_SKIP() << why;
    base_ = make_base(t);
    ASSERT_FALSE(HasFatalFailure());
    write_text(t / "k3s", kK3sText);
    write_text(t / "motd", "welcome\n");
    std::string sum;
    run_command("sha256sum < '" + (t / "k3s").string() + "' | cut -c1-64 | tr -d '\\n'", &sum);
    k3s_sha_ = sum;
    write_recipe(k3s_sha_);
  }
  void write_recipe(const std::string& sha) {
    write_text(t / "recipe.yaml", "name: test-rack\nboard: rpi5\nbase: base.img\n"
                                  "files:\n  - {source: motd, path: /etc/motd}\n"
                                  "  - {content: \"x=1\\n\", path: /etc/ironstone/extra.conf, owner: ops:adm, mode: \"0640\"}\n"
                                  "users:\n  - name: ops\n    groups: [sudo]\n"
                                  "    ssh_authorized_keys: [\"ssh-ed25519 AAAAC3Nza ops@laptop\"]\n"
                                  "units: {enable: [ssh.service], mask: [apt-daily.timer]}\n"
                                  "k3s: {version: v1.31.4+k3s1, sha256: " + sha + ", file: k3s, server_args: [--disable=traefik]}\n");
  }
  GoldOptions options(const std::string& out = "gold.img") {
    GoldOptions o;
    o.recipe = t / "recipe.yaml";
    o.out = t / out;
    o.source_date_epoch = 1767225600;
    return o;
  }
  TempDir t;
  fs::path base_;
  std::string k3s_sha_;
};

TEST_F(Gold, EveryGoldImageItemIsInsideTheResult) {
  GoldResult r = build_gold(options());
  const fs::path img = t / "gold.img";
  ASSERT_TRUE(fs::exists(img));
  // k3s: the binary, its tool links, both units, none enabled.
  EXPECT_EQ(debugfs(img, "cat /usr/local/bin/k3s"), kK3sText);
  EXPECT_NE(debugfs(img, "stat /usr/local/bin/k3s").find("Mode:  0755"), std::string::npos);
  EXPECT_NE(debugfs(img, "stat /usr/local/bin/kubectl").find("Fast link dest: \"k3s\""), std::string::npos);
  EXPECT_EQ(debugfs(img, "cat /etc/systemd/system/k3s.service"), k3s_unit_text(false, {"--disable=traefik"}));
  EXPECT_NE(debugfs(img, "cat /etc/systemd/system/k3s-agent.service").find("    agent"), std::string::npos);
  EXPECT_EQ(debugfs(img, "stat /etc/systemd/system/multi-user.target.wants/k3s.service"), "");
  // Kubernetes modules and sysctls.
  EXPECT_EQ(debugfs(img, "cat /etc/modules-load.d/ironstone-k8s.conf"),
            "# Kernel modules Kubernetes (k3s) needs; written by `ironstone-build gold`.\n"
            "overlay\nbr_netfilter\nip_vs\nip_vs_rr\nip_vs_wrr\nip_vs_sh\nnf_conntrack\n");
  EXPECT_EQ(debugfs(img, "cat /etc/sysctl.d/90-ironstone-k8s.conf"),
            "# Kernel settings Kubernetes (k3s) needs; written by `ironstone-build gold`.\n"
            "net.ipv4.ip_forward = 1\nnet.bridge.bridge-nf-call-iptables = 1\nnet.bridge.bridge-nf-call-ip6tables = 1\n");
  // cloud-init: NoCloud from the boot partition's mount point (from the base's fstab).
  const std::string ds = debugfs(img, "cat /etc/cloud/cloud.cfg.d/90-ironstone-datasource.cfg");
  EXPECT_NE(ds.find("datasource_list: [NoCloud, None]\n"), std::string::npos) << ds;
  EXPECT_NE(ds.find("    seedfrom: file:///boot/firmware/\n"), std::string::npos) << ds;
  EXPECT_NE(debugfs(img, "cat /etc/systemd/system/cloud-init-local.service.d/ironstone-seed.conf").find("RequiresMountsFor=/boot/firmware"),
            std::string::npos);
  // The base has no locale-gen (no locales package): cloud-init's locale module is off.
  EXPECT_NE(debugfs(img, "cat /etc/cloud/cloud.cfg.d/91-ironstone-locale.cfg").find("\nlocale: false\n"), std::string::npos);
  // First-boot units (contract) enabled through cloud-init.target, scripts executable.
  for (const char* unit : {"ironstone-firstboot.service", "ironstone-k3s-init.service"}) {
    EXPECT_NE(debugfs(img, std::string("stat /etc/systemd/system/cloud-init.target.wants/") + unit)
                  .find(std::string("Fast link dest: \"../") + unit + "\""),
              std::string::npos)
        << unit;
  }
  EXPECT_EQ(debugfs(img, "cat /etc/systemd/system/ironstone-k3s-init.service"), k3s_init_unit_text());
  EXPECT_NE(k3s_init_unit_text().find("ConditionPathExists=/etc/rancher/k3s/config.yaml\nConditionFileIsExecutable=/usr/local/bin/k3s\n"),
            std::string::npos);
  EXPECT_NE(debugfs(img, "stat /usr/local/lib/ironstone/firstboot.sh").find("Mode:  0755"), std::string::npos);
  EXPECT_NE(debugfs(img, "cat /usr/local/lib/ironstone/firstboot.sh").find("SEED_DIR=/boot/firmware\n"), std::string::npos);
  EXPECT_NE(debugfs(img, "cat /usr/local/lib/ironstone/report.sh")
                .find("curl -fsS --retry 20 --retry-connrefused --retry-delay 3 --max-time 10"),
            std::string::npos);
  // The recipe's files, users and units.
  EXPECT_EQ(debugfs(img, "cat /etc/motd"), "welcome\n");
  const std::string extra = debugfs(img, "stat /etc/ironstone/extra.conf");
  EXPECT_NE(extra.find("Mode:  0640"), std::string::npos) << extra;
  EXPECT_NE(extra.find("User:  1000   Group:     4"), std::string::npos) << extra;
  EXPECT_NE(debugfs(img, "cat /etc/passwd").find("ops:x:1000:1000::/home/ops:/bin/bash\n"), std::string::npos);
  EXPECT_NE(debugfs(img, "cat /etc/group").find("sudo:x:27:ops\n"), std::string::npos);
  EXPECT_EQ(debugfs(img, "cat /home/ops/.ssh/authorized_keys"), "ssh-ed25519 AAAAC3Nza ops@laptop\n");
  EXPECT_NE(debugfs(img, "stat /home/ops/.ssh/authorized_keys").find("Mode:  0600"), std::string::npos);
  EXPECT_NE(debugfs(img, "stat /etc/systemd/system/multi-user.target.wants/ssh.service")
                .find("Fast link dest: \"/usr/lib/systemd/system/ssh.service\""),
            std::string::npos);
  EXPECT_NE(debugfs(img, "stat /etc/systemd/system/apt-daily.timer").find("Fast link dest: \"/dev/null\""), std::string::npos);
  // Sealed: publish's check passes, and each item is gone.
  SealReport seal = check_sealed(img);
  EXPECT_TRUE(seal.sealed()) << seal.note << (seal.findings.empty() ? "" : seal.findings[0]);
  EXPECT_EQ(debugfs(img, "cat /etc/machine-id"), "");
  for (const char* gone : {"/etc/ssh/ssh_host_ed25519_key", "/var/lib/cloud/instances", "/root/.bash_history",
                           "/var/lib/apt/lists/mirror.example_debian_dists_bookworm_InRelease", "/var/cache/apt/pkgcache.bin",
                           "/var/cache/apt/archives/curl_7.88_arm64.deb"})
    EXPECT_EQ(debugfs(img, std::string("stat ") + gone), "") << gone;
  EXPECT_NE(debugfs(img, "stat /etc/ssh/sshd_config"), "");
  // SBOM beside the image.
  EXPECT_EQ(r.sbom, fs::path((t / "gold.img").string() + ".spdx.json"));
  auto sbom = nlohmann::json::parse(read_text(r.sbom));
  EXPECT_EQ(sbom["spdxVersion"], "SPDX-2.3");
  EXPECT_EQ(sbom["name"], "test-rack");
  EXPECT_EQ(sbom["creationInfo"]["created"], "2026-01-01T00:00:00Z");
  ASSERT_EQ(sbom["packages"].size(), 3u);  // curl, libc6, k3s (not the removed one)
  EXPECT_EQ(sbom["packages"][0]["name"], "curl");
  EXPECT_EQ(sbom["packages"][0]["licenseDeclared"], "NOASSERTION");
  EXPECT_EQ(sbom["packages"][1]["name"], "libc6");
  EXPECT_EQ(sbom["packages"][1]["versionInfo"], "2.36-9+deb12u4");
  EXPECT_EQ(sbom["packages"][1]["sourceInfo"], "built from Debian source package glibc 2.36-9+deb12u4");
  EXPECT_EQ(sbom["packages"][1]["licenseDeclared"], "LGPL-2.1-or-later");
  EXPECT_EQ(sbom["packages"][2]["name"], "k3s");
  EXPECT_EQ(sbom["packages"][2]["checksums"][0]["checksumValue"], k3s_sha_);
  // The filesystem is consistent and the base untouched in size.
  std::string fsck;
  EXPECT_EQ(run_command("e2fsck -fn '" + img.string() + "?offset=" + std::to_string(kRootStart) + "'", &fsck), 0) << fsck;
}

// A recipe's peer: puts the seeder, the key, peer.env and the unit into the image and enables
// the unit; without peer: none of it is there (the default image above).
TEST_F(Gold, ARecipesPeerBlockInstallsTheSeederItsSettingsAndTheUnitEnabled) {
  write_text(t / "ironstone-seeder", "#!/bin/sh\necho seeder\n");
  write_text(t / "release.pub", "untrusted comment: minisign public key\nRWQexample\n");
  write_text(t / "recipe.yaml", "board: rpi5\nbase: base.img\n"
                                "peer: {upstream: http://nas:8080, seeder: ironstone-seeder, public_key: release.pub,\n"
                                "       channels: [stable, beta], upload_limit: 20M, max_store: 20G, keep: 3}\n");
  GoldResult r = build_gold(options());
  const fs::path img = t / "gold.img";
  EXPECT_EQ(debugfs(img, "cat /usr/local/bin/ironstone-seeder"), "#!/bin/sh\necho seeder\n");
  EXPECT_NE(debugfs(img, "stat /usr/local/bin/ironstone-seeder").find("Mode:  0755"), std::string::npos);
  EXPECT_EQ(debugfs(img, "cat /etc/ironstone/release.pub"), read_text(t / "release.pub"));
  EXPECT_EQ(debugfs(img, "cat /etc/ironstone/peer.env"),
            "# Written by `ironstone-build gold` from the recipe's peer: (docs/peer-mode.md); read by\n"
            "# ironstone-peer.service.\n"
            "PEER_OF=http://nas:8080\n"
            "PEER_ARGS=--channel stable --channel beta --upload-limit 20M --max-store 20G --keep 3\n");
  EXPECT_EQ(debugfs(img, "cat /etc/systemd/system/ironstone-peer.service"), peer_unit_text());
  EXPECT_NE(debugfs(img, "stat /etc/systemd/system/multi-user.target.wants/ironstone-peer.service")
                .find("Fast link dest: \"/etc/systemd/system/ironstone-peer.service\""),
            std::string::npos);
  for (const char* p : {"/usr/local/bin/ironstone-seeder", "/etc/ironstone/peer.env",
                        "/etc/systemd/system/ironstone-peer.service"})
    EXPECT_NE(std::find(r.files.begin(), r.files.end(), p), r.files.end()) << p;
  EXPECT_TRUE(check_sealed(img).sealed());
}

TEST_F(Gold, WithoutPeerNoPeerUnitAndAMissingPeerSeederIsRefused) {
  write_text(t / "recipe.yaml", "board: rpi5\nbase: base.img\n");
  build_gold(options());
  EXPECT_EQ(debugfs(t / "gold.img", "stat /etc/systemd/system/ironstone-peer.service"), "");
  EXPECT_EQ(debugfs(t / "gold.img", "stat /etc/ironstone/peer.env"), "");
  write_text(t / "recipe.yaml", "board: rpi5\nbase: base.img\n"
                                "peer: {upstream: http://nas:8080, seeder: nothere, public_key: nothere.pub}\n");
  try {
    build_gold(options("gold2.img"));
    FAIL() << "a missing peer.seeder was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(Errc::kInput));
    EXPECT_EQ(std::string(e.what()),
              (t / "recipe.yaml").string() + ": peer.seeder " + (t / "nothere").string() + ": not found");
  }
  EXPECT_FALSE(fs::exists(t / "gold2.img"));
}

// The unit the package ships is the unit the gold image gets.
TEST(GoldPeer, ThePackagedPeerUnitIsTheOneGoldWrites) {
  EXPECT_EQ(read_text(fs::path(IRONSTONE_SOURCE_DIR) / "packaging/ironstone-peer.service"), peer_unit_text());
}

TEST_F(Gold, WrongK3sHashIsRefusedBeforeAnythingIsWritten) {
  write_recipe(std::string(64, 'a'));
  try {
    build_gold(options());
    FAIL() << "a k3s binary with the wrong hash was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(Errc::kInput));
    EXPECT_EQ(std::string(e.what()), "k3s binary " + (t / "k3s").string() + ": SHA-256 " + k3s_sha_ +
                                         " does not match the recipe's k3s.sha256 " + std::string(64, 'a') + " (v1.31.4+k3s1)");
  }
  EXPECT_FALSE(fs::exists(t / "gold.img"));
  EXPECT_FALSE(fs::exists(t / "gold.img.spdx.json"));
}

TEST_F(Gold, UnknownUnitFailsAndLeavesNoImage) {
  write_text(t / "recipe.yaml", "board: rpi5\nbase: base.img\nunits: {enable: [nothere.service]}\n");
  try {
    build_gold(options());
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "units.enable: nothere.service: no such unit in the image");
  }
  for (const auto& e : fs::directory_iterator(t.path()))
    EXPECT_EQ(e.path().filename().string().find(".gold.img.tmp"), std::string::npos) << e.path();
  EXPECT_FALSE(fs::exists(t / "gold.img"));
}

TEST_F(Gold, ABaseWithLocalesKeepsCloudInitsLocaleModule) {
  fs::remove(base_);
  base_ = make_base(t, /*with_locale_gen=*/true);
  build_gold(options());
  EXPECT_EQ(debugfs(t / "gold.img", "stat /etc/cloud/cloud.cfg.d/91-ironstone-locale.cfg"), "");
  EXPECT_NE(debugfs(t / "gold.img", "stat /etc/cloud/cloud.cfg.d/90-ironstone-datasource.cfg"), "");
}

TEST_F(Gold, TwoBuildsWithTheSameSourceDateEpochAreByteIdentical) {
  {
    const ironstone::testing::ScopedEnv epoch("SOURCE_DATE_EPOCH", "1767225600");
    build_gold(options("a.img"));
    build_gold(options("b.img"));
  }
  std::string out;
  EXPECT_EQ(run_command("cmp '" + (t / "a.img").string() + "' '" + (t / "b.img").string() + "' | head -3", &out), 0);
  EXPECT_EQ(out, "") << "the two images differ";
  EXPECT_EQ(read_text(t / "a.img.spdx.json"), read_text(t / "b.img.spdx.json"));
}

}  // namespace
}  // namespace ironstone::builder
