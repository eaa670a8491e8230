// `ironstone-build installer`: turn an upstream arm64 base image (Raspberry Pi OS Lite, a
// Debian or Armbian image for the Rock 5B; raw, .img.xz or .img.zst) into the installer SD
// image that boots, starts ironstone-flasher and flashes the node with zero touch.
//
// Rootless: the base is decompressed into a sparse temporary file next to --out, its
// partitions are found from the MBR/GPT and filesystem magic, the ext4 root is edited with
// debugfs and the FAT boot partition with mtools (disk/partition_table.h, disk/image_fs.h),
// then the temporary file is renamed to --out. On any error nothing is left at --out (an existing --out is kept).
//
// What goes into the root filesystem:
//   /usr/local/bin/ironstone-flasher                 the arm64 flasher (0755)
//   /usr/local/lib/ironstone/*.so*                   the shared libraries it needs beyond glibc (0644)
//   /etc/ironstone/flasher.conf                      seeder, board, channel, key, target (0644)
//   /etc/ironstone/trusted.pub                       the release signing public key (0644)
//   /etc/ironstone/enrolment.key                     this card's enrolment secret key (0600,
//                                                    builder/enrolment.h; made fresh per card)
//   /usr/local/lib/ironstone/bin/mtools, mcopy/mdir/mtype -> mtools
//                                                    only when the base has no /usr/bin/mcopy: the
//                                                    flasher's identity step edits the flashed boot
//                                                    partition with mtools (--mtools FILE, arm64)
//   /usr/share/ironstone/boards/*.json               the board profiles (what the flasher detects
//                                                    and drives; --board must be one of them)
//   /etc/systemd/system/ironstone-flasher.service    the unit (0644), enabled through
//   /etc/systemd/system/multi-user.target.wants/ironstone-flasher.service -> ../ironstone-flasher.service
// and the bases' interactive first-boot wizards are disabled: userconfig.service and
// systemd-firstboot.service masked (-> /dev/null), Armbian's /root/.not_logged_in_yet removed,
// Raspberry Pi OS's init=/usr/lib/raspberrypi-sys-mods/firstboot dropped from cmdline.txt,
// and the card gets partition ids of its own (builder/installer_ids.h).
// Thread safety: one call at a time per output path.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "boards/profile.h"
#include "builder/enrolment.h"
#include "disk/partition_table.h"

namespace ironstone::builder {

struct InstallerOptions {
  std::filesystem::path base;        // upstream image: raw, .img.xz, .img.zst
  std::filesystem::path out;         // installer image to write (raw)
  std::string seeder;                // http(s)://host[:port]
  std::filesystem::path public_key;  // minisign public key trusted for releases
  std::string board;                 // optional: empty = the flasher detects it
  std::string channel = "stable";
  std::string target;                // optional: target device, e.g. /dev/nvme0n1
  std::filesystem::path flasher;     // the arm64 ironstone-flasher (see default_flasher_path)
  // Where the flasher's arm64 shared libraries are looked up (default: Debian's multiarch dirs).
  std::vector<std::filesystem::path> library_dirs;
  bool copy_libraries = true;        // false: the base image must provide them
  // An arm64 mtools binary, shipped (with its libraries) when the base has no /usr/bin/mcopy;
  // empty: none (a warning then says the identity step will fail on the node).
  std::filesystem::path mtools;
  std::function<void(std::uint64_t done, std::optional<std::uint64_t> total)> progress;
  std::function<void(const std::string&)> log;  // one line per step
  // The card's enrolment key (builder/enrolment.h): its name in the seeder's file (empty:
  // "card-<hex>"), and a file to append its public line to once the image is complete
  // (the seeder's --enrolment-keys; empty: only printed).
  std::string card_name;
  std::filesystem::path enrolment_keys;
  // The board profiles shipped to kInstallerProfilesDir (every *.json; empty: the installed
  // /usr/share/ironstone/boards, else the source tree's boards/).
  std::filesystem::path profiles_dir;
};

struct InstallerResult {
  disk::PartitionTable table;
  disk::Partition root;
  std::optional<disk::Partition> boot;
  std::vector<std::string> files;        // paths written inside the root filesystem
  std::vector<std::string> libraries;    // shared libraries copied (file names)
  std::vector<std::string> disabled;     // first-boot wizards disabled, human-readable
  std::vector<std::string> warnings;
  std::uint64_t image_size = 0;
  CardEnrolment card;  // the enrolment key made for this card (the secret half is on the card only)
};

inline constexpr const char* kInstallerFlasherPath = "/usr/local/bin/ironstone-flasher";
inline constexpr const char* kInstallerLibDir = "/usr/local/lib/ironstone";
inline constexpr const char* kInstallerProfilesDir = boards::kInstalledProfilesDir;  // where the flasher looks
inline constexpr const char* kInstallerToolDir = "/usr/local/lib/ironstone/bin";  // first in the unit's PATH
inline constexpr const char* kInstallerConfigPath = "/etc/ironstone/flasher.conf";
inline constexpr const char* kInstallerKeyPath = "/etc/ironstone/trusted.pub";
inline constexpr const char* kInstallerUnitPath = "/etc/systemd/system/ironstone-flasher.service";
inline constexpr const char* kInstallerWantsLink = "/etc/systemd/system/multi-user.target.wants/ironstone-flasher.service";

// Throws builder::Error: kUsage for bad options (seeder URL, board, flasher of the wrong
// architecture), kKey for an unreadable key, kInput for an unreadable/truncated base or one
// without an ext4 root, kStore when the output cannot be written or the root is full; a
// malformed partition table or a failing debugfs/mtools is a disk::Errc error.
InstallerResult make_installer(const InstallerOptions& options);

// The arm64 flasher the cross build makes (tools/cross-arm64.sh: build-arm64/flasher/
// ironstone-flasher), looked for in the source tree above `exe` (the running binary) and in an
// installed layout (<prefix>/share/ironstone/arm64/ironstone-flasher); nullopt when none exists.
std::optional<std::filesystem::path> default_flasher_path(const std::filesystem::path& exe);

// The files' contents, for tests and docs.
std::string installer_unit_text();
std::string installer_config_text(const InstallerOptions& options);
// Raspberry Pi OS's cmdline.txt without the firstboot init=; nullopt when nothing changes.
std::optional<std::string> strip_firstboot_init(const std::string& cmdline);

}  // namespace ironstone::builder
