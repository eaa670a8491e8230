// builder/debian_base.h and debian_disk.h: the apt sources, the cache key and ids, the
// mmdebstrap command, and the disk stages after the bootstrap on a root directory the test
// makes (mmdebstrap itself takes ~20 min under qemu-user: the end-to-end run does it, tools/e2e.sh).
// The resulting image is read back with the project's partition-table reader, debugfs and mtools.
#include "builder/debian_base.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "builder/debian_disk.h"
#include "builder/errc.h"
#include "builder/gold.h"
#include "disk/partition_table.h"
#include "tests/testutil/testutil.h"

namespace ironstone::builder {
namespace {

namespace fs = std::filesystem;
using testing::read_text;
using testing::run_command;
using testing::TempDir;
using testing::write_text;

Recipe debian_recipe(const std::string& extra = "") {
  return parse_recipe("board: uefi-arm64\ndebian:\n  suite: bookworm\n  packages: [htop]\n" + extra, "/r/node.yaml");
}

TEST(DebianAptSources, UsesTheHostsMirrorWithUpdatesAndSecurityWhenTheHostRunsTheSuite) {
  TempDir t;
  fs::create_directories(t / "sources.list.d");
  write_text(t / "sources.list.d/debian.sources",
             "Types: deb\nURIs: http://mirror.test/debian\nSuites: bookworm bookworm-updates\nComponents: main\n"
             "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n"
             "Types: deb\nURIs: http://security.test/debian-security\nSuites: bookworm-security\nComponents: main\n");
  const auto lines = debian_apt_sources(DebianSource{"bookworm", "", {}}, t.path());
  EXPECT_EQ(lines, (std::vector<std::string>{"deb http://mirror.test/debian bookworm main",
                                             "deb http://mirror.test/debian bookworm-updates main",
                                             "deb http://security.test/debian-security bookworm-security main"}));
}

TEST(DebianAptSources, TakesOnlyTheMainMirrorForAnotherSuiteAndReadsOneLineStyle) {
  TempDir t;
  write_text(t / "sources.list", "# comment\ndeb [arch=amd64] http://mirror.test/debian bookworm main\n"
                                 "deb http://security.test/debian-security bookworm-security main\n");
  const auto lines = debian_apt_sources(DebianSource{"trixie", "", {}}, t.path());
  EXPECT_EQ(lines, (std::vector<std::string>{"deb http://mirror.test/debian trixie main"}));
}

TEST(DebianAptSources, TheRecipesMirrorReplacesTheHosts) {
  TempDir t;
  const auto lines = debian_apt_sources(DebianSource{"bookworm", "http://local.test/debian", {}}, t.path());
  EXPECT_EQ(lines, (std::vector<std::string>{"deb http://local.test/debian bookworm main"}));
}

TEST(DebianAptSources, AHostWithoutADebianSourceIsAToolErrorNamingTheFiles) {
  TempDir t;
  fs::create_directories(t / "sources.list.d");
  write_text(t / "sources.list.d/other.sources", "Types: deb\nURIs: http://x.test/ubuntu\nSuites: noble-security\n");
  try {
    debian_apt_sources(DebianSource{"bookworm", "", {}}, t.path());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(Errc::kTool));
    EXPECT_NE(std::string(e.what()).find("no Debian mirror in the host's apt sources (" + (t / "sources.list").string()),
              std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("give debian.mirror in the recipe"), std::string::npos);
  }
}

TEST(DebianBaseKey, ChangesWithEveryInputAndIsStableOtherwise) {
  const std::vector<std::string> src{"deb http://m.test/debian bookworm main"};
  const std::string k = debian_base_key(debian_recipe(), src);
  EXPECT_EQ(k.size(), 64u);
  EXPECT_EQ(debian_base_key(debian_recipe(), src), k);
  EXPECT_NE(debian_base_key(debian_recipe("packages: [jq]\n"), src), k);
  EXPECT_NE(debian_base_key(debian_recipe("disk: {size: 8G}\n"), src), k);
  EXPECT_NE(debian_base_key(debian_recipe(), {"deb http://other.test/debian bookworm main"}), k);
  // What the gold build adds later (files, users, k3s) does not rebuild the base.
  EXPECT_EQ(debian_base_key(debian_recipe("files: [{content: x, path: /etc/x}]\n"), src), k);
}

TEST(DiskIds, AreUuidShapedAndDifferPerKeyAndPerPartition) {
  const DiskIds a = disk_ids(std::string(64, 'a')), b = disk_ids(std::string(64, 'b'));
  EXPECT_EQ(a.disk_guid.size(), 36u);
  EXPECT_EQ(a.disk_guid[14], '4');
  EXPECT_EQ(a.esp_serial.size(), 8u);
  EXPECT_NE(a.esp_guid, a.root_guid);
  EXPECT_NE(a.root_guid, b.root_guid);
  EXPECT_EQ(disk_ids(std::string(64, 'a')).root_guid, a.root_guid);
}

TEST(MmdebstrapArgv, BootstrapsArm64WithTheWholePackageSetAndTheSources) {
  const auto argv = mmdebstrap_argv(debian_recipe("packages: [jq]\n"), {"deb http://m.test/debian bookworm main"}, "/c/root");
  ASSERT_GE(argv.size(), 4u);
  EXPECT_EQ(argv[0], "mmdebstrap");
  EXPECT_NE(std::find(argv.begin(), argv.end(), "--architectures=arm64"), argv.end());
  const auto include = std::find_if(argv.begin(), argv.end(), [](const std::string& a) { return a.rfind("--include=", 0) == 0; });
  ASSERT_NE(include, argv.end());
  for (const char* p : {"htop", "jq", "linux-image-arm64", "systemd-boot-efi", "cloud-init", "efibootmgr"})
    EXPECT_NE(include->find(p), std::string::npos) << p;
  EXPECT_EQ(argv[argv.size() - 3], "bookworm");
  EXPECT_EQ(argv[argv.size() - 2], "/c/root");
  EXPECT_EQ(argv.back(), "deb http://m.test/debian bookworm main");
  EXPECT_EQ(std::find_if(argv.begin(), argv.end(), [](const std::string& a) { return a.find("sync-") != std::string::npos; }),
            argv.end());
}

TEST(MmdebstrapArgv, TheInitrdIsMadeOnceAfterEveryPackageAndTheRealUpdateInitramfsIsPutBack) {
  const auto argv = mmdebstrap_argv(debian_recipe(""), {"deb http://m.test/debian bookworm main"}, "/c/root");
  auto find = [&](const std::string& prefix, const std::string& part) {
    return std::find_if(argv.begin(), argv.end(), [&](const std::string& a) {
      return a.rfind(prefix, 0) == 0 && a.find(part) != std::string::npos;
    });
  };
  const auto divert = find("--essential-hook=", "dpkg-divert --quiet --local --rename --divert");
  ASSERT_NE(divert, argv.end());
  EXPECT_NE(divert->find("--add /usr/sbin/update-initramfs"), std::string::npos);
  EXPECT_NE(divert->find("> \"$1\"/usr/sbin/update-initramfs"), std::string::npos);  // the stub
  const auto restore = find("--customize-hook=", "--remove /usr/sbin/update-initramfs");
  ASSERT_NE(restore, argv.end());
  // The stub goes before the diversion is removed (--rename puts the real one back), then one run.
  const auto rm = restore->find("rm -f \"$1\"/usr/sbin/update-initramfs");
  const auto remove = restore->find("--remove");
  const auto run = restore->find("update-initramfs -c -k all");
  ASSERT_NE(rm, std::string::npos);
  ASSERT_NE(run, std::string::npos);
  EXPECT_LT(rm, remove);
  EXPECT_LT(remove, run);
  EXPECT_LT(divert - argv.begin(), restore - argv.begin());
  EXPECT_EQ(argv[argv.size() - 3], "bookworm");
}

TEST(DebianBase, ADebCacheIsSyncedInBeforeAptAndOutAfterIt) {
  const auto argv = mmdebstrap_argv(debian_recipe(""), {"deb http://m.test/debian bookworm main"}, "/c/root",
                                    "/c/it's debs");
  auto has = [&](const std::string& a) { return std::find(argv.begin(), argv.end(), a) != argv.end(); };
  EXPECT_TRUE(has("--skip=essential/unlink"));  // the essential packages' .debs stay to be synced out
  EXPECT_TRUE(has("--setup-hook=sync-in '/c/it'\\''s debs' /var/cache/apt/archives/"));
  EXPECT_TRUE(has("--customize-hook=sync-out /var/cache/apt/archives '/c/it'\\''s debs'"));
  EXPECT_EQ(argv[argv.size() - 3], "bookworm");  // the hooks come before the suite
}

TEST(DebianBase, AnMbrLayoutIsRefusedNamingTheFieldAndTheAlternative) {
  TempDir t;
  Recipe r = parse_recipe("board: rpi5\ndebian: {suite: bookworm, mirror: http://m.test/debian}\n", "/r/pi.yaml");
  try {
    debian_base(r, DebianBaseOptions{t.path(), {}, t.path()});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(Errc::kRecipe));
    EXPECT_EQ(std::string(e.what()),
              "/r/pi.yaml: disk.table: debian: sources build GPT images with an EFI system partition (UEFI boards); "
              "for board rpi5 give base: (e.g. Raspberry Pi OS Lite)");
  }
}

TEST(GptGeometry, LeavesTheFirstAndLastMebibyteAndAlignsTheRest) {
  DiskLayout l;
  l.size = 4ull << 30;
  l.boot_size = 512ull << 20;
  const GptGeometry g = gpt_geometry(l);
  EXPECT_EQ(g.esp_offset, 1ull << 20);
  EXPECT_EQ(g.root_offset, 513ull << 20);
  EXPECT_EQ(g.root_offset + g.root_size, (4ull << 30) - (1ull << 20));
}

TEST(MountsBelow, SeesTheRootFilesystemBelowSlashAndNothingBelowAFreshDirectory) {
  TempDir t;
  EXPECT_TRUE(mounts_below("/"));
  EXPECT_FALSE(mounts_below(t.path()));
}

// ---------------------------------------------------------------- the disk stages, for real

// A root directory shaped like what mmdebstrap leaves: kernel (gzip'd, as Debian ships it),
// initrd, systemd-boot's EFI binary, systemd-networkd's unit.
fs::path make_root(const TempDir& t) {
  const fs::path root = t / "root";
  for (const char* d : {"boot", "etc/systemd/system", "lib/systemd/system", "usr/lib/systemd/boot/efi", "var/lib/dpkg"})
    fs::create_directories(root / d);
  write_text(t / "Image", "MZ-not-really-a-kernel");
  run_command("gzip -c '" + (t / "Image").string() + "' > '" + (root / "boot/vmlinuz-6.1.0-test-arm64").string() + "'");
  write_text(root / "boot/initrd.img-6.1.0-test-arm64", "initrd");
  write_text(root / "usr/lib/systemd/boot/efi/systemd-bootaa64.efi", "MZ-systemd-boot");
  write_text(root / "lib/systemd/system/systemd-networkd.service",
             "[Unit]\nDescription=networkd\n[Service]\nExecStart=/lib/systemd/systemd-networkd\n[Install]\nWantedBy=multi-user.target\n");
  write_text(root / "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
  write_text(root / "var/lib/dpkg/status", "");
  return root;
}

std::string mtype(const fs::path& img, std::uint64_t offset, const std::string& file) {
  std::string out;
  run_command("MTOOLS_SKIP_CHECK=1 mtype -i '" + img.string() + "@@" + std::to_string(offset) + "' ::" + file + " 2>&1", &out);
  return out;
}

std::string debugfs_cat(const fs::path& img, std::uint64_t offset, const std::string& file) {
  std::string out;
  // (A subshell: run_command appends 2>&1, debugfs' banner on stderr must not reach `out`.)
  run_command("(debugfs -R 'cat " + file + "' '" + img.string() + "?offset=" + std::to_string(offset) + "' 2>/dev/null)", &out);
  return out;
}

bool have_tools() {
  return run_command("command -v mke2fs && command -v mkfs.vfat && command -v mcopy && command -v sfdisk && command -v systemctl "
                     ">/dev/null 2>&1") == 0;
}

TEST(FinishDebianImage, MakesABootableGptDiskWithSystemdBootTheKernelAndAPartuuidRoot) {
  if (!have_tools()) GTEST_SKIP() << "needs mke2fs, mkfs.vfat, mtools, sfdisk and systemctl";
  TempDir t;
  const Recipe r = debian_recipe("disk: {size: 300M, boot: {size: 40M}}\n");
  const DebianBuild b{r, *r.disk, disk_ids(std::string(64, 'c')), {}, t.path(), {}};
  fs::create_directories(t / "work");
  finish_debian_image(b, make_root(t), t / "work", t / "base.img");

  const std::uint64_t size = fs::file_size(t / "base.img");
  EXPECT_EQ(size, 300ull << 20);
  const int fd = ::open((t / "base.img").c_str(), O_RDONLY);
  const disk::PartitionTable table = disk::read_partition_table(fd, size, "base.img");
  ::close(fd);
  ASSERT_EQ(table.kind, disk::TableKind::kGpt);
  ASSERT_EQ(table.partitions.size(), 2u);
  const auto& esp = table.partitions[0];
  const auto& root = table.partitions[1];
  EXPECT_EQ(esp.fs, disk::FsKind::kFat);
  EXPECT_EQ(esp.type, "c12a7328-f81f-11d2-ba4b-00a0c93ec93b");
  EXPECT_EQ(esp.uuid, b.ids.esp_guid);
  EXPECT_EQ(root.fs, disk::FsKind::kExt);
  EXPECT_EQ(root.label, "rootfs");
  EXPECT_EQ(root.uuid, b.ids.root_guid);

  EXPECT_EQ(mtype(t / "base.img", esp.offset, "/EFI/BOOT/BOOTAA64.EFI"), "MZ-systemd-boot");
  EXPECT_EQ(mtype(t / "base.img", esp.offset, "/vmlinuz"), "MZ-not-really-a-kernel");  // decompressed
  EXPECT_EQ(mtype(t / "base.img", esp.offset, "/initrd.img"), "initrd");
  const std::string entry = mtype(t / "base.img", esp.offset, "/loader/entries/ironstone.conf");
  EXPECT_NE(entry.find("options root=PARTUUID=" + b.ids.root_guid + " rw"), std::string::npos) << entry;

  EXPECT_EQ(debugfs_cat(t / "base.img", root.offset, "/etc/fstab"), debian_fstab_text(b.ids));
  EXPECT_EQ(debugfs_cat(t / "base.img", root.offset, "/etc/kernel/postinst.d/zz-ironstone-esp"), debian_esp_hook_text());
  std::string link;
  run_command("debugfs -R 'stat /etc/systemd/system/multi-user.target.wants/systemd-networkd.service' '" +
                  (t / "base.img").string() + "?offset=" + std::to_string(root.offset) + "' 2>/dev/null",
              &link);
  EXPECT_NE(link.find("Type: symlink"), std::string::npos) << link;
}

TEST(FinishDebianImage, ARootThatDoesNotFitIsAnInputErrorSayingToGrowDiskSize) {
  if (!have_tools()) GTEST_SKIP() << "needs mke2fs, mkfs.vfat, mtools, sfdisk and systemctl";
  TempDir t;
  const Recipe r = debian_recipe("disk: {size: 300M, boot: {size: 40M}}\n");
  const DebianBuild b{r, *r.disk, disk_ids(std::string(64, 'd')), {}, t.path(), {}};
  const fs::path root = make_root(t);
  run_command("head -c 300000000 /dev/urandom > '" + (root / "big").string() + "'");
  fs::create_directories(t / "work");
  try {
    finish_debian_image(b, root, t / "work", t / "base.img");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(Errc::kInput));
    EXPECT_NE(std::string(e.what()).find("cannot hold the Debian root"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("make disk.size larger"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(t / "base.img"));
}

TEST(GoldFromDebian, TakesTheBaseFromTheCacheWithoutBootstrappingAgain) {
  if (!have_tools()) GTEST_SKIP() << "needs mke2fs, mkfs.vfat, mtools, sfdisk and systemctl";
  TempDir t;
  write_text(t / "node.yaml", "board: uefi-arm64\ndebian: {suite: bookworm, mirror: http://m.test/debian}\n"
                              "disk: {size: 300M, boot: {size: 40M}}\nfiles: [{content: hello, path: /etc/motd}]\n");
  const Recipe r = load_recipe(t / "node.yaml");
  const auto sources = debian_apt_sources(*r.debian, "/nonexistent");
  const std::string key = debian_base_key(r, sources);
  const DebianBuild b{r, *r.disk, disk_ids(key), sources, t / "cache", {}};
  fs::create_directories(t / "work");
  fs::create_directories(t / "cache");
  const fs::path root = make_root(t);
  fs::create_directories(root / "usr/bin");
  finish_debian_image(b, root, t / "work", t / "cache" / ("debian-" + key.substr(0, 16) + ".img"));

  GoldOptions o;
  o.recipe = t / "node.yaml";
  o.out = t / "gold.img";
  o.cache = t / "cache";
  o.source_date_epoch = 1700000000;
  std::vector<std::string> log;
  o.log = [&](const std::string& l) { log.push_back(l); };
  const GoldResult g = build_gold(o);
  EXPECT_NE(std::find(log.begin(), log.end(), "debian base " + (t / "cache" / ("debian-" + key.substr(0, 16) + ".img")).string() +
                                                  " (cached)"),
            log.end());
  const GptGeometry geo = gpt_geometry(*r.disk);
  EXPECT_EQ(debugfs_cat(t / "gold.img", geo.root_offset, "/etc/motd"), "hello");
  // The seed is looked for where the base's fstab mounts the EFI system partition.
  EXPECT_NE(debugfs_cat(t / "gold.img", geo.root_offset, "/etc/cloud/cloud.cfg.d/90-ironstone-datasource.cfg").find("/boot/efi"),
            std::string::npos);
  EXPECT_GT(g.image_size, 0u);
}

}  // namespace
}  // namespace ironstone::builder
