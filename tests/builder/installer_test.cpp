// `ironstone-build installer` on base images the test builds itself: an MBR or GPT disk
// (sfdisk on a sparse file) with a FAT32 boot partition (mkfs.vfat + mcopy) and an ext4 root
// (mke2fs -d from a directory shaped like Raspberry Pi OS / Armbian). The result is inspected
// with debugfs and mtools, never mounted, so the test needs no root.
#include "builder/installer.h"
#include "builder/installer_ids.h"
#include "swarm/enrolment.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "disk/image_fs.h"
#include "builder/elf_info.h"
#include "builder/errc.h"
#include "builder/keys.h"
#include "disk/partition_table.h"
#include "tests/testutil/disk_image.h"
#include "tests/testutil/testutil.h"

namespace ironstone::builder {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;
using testing::run_command;
using testing::read_text;
using testing::write_text;

constexpr std::uint64_t kBootStart = 2048 * 512;               // 1 MiB
constexpr std::uint64_t kBootSize = 64ull << 20;               // FAT32 needs >= ~33 MiB
constexpr std::uint64_t kRootStart = kBootStart + kBootSize;   // 65 MiB
constexpr const char* kCmdline =
    "console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 fsck.repair=yes rootwait quiet "
    "init=/usr/lib/raspberrypi-sys-mods/firstboot\n";

using testing::quote;
using testing::sh;
std::string q(const fs::path& p) { return quote(p); }

bool have_tools(std::string* missing) {
  std::vector<std::string> tools = testing::disk_image_tools();
  tools.insert(tools.end(), {"e2fsck", "xz"});
  return testing::have_tools(tools, missing);
}

struct BaseSpec {
  bool gpt = false;
  bool with_boot = true;
  bool with_root = true;
  std::uint64_t root_size = 48ull << 20;
  bool armbian = false;
  bool with_mtools = true;  // /usr/bin/mcopy in the root
};

// The base image: partitions at fixed offsets so the test can inspect them independently.
fs::path make_base(const TempDir& t, const BaseSpec& spec, const std::string& name = "base.img") {
  const fs::path rootfs = t / (name + ".rootfs");
  fs::create_directories(rootfs / "etc/systemd/system/multi-user.target.wants");
  fs::create_directories(rootfs / "usr/lib/systemd/system");
  fs::create_directories(rootfs / "usr/local");  // no usr/local/bin: the installer creates it
  fs::create_directories(rootfs / "root");
  write_text(rootfs / "etc/os-release", "PRETTY_NAME=\"Test base\"\n");
  write_text(rootfs / "usr/lib/systemd/system/userconfig.service", "[Service]\nExecStart=/usr/lib/userconf-pi/userconf-service\n");
  fs::create_symlink("/usr/lib/systemd/system/userconfig.service",
                     rootfs / "etc/systemd/system/multi-user.target.wants/userconfig.service");
  if (spec.armbian) write_text(rootfs / "root/.not_logged_in_yet", "");
  if (spec.with_mtools) {
    fs::create_directories(rootfs / "usr/bin");
    write_text(rootfs / "usr/bin/mtools", "");
    fs::create_symlink("mtools", rootfs / "usr/bin/mcopy");
  }
  testing::DiskSpec disk;
  disk.gpt = spec.gpt;
  disk.with_boot = spec.with_boot;
  disk.with_root = spec.with_root;
  disk.boot_start = kBootStart;
  disk.boot_size = kBootSize;
  disk.root_size = spec.root_size;
  disk.boot_files = {{"cmdline.txt", kCmdline}, {"config.txt", "arm_64bit=1\n"}};
  disk.rootfs = rootfs;
  const fs::path base = t / name;
  testing::make_disk_image(disk, base);
  return base;
}

std::string checksum(const fs::path& p) {
  std::string out;
  EXPECT_EQ(run_command("sha256sum " + q(p)), 0);
  run_command("sha256sum < " + q(p), &out);
  return out;
}

std::string debugfs(const fs::path& img, const std::string& request, std::uint64_t offset = kRootStart) {
  std::string out;
  // (A subshell: run_command appends 2>&1, debugfs' banner on stderr must not reach `out`.)
  run_command("(debugfs -R '" + request + "' " + q(img.string() + "?offset=" + std::to_string(offset)) + " 2>/dev/null)", &out);
  return out;
}

class Installer : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string missing;
    if (!have_tools(&missing)) GTEST_SKIP() << missing << " not installed (e2fsprogs, dosfstools, mtools, fdisk, xz-utils)";
    keygen(t / "release.key", t / "release.pub");
    write_text(t / "ironstone-flasher", "#!/bin/sh\necho 'usage: ironstone-flasher'\n");
    fs::permissions(t / "ironstone-flasher", fs::perms::owner_all);
  }

  InstallerOptions options(const fs::path& base, const fs::path& out) {
    InstallerOptions o;
    o.base = base;
    o.out = out;
    o.seeder = "http://nas.lan:8080";
    o.public_key = t / "release.pub";
    o.board = "rpi5";
    o.flasher = t / "ironstone-flasher";
    return o;
  }

  // No "<out>.tmp-*" or other stray files next to the output.
  void expect_no_leftovers(const fs::path& dir, const std::set<std::string>& allowed) {
    for (const auto& e : fs::directory_iterator(dir)) {
      const std::string n = e.path().filename().string();
      if (allowed.count(n) || n.find(".rootfs") != std::string::npos || n.ends_with(".root") || n.ends_with(".boot") ||
          n.ends_with(".sfdisk") || n.ends_with(".txt"))
        continue;
      ADD_FAILURE() << "left behind: " << e.path();
    }
  }

  TempDir t;
};

TEST_F(Installer, WritesFlasherConfigKeyAndEnabledUnitIntoMbrBase) {
  const fs::path base = make_base(t, {});
  ASSERT_FALSE(HasFatalFailure());
  const std::string base_before = checksum(base);
  const fs::path out = t / "installer.img";
  InstallerResult r = make_installer(options(base, out));

  ASSERT_TRUE(fs::is_regular_file(out));
  EXPECT_EQ(checksum(base), base_before) << "the base image must not change";
  EXPECT_EQ(r.table.kind, disk::TableKind::kMbr);
  EXPECT_EQ(r.root.number, 2u);
  EXPECT_EQ(r.root.offset, kRootStart);
  ASSERT_TRUE(r.boot);
  EXPECT_EQ(r.boot->offset, kBootStart);
  EXPECT_TRUE(r.libraries.empty());
  ASSERT_EQ(r.warnings.size(), 1u);  // the flasher is a script, not an ELF
  EXPECT_NE(r.warnings[0].find("not an ELF"), std::string::npos);

  // Files, types and modes, owned by root.
  auto st = debugfs(out, "stat /usr/local/bin/ironstone-flasher");
  EXPECT_NE(st.find("Type: regular    Mode:  0755"), std::string::npos) << st;
  EXPECT_NE(st.find("User:     0   Group:     0"), std::string::npos) << st;
  EXPECT_EQ(debugfs(out, "cat /usr/local/bin/ironstone-flasher"), read_text(t / "ironstone-flasher"));
  for (const char* f : {"/etc/ironstone/flasher.conf", "/etc/ironstone/trusted.pub", "/etc/systemd/system/ironstone-flasher.service"}) {
    st = debugfs(out, std::string("stat ") + f);
    EXPECT_NE(st.find("Type: regular    Mode:  0644"), std::string::npos) << f << "\n" << st;
  }
  st = debugfs(out, "stat /usr/local/bin");
  EXPECT_NE(st.find("Type: directory    Mode:  0755"), std::string::npos) << st;
  EXPECT_EQ(debugfs(out, "cat /etc/ironstone/trusted.pub"), read_text(t / "release.pub"));

  const std::string conf = debugfs(out, "cat /etc/ironstone/flasher.conf");
  EXPECT_NE(conf.find("seeder = \"http://nas.lan:8080\""), std::string::npos) << conf;
  EXPECT_NE(conf.find("board = \"rpi5\""), std::string::npos) << conf;
  EXPECT_NE(conf.find("channel = \"stable\""), std::string::npos) << conf;
  EXPECT_NE(conf.find("public-key = \"/etc/ironstone/trusted.pub\""), std::string::npos) << conf;
  EXPECT_NE(conf.find("enrolment-key = \"/etc/ironstone/enrolment.key\""), std::string::npos) << conf;

  // The card's enrolment key: secret half only on the card, owner-only; the public half in the result.
  st = debugfs(out, "stat /etc/ironstone/enrolment.key");
  EXPECT_NE(st.find("Type: regular    Mode:  0600"), std::string::npos) << st;
  EXPECT_NE(st.find("User:     0   Group:     0"), std::string::npos) << st;
  const auto card_secret = swarm::parse_card_secret(debugfs(out, "cat /etc/ironstone/enrolment.key"), "card");
  EXPECT_EQ(swarm::card_public_hex(*reinterpret_cast<const swarm::CardPublicKey*>(card_secret.data() + 32)),
            r.card.public_hex);
  EXPECT_EQ(r.card.public_line, r.card.public_hex + " card-" + r.card.public_hex.substr(0, 8));

  const std::string unit = debugfs(out, "cat /etc/systemd/system/ironstone-flasher.service");
  EXPECT_EQ(unit, installer_unit_text());
  EXPECT_NE(unit.find("ExecStart=/usr/local/bin/ironstone-flasher --config /etc/ironstone/flasher.conf"), std::string::npos);
  EXPECT_NE(unit.find("After=network-online.target"), std::string::npos);
  EXPECT_NE(unit.find("Wants=network-online.target"), std::string::npos);
  EXPECT_NE(unit.find("WantedBy=multi-user.target"), std::string::npos);

  // Enabled, and the Raspberry Pi OS wizard masked.
  st = debugfs(out, "stat /etc/systemd/system/multi-user.target.wants/ironstone-flasher.service");
  EXPECT_NE(st.find("Type: symlink"), std::string::npos) << st;
  EXPECT_NE(st.find("Fast link dest: \"../ironstone-flasher.service\""), std::string::npos) << st;
  st = debugfs(out, "stat /etc/systemd/system/userconfig.service");
  EXPECT_NE(st.find("Fast link dest: \"/dev/null\""), std::string::npos) << st;
  EXPECT_NE(std::find(r.disabled.begin(), r.disabled.end(), "userconfig.service masked"), r.disabled.end());

  // cmdline.txt without the firstboot init=, config.txt untouched.
  std::string cmdline, config;
  const std::string fat = q(out.string() + "@@" + std::to_string(kBootStart));
  ASSERT_EQ(run_command("MTOOLS_SKIP_CHECK=1 mtype -i " + fat + " ::/cmdline.txt", &cmdline), 0) << cmdline;
  EXPECT_EQ(cmdline,
            "console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 fsck.repair=yes rootwait quiet\n");
  ASSERT_EQ(run_command("MTOOLS_SKIP_CHECK=1 mtype -i " + fat + " ::/config.txt", &config), 0);
  EXPECT_EQ(config, "arm_64bit=1\n");

  // Both filesystems are still consistent.
  std::string fsck;
  EXPECT_EQ(run_command("e2fsck -fn " + q(out.string() + "?offset=" + std::to_string(kRootStart)), &fsck), 0) << fsck;
  EXPECT_EQ(fs::file_size(out), fs::file_size(base));
  expect_no_leftovers(t.path(), {"base.img", "installer.img", "release.key", "release.pub", "ironstone-flasher"});
}

TEST_F(Installer, GptBaseWithoutBootPartitionFromXzAndArmbianWizardRemoved) {
  const fs::path raw = make_base(t, {.gpt = true, .with_boot = false, .armbian = true});
  ASSERT_FALSE(HasFatalFailure());
  sh("xz -T1 -0 -k " + q(raw));
  const fs::path out = t / "rock.img";
  auto o = options(t / "base.img.xz", out);
  o.board = "";
  o.target = "/dev/nvme0n1";
  o.channel = "beta";
  InstallerResult r = make_installer(o);
  EXPECT_EQ(r.table.kind, disk::TableKind::kGpt);
  EXPECT_EQ(r.root.number, 2u);
  EXPECT_FALSE(r.boot);
  EXPECT_EQ(debugfs(out, "stat /root/.not_logged_in_yet").find("Inode:"), std::string::npos);
  const std::string conf = debugfs(out, "cat /etc/ironstone/flasher.conf");
  EXPECT_NE(conf.find("# board: detected at boot"), std::string::npos) << conf;
  EXPECT_EQ(conf.find("board = "), std::string::npos) << conf;
  EXPECT_NE(conf.find("target = \"/dev/nvme0n1\""), std::string::npos) << conf;
  EXPECT_NE(conf.find("channel = \"beta\""), std::string::npos) << conf;
  EXPECT_NE(debugfs(out, "stat /usr/local/bin/ironstone-flasher").find("Mode:  0755"), std::string::npos);
  std::string fsck;
  EXPECT_EQ(run_command("e2fsck -fn " + q(out.string() + "?offset=" + std::to_string(kRootStart)), &fsck), 0) << fsck;
}

TEST_F(Installer, RunningOnItsOwnOutputReplacesEverythingCleanly) {
  const fs::path base = make_base(t, {});
  ASSERT_FALSE(HasFatalFailure());
  make_installer(options(base, t / "first.img"));
  write_text(t / "ironstone-flasher", "#!/bin/sh\necho 'ironstone-flasher v2'\n");
  auto o = options(t / "first.img", t / "second.img");
  o.seeder = "http://seeder.example:8443";
  InstallerResult r = make_installer(o);
  EXPECT_EQ(debugfs(t / "second.img", "cat /usr/local/bin/ironstone-flasher"), read_text(t / "ironstone-flasher"));
  EXPECT_NE(debugfs(t / "second.img", "cat /etc/ironstone/flasher.conf").find("http://seeder.example:8443"), std::string::npos);
  EXPECT_TRUE(r.disabled.empty()) << "already masked and stripped the first time";
  std::string fsck;
  EXPECT_EQ(run_command("e2fsck -fn " + q((t / "second.img").string() + "?offset=" + std::to_string(kRootStart)), &fsck), 0)
      << fsck;
}

TEST_F(Installer, RefusesAnHttpsSeederBecauseTheFlasherSpeaksOnlyHttp) {
  const fs::path base = make_base(t, {});
  ASSERT_FALSE(HasFatalFailure());
  auto o = options(base, t / "out.img");
  o.seeder = "https://seeder.example:8443";
  try {
    make_installer(o);
    FAIL() << "an https seeder was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(Errc::kUsage));
    EXPECT_STREQ(e.what(),
                 "--seeder 'https://seeder.example:8443': the flasher speaks only http:// to the seeder (releases are "
                 "signed, so transport security is not what makes them trusted): use http://HOST[:PORT]");
  }
  EXPECT_FALSE(fs::exists(t / "out.img"));
}

TEST_F(Installer, ThroughTheCommandLine) {
  const fs::path tool = testing::binary("ironstone-build");
  if (!fs::exists(tool)) GTEST_SKIP() << tool << " not built";
  const fs::path base = make_base(t, {});
  ASSERT_FALSE(HasFatalFailure());
  std::string out;
  const std::string cmd = q(tool) + " installer --quiet --base " + q(base) + " --seeder http://10.0.0.2:8080 --public-key " +
                          q(t / "release.pub") + " --flasher " + q(t / "ironstone-flasher") + " --board rock5b --out " +
                          q(t / "cli.img");
  ASSERT_EQ(run_command(cmd, &out), 0) << out;
  EXPECT_NE(out.find("installer image"), std::string::npos) << out;
  EXPECT_NE(debugfs(t / "cli.img", "cat /etc/ironstone/flasher.conf").find("board = \"rock5b\""), std::string::npos);

  // Bad input through the CLI: a clear one-line error, exit status 1, no output file.
  ASSERT_EQ(run_command(q(tool) + " installer --base " + q(base) + " --seeder nas.lan --public-key " + q(t / "release.pub") +
                            " --flasher " + q(t / "ironstone-flasher") + " --out " + q(t / "bad.img"),
                        &out),
            1)
      << out;
  EXPECT_NE(out.find("ironstone-build installer: --seeder 'nas.lan'"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(t / "bad.img"));
}

TEST_F(Installer, ArmSixtyFourFlasherGetsItsLibraries) {
  // The cross-built flasher, or any other arm64 binary of the cross build (same libraries, mostly).
  fs::path flasher = fs::path(IRONSTONE_SOURCE_DIR) / "build-arm64/flasher/ironstone-flasher";
  if (!fs::exists(flasher)) flasher = fs::path(IRONSTONE_SOURCE_DIR) / "build-arm64/builder/ironstone-build";
  if (!fs::exists(flasher)) GTEST_SKIP() << "no arm64 binary in build-arm64/ (tools/cross-arm64.sh)";
  auto elf = read_elf_info(flasher);
  ASSERT_TRUE(elf);
  ASSERT_EQ(elf->machine, kElfMachineAarch64);
  const fs::path base = make_base(t, {.root_size = 96ull << 20});
  ASSERT_FALSE(HasFatalFailure());
  auto o = options(base, t / "arm.img");
  o.flasher = flasher;
  InstallerResult r = make_installer(o);
  EXPECT_TRUE(r.warnings.empty());
  EXPECT_FALSE(r.libraries.empty());
  for (const auto& lib : r.libraries) {
    EXPECT_NE(lib.rfind("libc.so", 0), 0u) << "glibc comes from the base";
    auto st = debugfs(t / "arm.img", "stat /usr/local/lib/ironstone/" + lib);
    EXPECT_NE(st.find("Type: regular    Mode:  0644"), std::string::npos) << lib << "\n" << st;
  }
  for (const auto& needed : elf->needed) {
    if (needed.rfind("libc.so", 0) == 0 || needed.rfind("ld-linux", 0) == 0 || needed.rfind("libm.so", 0) == 0) continue;
    EXPECT_NE(std::find(r.libraries.begin(), r.libraries.end(), needed), r.libraries.end()) << needed;
  }
  EXPECT_NE(debugfs(t / "arm.img", "cat /etc/systemd/system/ironstone-flasher.service")
                .find("Environment=LD_LIBRARY_PATH=/usr/local/lib/ironstone"),
            std::string::npos);

  // Under qemu-user, the binary taken out of the image loads the libraries taken out of the image.
  if (run_command("command -v qemu-aarch64") != 0 || !fs::exists("/usr/aarch64-linux-gnu")) return;
  fs::create_directories(t / "dump");
  std::string out;
  ASSERT_EQ(run_command("(debugfs -R 'rdump /usr/local " + (t / "dump").string() + "' " + q((t / "arm.img").string() + "?offset=" +
                            std::to_string(kRootStart)) + " 2>/dev/null)", &out), 0) << out;
  const fs::path libdir = t / "dump/local/lib/ironstone";
  run_command("qemu-aarch64 -L /usr/aarch64-linux-gnu -E LD_DEBUG=libs -E LD_LIBRARY_PATH=" + q(libdir) + " " +
                  q(t / "dump/local/bin/ironstone-flasher") + " --help",
              &out);
  for (const auto& lib : r.libraries) {
    EXPECT_NE(out.find("calling init: " + (libdir / lib).string()), std::string::npos) << lib << "\n" << out.substr(0, 3000);
  }
}

// The flasher's identity step needs mtools on the node: shipped when the base lacks it
// (into the unit's PATH), a warning when it lacks it and none was given.
TEST_F(Installer, BaseWithoutMtoolsGetsTheGivenOneOrAWarning) {
  const fs::path base = make_base(t, {.with_mtools = false});
  ASSERT_FALSE(HasFatalFailure());
  InstallerResult plain = make_installer(options(base, t / "plain.img"));
  ASSERT_EQ(plain.warnings.size(), 2u);
  EXPECT_EQ(plain.warnings[1], "the base has no mtools (/usr/bin/mcopy) and no --mtools was given: the flasher's "
                               "identity step will fail on the node (pass --mtools with an arm64 mtools binary, or run "
                               "the flasher with --no-identity)");

  write_text(t / "mtools", "#!/bin/sh\n");
  InstallerOptions o = options(base, t / "with.img");
  o.mtools = t / "mtools";
  InstallerResult r = make_installer(o);
  EXPECT_EQ(r.warnings.size(), 2u);  // the flasher and mtools scripts are no ELF binaries
  EXPECT_NE(std::find(r.files.begin(), r.files.end(), "/usr/local/lib/ironstone/bin/mtools"), r.files.end());
  EXPECT_NE(debugfs(t / "with.img", "stat /usr/local/lib/ironstone/bin/mcopy").find("Fast link dest: \"mtools\""),
            std::string::npos);
  EXPECT_NE(installer_unit_text().find("Environment=PATH=/usr/local/lib/ironstone/bin:"), std::string::npos);
}

TEST_F(Installer, BaseWithoutExt4RootIsAnErrorAndLeavesNoOutput) {
  const fs::path base = make_base(t, {.with_root = false});
  ASSERT_FALSE(HasFatalFailure());
  const fs::path out = t / "out.img";
  try {
    make_installer(options(base, out));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(Errc::kInput));
    EXPECT_NE(std::string(e.what()).find("no ext4 root filesystem"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(out));
  expect_no_leftovers(t.path(), {"base.img", "release.key", "release.pub", "ironstone-flasher"});
}

TEST_F(Installer, TruncatedXzBaseIsAnErrorAndKeepsAnExistingOutput) {
  const fs::path raw = make_base(t, {});
  ASSERT_FALSE(HasFatalFailure());
  sh("xz -T1 -0 -c " + q(raw) + " > " + q(t / "full.img.xz"));
  const auto size = fs::file_size(t / "full.img.xz");
  sh("head -c " + std::to_string(size / 2) + " " + q(t / "full.img.xz") + " > " + q(t / "cut.img.xz"));
  const fs::path out = t / "out.img";
  write_text(out, "previous installer image");
  try {
    make_installer(options(t / "cut.img.xz", out));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(Errc::kInput));
    EXPECT_NE(std::string(e.what()).find("cut.img.xz"), std::string::npos) << e.what();
  }
  EXPECT_EQ(read_text(out), "previous installer image");
  expect_no_leftovers(t.path(), {"base.img", "full.img.xz", "cut.img.xz", "out.img", "release.key", "release.pub",
                                 "ironstone-flasher"});
}

TEST_F(Installer, PartitionPastTheEndOfATruncatedRawBaseIsAnError) {
  const fs::path base = make_base(t, {});
  ASSERT_FALSE(HasFatalFailure());
  fs::resize_file(base, kRootStart + (4 << 20));
  try {
    make_installer(options(base, t / "out.img"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("extends past the end of the image"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(t / "out.img"));
}

TEST_F(Installer, RejectsAFlasherBuiltForAnotherArchitectureBeforeWriting) {
  const fs::path base = make_base(t, {});
  ASSERT_FALSE(HasFatalFailure());
  auto host_elf = read_elf_info("/bin/sh");
  ASSERT_TRUE(host_elf);
  if (host_elf->machine == kElfMachineAarch64) GTEST_SKIP() << "the host is arm64";
  auto o = options(base, t / "out.img");
  o.flasher = fs::canonical("/bin/sh");
  try {
    make_installer(o);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(Errc::kUsage));
    EXPECT_NE(std::string(e.what()).find("the boards are arm64"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("tools/cross-arm64.sh"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(t / "out.img"));
}

TEST_F(Installer, RejectsBadOptions) {
  const fs::path base = make_base(t, {});
  ASSERT_FALSE(HasFatalFailure());
  auto expect_usage = [&](InstallerOptions o, const std::string& what) {
    try {
      make_installer(o);
      ADD_FAILURE() << "expected an error about " << what;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
    EXPECT_FALSE(fs::exists(o.out));
  };
  auto o = options(base, t / "out.img");
  o.seeder = "ftp://nas";
  expect_usage(o, "--seeder");
  o = options(base, t / "out.img");
  o.seeder = "http://nas\" evil";
  expect_usage(o, "--seeder");
  o = options(base, t / "out.img");
  o.board = "Rpi 5";
  expect_usage(o, "--board");
  o = options(base, t / "out.img.xz");
  expect_usage(o, "written raw");
  o = options(base, t / "out.img");
  o.flasher = t / "missing-flasher";
  expect_usage(o, "tools/cross-arm64.sh");
  o = options(base, t / "out.img");
  write_text(t / "bad.pub", "not a key\n");
  o.public_key = t / "bad.pub";
  expect_usage(o, "bad.pub");
}

TEST_F(Installer, FullRootFilesystemIsAClearError) {
  const fs::path base = make_base(t, {.root_size = 4ull << 20});
  ASSERT_FALSE(HasFatalFailure());
  testing::write_file(t / "big-flasher", testing::pseudo_random(6 << 20, 1));
  auto o = options(base, t / "out.img");
  o.flasher = t / "big-flasher";
  try {
    make_installer(o);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(Errc::kStore));
    EXPECT_NE(std::string(e.what()).find("free"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(t / "out.img"));
}

TEST(InstallerCmdline, StripsOnlyTheFirstbootInit) {
  EXPECT_EQ(strip_firstboot_init(kCmdline),
            "console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 fsck.repair=yes rootwait quiet\n");
  EXPECT_EQ(strip_firstboot_init("console=tty1 root=/dev/mmcblk0p2 init=/usr/lib/raspi-config/init_resize.sh\n"),
            "console=tty1 root=/dev/mmcblk0p2\n");
  EXPECT_FALSE(strip_firstboot_init("console=tty1 init=/sbin/init rootwait\n"));
}

// A base whose table id is known, with an fstab naming its partitions by PARTUUID.
fs::path make_base_with_ids(const TempDir& t, bool gpt, const std::string& label_id, const std::string& root_ref,
                            const std::string& boot_ref, const std::string& boot_uuid = "", const std::string& root_uuid = "") {
  const fs::path rootfs = t / "ids.rootfs";
  fs::create_directories(rootfs / "usr/lib/systemd/system");
  fs::create_directories(rootfs / "usr/bin");
  fs::create_directories(rootfs / "etc");
  write_text(rootfs / "usr/bin/mtools", "");
  fs::create_symlink("mtools", rootfs / "usr/bin/mcopy");
  write_text(rootfs / "etc/fstab", "PARTUUID=" + boot_ref + " /boot/firmware vfat defaults 0 2\nPARTUUID=" + root_ref +
                                       " / ext4 defaults,noatime 0 1\n");
  testing::DiskSpec disk;
  disk.gpt = gpt;
  disk.label_id = label_id;
  disk.boot_uuid = boot_uuid;
  disk.root_uuid = root_uuid;
  disk.boot_start = kBootStart;
  disk.boot_size = kBootSize;
  disk.boot_files = {{"cmdline.txt", "console=tty1 root=PARTUUID=" + root_ref + " rootwait\n"}};
  disk.rootfs = rootfs;
  testing::make_disk_image(disk, t / "ids.img");
  return t / "ids.img";
}

disk::PartitionTable table_of(const fs::path& img) {
  const int fd = ::open(img.c_str(), O_RDONLY);
  auto table = disk::read_partition_table(fd, fs::file_size(img), img.string());
  ::close(fd);
  return table;
}

TEST_F(Installer, GivesTheCardAnMbrSignatureOfItsOwnAndUpdatesFstabAndCmdline) {
  const fs::path base = make_base_with_ids(t, false, "0x4e639091", "4e639091-02", "4E639091-01");
  if (HasFatalFailure()) return;
  const InstallerResult r = make_installer(options(base, t / "card.img"));
  std::string sig;
  run_command("sfdisk --disk-id " + q(t / "card.img"), &sig);
  sig = sig.substr(2, 8);  // "0x1234abcd\n"
  EXPECT_NE(sig, "4e639091");
  EXPECT_EQ(debugfs(t / "card.img", "cat /etc/fstab"),
            "PARTUUID=" + sig + "-01 /boot/firmware vfat defaults 0 2\nPARTUUID=" + sig + "-02 / ext4 defaults,noatime 0 1\n");
  disk::FatImage fat(t / "card.img", kBootStart);
  EXPECT_EQ(fat.read("/cmdline.txt").value_or(""), "console=tty1 root=PARTUUID=" + sig + "-02 rootwait\n");
  EXPECT_NE(std::find(r.disabled.begin(), r.disabled.end(), "partition ids of its own: /etc/fstab updated"), r.disabled.end());
}

TEST_F(Installer, GivesTheCardGptPartitionGuidsOfItsOwnAndUpdatesFstab) {
  const std::string boot = "0b3a7c1e-2f4d-4e5a-9b6c-7d8e9f0a1b2c", root = "1c4b8d2f-3a5e-4f6b-8c7d-8e9f0a1b2c3d";
  const fs::path base = make_base_with_ids(t, true, "", root, boot, boot, root);
  if (HasFatalFailure()) return;
  make_installer(options(base, t / "card.img"));
  const auto after = table_of(t / "card.img");
  ASSERT_EQ(after.partitions.size(), 2u);
  EXPECT_NE(after.partitions[0].uuid, boot);
  EXPECT_NE(after.partitions[1].uuid, root);
  EXPECT_EQ(debugfs(t / "card.img", "cat /etc/fstab"), "PARTUUID=" + after.partitions[0].uuid +
                                                           " /boot/firmware vfat defaults 0 2\nPARTUUID=" +
                                                           after.partitions[1].uuid + " / ext4 defaults,noatime 0 1\n");
  disk::FatImage fat(t / "card.img", kBootStart);
  EXPECT_EQ(fat.read("/cmdline.txt").value_or(""), "console=tty1 root=PARTUUID=" + after.partitions[1].uuid + " rootwait\n");
}

TEST_F(Installer, ShipsEveryBoardProfileWhereTheFlasherLooksForThem) {
  const fs::path base = make_base(t, {});
  if (HasFatalFailure()) return;
  make_installer(options(base, t / "card.img"));
  for (const char* board : {"rpi5", "rock5b", "uefi-arm64"}) {
    EXPECT_EQ(debugfs(t / "card.img", std::string("cat /usr/share/ironstone/boards/") + board + ".json"),
              read_text(fs::path(IRONSTONE_SOURCE_DIR) / "boards" / (std::string(board) + ".json")))
        << board;
  }
}

TEST_F(Installer, RefusesABoardWithoutAProfile) {
  const fs::path base = make_base(t, {});
  if (HasFatalFailure()) return;
  InstallerOptions o = options(base, t / "card.img");
  o.board = "no-such-board";
  try {
    make_installer(o);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(Errc::kUsage));
    EXPECT_EQ(std::string(e.what()), "--board no-such-board: no such board profile in " +
                                         (fs::path(IRONSTONE_SOURCE_DIR) / "boards").string());
  }
  EXPECT_FALSE(fs::exists(t / "card.img"));
}

TEST(InstallerIds, ReplacesEveryIdInAnyLetterCase) {
  EXPECT_EQ(replace_ids("a PARTUUID=ABCD-02 b partuuid=abcd-01 abcdef", {{"abcd-", "1234-"}}),
            "a PARTUUID=1234-02 b partuuid=1234-01 abcdef");
  EXPECT_EQ(replace_ids("x", {}), "x");
}

TEST(InstallerDefaults, FindsTheCrossBuiltFlasherAboveTheBinary) {
  TempDir t;
  fs::create_directories(t / "src/build/builder");
  fs::create_directories(t / "src/build-arm64/flasher");
  EXPECT_FALSE(default_flasher_path(t / "src/build/builder/ironstone-build"));
  write_text(t / "src/build-arm64/flasher/ironstone-flasher", "x");
  auto found = default_flasher_path(t / "src/build/builder/ironstone-build");
  ASSERT_TRUE(found);
  EXPECT_EQ(*found, t / "src/build-arm64/flasher/ironstone-flasher");
}

TEST(InstallerElf, ReadsMachineAndNeededLibrariesOfTheHostShell) {
  auto info = read_elf_info("/bin/sh");
  ASSERT_TRUE(info);
  EXPECT_TRUE(info->dynamic);
  EXPECT_NE(std::find(info->needed.begin(), info->needed.end(), "libc.so.6"), info->needed.end());
  TempDir t;
  write_text(t / "script", "#!/bin/sh\n");
  EXPECT_FALSE(read_elf_info(t / "script"));
  write_text(t / "broken", std::string("\x7f" "ELF\x02\x01", 6) + std::string(10, '\0'));
  EXPECT_THROW(read_elf_info(t / "broken"), Error);
}

}  // namespace
}  // namespace ironstone::builder
