// Moving a verified, complete upload into the store (seeder/upload.h, "Staging").
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <vector>

#include "api/limits.h"
#include "manifest/channel.h"
#include "manifest/layout.h"
#include "seeder/errc.h"
#include "seeder/upload_staging.h"
#include "util/file.h"

namespace ironstone::seeder {

namespace fs = std::filesystem;

namespace {

Error store_error(const fs::path& path, const std::string& what) {
  return error(Errc::kStore, path.string() + ": " + what + ": " + std::strerror(errno));
}

// The store's .lock, as publish and gc take it (builder/store.h StoreLock).
class StoreFlock {
 public:
  explicit StoreFlock(const fs::path& store) {
    const fs::path lock = store / ".lock";
    fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0664);
    if (fd_ < 0) throw store_error(lock, "cannot open the lock file");
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      ::close(fd_);
      if (err == EWOULDBLOCK)
        throw error(Errc::kBusy, lock.string() + " is locked by another writer (publish or gc); try again");
      errno = err;
      throw store_error(lock, "cannot lock");
    }
  }
  ~StoreFlock() { ::close(fd_); }
  StoreFlock(const StoreFlock&) = delete;
  StoreFlock& operator=(const StoreFlock&) = delete;

 private:
  int fd_ = -1;
};

void sync_dir_or_fs(const fs::path& path, bool whole_fs) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw store_error(path, "cannot open");
  const int rc = whole_fs ? ::syncfs(fd) : ::fsync(fd);
  const int err = errno;
  ::close(fd);
  errno = err;
  if (rc != 0) throw store_error(path, whole_fs ? "syncfs" : "fsync");
}

void rename_or_throw(const fs::path& from, const fs::path& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) throw store_error(to, "cannot rename " + from.string() + " to it");
}

// What a commit has put into the store so far, taken out again unless released.
struct Rollback {
  std::vector<std::pair<fs::path, fs::path>> moved;  // (store chunk file, staged file)
  fs::path tmp_dir, final_dir;
  bool committed = false;

  ~Rollback() {
    if (committed) return;
    std::error_code ec;
    for (const auto& [in_store, staged] : moved) {
      if (::rename(in_store.c_str(), staged.c_str()) != 0) fs::remove(in_store, ec);
    }
    if (!tmp_dir.empty()) fs::remove_all(tmp_dir, ec);
    if (!final_dir.empty()) fs::remove_all(final_dir, ec);
    spdlog::warn("push: commit rolled back: {} chunk files taken out of the store again", moved.size());
  }
};

// The release directory under its temporary name: manifest, signature, torrent, release files,
// firmware.
void write_release_dir(const fs::path& tmp, UploadService::Upload& u) {
  std::error_code ec;
  fs::create_directories(tmp, ec);
  if (ec) throw error(Errc::kStore, tmp.string() + ": cannot create: " + ec.message());
  write_file_replace(tmp / manifest::layout::kManifestFile, u.bundle.manifest);
  write_file_replace(tmp / (std::string(manifest::layout::kManifestFile) + manifest::layout::kSignatureSuffix),
                     u.bundle.signature);
  write_file_replace(tmp / manifest::layout::kTorrentFile, u.bundle.torrent);
  for (const auto& f : manifest::listed_release_files(u.manifest()))
    rename_or_throw(u.staging / "files" / f.name, tmp / f.name);
  if (u.manifest().firmware.empty()) return;
  fs::create_directories(tmp / "firmware", ec);
  if (ec) throw error(Errc::kStore, (tmp / "firmware").string() + ": cannot create: " + ec.message());
  for (const auto& fw : u.manifest().firmware) rename_or_throw(u.staging / "firmware" / fw.name, tmp / "firmware" / fw.name);
}

// Staged chunks into chunks/<aa>/; those the store has already stay where they are.
void move_chunks(const fs::path& store, UploadService::Upload& u, Rollback& rollback) {
  std::error_code ec;
  for (const auto& [hex, chunk] : u.chunks) {
    const fs::path dest = store_chunk_file(store, hex);
    if (fs::exists(dest, ec)) continue;
    fs::create_directories(dest.parent_path(), ec);
    if (ec) throw error(Errc::kStore, dest.parent_path().string() + ": cannot create: " + ec.message());
    const fs::path staged = staged_chunk_file(u.staging, hex);
    rename_or_throw(staged, dest);
    rollback.moved.emplace_back(dest, staged);
  }
}

// The pushed channel pointer, unless the store's has a higher sequence (then it is kept).
void write_pointer(const fs::path& store, const UploadService::Upload& u) {
  if (!u.pointer) return;
  const fs::path file = manifest::layout::channel_file(store, u.pointer->board, u.pointer->channel);
  std::string why;
  if (auto current = util::read_small_file(file, api::kMaxPointerBytes, &why)) {
    const auto seq = manifest::parse_channel_pointer(*current, file.string()).sequence;
    if (seq > u.pointer->sequence) {
      spdlog::info("push: {}: channel pointer kept (sequence {} > {})", u.key(), seq, u.pointer->sequence);
      return;
    }
  }
  std::error_code ec;
  fs::create_directories(file.parent_path(), ec);
  if (ec) throw error(Errc::kStore, file.parent_path().string() + ": cannot create: " + ec.message());
  write_file_replace(fs::path(file.string() + manifest::layout::kSignatureSuffix), u.bundle.pointer_signature);
  write_file_replace(file, u.bundle.pointer);
  sync_dir_or_fs(file.parent_path(), false);
}

}  // namespace

fs::path store_chunk_file(const fs::path& store, std::string_view hex) {
  return store / "chunks" / std::string(hex.substr(0, 2)) / (std::string(hex) + ".zst");
}

fs::path staged_chunk_file(const fs::path& staging, std::string_view hex) {
  return staging / "chunks" / (std::string(hex) + ".zst");
}

void write_file_replace(const fs::path& path, std::string_view data) {
  static std::atomic<std::uint64_t> counter{0};  // one temporary name per call, also across threads
  const fs::path tmp = path.parent_path() / (".tmp-" + path.filename().string() + "-" + std::to_string(::getpid()) +
                                              "-" + std::to_string(counter.fetch_add(1)));
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw store_error(tmp, "cannot create");
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      errno = err;
      throw store_error(path, "write @ " + std::to_string(done));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    errno = err;
    throw store_error(path, "cannot write");
  }
}

void commit_upload(const fs::path& store, UploadService::Upload& u) {
  StoreFlock lock(store);
  const auto& m = u.manifest();
  const fs::path final_dir = manifest::layout::release_dir(store, m.board, m.version);
  std::error_code ec;
  if (fs::exists(final_dir, ec))
    throw error(Errc::kConflict, "push " + u.key() + ": " + final_dir.string() + " appeared meanwhile");
  Rollback rollback;
  rollback.tmp_dir = final_dir.parent_path() / (".tmp-" + m.version + "-push-" + std::to_string(::getpid()));
  fs::remove_all(rollback.tmp_dir, ec);
  write_release_dir(rollback.tmp_dir, u);
  move_chunks(store, u, rollback);
  sync_dir_or_fs(store, true);  // every file of the release durable, with its name
  rename_or_throw(rollback.tmp_dir, final_dir);
  rollback.tmp_dir.clear();
  rollback.final_dir = final_dir;
  sync_dir_or_fs(final_dir.parent_path(), false);
  write_pointer(store, u);
  rollback.committed = true;
  fs::remove_all(u.staging, ec);
  fs::remove(u.staging.parent_path(), ec);  // these two only when empty
  fs::remove(u.staging.parent_path().parent_path(), ec);
}

}  // namespace ironstone::seeder
