// The release store on disk (layout: manifest/layout.h, docs/release-format.md).
//
// Writers (publish, gc) hold StoreLock, an exclusive flock on <store>/.lock, for
// their whole run: a second writer fails at once with Errc::kBusy instead of
// interleaving. Readers (the seeder, verify, inspect) need no lock: every file
// and every release directory appears by rename, so a reader never sees half of one.
// Thread safety: Store is a read-only view; functions are reentrant.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "manifest/manifest.h"
#include "manifest/minisign.h"

namespace ironstone::builder {

class StoreLock {
 public:
  explicit StoreLock(const std::filesystem::path& store);  // throws kBusy / kStore
  ~StoreLock();
  StoreLock(const StoreLock&) = delete;
  StoreLock& operator=(const StoreLock&) = delete;

 private:
  int fd_ = -1;
};

struct ReleaseRef {
  std::string board;
  std::string version;
  std::filesystem::path dir;
};

class Store {
 public:
  explicit Store(std::filesystem::path root) : root_(std::move(root)) {}
  const std::filesystem::path& root() const { return root_; }

  // Creates releases/, chunks/, channels/, keys/ if missing.
  void create_layout() const;
  // Every committed release directory (temporaries skipped), sorted by board, version.
  std::vector<ReleaseRef> releases() const;
  // Reads and parses a release's manifest (not verified: the store is the publisher's own).
  manifest::Manifest read_manifest(const ReleaseRef& r) const;
  // Highest sequence among the releases of board on channel.
  std::optional<std::uint64_t> highest_sequence(const std::string& board, const std::string& channel) const;
  // Public keys in keys/*.pub.
  std::vector<manifest::PublicKey> trusted_keys() const;

 private:
  std::filesystem::path root_;
};

// How write_file_atomic() makes a file durable.
enum class FileSync {
  kFsync,           // fsync before the rename: the file is on disk when the call returns
  kStartWriteback,  // only start its writeback (sync_file_range, not awaited): for callers that
                    // sync_store() before anything that refers to the file is committed
};

// Writes `data` to `path` via a temporary file in the same directory, then renames it: the
// file is either the old one or the complete new one. Throws kStore naming the path and the
// offset (e.g. "write @ 0x100000: No space left on device").
void write_file_atomic(const std::filesystem::path& path, std::span<const std::uint8_t> data, unsigned mode = 0644,
                       FileSync sync = FileSync::kFsync);
void write_file_atomic(const std::filesystem::path& path, std::string_view text, unsigned mode = 0644,
                       FileSync sync = FileSync::kFsync);
// syncfs() of the store's filesystem: every file written so far is durable, with its name.
// One journal commit and one device flush, where an fsync per file and per directory costs one
// flush each (~4 ms apiece on this project's VM disk). Cheap when the files' writeback was
// started as they were written (FileSync::kStartWriteback). Throws kStore naming the store.
void sync_store(const std::filesystem::path& store);
// Creates `path` with O_EXCL (never overwrites) and the given mode. Throws kExists / kStore.
void write_file_exclusive(const std::filesystem::path& path, std::string_view text, unsigned mode);
std::string read_text_file(const std::filesystem::path& path, std::size_t max_bytes);  // throws kStore
void fsync_dir(const std::filesystem::path& dir);

}  // namespace ironstone::builder
