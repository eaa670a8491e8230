// open_target(): the real Target for a block device or a regular file (see target.h).
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "flasher/fd_target.h"

namespace ironstone::flasher {
namespace fs = std::filesystem;
namespace {

std::string errno_text(int err) { return std::error_code(err, std::system_category()).message(); }

// "8388608 bytes (8.0 MiB)"
std::string human(std::uint64_t bytes) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%llu bytes (%.1f MiB)", static_cast<unsigned long long>(bytes),
                static_cast<double>(bytes) / (1024.0 * 1024.0));
  return buf;
}

class Fd {  // closes on scope exit unless released
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { if (fd_ >= 0) ::close(fd_); }
  int get() const { return fd_; }
  int release() { int f = fd_; fd_ = -1; return f; }
 private:
  int fd_;
};

std::string sysfs_name(const fs::path& path, dev_t dev, const fs::path& sys_root) {
  std::error_code ec;
  fs::path link = sys_root / "dev" / "block" / (std::to_string(major(dev)) + ":" + std::to_string(minor(dev)));
  fs::path target = fs::read_symlink(link, ec);
  if (!ec) return target.filename().string();
  fs::path canonical = fs::canonical(path, ec);
  return (ec ? path : canonical).filename().string();
}

std::unique_ptr<Target> open_block(const fs::path& path, const struct stat& st, const TargetOptions& options) {
  const std::string p = path.string();
  auto users = block_device_users(sysfs_name(path, st.st_rdev, options.sys_root), st.st_rdev,
                                  options.proc_root, options.sys_root);
  if (!users.empty()) {
    std::string list;
    for (const auto& u : users) list += (list.empty() ? "" : "; ") + u;
    throw error(Errc::kMounted, p + ": refusing to write a device in use: " + list);
  }

  Fd ro(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (ro.get() < 0) throw error(Errc::kBadTarget, p + ": open: " + errno_text(errno));
  int read_only = 0;
  if (::ioctl(ro.get(), BLKROGET, &read_only) == 0 && read_only) {
    throw error(Errc::kReadOnly, p + ": device is read-only (BLKROGET)");
  }
  std::uint64_t size = 0;
  if (::ioctl(ro.get(), BLKGETSIZE64, &size) != 0) {
    throw error(Errc::kBadTarget, p + ": BLKGETSIZE64: " + errno_text(errno));
  }
  if (size < options.image_size) {
    throw error(Errc::kTooSmall, p + ": device holds " + human(size) + ", the image needs " +
                                     human(options.image_size));
  }
  int logical_block = 512;
  if (::ioctl(ro.get(), BLKSSZGET, &logical_block) != 0) logical_block = 512;

  // O_EXCL on a block device: fails with EBUSY while anyone (a mount, md, dm) claims it,
  // and keeps others from claiming it while we write.
  int fd = ::open(path.c_str(), O_RDWR | O_EXCL | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == EBUSY) throw error(Errc::kMounted, p + ": device is in use (exclusive open: " + errno_text(err) + ")");
    if (err == EROFS || err == EACCES || err == EPERM) {
      throw error(Errc::kReadOnly, p + ": cannot open for writing: " + errno_text(err));
    }
    throw error(Errc::kBadTarget, p + ": open for writing: " + errno_text(err));
  }
  return std::make_unique<FdTarget>(fd, p, FdTarget::Kind::kBlockDevice, size,
                                    static_cast<std::uint32_t>(logical_block));
}

std::unique_ptr<Target> open_file(const fs::path& path, const TargetOptions& options) {
  const std::string p = path.string();
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    int err = errno;
    if (err == EROFS || err == EACCES || err == EPERM || err == ETXTBSY) {
      throw error(Errc::kReadOnly, p + ": cannot open for writing: " + errno_text(err));
    }
    throw error(Errc::kBadTarget, p + ": open: " + errno_text(err));
  }
  Fd guard(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw error(Errc::kBadTarget, p + ": fstat: " + errno_text(errno));
  if (!S_ISREG(st.st_mode)) throw error(Errc::kBadTarget, p + ": not a regular file or block device");
  // root may open a mode 0444 file for writing; a read-only file is still refused.
  if ((st.st_mode & (S_IWUSR | S_IWGRP | S_IWOTH)) == 0) {
    char mode[16];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    throw error(Errc::kReadOnly, p + ": file is read-only (mode " + mode + ")");
  }
  if (static_cast<std::uint64_t>(st.st_size) != options.image_size &&
      ::ftruncate(fd, static_cast<off_t>(options.image_size)) != 0) {
    int err = errno;
    throw error(err == EROFS ? Errc::kReadOnly : Errc::kIo,
                p + ": resize to " + human(options.image_size) + ": " + errno_text(err));
  }
  return std::make_unique<FdTarget>(guard.release(), p, FdTarget::Kind::kFile, options.image_size, 0);
}

}  // namespace

std::unique_ptr<Target> open_target(const fs::path& path, const TargetOptions& options) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    int err = errno;
    if (err == ENOENT) return open_file(path, options);
    throw error(Errc::kBadTarget, path.string() + ": stat: " + errno_text(err));
  }
  if (S_ISBLK(st.st_mode)) return open_block(path, st, options);
  if (S_ISREG(st.st_mode)) return open_file(path, options);
  throw error(Errc::kBadTarget, path.string() + ": not a block device or regular file");
}

}  // namespace ironstone::flasher
