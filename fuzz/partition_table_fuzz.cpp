// Fuzz target: the disk image readers that parse bytes in-process (disk/partition_table.h): the
// MBR (with its chain of extended boot records) or GPT (header, partition array, CRCs), and the
// filesystem magic of each partition (ext superblock, FAT boot sector and labels). The input is
// the whole image. Any input must give a table whose partitions lie inside the image, or
// ironstone::Error; nothing else may escape. (The ext4/FAT editors, disk/image_fs.h, run
// debugfs and mtools in child processes and are not fuzzed here.)
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>

#include "disk/partition_table.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ironstone::disk;
  const ReadAt read = [&](std::uint64_t offset, std::span<std::uint8_t> out) {
    if (offset > size || out.size() > size - offset) return false;
    if (!out.empty()) std::memcpy(out.data(), data + offset, out.size());
    return true;
  };
  try {
    const PartitionTable t = read_partition_table(read, size, "fuzz.img");
    for (const auto& p : t.partitions) {
      if (p.size != 0 && (p.offset > size || p.size > size - p.offset)) std::abort();
    }
    (void)describe(t);
    (void)boot_partition(t);
    (void)root_partition(t);
  } catch (const ironstone::Error&) {
  }
  std::string label;
  (void)detect_filesystem(read, 0, size, &label);
  return 0;
}
