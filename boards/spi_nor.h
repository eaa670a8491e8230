// Rock 5B (and other) bootloaders in SPI NOR flash, with the semantics of
// `flashcp`: compare, erase, write, read back, compare.
//
// update_spi_nor() re-hashes the payload (BLAKE2b-256), reads the first
// payload.size() bytes of the flash, and stops when their hash already matches
// (nothing erased or written). Otherwise it erases and writes only the erase
// blocks whose bytes differ (the tail of the last block, past the payload, ends
// erased to 0xFF, as with flashcp), then reads everything back and compares
// byte by byte; a difference is Errc::kVerify naming the device and offset.
// Bytes of the flash past the payload's last erase block are not touched.
//
// NorFlash is the device seam: MtdDevice (mtd.h) is the real MTD char device,
// SimulatedNor an in-memory NOR chip with injectable faults.
// Thread safety: one thread per device object.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "boards/firmware.h"
#include "boards/profile.h"

namespace ironstone::boards {

struct NorGeometry {
  std::uint64_t size = 0;        // bytes
  std::uint32_t erase_size = 0;  // bytes per erase block, > 0
};

class NorFlash {
 public:
  virtual ~NorFlash() = default;
  virtual std::string name() const = 0;  // for messages, e.g. "/dev/mtd0"
  virtual NorGeometry geometry() const = 0;
  // Preconditions (all three): the range lies inside the flash; erase ranges are block-aligned.
  virtual void read(std::uint64_t offset, std::span<std::uint8_t> out) = 0;
  virtual void erase(std::uint64_t offset, std::uint64_t length) = 0;
  virtual void write(std::uint64_t offset, std::span<const std::uint8_t> data) = 0;
};

// Errors: kHashMismatch, kTooLarge (payload larger than the flash), kDevice, kVerify.
FirmwareResult update_spi_nor(NorFlash& flash, const FirmwarePayload& payload);

// NOR semantics: erase sets a block to 0xFF, write can only clear bits (new = old & data).
class SimulatedNor : public NorFlash {
 public:
  struct Faults {
    std::optional<std::uint64_t> fail_write_at{};  // write() covering this offset throws Error(kDevice)
    std::optional<std::uint64_t> stuck_at{};     // this byte keeps its erased value 0xFF (read-back mismatch)
  };
  SimulatedNor(std::uint64_t size, std::uint32_t erase_size) : SimulatedNor(size, erase_size, Faults{}) {}
  SimulatedNor(std::uint64_t size, std::uint32_t erase_size, Faults faults);

  std::string name() const override { return "simulated-nor"; }
  NorGeometry geometry() const override { return {bytes_.size(), erase_size_}; }
  void read(std::uint64_t offset, std::span<std::uint8_t> out) override;
  void erase(std::uint64_t offset, std::uint64_t length) override;
  void write(std::uint64_t offset, std::span<const std::uint8_t> data) override;

  std::vector<std::uint8_t>& bytes() { return bytes_; }  // direct access for test setup
  int erases() const { return erases_; }                  // erase() calls
  int writes() const { return writes_; }                  // write() calls

 private:
  void check_range(std::uint64_t offset, std::uint64_t length, const char* what) const;
  std::vector<std::uint8_t> bytes_;
  std::uint32_t erase_size_;
  Faults faults_;
  int erases_ = 0;
  int writes_ = 0;
};

// Firmware method "spi-nor" (see firmware.h): opens the device at apply() time.
class SpiNorUpdater : public FirmwareUpdater {
 public:
  using Opener = std::function<std::unique_ptr<NorFlash>()>;
  explicit SpiNorUpdater(Opener open);
  std::string_view method() const override { return "spi-nor"; }
  FirmwareResult apply(const FirmwarePayload* payload, const WrittenDisk* written) override;  // payload required

 private:
  Opener open_;
};

}  // namespace ironstone::boards
