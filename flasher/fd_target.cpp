#include "flasher/fd_target.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>
#include <vector>

namespace ironstone::flasher {
namespace {
constexpr std::size_t kMaxIo = std::size_t{1} << 30;     // one syscall moves at most 1 GiB
constexpr std::size_t kZeroBuffer = std::size_t{1} << 20;  // zeros written per call in the fallback

Errc code_for(int err) { return err == EROFS || err == EPERM ? Errc::kReadOnly : Errc::kIo; }
bool unsupported(int err) { return err == EOPNOTSUPP || err == ENOTTY || err == EINVAL || err == ENOSYS; }
}  // namespace

Error io_error(Errc code, const std::string& target, const char* op, std::uint64_t offset, int err) {
  return error(code, target + ": " + op + " @ " + hex_offset(offset) + ": " +
                         std::error_code(err, std::system_category()).message());
}

FdTarget::FdTarget(int fd, std::string path, Kind kind, std::uint64_t size, std::uint32_t logical_block)
    : fd_(fd), path_(std::move(path)), kind_(kind), size_(size),
      logical_block_(logical_block == 0 ? 512 : logical_block) {}

FdTarget::~FdTarget() { ::close(fd_); }

void FdTarget::check_range(const char* op, std::uint64_t offset, std::uint64_t length) const {
  if (offset > size_ || length > size_ - offset) {
    throw error(Errc::kOutOfRange, path_ + ": " + op + " @ " + hex_offset(offset) + ": " +
                                       std::to_string(length) + " bytes reach beyond the end (" +
                                       std::to_string(size_) + " bytes)");
  }
}

void FdTarget::read_at(std::uint64_t offset, std::span<std::uint8_t> out) {
  check_range("read", offset, out.size());
  std::size_t done = 0;
  while (done < out.size()) {
    std::size_t n = std::min(out.size() - done, kMaxIo);
    ssize_t r = ::pread(fd_, out.data() + done, n, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      throw io_error(Errc::kIo, path_, "read", offset + done, errno);
    }
    if (r == 0) {
      throw error(Errc::kIo, path_ + ": read @ " + hex_offset(offset + done) + ": unexpected end of data");
    }
    done += static_cast<std::size_t>(r);
  }
}

void FdTarget::write_at(std::uint64_t offset, std::span<const std::uint8_t> data) {
  check_range("write", offset, data.size());
  std::size_t done = 0;
  while (done < data.size()) {
    std::size_t n = std::min(data.size() - done, kMaxIo);
    ssize_t r = ::pwrite(fd_, data.data() + done, n, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      throw io_error(code_for(errno), path_, "write", offset + done, errno);
    }
    if (r == 0) throw io_error(Errc::kIo, path_, "write", offset + done, ENOSPC);
    done += static_cast<std::size_t>(r);
  }
}

void FdTarget::write_zeros(std::uint64_t offset, std::uint64_t length) {
  std::vector<std::uint8_t> zeros(static_cast<std::size_t>(std::min<std::uint64_t>(length, kZeroBuffer)));
  while (length > 0) {
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(length, zeros.size()));
    write_at(offset, std::span(zeros.data(), n));
    offset += n;
    length -= n;
  }
}

void FdTarget::zero_block(std::uint64_t offset, std::uint64_t length) {
  // BLKZEROOUT needs logical-block alignment: write the unaligned head and tail by hand.
  std::uint64_t lb = logical_block_;
  std::uint64_t begin = (offset + lb - 1) / lb * lb;
  std::uint64_t end = (offset + length) / lb * lb;
  if (begin >= end || !fast_zero_.load()) return write_zeros(offset, length);
  if (begin > offset) write_zeros(offset, begin - offset);
  std::uint64_t range[2] = {begin, end - begin};
  if (::ioctl(fd_, BLKZEROOUT, range) != 0) {
    int err = errno;
    if (!unsupported(err)) throw io_error(code_for(err), path_, "zero (BLKZEROOUT)", begin, err);
    fast_zero_ = false;
    write_zeros(begin, end - begin);
  }
  if (offset + length > end) write_zeros(end, offset + length - end);
}

void FdTarget::zero_file(std::uint64_t offset, std::uint64_t length) {
  if (fast_zero_.load()) {
    int r;
    do {
      r = ::fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
                      static_cast<off_t>(length));
    } while (r != 0 && errno == EINTR);
    if (r == 0) return;
    int err = errno;
    if (!unsupported(err)) throw io_error(code_for(err), path_, "zero (punch hole)", offset, err);
    fast_zero_ = false;
  }
  write_zeros(offset, length);
}

void FdTarget::zero_range(std::uint64_t offset, std::uint64_t length) {
  check_range("zero", offset, length);
  if (length == 0) return;
  if (kind_ == Kind::kBlockDevice) {
    zero_block(offset, length);
  } else {
    zero_file(offset, length);
  }
}

void FdTarget::flush() {
  if (::fdatasync(fd_) != 0) {
    throw error(Errc::kIo, path_ + ": flush (fdatasync): " + std::error_code(errno, std::system_category()).message());
  }
}

bool FdTarget::known_zero(std::uint64_t offset, std::uint64_t length) {
  // Only files have holes; lseek(SEEK_DATA) returns the next data offset and leaves
  // nothing behind that matters (all I/O here is pread/pwrite with explicit offsets).
  if (kind_ != Kind::kFile || length == 0 || offset > size_ || length > size_ - offset) return false;
  const off_t data = ::lseek(fd_, static_cast<off_t>(offset), SEEK_DATA);
  if (data < 0) return errno == ENXIO;  // no data at or after offset
  return static_cast<std::uint64_t>(data) >= offset + length;
}

std::string FdTarget::description() const {
  return path_ + (kind_ == Kind::kBlockDevice ? " (block device, " : " (file, ") + std::to_string(size_) + " bytes)";
}

}  // namespace ironstone::flasher
