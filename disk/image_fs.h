// Editing the filesystems inside a disk image without mounting it (no root, no loop devices):
//  - Ext4Image drives e2fsprogs' debugfs on the ext2/3/4 filesystem at a byte offset of the
//    image ("IMAGE?offset=N", the unix I/O manager's option), reading with `-R` and writing
//    with `-w -f SCRIPT`.
//  - FatImage drives mtools on the FAT filesystem at a byte offset ("-i IMAGE@@N").
// debugfs exits 0 even when a command fails, so every call's stderr is checked (anything
// but its version banner is an error) and writers verify what they wrote by reading it back.
// With SOURCE_DATE_EPOCH set, debugfs runs with E2FSPROGS_FAKE_TIME at that time: the inodes and
// superblock it writes carry it (reproducible builds).
// Paths inside the image are absolute, without spaces, quotes or "..".
// Errors: disk::Errc — kTool when debugfs/mtools cannot be run, kInput when a filesystem cannot
// be read, kWrite when a write fails, kPath for a path the tools would misread.
// Thread safety: one object per thread; two objects must not write the same image at once.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ironstone::disk {

struct Ext4Inode {
  enum class Type { kRegular, kDirectory, kSymlink, kOther } type = Type::kOther;
  unsigned mode = 0;           // permission bits (07777)
  std::uint32_t uid = 0, gid = 0;
  std::uint64_t size = 0;
  std::string link_target;     // symlinks stored inline ("fast" links, < 60 bytes)
};

class Ext4Image {
 public:
  Ext4Image(std::filesystem::path image, std::uint64_t offset);

  // nullopt when the path does not exist. Throws kInput when debugfs cannot open the
  // filesystem, kTool when it is not installed.
  std::optional<Ext4Inode> stat(const std::string& path) const;
  bool exists(const std::string& path) const { return stat(path).has_value(); }
  // Contents of a regular file (throws when missing).
  std::string cat(const std::string& path) const;
  // Names in a directory (without "." and ".."); nullopt when it does not exist.
  std::optional<std::vector<std::string>> list(const std::string& path) const;
  // Copies the directory tree at `path` into the local directory `into` (debugfs rdump,
  // read-only): `into`/<last component of path>/… Throws kInput when debugfs fails.
  void dump_tree(const std::string& path, const std::filesystem::path& into) const;
  // Free bytes (free blocks × block size).
  std::uint64_t free_bytes() const;

  // Renames `from` to `to` in the same filesystem (debugfs ln + unlink: the inode keeps its
  // link count); then checks that `to` exists and `from` does not. Throws kWrite.
  void rename(const std::string& from, const std::string& to);

  // Runs debugfs commands (write, mkdir, symlink, rm, sif, ...) in one `debugfs -w` session.
  // Throws kWrite with debugfs's complaint when any command fails.
  void run_script(const std::vector<std::string>& commands);

  // The "IMAGE?offset=N" device string debugfs and e2fsck accept.
  std::string device() const;

 private:
  std::string request(const std::string& command, bool allow_not_found) const;

  std::filesystem::path image_;
  std::uint64_t offset_;
};

class FatImage {
 public:
  FatImage(std::filesystem::path image, std::uint64_t offset);
  // nullopt when the file does not exist.
  std::optional<std::string> read(const std::string& path) const;
  // Creates or replaces a file in an existing directory, and reads it back.
  void write(const std::string& path, const std::string& content);
  // Whether a file or directory exists (mdir). Throws kInput when the filesystem is unreadable.
  bool exists(const std::string& path) const;
  // Renames `from` to `to` (mren; same directory or another existing one), then checks that
  // `to` exists and `from` does not. Throws kWrite.
  void rename(const std::string& from, const std::string& to);
  // Names in the root directory (mdir -b), without "." and "..".
  std::vector<std::string> list_root() const;
  // Names in directory `dir` (absolute), without "." and ".."; nullopt when it does not exist.
  std::optional<std::vector<std::string>> list(const std::string& dir) const;
  // "IMAGE@@N" for mtools' -i.
  std::string spec() const;

 private:
  std::filesystem::path image_;
  std::uint64_t offset_;
};

// Rejects paths debugfs or mtools would misread: must be absolute, no whitespace, quotes, "..".
void check_image_path(const std::string& path);

}  // namespace ironstone::disk
