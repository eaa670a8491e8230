// Raspberry Pi 5 bootloader EEPROM: boot NVMe first with the SD card as fallback.
//
// update_eeprom() reads the current bootloader configuration, and only when
// BOOT_ORDER (and PCIE_PROBE=1, when the profile asks for it) are not already
// right, writes a configuration that changes just those keys (every other line,
// comment and [section] kept), then reads the configuration back and checks it.
// With a release-provided EEPROM image (payload), the image is re-hashed first
// and used as the base of the write; without one, the image installed with
// rpi-eeprom is used. The skip decision looks at the configuration only.
//
// EepromTool is the device seam: RealEepromTool shells out to the standard
// tools, SimulatedEeprom is an in-memory bootloader for tests.
// Thread safety: one thread per tool object.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "boards/firmware.h"
#include "boards/profile.h"

namespace ironstone::boards {

class EepromTool {
 public:
  virtual ~EepromTool() = default;
  // The configuration the bootloader currently holds (rpi-eeprom-config output).
  virtual std::string read_config() = 0;
  // Writes `config` into the EEPROM, on top of `image` (a pieeprom.bin) when it
  // is non-empty, else on top of the image installed with rpi-eeprom.
  virtual void write(const std::string& config, std::span<const std::uint8_t> image) = 0;
  // The configuration the EEPROM holds after write(): what the next boot uses.
  virtual std::string read_back() = 0;
};

// Checks/updates the EEPROM; see the file comment. Errors: kHashMismatch (payload),
// kParse (config text), kCommand/kDevice (from the tool), kVerify (read-back).
FirmwareResult update_eeprom(EepromTool& tool, const EepromParams& params, const FirmwarePayload* payload);

struct RealEepromOptions {
  std::filesystem::path bootfs = "/boot/firmware";  // where a staged update (pieeprom.upd) lands
  std::string spi_programmer = "linux_spi:dev=/dev/spidev10.0,spispeed=16000";  // flashrom -p, Pi 5
  std::filesystem::path work_dir = "/tmp";          // temporary files (config, images)
};

// read_config: `rpi-eeprom-config`.
// write: `rpi-eeprom-config --apply FILE`, or with an image:
//        `rpi-eeprom-config --config FILE --out NEW pieeprom.bin` + `rpi-eeprom-update -d -f NEW`.
// read_back: `rpi-eeprom-config <bootfs>/pieeprom.upd` when an update is staged for the
//        next boot, else the EEPROM read with `flashrom -p <spi_programmer> -r TMP` then
//        `rpi-eeprom-config TMP` (updates applied immediately with flashrom).
class RealEepromTool : public EepromTool {
 public:
  explicit RealEepromTool(RealEepromOptions options = {});
  std::string read_config() override;
  void write(const std::string& config, std::span<const std::uint8_t> image) override;
  std::string read_back() override;

 private:
  RealEepromOptions options_;
};

// In-memory bootloader: write() replaces the configuration (and remembers the
// image); faults make write() fail or make it silently not take effect.
class SimulatedEeprom : public EepromTool {
 public:
  struct Faults {
    bool fail_write = false;  // write() throws Error(kCommand)
    bool lose_write = false;  // write() "succeeds" but the EEPROM keeps its old config
  };
  explicit SimulatedEeprom(std::string config) : SimulatedEeprom(std::move(config), Faults{}) {}
  SimulatedEeprom(std::string config, Faults faults);
  std::string read_config() override;
  void write(const std::string& config, std::span<const std::uint8_t> image) override;
  std::string read_back() override;

  const std::string& config() const { return config_; }
  int writes() const { return writes_; }
  const std::vector<std::uint8_t>& last_image() const { return last_image_; }

 private:
  std::string config_;
  Faults faults_;
  int writes_ = 0;
  std::vector<std::uint8_t> last_image_;
};

// Firmware method "rpi-eeprom" (see firmware.h).
class EepromUpdater : public FirmwareUpdater {
 public:
  EepromUpdater(EepromParams params, std::unique_ptr<EepromTool> tool);
  std::string_view method() const override { return "rpi-eeprom"; }
  FirmwareResult apply(const FirmwarePayload* payload, const WrittenDisk* written) override;

 private:
  EepromParams params_;
  std::unique_ptr<EepromTool> tool_;
};

}  // namespace ironstone::boards
