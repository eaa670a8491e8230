#include "boards/firmware.h"

#include <array>
#include <cctype>

#include "boards/efi_boot.h"
#include "boards/eeprom.h"
#include "boards/errc.h"
#include "boards/mtd.h"
#include "boards/spi_nor.h"
#include "util/json_reader.h"

namespace ironstone::boards {

namespace fs = std::filesystem;
using strict_json::ObjectReader;

void check_payload(const FirmwarePayload& payload, std::string_view context) {
  Hash256 actual = blake2b256(payload.bytes);
  if (actual != payload.hash) {
    throw error(Errc::kHashMismatch, std::string(context) + ": " + payload.name + ": hash " + actual.hex() +
                                         " does not match expected " + payload.hash.hex());
  }
}

std::string_view to_string(FirmwareOutcome o) {
  switch (o) {
    case FirmwareOutcome::kNotNeeded: return "not-needed";
    case FirmwareOutcome::kAlreadyCurrent: return "already-current";
    case FirmwareOutcome::kUpdated: return "updated";
  }
  return "?";
}

namespace {

// --- "none" ---
class NoFirmware : public FirmwareUpdater {
 public:
  std::string_view method() const override { return "none"; }
  FirmwareResult apply(const FirmwarePayload*, const WrittenDisk*) override { return {FirmwareOutcome::kNotNeeded, "no firmware step"}; }
};

FirmwareParams parse_none(ObjectReader& fw) {
  if (fw.has("params")) fw.fail("params", "not allowed with method 'none'");
  return NoFirmwareParams{};
}

std::unique_ptr<FirmwareUpdater> make_none(const FirmwareParams&, const fs::path&) {
  return std::make_unique<NoFirmware>();
}

// --- "rpi-eeprom" ---
bool valid_boot_order(std::string_view s) {
  if (s.size() < 3 || s.size() > 10 || !s.starts_with("0x")) return false;
  for (char c : s.substr(2)) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

FirmwareParams parse_eeprom(ObjectReader& fw) {
  ObjectReader p = fw.object("params");
  EepromParams params;
  params.boot_order = p.text("boot_order", 10);
  if (!valid_boot_order(params.boot_order)) {
    p.fail("boot_order", "'" + params.boot_order + "' must be 0x followed by 1 to 8 hex digits");
  }
  params.pcie_probe = p.has("pcie_probe") && p.boolean("pcie_probe");
  p.finish();
  return params;
}

std::unique_ptr<FirmwareUpdater> make_eeprom(const FirmwareParams& params, const fs::path&) {
  return std::make_unique<EepromUpdater>(std::get<EepromParams>(params), std::make_unique<RealEepromTool>());
}

// --- "spi-nor" ---
FirmwareParams parse_spi_nor(ObjectReader& fw) {
  ObjectReader p = fw.object("params");
  SpiNorParams params;
  params.device = p.text("device", 128);
  if (!params.device.starts_with("/dev/mtd") || params.device.find("/..") != std::string::npos) {
    p.fail("device", "'" + params.device + "' must be an MTD device path (/dev/mtdN)");
  }
  p.finish();
  return params;
}

std::unique_ptr<FirmwareUpdater> make_spi_nor(const FirmwareParams& params, const fs::path& root) {
  fs::path device = under_root(root, std::get<SpiNorParams>(params).device);
  return std::make_unique<SpiNorUpdater>([device] { return std::unique_ptr<NorFlash>(MtdDevice::open(device)); });
}

// --- "efi-boot-order" ---
FirmwareParams parse_efi_boot(ObjectReader& fw) {
  EfiBootParams params;
  if (!fw.has("params")) return params;
  ObjectReader p = fw.object("params");
  if (p.has("loader")) {
    std::string loader = p.text("loader", 128);
    bool plain = loader.size() > 1 && loader.starts_with("/") && loader.find("/..") == std::string::npos &&
                 loader.find("//") == std::string::npos && !loader.ends_with("/");
    for (char c : loader)
      plain = plain && (std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '.' || c == '-' || c == '_');
    if (!plain) p.fail("loader", "'" + loader + "' must be an absolute path in the ESP, e.g. /EFI/BOOT/BOOTAA64.EFI");
    params.loader = loader;
    for (char& c : params.loader)
      if (c == '/') c = '\\';
  }
  if (p.has("description")) {
    params.description = p.text("description", 64);
    for (char c : params.description)
      if (c < 0x20 || c > 0x7e) p.fail("description", "must be printable ASCII");
  }
  p.finish();
  return params;
}

std::unique_ptr<FirmwareUpdater> make_efi_boot(const FirmwareParams& params, const fs::path& root) {
  fs::path dir = root / "sys/firmware/efi/efivars";
  return std::make_unique<EfiBootOrderUpdater>(std::get<EfiBootParams>(params),
                                               [dir] { return std::make_unique<EfivarfsVariables>(dir); });
}

const std::array<FirmwareMethod, 4> kMethods = {{
    {"none", false, false, parse_none, make_none},
    {"rpi-eeprom", false, false, parse_eeprom, make_eeprom},
    {"spi-nor", true, false, parse_spi_nor, make_spi_nor},
    {"efi-boot-order", false, true, parse_efi_boot, make_efi_boot},
}};

}  // namespace

const FirmwareMethod* find_firmware_method(std::string_view name) {
  for (const auto& m : kMethods) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

std::span<const FirmwareMethod> firmware_methods() { return kMethods; }

}  // namespace ironstone::boards
