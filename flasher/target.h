// The flash target: the disk (or image file) the flasher writes.
//
// Target is the interface the flasher's run and the scanner use; there are two
// implementations side by side:
//   - open_target(): a real block device (e.g. /dev/nvme0n1) or a regular file;
//   - MemoryTarget: bytes in memory, with injectable I/O errors, for tests
//     (tests/flasher/memory_target.h: the fake lives with the tests).
//
// Errors: every failure throws ironstone::Error (flasher::Errc) naming the
// target, the operation, the offset (hex) and the errno text, e.g.
//   "/dev/nvme0n1: write @ 0x1CA00000: Input/output error".
//
// Thread safety: read_at(), write_at() and zero_range() may be called from
// several threads at once on non-overlapping ranges (they use pread/pwrite);
// flush() may run concurrently with them. size() and description() are const
// and immutable after opening. A Target is owned by one object (unique_ptr);
// destroying it closes the device without flushing — call flush() first.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <sys/types.h>
#include <vector>

#include "flasher/errc.h"

namespace ironstone::flasher {

class Target {
 public:
  virtual ~Target() = default;

  // Bytes addressable on the target: the device's capacity, or the image size of a file.
  virtual std::uint64_t size() const = 0;
  // Reads exactly out.size() bytes at offset. Precondition: offset + out.size() <= size()
  // (otherwise Errc::kOutOfRange).
  virtual void read_at(std::uint64_t offset, std::span<std::uint8_t> out) = 0;
  // Writes all of data at offset (full-write loop, EINTR retried). Same range precondition.
  virtual void write_at(std::uint64_t offset, std::span<const std::uint8_t> data) = 0;
  // Makes [offset, offset + length) read as zeros: BLKZEROOUT on block devices, a punched
  // hole on files, writing zeros where neither works. Never leaves stale data.
  virtual void zero_range(std::uint64_t offset, std::uint64_t length) = 0;
  // Makes everything written so far durable (fdatasync).
  virtual void flush() = 0;
  // True when [offset, offset + length) is known to read as zeros without reading it
  // (a hole of a sparse file: SEEK_DATA finds no data there). False means "unknown,
  // read it". Never throws; a false answer is always safe.
  virtual bool known_zero(std::uint64_t offset, std::uint64_t length) { return false; }
  // "/dev/nvme0n1 (block device, 512110190592 bytes)": for logs and messages.
  virtual std::string description() const = 0;
};

struct TargetOptions {
  // Bytes the image needs. A block device smaller than this is refused (kTooSmall);
  // a regular file is created if absent and resized (ftruncate) to exactly this size.
  std::uint64_t image_size = 0;
  // Roots of procfs and sysfs, replaceable by tests (mount detection reads
  // <proc_root>/self/mountinfo, <proc_root>/swaps and <sys_root>/class/block/...).
  std::filesystem::path proc_root = "/proc";
  std::filesystem::path sys_root = "/sys";
};

// Opens path for writing. Block device: refused when it, any partition of it or any
// holder (device-mapper, md, ...) is mounted or used as swap (kMounted), when it is
// read-only (kReadOnly), or smaller than options.image_size (kTooSmall, naming both
// sizes); opened O_EXCL so nobody else can claim it while flashing. Regular file:
// created when absent, refused when read-only, resized to options.image_size.
// Anything else (directory, character device) is kBadTarget.
std::unique_ptr<Target> open_target(const std::filesystem::path& path, const TargetOptions& options);

// Mount detection, exposed for tests and for the flasher's own diagnostics.
// Returns one line per use of the block device `name` (sysfs name, e.g. "nvme0n1",
// whose device number is `dev`) or of its partitions and holders, e.g.
// "nvme0n1p2 (259:2) mounted at /boot" or "dm-0 (253:0) used as swap"; empty when unused.
std::vector<std::string> block_device_users(const std::string& name, dev_t dev,
                                            const std::filesystem::path& proc_root,
                                            const std::filesystem::path& sys_root);

// "/dev/sda: write @ 0x1000: Input/output error" — the message format used by all targets.
Error io_error(Errc code, const std::string& target, const char* op, std::uint64_t offset, int err);

}  // namespace ironstone::flasher
