#include "boards/efi_vars.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <sys/ioctl.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "boards/errc.h"

namespace ironstone::boards {

namespace fs = std::filesystem;

namespace {

#ifndef EFIVARFS_MAGIC
#define EFIVARFS_MAGIC 0xde5e81e4
#endif

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

Error io_error(const fs::path& path, const std::string& what) {
  return error(Errc::kDevice, path.string() + ": " + what + ": " + std::strerror(errno));
}

// chattr -i: efivarfs marks variable files immutable; a file system without inode flags
// (ENOTTY, EOPNOTSUPP, EINVAL) has nothing to clear.
void make_mutable(int fd, const fs::path& path) {
  int flags = 0;
  if (::ioctl(fd, FS_IOC_GETFLAGS, &flags) != 0) {
    if (errno == ENOTTY || errno == EOPNOTSUPP || errno == EINVAL) return;
    throw io_error(path, "FS_IOC_GETFLAGS");
  }
  if (!(flags & FS_IMMUTABLE_FL)) return;
  flags &= ~FS_IMMUTABLE_FL;
  if (::ioctl(fd, FS_IOC_SETFLAGS, &flags) != 0) throw io_error(path, "clearing the immutable flag (chattr -i)");
}

}  // namespace

fs::path EfivarfsVariables::file(std::string_view name) const {
  return dir_ / (std::string(name) + "-" + std::string(kEfiGlobalGuid));
}

std::optional<EfiVariable> EfivarfsVariables::read(std::string_view name) {
  const fs::path path = file(name);
  Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (f.fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    throw io_error(path, "cannot open");
  }
  // efivarfs returns the whole variable to one read() of a large enough buffer.
  std::vector<std::uint8_t> buf(4 + kMaxEfiVariableBytes + 1);
  std::size_t got = 0;
  while (got < buf.size()) {
    ssize_t n = ::read(f.fd, buf.data() + got, buf.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw io_error(path, "read failed");
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  if (got > 4 + kMaxEfiVariableBytes)
    throw error(Errc::kTooLarge, path.string() + ": larger than " + std::to_string(kMaxEfiVariableBytes) + " bytes");
  if (got < 4)
    throw error(Errc::kParse, path.string() + ": " + std::to_string(got) + " bytes, shorter than the attribute word");
  EfiVariable v;
  v.attributes = std::uint32_t(buf[0]) | std::uint32_t(buf[1]) << 8 | std::uint32_t(buf[2]) << 16 |
                 std::uint32_t(buf[3]) << 24;
  v.data.assign(buf.begin() + 4, buf.begin() + static_cast<std::ptrdiff_t>(got));
  return v;
}

void EfivarfsVariables::write(std::string_view name, const EfiVariable& value) {
  const fs::path path = file(name);
  if (value.data.size() > kMaxEfiVariableBytes)
    throw error(Errc::kTooLarge, path.string() + ": " + std::to_string(value.data.size()) + " bytes to write");
  std::vector<std::uint8_t> buf(4 + value.data.size());
  for (int i = 0; i < 4; ++i) buf[i] = static_cast<std::uint8_t>(value.attributes >> (8 * i));
  std::copy(value.data.begin(), value.data.end(), buf.begin() + 4);
  Fd f{::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644)};
  if (f.fd < 0) throw io_error(path, "cannot open for writing (efivarfs mounted read-only?)");
  make_mutable(f.fd, path);
  // One write() is one SetVariable: never split it.
  ssize_t n = ::write(f.fd, buf.data(), buf.size());
  if (n < 0) throw io_error(path, "SetVariable (write) failed");
  if (static_cast<std::size_t>(n) != buf.size())
    throw error(Errc::kDevice, path.string() + ": short write of " + std::to_string(n) + " of " +
                                   std::to_string(buf.size()) + " bytes");
  struct statfs sfs {};
  if (::fstatfs(f.fd, &sfs) == 0 && static_cast<unsigned long>(sfs.f_type) != EFIVARFS_MAGIC &&
      ::ftruncate(f.fd, static_cast<off_t>(buf.size())) != 0)
    throw io_error(path, "truncate failed");
  int fd = f.fd;
  f.fd = -1;
  if (::close(fd) != 0) throw io_error(path, "close failed");
}

std::vector<std::string> EfivarfsVariables::names() {
  std::vector<std::string> out;
  const std::string suffix = "-" + std::string(kEfiGlobalGuid);
  std::error_code ec;
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    std::string n = it->path().filename().string();
    if (n.size() > suffix.size() && n.ends_with(suffix)) out.push_back(n.substr(0, n.size() - suffix.size()));
    if (out.size() > kMaxEfiVariables)
      throw error(Errc::kTooLarge, dir_.string() + ": more than " + std::to_string(kMaxEfiVariables) + " variables");
  }
  if (ec) throw error(Errc::kDevice, dir_.string() + ": cannot list: " + ec.message());
  return out;
}

}  // namespace ironstone::boards
