// Reading a disk image's partition table (MBR with logical partitions, or GPT) and telling
// which filesystem each partition holds, from magic bytes: enough to find the FAT boot
// partition and the ext2/3/4 root filesystem of an upstream SD-card image.
// An image without a partition table that is itself an ext filesystem is reported as one
// partition at offset 0. Everything read is bounds-checked against the image size; a
// partition that runs past the end of the image is an error (truncated image).
// The table can be read from a file descriptor or through any positioned reader (the
// flasher reads its Target). Errors: disk::Errc::kInput naming `what`.
// Thread safety: stateless functions.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace ironstone::disk {

enum class TableKind { kNone, kMbr, kGpt };
enum class FsKind { kUnknown, kExt, kFat };
const char* to_string(TableKind k);
const char* to_string(FsKind k);

struct Partition {
  unsigned number = 0;         // 1-based, as Linux numbers them (sda1, mmcblk0p2; logical MBR ones from 5)
  std::uint64_t offset = 0;    // bytes from the start of the image
  std::uint64_t size = 0;      // bytes
  std::string type;            // MBR: "0x83"; GPT: the type GUID, lower case
  std::string name;            // GPT partition name (ASCII part), empty for MBR
  FsKind fs = FsKind::kUnknown;
  std::string label;           // filesystem label when known
  std::string uuid;            // GPT unique partition GUID, lower case (PARTUUID); empty for MBR
};

struct PartitionTable {
  TableKind kind = TableKind::kNone;
  std::uint32_t sector_size = 512;
  std::vector<Partition> partitions;
};

// Reads exactly out.size() bytes at offset; returns false when the image ends first and
// throws (disk::Errc::kInput, naming the image) on an I/O error.
using ReadAt = std::function<bool(std::uint64_t offset, std::span<std::uint8_t> out)>;

// Reads the table of an image of image_size bytes. Throws disk::Errc::kInput naming `what`
// when the table is malformed or a partition lies outside the image.
PartitionTable read_partition_table(const ReadAt& read, std::uint64_t image_size, const std::string& what);
// The same for the image open as `fd` (pread).
PartitionTable read_partition_table(int fd, std::uint64_t image_size, const std::string& what);

// The filesystem at `offset` (magic numbers only: ext superblock, FAT boot sector).
FsKind detect_filesystem(const ReadAt& read, std::uint64_t offset, std::uint64_t size, std::string* label = nullptr);
FsKind detect_filesystem(int fd, std::uint64_t offset, std::uint64_t size, std::string* label = nullptr);

// The boot partition: the first FAT one. The root: the largest ext2/3/4 one.
std::optional<Partition> boot_partition(const PartitionTable& table);
std::optional<Partition> root_partition(const PartitionTable& table);

// "MBR table: 1 FAT 64.0 MiB, 2 ext4 48.0 MiB" (or "GPT table without partitions"), for messages.
std::string describe(const PartitionTable& table);

}  // namespace ironstone::disk
