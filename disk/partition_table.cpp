#include "disk/partition_table.h"

#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <set>

#include "disk/errc.h"
#include "util/format.h"

namespace ironstone::disk {

const char* to_string(TableKind k) {
  switch (k) {
    case TableKind::kNone: return "none";
    case TableKind::kMbr: return "MBR";
    case TableKind::kGpt: return "GPT";
  }
  return "?";
}

const char* to_string(FsKind k) {
  switch (k) {
    case FsKind::kUnknown: return "unknown";
    case FsKind::kExt: return "ext4";
    case FsKind::kFat: return "FAT";
  }
  return "?";
}

namespace {

std::uint16_t le16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] | p[1] << 8); }
std::uint32_t le32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
         static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}
std::uint64_t le64(const std::uint8_t* p) { return le32(p) | static_cast<std::uint64_t>(le32(p + 4)) << 32; }

// A ReadAt over a file descriptor (pread, EINTR retried).
ReadAt fd_reader(int fd, const std::string& what) {
  return [fd, what](std::uint64_t offset, std::span<std::uint8_t> buf) {
    std::size_t done = 0;
    while (done < buf.size()) {
      ssize_t n = ::pread(fd, buf.data() + done, buf.size() - done, static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        throw error(Errc::kInput, what + ": read at " + hex_offset(offset) + ": " + std::strerror(errno));
      }
      if (n == 0) return false;
      done += static_cast<std::size_t>(n);
    }
    return true;
  };
}

std::uint32_t crc32(const std::uint8_t* data, std::size_t n) {
  static const auto table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  std::uint32_t c = 0xFFFFFFFFu;
  for (std::size_t i = 0; i < n; ++i) c = table[(c ^ data[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

std::string hex_byte(unsigned b) {
  static const char* digits = "0123456789abcdef";
  return std::string("0x") + digits[(b >> 4) & 15] + digits[b & 15];
}

std::string guid_string(const std::uint8_t* g) {
  // Mixed-endian: the first three fields little-endian, the rest as bytes.
  static const char* digits = "0123456789abcdef";
  const int order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
  std::string s;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s += '-';
    s += digits[g[order[i]] >> 4];
    s += digits[g[order[i]] & 15];
  }
  return s;
}

std::string trim_label(const char* p, std::size_t n) {
  std::string s(p, strnlen(p, n));
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  return s;
}

void check_bounds(const Partition& p, std::uint64_t image_size, const std::string& what) {
  if (p.size == 0) return;
  if (p.offset > image_size || p.size > image_size - p.offset)
    throw error(Errc::kInput, what + ": partition " + std::to_string(p.number) + " (" + hex_offset(p.offset) + ", " +
                                  std::to_string(p.size) + " bytes) extends past the end of the image (" +
                                  std::to_string(image_size) + " bytes): truncated image?");
}

bool read_gpt(const ReadAt& read_at, std::uint64_t image_size, std::uint32_t sector, const std::string& what, PartitionTable& t) {
  std::vector<std::uint8_t> hdr(sector);
  if (!read_at(sector, hdr) || std::memcmp(hdr.data(), "EFI PART", 8) != 0) return false;
  const std::uint32_t hdr_size = le32(&hdr[12]);
  if (hdr_size < 92 || hdr_size > sector) throw error(Errc::kInput, what + ": GPT header size " + std::to_string(hdr_size) + " is invalid");
  std::vector<std::uint8_t> h(hdr.begin(), hdr.begin() + hdr_size);
  const std::uint32_t want_crc = le32(&h[16]);
  std::memset(&h[16], 0, 4);
  if (crc32(h.data(), h.size()) != want_crc) throw error(Errc::kInput, what + ": GPT header checksum mismatch (corrupt table)");
  const std::uint64_t entries_lba = le64(&hdr[72]);
  const std::uint32_t count = le32(&hdr[80]);
  const std::uint32_t entry_size = le32(&hdr[84]);
  if (count > 4096 || entry_size < 128 || entry_size > 4096 || entry_size % 8 != 0)
    throw error(Errc::kInput, what + ": GPT has an implausible partition array (" + std::to_string(count) + " entries of " +
                                  std::to_string(entry_size) + " bytes)");
  std::vector<std::uint8_t> entries(static_cast<std::size_t>(count) * entry_size);
  // entries_lba * sector must not wrap around (it would read some other part of the image).
  if (entries_lba > image_size / sector || !read_at(entries_lba * sector, entries))
    throw error(Errc::kInput, what + ": GPT partition array lies past the end of the image: truncated image?");
  if (crc32(entries.data(), entries.size()) != le32(&hdr[88]))
    throw error(Errc::kInput, what + ": GPT partition array checksum mismatch (corrupt table)");
  t.kind = TableKind::kGpt;
  t.sector_size = sector;
  static const std::uint8_t zero[16] = {};
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::uint8_t* e = &entries[static_cast<std::size_t>(i) * entry_size];
    if (std::memcmp(e, zero, 16) == 0) continue;
    const std::uint64_t first = le64(e + 32), last = le64(e + 40);
    if (last < first) throw error(Errc::kInput, what + ": GPT partition " + std::to_string(i + 1) + " ends before it starts");
    Partition p;
    p.number = i + 1;
    if (first > UINT64_MAX / sector || last - first + 1 > UINT64_MAX / sector)
      throw error(Errc::kInput, what + ": GPT partition " + std::to_string(i + 1) + " is out of range");
    p.offset = first * sector;
    p.size = (last - first + 1) * sector;
    p.type = guid_string(e);
    p.uuid = guid_string(e + 16);
    for (int k = 0; k < 36; ++k) {
      std::uint16_t c = le16(e + 56 + 2 * k);
      if (c == 0) break;
      p.name += c < 0x80 ? static_cast<char>(c) : '?';
    }
    check_bounds(p, image_size, what);
    t.partitions.push_back(std::move(p));
  }
  return true;
}

void read_mbr(const ReadAt& read_at, std::uint64_t image_size, const std::uint8_t* mbr, const std::string& what, PartitionTable& t) {
  t.kind = TableKind::kMbr;
  auto add = [&](unsigned number, const std::uint8_t* e, std::uint64_t base_lba) {
    Partition p;
    p.number = number;
    p.type = hex_byte(e[4]);
    p.offset = (base_lba + le32(e + 8)) * 512;
    p.size = static_cast<std::uint64_t>(le32(e + 12)) * 512;
    check_bounds(p, image_size, what);
    t.partitions.push_back(std::move(p));
  };
  auto is_extended = [](std::uint8_t type) { return type == 0x05 || type == 0x0F || type == 0x85; };
  for (unsigned i = 0; i < 4; ++i) {
    const std::uint8_t* e = mbr + 446 + 16 * i;
    if (e[4] == 0 || le32(e + 12) == 0) continue;
    if (!is_extended(e[4])) {
      add(i + 1, e, 0);
      continue;
    }
    // Logical partitions: a chain of extended boot records, each relative to the extended partition.
    const std::uint64_t ext_start = le32(e + 8);
    std::uint64_t ebr = ext_start;
    unsigned number = 5;
    std::set<std::uint64_t> seen;
    while (true) {
      if (!seen.insert(ebr).second || seen.size() > 128)
        throw error(Errc::kInput, what + ": MBR extended partition chain loops");
      std::array<std::uint8_t, 512> b{};
      if (!read_at(ebr * 512, b))
        throw error(Errc::kInput, what + ": extended boot record at " + hex_offset(ebr * 512) + " lies past the end of the image");
      if (b[510] != 0x55 || b[511] != 0xAA)
        throw error(Errc::kInput, what + ": extended boot record at " + hex_offset(ebr * 512) + " has no signature");
      const std::uint8_t* l = b.data() + 446;
      if (l[4] != 0 && le32(l + 12) != 0) add(number++, l, ebr);
      const std::uint8_t* next = l + 16;
      if (next[4] == 0 || le32(next + 8) == 0) break;
      ebr = ext_start + le32(next + 8);
    }
  }
}

}  // namespace

FsKind detect_filesystem(const ReadAt& read_at, std::uint64_t offset, std::uint64_t size, std::string* label) {
  std::array<std::uint8_t, 2048> b{};
  if (size < b.size() || !read_at(offset, b)) return FsKind::kUnknown;
  // ext2/3/4: superblock at 1024, s_magic at +56, s_volume_name at +120 (16 bytes).
  if (le16(&b[1024 + 56]) == 0xEF53) {
    if (label) *label = trim_label(reinterpret_cast<const char*>(&b[1024 + 120]), 16);
    return FsKind::kExt;
  }
  // FAT: boot sector signature and the filesystem type string of FAT32 or FAT12/16.
  if (b[510] == 0x55 && b[511] == 0xAA && le16(&b[11]) >= 512 && le16(&b[11]) <= 4096) {
    if (std::memcmp(&b[82], "FAT32   ", 8) == 0) {
      if (label) *label = trim_label(reinterpret_cast<const char*>(&b[71]), 11);
      return FsKind::kFat;
    }
    if (std::memcmp(&b[54], "FAT1", 4) == 0 || std::memcmp(&b[54], "FAT     ", 8) == 0) {
      if (label) *label = trim_label(reinterpret_cast<const char*>(&b[43]), 11);
      return FsKind::kFat;
    }
  }
  return FsKind::kUnknown;
}

PartitionTable read_partition_table(const ReadAt& read_at, std::uint64_t image_size, const std::string& what) {
  PartitionTable t;
  std::array<std::uint8_t, 512> mbr{};
  if (image_size < mbr.size() || !read_at(0, mbr))
    throw error(Errc::kInput, what + ": image is too small to hold a partition table (" + std::to_string(image_size) + " bytes)");
  const bool signature = mbr[510] == 0x55 && mbr[511] == 0xAA;
  bool protective = false;
  for (unsigned i = 0; i < 4; ++i) protective |= mbr[446 + 16 * i + 4] == 0xEE;
  if (signature && protective) {
    if (!read_gpt(read_at, image_size, 512, what, t) && !read_gpt(read_at, image_size, 4096, what, t))
      throw error(Errc::kInput, what + ": protective MBR but no GPT header");
  } else if (signature && detect_filesystem(read_at, 0, image_size) == FsKind::kUnknown) {
    read_mbr(read_at, image_size, mbr.data(), what, t);
  } else if (detect_filesystem(read_at, 0, image_size) == FsKind::kExt) {
    // A bare filesystem image: one "partition" covering it all.
    t.kind = TableKind::kNone;
    t.partitions.push_back({1, 0, image_size, "", "", FsKind::kUnknown, ""});
  } else if (!signature) {
    throw error(Errc::kInput, what + ": no partition table (no MBR signature, no GPT) and no ext filesystem");
  }
  for (auto& p : t.partitions) p.fs = detect_filesystem(read_at, p.offset, p.size, &p.label);
  return t;
}

PartitionTable read_partition_table(int fd, std::uint64_t image_size, const std::string& what) {
  return read_partition_table(fd_reader(fd, what), image_size, what);
}

FsKind detect_filesystem(int fd, std::uint64_t offset, std::uint64_t size, std::string* label) {
  return detect_filesystem(fd_reader(fd, "image"), offset, size, label);
}

std::optional<Partition> boot_partition(const PartitionTable& table) {
  for (const auto& p : table.partitions)
    if (p.fs == FsKind::kFat) return p;
  return std::nullopt;
}

std::optional<Partition> root_partition(const PartitionTable& table) {
  const Partition* root = nullptr;
  for (const auto& p : table.partitions)
    if (p.fs == FsKind::kExt && (!root || p.size > root->size)) root = &p;
  if (!root) return std::nullopt;
  return *root;
}

std::string describe(const PartitionTable& t) {
  std::string s = std::string(to_string(t.kind)) + " table";
  if (t.partitions.empty()) return s + " without partitions";
  s += ": ";
  for (std::size_t i = 0; i < t.partitions.size(); ++i) {
    const auto& p = t.partitions[i];
    s += (i ? ", " : "") + std::to_string(p.number) + " " + to_string(p.fs) + " " + util::human_size(p.size);
  }
  return s;
}

}  // namespace ironstone::builder
