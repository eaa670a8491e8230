// Self-disarm of the installer card, and re-arming it (docs/installer.md, "Self-disarm").
//
// For boards whose firmware boots the SD card before the NVMe and has no boot order the
// flasher can set (the Rock 5B with stock U-Boot in SPI NOR): after a verified flash, the
// card's boot files (the profile's "disarm_card" list, e.g. /boot/extlinux/extlinux.conf,
// /boot.scr) are renamed to "<name>.ironstone-disarmed" on every partition of the card that
// has them, so the firmware finds nothing to boot there and falls through to the NVMe.
// re-arming renames them back. Nothing else on the card changes.
//
// The card: for disarm, the disk holding the filesystem mounted at "/" (the installer runs
// from its card): <root>/proc/self/mountinfo gives the device number of "/", and
// <root>/sys/dev/block/<major:minor> (or <root>/sys/class/block/<source>) its disk. For
// re-arm, the device or card image given.
// Each partition of the card's table (disk/partition_table.h) is edited
//   - through its mount point (under root) when it is mounted (rename(2) + fsync of the
//     directory): the installer's own root filesystem;
//   - else in place: ext2/3/4 with debugfs (ln + unlink), FAT with mtools (mren)
//     (disk/image_fs.h); partitions with other filesystems are skipped.
// A file found both armed and disarmed is an error (the operator decides which one is right).
// Disarm finding nothing to rename and nothing already disarmed is an error: the card would
// boot again. Errors: Error(flasher::Errc::kCard) naming the card, partition and file.
// Thread safety: one call at a time per card.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace ironstone::flasher {

inline constexpr std::string_view kDisarmedSuffix = ".ironstone-disarmed";

struct CardFile {
  unsigned partition = 0;  // 1-based; 0: a card without a partition table
  std::string path;        // inside the partition, the armed name, e.g. "/boot/extlinux/extlinux.conf"
  std::string via;         // "mounted at /", "ext4 (debugfs)", "FAT (mtools)"
};

struct CardChanges {
  std::string card;                // for messages: "/dev/mmcblk1" (root stripped), or the image path
  std::vector<CardFile> changed;   // renamed by this call
  std::vector<CardFile> already;   // already in the wanted state
  // One line: "disarmed /dev/mmcblk1: partition 1 /boot/extlinux/extlinux.conf (mounted at /)".
  std::string summary(bool disarm) const;
};

// The disk under `root` holding the filesystem mounted at "/": "<root>/dev/<disk>".
std::filesystem::path booted_disk(const std::filesystem::path& root);

// Disarms `card` (a block device or image under `root`): renames each of `files` found.
CardChanges disarm_card(const std::filesystem::path& root, const std::filesystem::path& card,
                        const std::vector<std::string>& files);
// Renames each "<file>.ironstone-disarmed" found back to "<file>".
CardChanges rearm_card(const std::filesystem::path& root, const std::filesystem::path& card,
                       const std::vector<std::string>& files);

// The flasher's "disarm" step: the booted card, refused when it is the target itself.
std::string disarm_step(const std::filesystem::path& root, const std::filesystem::path& target,
                        const std::vector<std::string>& files);

}  // namespace ironstone::flasher
