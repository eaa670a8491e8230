// Reading a disk image's partition table (MBR with logical partitions, or GPT) and telling
// which filesystem each partition holds, from magic bytes: enough to find the FAT boot
// partition and the ext2/3/4 root filesystem of an upstream SD-card image.
// An image without a partition table that is itself an ext filesystem is reported as one
// partition at offset 0. Everything read is bounds-checked against the image size; a
// partition that runs past the end of the image is an error (truncated image).
// Thread safety: stateless functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ironstone::builder {

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
};

struct PartitionTable {
  TableKind kind = TableKind::kNone;
  std::uint32_t sector_size = 512;
  std::vector<Partition> partitions;
};

// Reads the table of the image open as `fd` (image_size bytes). Throws builder::Errc::kInput
// naming `what` when the table is malformed or a partition lies outside the image.
PartitionTable read_partition_table(int fd, std::uint64_t image_size, const std::string& what);

// The filesystem at `offset` (magic numbers only: ext superblock, FAT boot sector).
FsKind detect_filesystem(int fd, std::uint64_t offset, std::uint64_t size, std::string* label = nullptr);

}  // namespace ironstone::builder
