#include "boards/firmware.h"

#include <array>
#include <cctype>

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
  FirmwareResult apply(const FirmwarePayload*) override { return {FirmwareOutcome::kNotNeeded, "no firmware step"}; }
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

const std::array<FirmwareMethod, 3> kMethods = {{
    {"none", false, parse_none, make_none},
    {"rpi-eeprom", false, parse_eeprom, make_eeprom},
    {"spi-nor", true, parse_spi_nor, make_spi_nor},
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
