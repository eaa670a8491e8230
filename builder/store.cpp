#include "builder/store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "builder/errc.h"
#include "manifest/layout.h"

namespace ironstone::builder {

namespace fs = std::filesystem;

static Error store_error(const fs::path& path, const std::string& what) {
  return error(Errc::kStore, path.string() + ": " + what + ": " + std::strerror(errno));
}

StoreLock::StoreLock(const fs::path& store) {
  fs::path lock = store / ".lock";
  fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw store_error(lock, "cannot open lock file");
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(fd_);
    fd_ = -1;
    if (err == EWOULDBLOCK)
      throw error(Errc::kBusy, store.string() + ": store is being written by another publisher (" + lock.string() +
                                   " is locked); try again when it has finished");
    errno = err;
    throw store_error(lock, "cannot lock");
  }
}

StoreLock::~StoreLock() {
  if (fd_ >= 0) ::close(fd_);
}

void Store::create_layout() const {
  for (const char* sub : {"releases", "chunks", "channels", "keys"}) {
    std::error_code ec;
    fs::create_directories(root_ / sub, ec);
    if (ec) throw error(Errc::kStore, (root_ / sub).string() + ": cannot create: " + ec.message());
  }
}

std::vector<ReleaseRef> Store::releases() const {
  std::vector<ReleaseRef> out;
  std::error_code ec;
  fs::path base = root_ / "releases";
  if (!fs::is_directory(base, ec)) return out;
  for (const auto& board : fs::directory_iterator(base, ec)) {
    std::string b = board.path().filename().string();
    if (!board.is_directory() || !manifest::valid_board_name(b)) continue;
    for (const auto& ver : fs::directory_iterator(board.path(), ec)) {
      std::string v = ver.path().filename().string();
      if (!ver.is_directory() || !manifest::valid_version_name(v)) continue;  // skips ".tmp-*"
      out.push_back({b, v, ver.path()});
    }
  }
  std::sort(out.begin(), out.end(),
            [](const ReleaseRef& a, const ReleaseRef& b) { return std::tie(a.board, a.version) < std::tie(b.board, b.version); });
  return out;
}

manifest::Manifest Store::read_manifest(const ReleaseRef& r) const {
  fs::path p = r.dir / manifest::layout::kManifestFile;
  return manifest::parse_manifest(read_text_file(p, manifest::kMaxManifestBytes), p.string());
}

std::optional<std::uint64_t> Store::highest_sequence(const std::string& board, const std::string& channel) const {
  std::optional<std::uint64_t> best;
  for (const auto& r : releases()) {
    if (r.board != board) continue;
    manifest::Manifest m = read_manifest(r);
    if (m.channel == channel && (!best || m.sequence > *best)) best = m.sequence;
  }
  return best;
}

std::vector<manifest::PublicKey> Store::trusted_keys() const {
  std::vector<manifest::PublicKey> keys;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root_ / "keys", ec)) {
    if (e.path().extension() != ".pub") continue;
    keys.push_back(manifest::parse_public_key(read_text_file(e.path(), 4096), e.path().string()));
  }
  return keys;
}

static void write_all(int fd, const std::uint8_t* data, std::size_t size, const fs::path& path) {
  std::size_t done = 0;
  while (done < size) {
    ssize_t n = ::write(fd, data + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw store_error(path, "write @ " + hex_offset(done));
    done += static_cast<std::size_t>(n);
  }
}

void write_file_atomic(const fs::path& path, std::span<const std::uint8_t> data, unsigned mode, FileSync sync) {
  fs::path tmp = path;
  tmp += ".tmp-" + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) throw store_error(tmp, "cannot create");
  try {
    write_all(fd, data.data(), data.size(), tmp);
    if (sync == FileSync::kFsync && ::fsync(fd) != 0) throw store_error(tmp, "fsync");
    if (sync == FileSync::kStartWriteback && ::sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE) != 0)
      throw store_error(tmp, "start writeback");
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Error e = store_error(path, "rename");
    ::unlink(tmp.c_str());
    throw e;
  }
}

void write_file_atomic(const fs::path& path, std::string_view text, unsigned mode, FileSync sync) {
  write_file_atomic(path, std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()), mode, sync);
}

void sync_store(const fs::path& store) {
  int fd = ::open(store.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw store_error(store, "cannot open to sync");
  if (::syncfs(fd) != 0) {
    Error e = store_error(store, "sync");
    ::close(fd);
    throw e;
  }
  ::close(fd);
}

void write_file_exclusive(const fs::path& path, std::string_view text, unsigned mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0 && errno == EEXIST) throw error(Errc::kExists, path.string() + ": already exists, not overwriting");
  if (fd < 0) throw store_error(path, "cannot create");
  try {
    write_all(fd, reinterpret_cast<const std::uint8_t*>(text.data()), text.size(), path);
    if (::fchmod(fd, mode) != 0 || ::fsync(fd) != 0) throw store_error(path, "fsync");
  } catch (...) {
    ::close(fd);
    ::unlink(path.c_str());
    throw;
  }
  ::close(fd);
}

std::string read_text_file(const fs::path& path, std::size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw store_error(path, "cannot read");
  std::string out;
  out.resize(max_bytes + 1);
  in.read(out.data(), static_cast<std::streamsize>(out.size()));
  out.resize(static_cast<std::size_t>(in.gcount()));
  if (out.size() > max_bytes)
    throw error(Errc::kStore, path.string() + ": larger than " + std::to_string(max_bytes) + " bytes");
  return out;
}

void fsync_dir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace ironstone::builder
