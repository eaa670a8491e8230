#include "boards/detect.h"

#include <gtest/gtest.h>

#include "boards/errc.h"
#include "tests/boards/fake_root.h"

namespace ironstone::boards {
namespace {

using ironstone::testing::TempDir;
using testing::put_compatible;

class Detect : public ::testing::Test {
 protected:
  std::vector<BoardProfile> profiles = load_profiles(source_profiles_dir());
  TempDir root;
};

TEST_F(Detect, RaspberryPi5DeviceTreeIsDetected) {
  put_compatible(root.path(), {"raspberrypi,5-model-b", "brcm,bcm2712"});
  EXPECT_EQ(detect_board(profiles, root.path()).name, "rpi5");
}

TEST_F(Detect, Rock5bDeviceTreeUnderSysfirmwareIsDetected) {
  put_compatible(root.path(), {"radxa,rock-5b", "rockchip,rk3588"}, "sys/firmware/devicetree/base/compatible");
  EXPECT_EQ(detect_board(profiles, root.path()).name, "rock5b");
}

TEST_F(Detect, MostSpecificCompatibleStringWins) {
  BoardProfile generic = profiles[0];
  generic.name = "generic-rk3588";
  generic.compatible = {"rockchip,rk3588"};
  profiles.insert(profiles.begin(), generic);
  EXPECT_EQ(match_board(profiles, {"radxa,rock-5b", "rockchip,rk3588"}).name, "rock5b");
}

TEST_F(Detect, UnknownBoardErrorListsFoundStringsAndKnownBoards) {
  put_compatible(root.path(), {"pine64,rockpro64", "rockchip,rk3399"});
  try {
    detect_board(profiles, root.path());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(Errc::kUnknownBoard));
    EXPECT_EQ(std::string(e.what()),
              "unknown board: device-tree compatible strings [\"pine64,rockpro64\", \"rockchip,rk3399\"] match none "
              "of the known boards: rock5b [\"radxa,rock-5b\"], rpi5 [\"raspberrypi,5-model-b\"], uefi-arm64 (UEFI "
              "firmware)");
  }
}

TEST_F(Detect, MissingDeviceTreeIsAClearError) {
  try {
    detect_board(profiles, root.path());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(Errc::kNoDeviceTree));
    EXPECT_EQ(std::string(e.what()), "no device tree: cannot read " + (root / "proc/device-tree/compatible").string() +
                                         " or " + (root / "sys/firmware/devicetree/base/compatible").string());
  }
}

TEST_F(Detect, CompatibleStringsAreSplitOnNul) {
  testing::put(root.path(), "proc/device-tree/compatible", std::string("a,b\0\0c,d", 8));
  EXPECT_EQ(read_compatible(root.path()), (std::vector<std::string>{"a,b", "c,d"}));
}

TEST_F(Detect, OversizedCompatibleFileIsRejected) {
  testing::put(root.path(), "proc/device-tree/compatible", std::string(kMaxCompatibleBytes + 1, 'x'));
  EXPECT_THROW(read_compatible(root.path()), Error);
}

// QEMU's virt machine booted by AAVMF with ACPI: no device tree, DMI from QEMU's SMBIOS.
void put_qemu_uefi(const std::filesystem::path& root) {
  std::filesystem::create_directories(root / "sys/firmware/efi/efivars");
  testing::put(root, "sys/class/dmi/id/sys_vendor", "QEMU\n");
  testing::put(root, "sys/class/dmi/id/product_name", "QEMU Virtual Machine\n");
  testing::put(root, "sys/class/dmi/id/bios_vendor", "EFI Development Kit II / OVMF\n");
}

TEST_F(Detect, QemuVirtWithAavmfIsTheUefiBoard) {
  put_qemu_uefi(root.path());
  MachineFacts m = read_machine(root.path());
  EXPECT_TRUE(m.uefi_firmware());
  EXPECT_EQ(m.describe(), "UEFI, DMI QEMU QEMU Virtual Machine");
  EXPECT_EQ(detect_board(profiles, root.path()).name, "uefi-arm64");
}

TEST_F(Detect, UefiFirmwareWinsOverTheDeviceTreeOfAKnownBoard) {
  // A ROCK 5B running EDK2 (edk2-rk3588) in device-tree mode: its boot order is UEFI's, and
  // the rock5b SPI NOR step would overwrite EDK2 itself.
  put_compatible(root.path(), {"radxa,rock-5b", "rockchip,rk3588"});
  testing::put(root.path(), "proc/device-tree/model", std::string("Radxa ROCK 5B\0", 14));
  std::filesystem::create_directories(root.path() / "sys/firmware/efi");
  MachineFacts m = read_machine(root.path());
  EXPECT_EQ(m.model, "Radxa ROCK 5B");
  EXPECT_EQ(m.describe(), "UEFI, device tree radxa,rock-5b (Radxa ROCK 5B)");
  EXPECT_EQ(detect_board(profiles, root.path()).name, "uefi-arm64");
}

TEST_F(Detect, UBootEfiLayerKeepsTheDeviceTreeBoard) {
  // U-Boot started the kernel through bootefi: /sys/firmware/efi exists, but U-Boot's own
  // environment decides the boot order; the board is still the rock5b.
  put_compatible(root.path(), {"radxa,rock-5b", "rockchip,rk3588"});
  std::filesystem::create_directories(root.path() / "sys/firmware/efi");
  testing::put(root.path(), "sys/class/dmi/id/bios_vendor", "U-Boot\n");
  EXPECT_FALSE(read_machine(root.path()).uefi_firmware());
  EXPECT_EQ(detect_board(profiles, root.path()).name, "rock5b");
}

TEST_F(Detect, DeviceTreeWithoutEfiIsMatchedByCompatible) {
  put_compatible(root.path(), {"raspberrypi,5-model-b", "brcm,bcm2712"});
  testing::put(root.path(), "sys/class/dmi/id/sys_vendor", "QEMU\n");  // DMI alone does not make UEFI
  EXPECT_EQ(detect_board(profiles, root.path()).name, "rpi5");
}

TEST_F(Detect, UBootEfiWithoutDeviceTreeIsAClearError) {
  std::filesystem::create_directories(root.path() / "sys/firmware/efi");
  testing::put(root.path(), "sys/class/dmi/id/bios_vendor", "U-Boot\n");
  try {
    match_board(profiles, read_machine(root.path()));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(Errc::kNoDeviceTree));
    EXPECT_EQ(std::string(e.what()), "no device tree and no UEFI firmware (U-Boot EFI)");
  }
}

}  // namespace
}  // namespace ironstone::boards
