// The stages of a debian: base build (builder/debian_base.h), as functions over one DebianBuild:
// bootstrap (mmdebstrap into a directory), configure (fstab, network, the ESP hook), the EFI
// system partition (mkfs.vfat + mtools: systemd-boot, kernel, initrd, loader entry), the root
// filesystem (mke2fs -d), and the disk (sfdisk, both filesystems copied in, sparse).
// Work files live in CACHE/.build-<id>/, removed at the end whatever happens, except when a
// mount is still below it (a killed mmdebstrap): then it is left, and named in the error.
// Errors: builder::Errc. Thread safety: one build per cache directory at a time.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "builder/debian_base.h"

namespace ironstone::builder {

struct DebianBuild {
  const Recipe& recipe;
  DiskLayout layout;
  DiskIds ids;
  std::vector<std::string> sources;
  std::filesystem::path cache;
  std::function<void(const std::string&)> log;
  bool terminal_progress = false;  // DebianBaseOptions::terminal_progress
};

// Builds the base image into `out` (atomically: nothing at `out` unless complete).
void build_debian_image(const DebianBuild& build, const std::filesystem::path& out);
// The stages after the bootstrap, on a root directory that holds the installed system
// (/boot/vmlinuz-*, /boot/initrd.img-*, systemd-boot's EFI binary, systemd-networkd's unit);
// `work` is a scratch directory. Used by build_debian_image and by the tests.
void finish_debian_image(const DebianBuild& build, const std::filesystem::path& root, const std::filesystem::path& work,
                         const std::filesystem::path& out);

// The partitions of a layout, in bytes (1 MiB aligned; the last MiB is left for the backup GPT).
struct GptGeometry {
  std::uint64_t esp_offset, esp_size, root_offset, root_size;
};
GptGeometry gpt_geometry(const DiskLayout& layout);

// True when a mount point of this process's mount namespace lies below `dir`.
bool mounts_below(const std::filesystem::path& dir);

}  // namespace ironstone::builder
