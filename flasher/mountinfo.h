// The mount table of <proc_root>/self/mountinfo (proc(5)), parsed: what is mounted where.
// Bounded (kMaxMounts lines); escapes (\040 for a space, ...) decoded.
// Errors: Error(flasher::Errc::kBadTarget) when the file cannot be read. Thread safety: reentrant.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace ironstone::flasher {

inline constexpr std::size_t kMaxMounts = 65536;

struct MountEntry {
  std::string dev;          // "major:minor" of the filesystem's device, e.g. "179:2"
  std::string root;         // the directory of the filesystem mounted ("/" for the whole filesystem)
  std::string mount_point;  // e.g. "/", "/boot/firmware"
  std::string fstype;       // e.g. "ext4", "vfat"
  std::string source;       // e.g. "/dev/mmcblk1p2", "/dev/root"
};

std::vector<MountEntry> read_mountinfo(const std::filesystem::path& proc_root);

}  // namespace ironstone::flasher
