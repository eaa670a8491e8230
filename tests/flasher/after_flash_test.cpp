// What the flasher does so that the next power-on boots the NVMe, in whole runs against an
// in-process seeder: the uefi-arm64 board's BootOrder (boards/efi_boot.h) over an
// efivarfs-shaped directory of a fake root, the Rock 5B's installer-card self-disarm
// (flasher/card_boot.h) on a card image, and re-arming it with --rearm.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include "boards/efi_boot.h"
#include "boards/efi_vars.h"
#include "disk/image_fs.h"
#include "flasher/card_boot.h"
#include "flasher/cli.h"
#include "flasher/errc.h"
#include "tests/boards/fake_root.h"
#include "tests/flasher/flash_rig.h"

namespace ironstone::flasher {
namespace {

using namespace ironstone::flasher::testing;
using ::testing::HasSubstr;
using ironstone::testing::DiskSpec;
using ironstone::testing::make_disk_image;
using ironstone::testing::sh;

class AfterFlash : public ::testing::Test {
 protected:
  void SetUp() override {
    spdlog::set_level(spdlog::level::warn);
    if (auto why = ironstone::testing::missing_disk_tools(); !why.empty()) GTEST_SKIP() << why;
  }
  void TearDown() override { spdlog::set_level(spdlog::level::info); }
  Rig rig;
};

// A GPT gold image whose first partition is an EFI system partition (FAT) with the loader.
std::vector<std::uint8_t> make_uefi_image(const fs::path& dir) {
  DiskSpec spec = partitioned_spec();
  spec.gpt = true;
  spec.boot_files = {{"BOOTAA64.EFI", "not really a loader\n"}};
  make_disk_image(spec, dir / "uefi-gold.img");
  if (::testing::Test::HasFatalFailure()) return {};
  sh("sfdisk -q --part-type " + (dir / "uefi-gold.img").string() + " 1 C12A7328-F81F-11D2-BA4B-00A0C93EC93B");
  sh("sfdisk -q --part-uuid " + (dir / "uefi-gold.img").string() + " 1 0c0ffee0-1234-4abc-8def-0123456789ab");
  return read_file(dir / "uefi-gold.img");
}

TEST_F(AfterFlash, UefiBoardPutsTheWrittenEspFirstInBootOrderOnceAndThenLeavesIt) {
  const auto image = make_uefi_image(rig.dir());
  ASSERT_FALSE(HasFatalFailure());
  rig.publish(image, rig.publish_options("1.0", "uefi-arm64"));
  rig.start_seeder();
  FlashOptions o = rig.flash_options("vm");
  // QEMU virt under AAVMF: no device tree, UEFI, DMI from QEMU; the firmware's own entry.
  const fs::path efivars = o.root / "sys/firmware/efi/efivars";
  fs::create_directories(efivars);
  boards::testing::put(o.root, "sys/class/dmi/id/sys_vendor", "QEMU\n");
  boards::testing::put(o.root, "sys/class/dmi/id/product_name", "QEMU Virtual Machine\n");
  boards::EfivarfsVariables vars(efivars);
  auto shell = boards::encode_load_option(1, "EFI Internal Shell",
                                          {1, 34, 100, *boards::guid_bytes("11111111-2222-3333-4444-555555555555")},
                                          "\\EFI\\shell.efi");
  vars.write("Boot0000", {7, shell});
  vars.write("BootOrder", {7, {0, 0}});
  o.board = "auto";
  o.skip_firmware = false;

  FlashResult r = run_flash(o);
  EXPECT_EQ(r.board, "uefi-arm64");
  EXPECT_EQ(r.firmware, "updated: created Boot0001 \"Ironstone NVMe\" HD(1,GPT,0c0ffee0-1234-4abc-8def-0123456789ab,"
                        "0x800,0x4000)/File(\\EFI\\BOOT\\BOOTAA64.EFI); BootOrder 0000 -> 0001,0000");
  EXPECT_EQ(vars.read("BootOrder")->data, (std::vector<std::uint8_t>{1, 0, 0, 0}));
  auto entry = boards::decode_load_option(vars.read("Boot0001")->data);
  ASSERT_TRUE(entry.hd);
  EXPECT_EQ(entry.hd->signature, *boards::guid_bytes("0c0ffee0-1234-4abc-8def-0123456789ab"));
  EXPECT_TRUE(r.disarm.empty());  // UEFI has a boot order: the card is left alone

  FlashResult again = run_flash(o);
  EXPECT_TRUE(again.already_current);
  EXPECT_THAT(again.firmware, HasSubstr("already-current: Boot0001 HD(1,GPT,0c0ffee0"));
}

// The Rock 5B installer card: MBR, a FAT partition 1 with boot.scr (not mounted), and the ext4
// root as partition 2, mounted at "/" — that filesystem is the fake root directory itself.
struct Card {
  fs::path device;  // <root>/dev/mmcblk1 (an image file)
};
Card make_rock5b_card(const fs::path& dir, const fs::path& root) {
  DiskSpec spec;
  spec.boot_size = 8ull << 20;
  spec.root_size = 4ull << 20;
  spec.boot_files = {{"boot.scr", "U-Boot script\n"}};
  fs::create_directories(dir / "card-rootfs/etc");
  make_disk_image(spec, dir / "card.img");
  Card c{root / "dev/mmcblk1"};
  fs::create_directories(c.device.parent_path());
  fs::copy_file(dir / "card.img", c.device);
  // The running installer's "/": mmcblk1p2 (179:2), as the kernel shows it.
  boards::testing::put(root, "proc/self/mountinfo",
                       "22 1 179:2 / / rw,relatime shared:1 - ext4 /dev/root rw\n"
                       "23 22 0:21 / /proc rw,nosuid - proc proc rw\n");
  const fs::path disk = root / "sys/devices/platform/fe2c0000.mmc/mmc_host/mmc1/mmc1:0001/block/mmcblk1";
  boards::testing::put(disk, "dev", "179:0\n");
  for (int n : {1, 2}) {
    const std::string part = "mmcblk1p" + std::to_string(n);
    boards::testing::put(disk / part, "partition", std::to_string(n) + "\n");
    boards::testing::put(disk / part, "dev", "179:" + std::to_string(n) + "\n");
    fs::create_directories(root / "sys/dev/block");
    fs::create_directories(root / "sys/class/block");
    fs::create_symlink(disk / part, root / "sys/dev/block" / ("179:" + std::to_string(n)));
    fs::create_symlink(disk / part, root / "sys/class/block" / part);
  }
  boards::testing::put(root, "boot/extlinux/extlinux.conf", "label ironstone-installer\n");
  return c;
}

std::optional<std::string> fat_file_at(const fs::path& img, const std::string& name) {
  return fat_file(img, 1ull << 20, name);
}

TEST_F(AfterFlash, Rock5bCardIsDisarmedAfterTheVerifiedFlashAndReArmedWithOneCommand) {
  const auto image = make_partitioned_image(rig.dir(), "gold.img");
  ASSERT_FALSE(HasFatalFailure());
  rig.publish(image, rig.publish_options("1.0", "rock5b"));
  rig.start_seeder();
  FlashOptions o = rig.flash_options("rock");
  o.board = "rock5b";
  Card card = make_rock5b_card(rig.dir(), o.root);
  ASSERT_FALSE(HasFatalFailure());

  FlashResult r = run_flash(o);
  EXPECT_EQ(r.disarm, "disarmed /dev/mmcblk1: partition 1 /boot.scr (FAT (mtools)), partition 2 "
                      "/boot/extlinux/extlinux.conf (mounted at /); re-arm: ironstone-flasher --rearm /dev/mmcblk1");
  EXPECT_FALSE(fs::exists(o.root / "boot/extlinux/extlinux.conf"));
  EXPECT_EQ(read_text(o.root / "boot/extlinux/extlinux.conf.ironstone-disarmed"), "label ironstone-installer\n");
  EXPECT_EQ(fat_file_at(card.device, "boot.scr"), std::nullopt);
  EXPECT_EQ(fat_file_at(card.device, "boot.scr.ironstone-disarmed"), "U-Boot script\n");

  // The same card booted again (nothing on the NVMe changed): already disarmed, still done.
  FlashResult again = run_flash(o);
  EXPECT_THAT(again.disarm, HasSubstr("already disarmed /dev/mmcblk1"));

  // Re-arming: the one command, here in-process through the CLI.
  CliArgs a;
  a.root = o.root.string();
  a.profiles_dir = o.profiles_dir.string();
  a.rearm = "/dev/mmcblk1";
  EXPECT_EQ(run_cli(a), 0);
  EXPECT_EQ(read_text(o.root / "boot/extlinux/extlinux.conf"), "label ironstone-installer\n");
  EXPECT_EQ(fat_file_at(card.device, "boot.scr"), "U-Boot script\n");
  EXPECT_EQ(fat_file_at(card.device, "boot.scr.ironstone-disarmed"), std::nullopt);
  EXPECT_EQ(run_cli(a), 0);  // nothing left to re-arm, and nothing disarmed: says "already re-armed"
}

TEST_F(AfterFlash, FailedFlashLeavesTheCardArmed) {
  const auto image = make_partitioned_image(rig.dir(), "gold.img");
  ASSERT_FALSE(HasFatalFailure());
  rig.publish(image, rig.publish_options("1.0", "rock5b"));
  rig.start_seeder();
  FlashOptions o = rig.flash_options("rock");
  o.board = "rock5b";
  make_rock5b_card(rig.dir(), o.root);
  ASSERT_FALSE(HasFatalFailure());
  const fs::path other_key = rig.dir() / "other.pub";
  write_text(other_key, manifest::serialize_public_key(test_key(0x17).public_key()));
  o.public_keys = {other_key};
  EXPECT_THROW(run_flash(o), Error);
  EXPECT_EQ(read_text(o.root / "boot/extlinux/extlinux.conf"), "label ironstone-installer\n");
}

TEST_F(AfterFlash, CardImageWithExtBootFilesIsReArmedInPlaceWithDebugfs) {
  // A Rock 5B card as the base images ship it (one ext4 root, /boot inside), on a workstation:
  // not mounted anywhere, edited in place.
  const fs::path rootfs = rig.dir() / "ext-rootfs";
  boards::testing::put(rootfs, "boot/extlinux/extlinux.conf.ironstone-disarmed", "label x\n");
  DiskSpec spec;
  spec.with_boot = true;
  spec.boot_size = 8ull << 20;
  spec.root_size = 4ull << 20;
  spec.rootfs = rootfs;
  make_disk_image(spec, rig.dir() / "ext-card.img");
  ASSERT_FALSE(HasFatalFailure());
  const fs::path nothing_mounted = rig.dir() / "ws-root";
  fs::create_directories(nothing_mounted);
  CardChanges c = rearm_card(nothing_mounted, rig.dir() / "ext-card.img", {"/boot/extlinux/extlinux.conf"});
  EXPECT_EQ(c.summary(false), "re-armed " + (rig.dir() / "ext-card.img").string() +
                                  ": partition 2 /boot/extlinux/extlinux.conf (ext4 (debugfs))");
  disk::Ext4Image ext(rig.dir() / "ext-card.img", spec.root_start());
  EXPECT_EQ(ext.cat("/boot/extlinux/extlinux.conf"), "label x\n");
  EXPECT_FALSE(ext.exists("/boot/extlinux/extlinux.conf.ironstone-disarmed"));
  sh("e2fsck -fn '" + ext.device() + "' >/dev/null 2>&1");  // ln + unlink left a consistent filesystem
}

TEST_F(AfterFlash, CardWithNothingToDisarmIsAnError) {
  const fs::path root = rig.dir() / "root";
  Card card = make_rock5b_card(rig.dir(), root);
  ASSERT_FALSE(HasFatalFailure());
  fs::remove(root / "boot/extlinux/extlinux.conf");
  try {
    disarm_card(root, card.device, {"/boot/extlinux/extlinux.conf"});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(Errc::kCard));
    EXPECT_EQ(std::string(e.what()), "/dev/mmcblk1: nothing to disarm: none of /boot/extlinux/extlinux.conf on its "
                                     "partitions, so its firmware may boot it again");
  }
}

TEST_F(AfterFlash, InstallerRunningFromTheTargetIsNotDisarmed) {
  const fs::path root = rig.dir() / "root";
  make_rock5b_card(rig.dir(), root);
  ASSERT_FALSE(HasFatalFailure());
  EXPECT_EQ(booted_disk(root), root / "dev/mmcblk1");
  try {
    disarm_step(root, root / "dev/mmcblk1", {"/boot.scr"});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "/dev/mmcblk1: the installer runs from the target disk itself; not disarming it");
  }
}

}  // namespace
}  // namespace ironstone::flasher
