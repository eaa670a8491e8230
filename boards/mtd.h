// The real SPI NOR: a Linux MTD character device (/dev/mtdN).
//
// open() checks that the path is an MTD device (a character device answering
// MEMGETINFO) and that it is writable; anything else, e.g. a regular file or a
// block device, is Error(kNotMtd) "<path>: not an MTD device (...)". Erase uses
// MEMERASE, read/write use pread/pwrite (short transfers and EINTR retried).
// Errors name the device and the offset (hex).
// Ownership: the object owns the file descriptor. Thread safety: one thread.
#pragma once

#include <filesystem>
#include <memory>

#include "boards/spi_nor.h"

namespace ironstone::boards {

class MtdDevice : public NorFlash {
 public:
  static std::unique_ptr<MtdDevice> open(const std::filesystem::path& path);
  ~MtdDevice() override;
  MtdDevice(const MtdDevice&) = delete;
  MtdDevice& operator=(const MtdDevice&) = delete;

  std::string name() const override { return path_; }
  NorGeometry geometry() const override { return geometry_; }
  void read(std::uint64_t offset, std::span<std::uint8_t> out) override;
  void erase(std::uint64_t offset, std::uint64_t length) override;
  void write(std::uint64_t offset, std::span<const std::uint8_t> data) override;

 private:
  MtdDevice(std::string path, int fd, NorGeometry geometry);
  std::string path_;
  int fd_;
  NorGeometry geometry_;
};

}  // namespace ironstone::boards
