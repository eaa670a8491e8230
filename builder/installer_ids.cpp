#include "builder/installer_ids.h"

#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>

#include "builder/debian_base.h"
#include "builder/errc.h"
#include "disk/image_fs.h"
#include "util/hex.h"
#include "util/process.h"

namespace ironstone::builder {

namespace fs = std::filesystem;

namespace {

std::string random_hex(std::size_t bytes) {
  std::vector<std::uint8_t> b(bytes);
  randombytes_buf(b.data(), b.size());
  return to_hex(b);
}

std::string random_uuid() { return uuid_v4_from_hex(random_hex(16)); }

void sfdisk(const std::vector<std::string>& args, const fs::path& image) {
  std::vector<std::string> argv{"sfdisk", "--quiet", "--no-reread", "--no-tell-kernel"};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto r = util::run_process(argv);
  if (r.exit_code != 0)
    throw error(Errc::kTool, "installer: new partition ids for " + image.string() + ": " + util::failure_message(argv, r));
}

// The MBR disk signature (bytes 440..443, little-endian) as 8 lower-case hex digits.
std::string mbr_signature(int fd, const fs::path& image) {
  std::array<std::uint8_t, 4> b{};
  if (::pread(fd, b.data(), b.size(), 440) != 4) throw error(Errc::kInput, image.string() + ": cannot read the MBR signature @ 440");
  char s[9];
  std::snprintf(s, sizeof s, "%02x%02x%02x%02x", b[3], b[2], b[1], b[0]);
  return s;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

std::vector<IdChange> reassign_partition_ids(const fs::path& image, int fd, const disk::PartitionTable& table) {
  std::vector<IdChange> changes;
  if (table.kind == disk::TableKind::kGpt) {
    sfdisk({"--disk-id", image.string(), random_uuid()}, image);
    for (const auto& p : table.partitions) {
      if (p.uuid.empty()) continue;
      IdChange c{p.uuid, random_uuid()};
      sfdisk({"--part-uuid", image.string(), std::to_string(p.number), c.to}, image);
      changes.push_back(c);
    }
  } else if (table.kind == disk::TableKind::kMbr) {
    const std::string old_sig = mbr_signature(fd, image);
    std::string sig = random_hex(4);
    if (sig == old_sig || sig == "00000000") sig[0] = sig[0] == 'a' ? 'b' : 'a';
    sfdisk({"--disk-id", image.string(), "0x" + sig}, image);
    changes.push_back({old_sig + "-", sig + "-"});
  }
  return changes;
}

std::string replace_ids(std::string text, const std::vector<IdChange>& changes) {
  for (const auto& c : changes) {
    if (c.from.empty()) continue;
    const std::string from = lower(c.from);
    std::string folded = lower(text);
    for (std::size_t at = folded.find(from); at != std::string::npos; at = folded.find(from, at + c.to.size())) {
      text.replace(at, from.size(), c.to);
      folded.replace(at, from.size(), c.to);
    }
  }
  return text;
}

std::vector<std::string> rewrite_id_references(const fs::path& image, const disk::Ext4Image& root,
                                               const std::optional<disk::Partition>& boot,
                                               const std::vector<IdChange>& changes, RootEdit& edit) {
  std::vector<std::string> changed;
  if (changes.empty()) return changed;
  if (auto st = root.stat("/etc/fstab"); st && st->type == disk::Ext4Inode::Type::kRegular) {
    const std::string before = root.cat("/etc/fstab");
    if (const std::string after = replace_ids(before, changes); after != before) {
      edit.add_text("/etc/fstab", after, st->mode, {st->uid, st->gid});
      changed.push_back("/etc/fstab");
    }
  }
  if (!boot) return changed;
  disk::FatImage fat(image, boot->offset);
  std::vector<std::string> files{"/cmdline.txt"};
  if (auto entries = fat.list("/loader/entries"))
    for (const auto& e : *entries) files.push_back("/loader/entries/" + e);
  for (const auto& f : files) {
    const auto before = fat.read(f);
    if (!before) continue;
    if (const std::string after = replace_ids(*before, changes); after != *before) {
      fat.write(f, after);
      changed.push_back("boot:" + f);
    }
  }
  return changed;
}

}  // namespace ironstone::builder
