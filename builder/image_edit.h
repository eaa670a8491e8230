// What `installer` and `gold` share to turn a base image into a new image rootlessly:
//  - ImageOutput: the temporary file beside --out that becomes --out only by commit()
//    (fsync + rename + fsync of the directory), removed otherwise: never a half-built image
//    under that name, an existing --out kept on failure.
//  - expand_image(): the base (raw, .xz, .zst; builder/image_reader.h) copied into it, sparse.
//  - RootEdit: files, directories, symlinks and removals planned for an ext4 root filesystem,
//    applied in one debugfs session (disk/image_fs.h), then read back: debugfs reports some
//    failures (a full filesystem) only as missing results.
// Timestamps: debugfs (libext2fs) stamps what it writes with SOURCE_DATE_EPOCH when that is
// set in the environment, so builds with the same inputs write the same inodes.
// Errors: builder::Errc (kStore for output problems, kInput for a base that does not fit)
// and disk::Errc from the tools. Thread safety: one object per thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "disk/image_fs.h"
#include "disk/partition_table.h"

namespace ironstone::builder {

class ImageOutput {
 public:
  // Creates ".NAME.tmp-XXXXXX" in out's directory (mode 0644). Throws kStore.
  explicit ImageOutput(std::filesystem::path out);
  ~ImageOutput();
  ImageOutput(const ImageOutput&) = delete;
  ImageOutput& operator=(const ImageOutput&) = delete;
  int fd() const { return fd_; }
  const std::filesystem::path& path() const { return tmp_; }
  const std::filesystem::path& out() const { return out_; }
  // fsync, rename to out, fsync of the directory. Throws kStore (e.g. a full disk).
  void commit();

 private:
  std::filesystem::path out_, tmp_;
  int fd_ = -1;
  bool committed_ = false;
};

using ProgressFn = std::function<void(std::uint64_t done, std::optional<std::uint64_t> total)>;

// Copies the image `base` into `fd` (holes for zero blocks); returns its size. Throws kInput
// for an unreadable or empty base, kStore naming `out_name` when writing fails (full disk).
std::uint64_t expand_image(const std::string& base, int fd, const std::string& out_name, const ProgressFn& progress);

// The partitions an image edit needs: the ext4 root (required) and the FAT boot partition.
struct BaseLayout {
  disk::PartitionTable table;
  disk::Partition root;
  std::optional<disk::Partition> boot;
};
// Throws kInput naming `what` (the base) when there is no ext4 root; `who` ("the installer")
// says who needs one.
BaseLayout locate_root(int fd, std::uint64_t image_size, const std::string& what, const std::string& who);
// "root filesystem: partition 2 (ext4, 48.0 MiB at 0x4100000), boot: partition 1 (FAT)"
std::string describe_layout(const BaseLayout& layout);
// Throws kInput unless the root has /etc and /usr directories (a root filesystem).
void check_root_dirs(const disk::Ext4Image& ext, const std::string& what, const disk::Partition& root);

// A directory removed (recursively) on destruction: staging for debugfs' `write`.
class StagingDir {
 public:
  explicit StagingDir(const std::string& prefix);  // under $TMPDIR; throws kStore
  ~StagingDir();
  StagingDir(const StagingDir&) = delete;
  StagingDir& operator=(const StagingDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

struct Owner {
  std::uint32_t uid = 0, gid = 0;
};

// REQUIRES: `ext` and `staging` outlive the RootEdit.
class RootEdit {
 public:
  RootEdit(disk::Ext4Image& ext, const StagingDir& staging) : ext_(ext), staging_(staging) {}

  // A regular file from a local file (copied as it is) or from text (staged first).
  void add_file(const std::string& path, const std::filesystem::path& source, unsigned mode, Owner owner = {});
  void add_text(const std::string& path, const std::string& text, unsigned mode, Owner owner = {});
  // A directory (missing parents are made 0755 root-owned; an existing one gets mode/owner).
  void add_dir(const std::string& path, unsigned mode, Owner owner = {});
  void add_link(const std::string& path, const std::string& target);
  // Removes a file or symlink (nothing when it does not exist); runs after the additions.
  void remove(const std::string& path);

  // Bytes the additions need, with a margin per file (for a free-space check).
  std::uint64_t bytes_needed() const;
  // Paths added so far, in order.
  std::vector<std::string> paths() const;
  // Runs everything in one debugfs session and reads every result back. Throws kStore
  // naming the first path that is not as planned ("… (root filesystem full?)").
  void apply();

 private:
  struct Item {
    enum class Kind { kFile, kDir, kLink } kind;
    std::string path;
    std::filesystem::path source;  // kFile
    std::string target;            // kLink
    unsigned mode = 0;
    Owner owner;
    std::uint64_t size = 0;
  };
  void parent_dirs(const std::string& path, std::set<std::string>& made, std::vector<std::string>& script) const;
  void check_back(const Item& item) const;

  disk::Ext4Image& ext_;
  const StagingDir& staging_;
  std::vector<Item> items_;
  std::vector<std::string> removals_;
  unsigned staged_ = 0;
};

// Throws kStore when the root has less free space than `edit` needs.
void check_free_space(const disk::Ext4Image& ext, const RootEdit& edit, const std::string& what, const std::string& who,
                      const std::string& doc);

// "sif PATH mode 0100644" etc. for a regular file (`type_bits` 0100000) or directory (040000).
std::vector<std::string> inode_commands(const std::string& path, unsigned type_bits, unsigned mode, Owner owner);

}  // namespace ironstone::builder
