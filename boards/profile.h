// Board profiles: one JSON file per board (boards/<name>.json), read by one parser.
//
// A profile says how to recognise the board (device-tree `compatible` strings),
// the default target device, the firmware method and its parameters, the LEDs and
// their patterns, and how to power off. Format and fields: boards/README.md.
//
// parse_profile() is a parser of outside input: strict (unknown fields, missing
// fields, wrong types, duplicate keys and out-of-range values are errors naming
// "<file>: field 'leds.status.name': ..."), bounded (kMaxProfileBytes, lengths,
// counts, depth). Errors: Error(boards::Errc::kParse / kField / kTooLarge / kIo).
//
// Thread safety: plain values; the functions are reentrant.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace ironstone::boards {

inline constexpr std::uint64_t kProfileFormat = 1;
inline constexpr std::size_t kMaxProfileBytes = 64 * 1024;
inline constexpr std::size_t kMaxProfiles = 64;

// --- firmware method parameters (one struct per method; see firmware.h) ---
struct NoFirmwareParams {};  // method "none": the board needs no firmware step
struct EepromParams {        // method "rpi-eeprom": Raspberry Pi bootloader EEPROM config
  std::string boot_order = "0xf416";  // NVMe first, then SD, then USB, then restart
  bool pcie_probe = false;            // PCIE_PROBE=1 (needed with some NVMe HATs)
};
struct SpiNorParams {  // method "spi-nor": bootloader image in SPI NOR flash (MTD)
  std::string device = "/dev/mtd0";
};
struct EfiBootParams {  // method "efi-boot-order": UEFI BootOrder with the target's ESP first
  std::string loader = "\\EFI\\BOOT\\BOOTAA64.EFI";  // in the ESP; profile: "/EFI/BOOT/BOOTAA64.EFI"
  std::string description = "Ironstone NVMe";           // the boot entry's name in the firmware menu
};
using FirmwareParams = std::variant<NoFirmwareParams, EepromParams, SpiNorParams, EfiBootParams>;

struct FirmwareSpec {
  std::string method = "none";  // also the manifest's Firmware.kind of the payload it takes
  FirmwareParams params;
};

// --- LEDs ---
enum class LedMode { kOff, kOn, kBlink, kHeartbeat, kCode };
std::string_view to_string(LedMode m);

struct LedPattern {
  LedMode mode = LedMode::kOff;
  std::uint32_t on_ms = 0;     // kBlink, kCode
  std::uint32_t off_ms = 0;    // kBlink, kCode
  std::uint32_t pause_ms = 0;  // kCode: dark gap after the N blinks
  bool operator==(const LedPattern&) const = default;
};

struct LedSpec {
  std::string status;               // sysfs LED name, e.g. "ACT" (/sys/class/leds/ACT)
  std::optional<std::string> fault;  // optional second LED lit solid on failure, e.g. "PWR"
  LedPattern working;
  LedPattern done;
  LedPattern failed;  // always LedMode::kCode: N blinks then a pause, N = failed step
};

// --- power ---
enum class PowerAction { kPowerOff, kReboot, kStayUp };
std::string_view to_string(PowerAction a);
std::optional<PowerAction> parse_power_action(std::string_view s);  // "poweroff", "reboot", "stay-up"

enum class PowerMethod { kSystemd, kSyscall };  // systemd falls back to the syscall when it fails
struct PowerSpec {
  PowerAction action = PowerAction::kPowerOff;
  PowerMethod method = PowerMethod::kSystemd;
};

// How a profile is recognised (boards/detect.h has the precedence).
enum class DetectBy {
  kCompatible,  // "compatible": by the device tree's compatible strings (the default)
  kUefi,        // "uefi": any node started by UEFI firmware (/sys/firmware/efi, not U-Boot's EFI)
};

struct BoardProfile {
  std::string name;         // [a-z0-9-]+, equal to the file name's stem and to the manifest's board
  std::string description;  // human readable, e.g. "Raspberry Pi 5"
  DetectBy detect = DetectBy::kCompatible;
  std::vector<std::string> compatible;  // device-tree compatible strings (kCompatible only; 1-16 then)
  std::string target_device;            // absolute path, e.g. "/dev/nvme0n1"
  FirmwareSpec firmware;
  LedSpec leds;
  PowerSpec power;
  // Installer-card self-disarm (flasher/card_boot.h): the files, absolute inside a card
  // partition, the board's firmware boots the card from (e.g. "/boot/extlinux/extlinux.conf").
  // After a verified flash the flasher renames those it finds to "*.ironstone-disarmed".
  // Empty: the board has a boot order (EEPROM, UEFI) and the card is left alone.
  std::vector<std::string> disarm_card;
};

// Strict parser. `source` names the input in messages (e.g. "rpi5.json").
BoardProfile parse_profile(std::string_view text, std::string_view source);

// Reads and parses one file; also checks that `name` equals the file's stem.
BoardProfile load_profile(const std::filesystem::path& file);

// Every *.json in `dir`, sorted by name. Also rejects a compatible string claimed
// by two profiles and a second "detect": "uefi" profile (detection would be ambiguous).
std::vector<BoardProfile> load_profiles(const std::filesystem::path& dir);

// The profiles shipped in the source tree (IRONSTONE_BOARDS_DIR).
std::filesystem::path source_profiles_dir();

// Where the installed profiles live (the ironstone-boards package, and an installer card).
inline constexpr const char* kInstalledProfilesDir = "/usr/share/ironstone/boards";

// The directory a tool reads when given none: kInstalledProfilesDir when it exists, else
// source_profiles_dir() (a build tree).
std::filesystem::path default_profiles_dir();

// Maps an absolute device path ("/dev/mtd0") under a filesystem root ("/tmp/fake").
std::filesystem::path under_root(const std::filesystem::path& root, std::string_view absolute);

}  // namespace ironstone::boards
