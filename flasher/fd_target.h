// FdTarget: the Target over a file descriptor, shared by block devices and regular
// files (internal to the flasher library; open_target() in target.h creates it).
// Contracts as in target.h: pread/pwrite based, safe for concurrent non-overlapping I/O.
#pragma once

#include <atomic>
#include <string>

#include "flasher/target.h"

namespace ironstone::flasher {

class FdTarget final : public Target {
 public:
  enum class Kind { kBlockDevice, kFile };

  // Takes ownership of fd (closed by the destructor). logical_block is the device's
  // logical block size (BLKSSZGET), used to align BLKZEROOUT; ignored for files.
  FdTarget(int fd, std::string path, Kind kind, std::uint64_t size, std::uint32_t logical_block);
  ~FdTarget() override;
  FdTarget(const FdTarget&) = delete;
  FdTarget& operator=(const FdTarget&) = delete;

  std::uint64_t size() const override { return size_; }
  void read_at(std::uint64_t offset, std::span<std::uint8_t> out) override;
  void write_at(std::uint64_t offset, std::span<const std::uint8_t> data) override;
  void zero_range(std::uint64_t offset, std::uint64_t length) override;
  void flush() override;
  bool known_zero(std::uint64_t offset, std::uint64_t length) override;
  std::string description() const override;

 private:
  void check_range(const char* op, std::uint64_t offset, std::uint64_t length) const;
  void write_zeros(std::uint64_t offset, std::uint64_t length);
  void zero_block(std::uint64_t offset, std::uint64_t length);
  void zero_file(std::uint64_t offset, std::uint64_t length);

  int fd_;
  std::string path_;
  Kind kind_;
  std::uint64_t size_;
  std::uint32_t logical_block_;
  // Cleared once the kernel says the fast path is unsupported; then zeros are written.
  std::atomic<bool> fast_zero_{true};
};

}  // namespace ironstone::flasher
