#include "boards/mtd.h"

#include <fcntl.h>
#include <mtd/mtd-user.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "boards/errc.h"

namespace ironstone::boards {

namespace {

std::string sys_error(int err) { return std::strerror(err); }

void check_range(const std::string& path, const NorGeometry& g, std::uint64_t offset, std::uint64_t length,
                 const char* what) {
  if (offset > g.size || length > g.size - offset) {
    throw error(Errc::kDevice, path + ": " + what + " at " + hex_offset(offset) + " + " + std::to_string(length) +
                                   " is outside the device (" + std::to_string(g.size) + " bytes)");
  }
}

}  // namespace

std::unique_ptr<MtdDevice> MtdDevice::open(const std::filesystem::path& path) {
  const std::string p = path.string();
  int fd = ::open(p.c_str(), O_RDWR | O_CLOEXEC | O_SYNC);
  if (fd < 0) throw error(Errc::kDevice, p + ": cannot open: " + sys_error(errno));
  auto fail = [&](Errc code, const std::string& message) {
    ::close(fd);
    return error(code, p + ": " + message);
  };
  struct stat st{};
  if (::fstat(fd, &st) != 0) throw fail(Errc::kDevice, "fstat: " + sys_error(errno));
  if (!S_ISCHR(st.st_mode)) throw fail(Errc::kNotMtd, "not an MTD device (not a character device)");
  mtd_info_user info{};
  if (::ioctl(fd, MEMGETINFO, &info) != 0) {
    throw fail(Errc::kNotMtd, "not an MTD device (MEMGETINFO: " + sys_error(errno) + ")");
  }
  if (info.type != MTD_NORFLASH && info.type != MTD_DATAFLASH) {
    throw fail(Errc::kNotMtd, "MTD type " + std::to_string(info.type) + " is not NOR flash");
  }
  if (!(info.flags & MTD_WRITEABLE)) throw fail(Errc::kDevice, "MTD device is read-only");
  if (info.erasesize == 0) throw fail(Errc::kDevice, "MTD erase size is 0");
  return std::unique_ptr<MtdDevice>(new MtdDevice(p, fd, NorGeometry{info.size, info.erasesize}));
}

MtdDevice::MtdDevice(std::string path, int fd, NorGeometry geometry)
    : path_(std::move(path)), fd_(fd), geometry_(geometry) {}

MtdDevice::~MtdDevice() { ::close(fd_); }

void MtdDevice::read(std::uint64_t offset, std::span<std::uint8_t> out) {
  check_range(path_, geometry_, offset, out.size(), "read");
  std::size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      throw error(Errc::kDevice, path_ + ": read at " + hex_offset(offset + done) + ": " +
                                     (n < 0 ? sys_error(errno) : std::string("unexpected end of device")));
    }
    done += static_cast<std::size_t>(n);
  }
}

void MtdDevice::erase(std::uint64_t offset, std::uint64_t length) {
  check_range(path_, geometry_, offset, length, "erase");
  if (offset % geometry_.erase_size || length % geometry_.erase_size) {
    throw error(Errc::kDevice, path_ + ": erase at " + hex_offset(offset) + " is not aligned to the erase size " +
                                   std::to_string(geometry_.erase_size));
  }
  // One block per ioctl: an error then names the failing block.
  for (std::uint64_t off = offset; off < offset + length; off += geometry_.erase_size) {
    erase_info_user e{static_cast<std::uint32_t>(off), geometry_.erase_size};
    if (::ioctl(fd_, MEMERASE, &e) != 0) {
      throw error(Errc::kDevice, path_ + ": erase at " + hex_offset(off) + ": " + sys_error(errno));
    }
  }
}

void MtdDevice::write(std::uint64_t offset, std::span<const std::uint8_t> data) {
  check_range(path_, geometry_, offset, data.size(), "write");
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pwrite(fd_, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      throw error(Errc::kDevice, path_ + ": write at " + hex_offset(offset + done) + ": " +
                                     (n < 0 ? sys_error(errno) : std::string("no progress")));
    }
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace ironstone::boards
