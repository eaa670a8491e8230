// Firmware method "efi-boot-order": after the image is written and verified, make the NVMe's
// EFI system partition the first UEFI boot entry, so the next power-on boots it even with the
// installer still inserted (the UEFI counterpart of the Pi 5 EEPROM BOOT_ORDER).
//
// Why efivarfs directly and not Debian's efibootmgr: the entry must name the partition of the
// image just written (GUID, start, size from the signed image's GPT, read back from the
// target), which efibootmgr only learns by probing a block device itself; its output is for
// people, not a stable interface; and going through files under the flasher's --root lets the
// real code run in the unit tests against an efivarfs-shaped directory (tests/boards/).
//
// What apply() does, through an EfiVariables (efi_vars.h):
//   1. the ESP: the written GPT's partition of type c12a7328-f81f-11d2-ba4b-00a0c93ec93b;
//   2. an entry for it: a Boot#### whose device path has HD(<its GUID>) and File(<loader>)
//      (compared without case: FAT). Missing → Boot#### created at the lowest free number;
//      present but inactive or with another partition number/start/size → rewritten in place;
//   3. that entry first in BootOrder, the other entries kept in their order;
//   4. everything written is read back and compared (Errc::kVerify on a difference).
// Nothing is written when the entry exists and is first (FirmwareOutcome::kAlreadyCurrent).
// The entry is a short-form device path, HD(...)/File(...): the firmware finds the disk by the
// partition GUID (UEFI 2.10 §3.1.2), whatever PCI/NVMe path the drive has.
//
// Errors: kUnsupported (no written disk given, no GPT ESP), kDevice (no efivarfs, a write
// refused: read-only efivarfs or firmware without runtime SetVariable), kParse (BootOrder of
// odd length), kVerify (read-back mismatch). Thread safety: one apply() at a time.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "boards/efi_vars.h"
#include "boards/firmware.h"
#include "disk/partition_table.h"

namespace ironstone::boards {

inline constexpr std::uint32_t kLoadOptionActive = 0x1;
inline constexpr std::string_view kEspTypeGuid = "c12a7328-f81f-11d2-ba4b-00a0c93ec93b";

// The HD() media device path node of a GPT partition (UEFI 2.10 §10.3.5.1).
struct HardDriveNode {
  std::uint32_t partition_number = 0;  // 1-based
  std::uint64_t start_lba = 0, size_lba = 0;
  std::array<std::uint8_t, 16> signature{};  // the GPT unique partition GUID, as stored on disk
  bool operator==(const HardDriveNode&) const = default;
};

// The ESP of a written GPT image, as an HD() node. Throws kUnsupported naming `what`.
HardDriveNode esp_node(const disk::PartitionTable& table, const std::string& what);

// "01234567-89ab-cdef-0123-456789abcdef" -> the 16 bytes as EFI_GUID/GPT store them
// (first three fields little-endian). nullopt when malformed.
std::optional<std::array<std::uint8_t, 16>> guid_bytes(std::string_view text);

// EFI_LOAD_OPTION (UEFI 2.10 §3.1.3): Attributes, FilePathListLength, Description (UCS-2, NUL
// terminated), FilePathList = HD(node)/File(loader)/End, no OptionalData. `loader` uses '\'.
std::vector<std::uint8_t> encode_load_option(std::uint32_t attributes, std::string_view description,
                                             const HardDriveNode& hd, std::string_view loader);

// What decode_load_option() understood of a Boot#### variable (outside input: bounded,
// never throws). `valid` false when the bytes are not a well-formed EFI_LOAD_OPTION.
struct LoadOption {
  bool valid = false;
  std::uint32_t attributes = 0;
  std::string description;            // non-ASCII characters as '?'
  std::optional<HardDriveNode> hd;    // the first GPT HD() node of the first path
  std::string file;                   // the first File() node of the first path ('\' kept), "" if none
};
LoadOption decode_load_option(std::span<const std::uint8_t> bytes);

// "Boot000A" for 10.
std::string boot_variable_name(std::uint16_t number);

// The method's implementation. `vars` makes the variable store at apply() time (efivarfs
// under the root on a node; tests pass a directory or a wrapper of their own).
class EfiBootOrderUpdater : public FirmwareUpdater {
 public:
  EfiBootOrderUpdater(EfiBootParams params, std::function<std::unique_ptr<EfiVariables>()> vars)
      : params_(std::move(params)), vars_(std::move(vars)) {}
  std::string_view method() const override { return "efi-boot-order"; }
  FirmwareResult apply(const FirmwarePayload* payload, const WrittenDisk* written) override;

 private:
  EfiBootParams params_;
  std::function<std::unique_ptr<EfiVariables>()> vars_;
};

}  // namespace ironstone::boards
