// Board detection: device tree, UEFI and DMI facts under a filesystem root.
//
// read_machine() reads, under `root` ("/" on a real node; tests point it at a fake tree):
//   - device tree: <root>/proc/device-tree/{compatible,model}, or else
//     <root>/sys/firmware/devicetree/base/{compatible,model}: NUL-separated strings, most
//     specific first;
//   - UEFI: whether <root>/sys/firmware/efi exists (the kernel was started by UEFI firmware);
//   - DMI: <root>/sys/class/dmi/id/{sys_vendor,product_name,bios_vendor} (SMBIOS; QEMU virt
//     with AAVMF: "QEMU" / "QEMU Virtual Machine").
//
// Precedence (match_board(), boards/README.md "Detection"):
//   1. The node runs UEFI firmware (/sys/firmware/efi present and the DMI BIOS vendor is not
//      "U-Boot": U-Boot's EFI layer boots by its own environment and rarely has writable
//      variables at run time) → the profile with "detect": "uefi", whatever the device tree
//      says. An EDK2 Rock 5B or a Pi running the UEFI firmware boots by UEFI BootOrder; the
//      rock5b/rpi5 firmware steps (SPI NOR U-Boot, EEPROM BOOT_ORDER) would be wrong there (the
//      SPI NOR image would overwrite EDK2 itself).
//   2. Otherwise the device tree: the profile ("detect": "compatible") listing the earliest of
//      the compatible strings.
// Errors: kNoDeviceTree (neither a device tree nor UEFI firmware), kTooLarge (a file above
// 4 KiB), kUnknownBoard ("... compatible strings found: [...]; known boards: ...").
// Thread safety: reentrant.
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "boards/profile.h"

namespace ironstone::boards {

inline constexpr std::size_t kMaxCompatibleBytes = 4096;

// What the node says about itself (see above). Empty strings: not present.
struct MachineFacts {
  bool device_tree = false;             // a compatible file was readable
  std::vector<std::string> compatible;  // in file order
  std::string model;                    // device-tree model, e.g. "Radxa ROCK 5B"
  bool efi = false;                     // <root>/sys/firmware/efi exists
  std::string dmi_sys_vendor, dmi_product_name, dmi_bios_vendor;

  // efi, and the firmware is not U-Boot's EFI layer (DMI bios_vendor "U-Boot").
  bool uefi_firmware() const;
  // For logs: "UEFI (QEMU QEMU Virtual Machine)", "device tree radxa,rock-5b (Radxa ROCK 5B)".
  std::string describe() const;
};

MachineFacts read_machine(const std::filesystem::path& root);

// The compatible strings of the device tree under `root`, in file order. Throws kNoDeviceTree.
std::vector<std::string> read_compatible(const std::filesystem::path& root);

// The profile for `machine` (precedence above). Throws kUnknownBoard / kNoDeviceTree.
const BoardProfile& match_board(std::span<const BoardProfile> profiles, const MachineFacts& machine);
// Device-tree matching only (step 2 above). Throws kUnknownBoard.
const BoardProfile& match_board(std::span<const BoardProfile> profiles, const std::vector<std::string>& compatible);

// read_machine() + match_board().
const BoardProfile& detect_board(std::span<const BoardProfile> profiles, const std::filesystem::path& root);

}  // namespace ironstone::boards
