#include "boards/spi_nor.h"

#include <algorithm>
#include <cstdio>

#include <spdlog/spdlog.h>

#include "boards/errc.h"

namespace ironstone::boards {

FirmwareResult update_spi_nor(NorFlash& flash, const FirmwarePayload& payload) {
  const std::string dev = flash.name();
  check_payload(payload, dev);
  const NorGeometry g = flash.geometry();
  const std::uint64_t n = payload.bytes.size();
  if (n == 0) throw error(Errc::kUnsupported, dev + ": " + payload.name + ": empty bootloader image");
  if (g.erase_size == 0) throw error(Errc::kDevice, dev + ": erase size is 0");
  if (n > g.size) {
    throw error(Errc::kTooLarge, dev + ": " + payload.name + " is " + std::to_string(n) +
                                     " bytes, larger than the flash (" + std::to_string(g.size) + " bytes)");
  }
  const std::uint64_t blocks = (n + g.erase_size - 1) / g.erase_size;
  if (blocks * g.erase_size > g.size) {
    throw error(Errc::kTooLarge, dev + ": " + payload.name + ": its last erase block ends past the end of the flash");
  }

  std::vector<std::uint8_t> current(n);
  flash.read(0, current);
  if (blake2b256(current) == payload.hash) {
    spdlog::info("spi-nor: {} already holds {} ({})", dev, payload.name, payload.hash.hex());
    return {FirmwareOutcome::kAlreadyCurrent, dev + " already holds " + payload.name};
  }

  std::uint64_t rewritten = 0;
  for (std::uint64_t b = 0; b < blocks; ++b) {
    const std::uint64_t off = b * g.erase_size;
    const std::uint64_t len = std::min<std::uint64_t>(g.erase_size, n - off);
    auto want = payload.bytes.subspan(off, len);
    if (std::equal(want.begin(), want.end(), current.begin() + static_cast<std::ptrdiff_t>(off))) continue;
    flash.erase(off, g.erase_size);
    flash.write(off, want);
    ++rewritten;
  }

  std::vector<std::uint8_t> back(n);
  flash.read(0, back);
  auto [mine, theirs] = std::mismatch(back.begin(), back.end(), payload.bytes.begin());
  if (mine != back.end()) {
    const auto off = static_cast<std::uint64_t>(mine - back.begin());
    char detail[64];
    std::snprintf(detail, sizeof detail, "read 0x%02X, wrote 0x%02X", *mine, *theirs);
    throw error(Errc::kVerify, dev + ": read-back mismatch at " + hex_offset(off) + " after writing " +
                                   payload.name + " (" + detail + ")");
  }
  spdlog::info("spi-nor: wrote {} to {} ({} of {} erase blocks rewritten), read back OK", payload.name, dev,
               rewritten, blocks);
  return {FirmwareOutcome::kUpdated, "wrote " + payload.name + " to " + dev + " (" + std::to_string(rewritten) +
                                         " of " + std::to_string(blocks) + " erase blocks)"};
}

SimulatedNor::SimulatedNor(std::uint64_t size, std::uint32_t erase_size, Faults faults)
    : bytes_(size, 0xFF), erase_size_(erase_size), faults_(faults) {}

void SimulatedNor::check_range(std::uint64_t offset, std::uint64_t length, const char* what) const {
  if (offset > bytes_.size() || length > bytes_.size() - offset) {
    throw error(Errc::kDevice, "simulated-nor: " + std::string(what) + " at " + hex_offset(offset) + " + " +
                                   std::to_string(length) + " is outside the flash");
  }
}

void SimulatedNor::read(std::uint64_t offset, std::span<std::uint8_t> out) {
  check_range(offset, out.size(), "read");
  std::copy_n(bytes_.begin() + static_cast<std::ptrdiff_t>(offset), out.size(), out.begin());
}

void SimulatedNor::erase(std::uint64_t offset, std::uint64_t length) {
  check_range(offset, length, "erase");
  if (offset % erase_size_ || length % erase_size_) {
    throw error(Errc::kDevice, "simulated-nor: erase at " + hex_offset(offset) + " is not block-aligned");
  }
  ++erases_;
  std::fill_n(bytes_.begin() + static_cast<std::ptrdiff_t>(offset), length, 0xFF);
}

void SimulatedNor::write(std::uint64_t offset, std::span<const std::uint8_t> data) {
  check_range(offset, data.size(), "write");
  ++writes_;
  if (faults_.fail_write_at && *faults_.fail_write_at >= offset && *faults_.fail_write_at - offset < data.size()) {
    throw error(Errc::kDevice, "simulated-nor: write failed at " + hex_offset(*faults_.fail_write_at));
  }
  for (std::size_t i = 0; i < data.size(); ++i) {
    if (faults_.stuck_at == offset + i) continue;
    bytes_[offset + i] &= data[i];  // NOR: programming only clears bits
  }
}

SpiNorUpdater::SpiNorUpdater(Opener open) : open_(std::move(open)) {}

FirmwareResult SpiNorUpdater::apply(const FirmwarePayload* payload, const WrittenDisk*) {
  if (!payload) throw error(Errc::kUnsupported, "spi-nor: the release carries no bootloader image (kind spi-nor)");
  std::unique_ptr<NorFlash> flash = open_();
  return update_spi_nor(*flash, *payload);
}

}  // namespace ironstone::boards
