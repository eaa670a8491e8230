// Partition tables and filesystem magic (disk/partition_table.h) on byte fixtures built here: MBR with
// primary and logical partitions, GPT (header and array CRCs), a bare ext image, and every way the bytes can
// be wrong (corrupt header or CRC, a partition past the end, a looping EBR chain), each with its exact error.
#include "disk/partition_table.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "disk/errc.h"
#include "tests/testutil/expect_error.h"
#include "tests/testutil/testutil.h"

namespace ironstone::disk {
namespace {

using Bytes = std::vector<std::uint8_t>;

void put16(Bytes& b, std::size_t at, std::uint16_t v) {
  b.at(at) = v & 0xFF;
  b.at(at + 1) = v >> 8;
}
void put32(Bytes& b, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b.at(at + i) = (v >> (8 * i)) & 0xFF;
}
void put64(Bytes& b, std::size_t at, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) b.at(at + i) = (v >> (8 * i)) & 0xFF;
}
void put_text(Bytes& b, std::size_t at, const char* s) { std::memcpy(&b.at(at), s, std::strlen(s)); }

std::uint32_t crc32(const std::uint8_t* p, std::size_t n) {  // IEEE 802.3, as GPT uses
  std::uint32_t c = 0xFFFFFFFFu;
  for (std::size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
  }
  return c ^ 0xFFFFFFFFu;
}

// An MBR entry: type, first LBA, sectors.
void mbr_entry(Bytes& img, std::size_t sector_at, int slot, std::uint8_t type, std::uint32_t lba, std::uint32_t count) {
  const std::size_t e = sector_at + 446 + 16 * slot;
  img.at(e + 4) = type;
  put32(img, e + 8, lba);
  put32(img, e + 12, count);
  img.at(sector_at + 510) = 0x55;
  img.at(sector_at + 511) = 0xAA;
}

void fat32_at(Bytes& img, std::size_t at, const char* label) {
  put16(img, at + 11, 512);
  std::memset(&img.at(at + 71), ' ', 11);
  put_text(img, at + 71, label);
  put_text(img, at + 82, "FAT32   ");
  img.at(at + 510) = 0x55;
  img.at(at + 511) = 0xAA;
}

void ext4_at(Bytes& img, std::size_t at, const char* label) {
  put16(img, at + 1024 + 56, 0xEF53);
  put_text(img, at + 1024 + 120, label);
}

ReadAt reader(const Bytes& img) {
  return [&img](std::uint64_t offset, std::span<std::uint8_t> out) {
    if (offset > img.size() || out.size() > img.size() - offset) return false;
    std::memcpy(out.data(), img.data() + offset, out.size());
    return true;
  };
}

PartitionTable read(const Bytes& img) { return read_partition_table(reader(img), img.size(), "test.img"); }

// 1 MiB: FAT32 "BOOT" at LBA 8 (256 KiB), ext4 "rootfs" at LBA 520 (512 KiB).
Bytes mbr_image() {
  Bytes img(1 << 20, 0);
  mbr_entry(img, 0, 0, 0x0C, 8, 512);
  mbr_entry(img, 0, 1, 0x83, 520, 1024);
  fat32_at(img, 8 * 512, "BOOT");
  ext4_at(img, 520 * 512, "rootfs");
  return img;
}

// 1 MiB GPT (512-byte sectors): header at LBA 1, 128 entries of 128 bytes at LBA 2; partitions at LBA 64
// (FAT, 256 KiB, "boot") and LBA 576 (ext4, 256 KiB, "root").
struct Gpt {
  Bytes img = Bytes(1 << 20, 0);
  void entry(int i, std::uint64_t first, std::uint64_t last, const char* name) {
    const std::size_t e = 1024 + 128 * static_cast<std::size_t>(i);
    for (int k = 0; k < 16; ++k) img.at(e + k) = static_cast<std::uint8_t>(0x10 + k + i);
    put64(img, e + 32, first);
    put64(img, e + 40, last);
    for (std::size_t k = 0; name[k]; ++k) put16(img, e + 56 + 2 * k, static_cast<std::uint8_t>(name[k]));
  }
  Gpt() {
    mbr_entry(img, 0, 0, 0xEE, 1, 2047);
    put_text(img, 512, "EFI PART");
    put32(img, 512 + 8, 0x00010000);
    put32(img, 512 + 12, 92);
    put64(img, 512 + 72, 2);
    put32(img, 512 + 80, 128);
    put32(img, 512 + 84, 128);
    entry(0, 64, 64 + 511, "boot");
    entry(1, 576, 576 + 511, "root");
    fat32_at(img, 64 * 512, "EFI");
    ext4_at(img, 576 * 512, "root");
    seal();
  }
  // Recomputes the array CRC, then the header CRC.
  void seal() {
    put32(img, 512 + 88, crc32(&img[1024], 128 * 128));
    put32(img, 512 + 16, 0);
    put32(img, 512 + 16, crc32(&img[512], 92));
  }
};

TEST(PartitionTable, MbrWithBootAndRootPartitionsIsReadWithFilesystemsAndLabels) {
  const auto t = read(mbr_image());
  EXPECT_EQ(t.kind, TableKind::kMbr);
  ASSERT_EQ(t.partitions.size(), 2u);
  EXPECT_EQ(t.partitions[0].number, 1u);
  EXPECT_EQ(t.partitions[0].offset, 8u * 512);
  EXPECT_EQ(t.partitions[0].size, 512u * 512);
  EXPECT_EQ(t.partitions[0].type, "0x0c");
  EXPECT_EQ(t.partitions[0].fs, FsKind::kFat);
  EXPECT_EQ(t.partitions[0].label, "BOOT");
  EXPECT_EQ(t.partitions[1].type, "0x83");
  EXPECT_EQ(t.partitions[1].fs, FsKind::kExt);
  EXPECT_EQ(t.partitions[1].label, "rootfs");
  EXPECT_EQ(describe(t), "MBR table: 1 FAT 256.0 KiB, 2 ext4 512.0 KiB");
  EXPECT_EQ(boot_partition(t)->number, 1u);
  EXPECT_EQ(root_partition(t)->number, 2u);
}

TEST(PartitionTable, MbrPartitionPastTheEndIsATruncatedImage) {
  Bytes img = mbr_image();
  mbr_entry(img, 0, 1, 0x83, 520, 2048);  // 520 + 2048 sectors > 2048 sectors of the image
  EXPECT_ERROR_EQ(read(img), Errc::kInput,
                  "test.img: partition 2 (0x41000, 1048576 bytes) extends past the end of the image (1048576 bytes): "
                  "truncated image?");
}

TEST(PartitionTable, MbrLogicalPartitionsAreNumberedFromFive) {
  Bytes img(1 << 20, 0);
  mbr_entry(img, 0, 0, 0x0C, 8, 64);
  mbr_entry(img, 0, 1, 0x05, 100, 1000);       // extended: LBA 100..1099
  mbr_entry(img, 100 * 512, 0, 0x83, 4, 100);  // first logical: LBA 104
  mbr_entry(img, 100 * 512, 1, 0x05, 200, 300);  // next EBR at 100 + 200
  mbr_entry(img, 300 * 512, 0, 0x83, 4, 50);   // second logical: LBA 304
  const auto t = read(img);
  ASSERT_EQ(t.partitions.size(), 3u);
  EXPECT_EQ(t.partitions[1].number, 5u);
  EXPECT_EQ(t.partitions[1].offset, 104u * 512);
  EXPECT_EQ(t.partitions[2].number, 6u);
  EXPECT_EQ(t.partitions[2].offset, 304u * 512);
  EXPECT_EQ(t.partitions[2].size, 50u * 512);
}

TEST(PartitionTable, ExtendedBootRecordChainThatLoopsIsRefused) {
  Bytes img(1 << 20, 0);
  mbr_entry(img, 0, 0, 0x05, 100, 1000);
  mbr_entry(img, 100 * 512, 0, 0x83, 4, 10);
  mbr_entry(img, 100 * 512, 1, 0x05, 200, 10);
  mbr_entry(img, 300 * 512, 0, 0x83, 4, 10);
  mbr_entry(img, 300 * 512, 1, 0x05, 200, 10);  // the next EBR is this one again
  EXPECT_ERROR_EQ(read(img), Errc::kInput, "test.img: MBR extended partition chain loops");
}

TEST(PartitionTable, ExtendedBootRecordPastTheEndOrUnsignedIsRefused) {
  Bytes img(1 << 20, 0);
  mbr_entry(img, 0, 0, 0x0F, 100, 1000);
  EXPECT_ERROR_EQ(read(img), Errc::kInput, "test.img: extended boot record at 0xC800 has no signature");
  mbr_entry(img, 0, 0, 0x0F, 4000, 10);
  EXPECT_ERROR_EQ(read(img), Errc::kInput,
                  "test.img: extended boot record at 0x1F4000 lies past the end of the image");
}

TEST(PartitionTable, GptIsReadWithNamesTypesAndFilesystems) {
  const auto t = read(Gpt().img);
  EXPECT_EQ(t.kind, TableKind::kGpt);
  EXPECT_EQ(t.sector_size, 512u);
  ASSERT_EQ(t.partitions.size(), 2u);
  EXPECT_EQ(t.partitions[0].name, "boot");
  EXPECT_EQ(t.partitions[0].type, "13121110-1514-1716-1819-1a1b1c1d1e1f");
  EXPECT_EQ(t.partitions[0].offset, 64u * 512);
  EXPECT_EQ(t.partitions[0].fs, FsKind::kFat);
  EXPECT_EQ(t.partitions[0].label, "EFI");
  EXPECT_EQ(t.partitions[1].name, "root");
  EXPECT_EQ(t.partitions[1].number, 2u);
  EXPECT_EQ(t.partitions[1].fs, FsKind::kExt);
  EXPECT_EQ(describe(t), "GPT table: 1 FAT 256.0 KiB, 2 ext4 256.0 KiB");
}

TEST(PartitionTable, GptHeaderWithABadChecksumIsACorruptTable) {
  Gpt g;
  g.img[512 + 24] ^= 1;  // current LBA, covered by the header CRC
  EXPECT_ERROR_EQ(read(g.img), Errc::kInput, "test.img: GPT header checksum mismatch (corrupt table)");
}

TEST(PartitionTable, GptPartitionArrayWithABadChecksumIsACorruptTable) {
  Gpt g;
  g.img[1024 + 32] ^= 1;  // first LBA of entry 1, covered by the array CRC only
  EXPECT_ERROR_EQ(read(g.img), Errc::kInput, "test.img: GPT partition array checksum mismatch (corrupt table)");
}

TEST(PartitionTable, GptHeaderOfAnImpossibleSizeIsRefused) {
  Gpt g;
  put32(g.img, 512 + 12, 91);
  EXPECT_ERROR_EQ(read(g.img), Errc::kInput, "test.img: GPT header size 91 is invalid");
  put32(g.img, 512 + 12, 513);
  EXPECT_ERROR_EQ(read(g.img), Errc::kInput, "test.img: GPT header size 513 is invalid");
}

TEST(PartitionTable, GptWithAnImplausiblePartitionArrayIsRefused) {
  Gpt g;
  put32(g.img, 512 + 80, 100000);
  g.seal();
  EXPECT_ERROR_EQ(read(g.img), Errc::kInput,
                  "test.img: GPT has an implausible partition array (100000 entries of 128 bytes)");
}

TEST(PartitionTable, GptPartitionArrayPastTheEndIsATruncatedImage) {
  Gpt g;
  put64(g.img, 512 + 72, 4096);
  g.seal();
  EXPECT_ERROR_EQ(read(g.img), Errc::kInput,
                  "test.img: GPT partition array lies past the end of the image: truncated image?");
}

TEST(PartitionTable, GptPartitionArrayLbaThatOverflowsIsRefused) {
  Gpt g;
  put64(g.img, 512 + 72, 0x0080000000000002ull);  // times 512 wraps around to byte 1024, the real array
  g.seal();
  EXPECT_ERROR_EQ(read(g.img), Errc::kInput,
                  "test.img: GPT partition array lies past the end of the image: truncated image?");
}

TEST(PartitionTable, GptPartitionPastTheEndIsATruncatedImage) {
  Gpt g;
  g.entry(1, 576, 4095, "root");
  g.seal();
  EXPECT_ERROR_EQ(read(g.img), Errc::kInput,
                  "test.img: partition 2 (0x48000, 1802240 bytes) extends past the end of the image (1048576 "
                  "bytes): truncated image?");
}

TEST(PartitionTable, GptPartitionThatEndsBeforeItStartsIsRefused) {
  Gpt g;
  g.entry(0, 100, 99, "boot");
  g.seal();
  EXPECT_ERROR_EQ(read(g.img), Errc::kInput, "test.img: GPT partition 1 ends before it starts");
}

TEST(PartitionTable, GptPartitionOutOfRangeIsRefused) {
  Gpt g;
  g.entry(0, 0x0100000000000000ull, 0x0100000000000001ull, "boot");
  g.seal();
  EXPECT_ERROR_EQ(read(g.img), Errc::kInput, "test.img: GPT partition 1 is out of range");
}

TEST(PartitionTable, ProtectiveMbrWithoutAGptHeaderIsRefused) {
  Gpt g;
  g.img[512] = 'X';
  EXPECT_ERROR_EQ(read(g.img), Errc::kInput, "test.img: protective MBR but no GPT header");
}

TEST(PartitionTable, ImageWithoutTableOrFilesystemIsRefused) {
  Bytes img(64 * 1024, 0xA5);
  EXPECT_ERROR_EQ(read(img), Errc::kInput,
                  "test.img: no partition table (no MBR signature, no GPT) and no ext filesystem");
}

TEST(PartitionTable, ImageSmallerThanASectorIsRefused) {
  Bytes img(100, 0);
  EXPECT_ERROR_EQ(read(img), Errc::kInput,
                  "test.img: image is too small to hold a partition table (100 bytes)");
}

TEST(PartitionTable, BareExtImageIsOnePartitionCoveringIt) {
  Bytes img(64 * 1024, 0);
  ext4_at(img, 0, "gold");
  const auto t = read(img);
  EXPECT_EQ(t.kind, TableKind::kNone);
  ASSERT_EQ(t.partitions.size(), 1u);
  EXPECT_EQ(t.partitions[0].offset, 0u);
  EXPECT_EQ(t.partitions[0].size, img.size());
  EXPECT_EQ(t.partitions[0].fs, FsKind::kExt);
  EXPECT_EQ(t.partitions[0].label, "gold");
}

TEST(PartitionTable, Fat16IsDetectedAndAShortPartitionIsUnknown) {
  Bytes img(64 * 1024, 0);
  put16(img, 11, 512);
  put_text(img, 43, "SMALL      ");
  put_text(img, 54, "FAT16   ");
  img[510] = 0x55;
  img[511] = 0xAA;
  std::string label;
  EXPECT_EQ(detect_filesystem(reader(img), 0, img.size(), &label), FsKind::kFat);
  EXPECT_EQ(label, "SMALL");
  EXPECT_EQ(detect_filesystem(reader(img), 0, 2047), FsKind::kUnknown);  // too small for a superblock
  put16(img, 11, 256);                                                    // impossible sector size
  EXPECT_EQ(detect_filesystem(reader(img), 0, img.size()), FsKind::kUnknown);
}

TEST(PartitionTable, ReadsTheSameFromAFileDescriptor) {
  ironstone::testing::TempDir dir;
  const auto path = dir.path() / "disk.img";
  const Bytes img = Gpt().img;
  ironstone::testing::write_file(path, img);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  const auto t = read_partition_table(fd, img.size(), path.string());
  ::close(fd);
  EXPECT_EQ(describe(t), "GPT table: 1 FAT 256.0 KiB, 2 ext4 256.0 KiB");
}

}  // namespace
}  // namespace ironstone::disk
