// The `debian:` source of a gold recipe (builder/recipe.h): a bootable arm64 base image built
// from Debian packages with mmdebstrap, then handed to the gold build like any `base:` image.
//
// What the base is (docs/gold-image.md, "Debian sources"):
//   - a GPT disk of disk.size: partition 1 the EFI system partition (FAT32, disk.boot), mounted
//     at /boot/efi, holding systemd-boot as the removable-media loader (/EFI/BOOT/BOOTAA64.EFI),
//     the kernel and initrd, and one loader entry; partition 2 the ext4 root (the arm64 root
//     partition type), filling the rest. fstab and the kernel command line name partitions by
//     PARTUUID, so a second disk with other ids (an installer card) is never mistaken for it;
//   - Debian's minbase plus kDebianBasePackages and the recipe's packages (debian.packages and
//     packages:), man pages, docs (but copyright files) and translations left out;
//   - systemd-networkd with DHCP on every Ethernet port; a kernel/initramfs hook that copies a
//     new kernel and initrd to the EFI system partition, so `apt upgrade` keeps it bootable.
// The ids (disk GUID, partition GUIDs, filesystem UUID and FAT serial) are derived from the
// cache key: the same inputs make the same ids, different recipes different ones.
//
// The cache: CACHE/debian-<key>.img (and .json, its inputs). The key hashes everything that goes
// in (suite, the apt sources used, the package set, the layout, the board, this format's
// version), so changing any of them builds anew; a finished base is reused as it is (delete it
// to pick up newer packages). An unfinished build leaves nothing under that name.
//
// Host requirements (checked first, each failure a kTool error that says how to fix it):
// mmdebstrap, mke2fs, mkfs.vfat, mtools, sfdisk, gzip, systemctl; root (mmdebstrap --mode=root and
// `mke2fs -d` keep the files' owners); on a non-arm64 host the qemu-aarch64 binfmt handler
// (qemu-user-static), enabled. Measured: 15.5 min (mmdebstrap 928 s) under qemu-user on an idle
// 2-core x86-64 machine, the initrd made once (debian_base.cpp, kDeferInitramfsHooks).
// Errors: builder::Errc (kTool, kStore, kInput, kRecipe). Thread safety: one build per cache at a time.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "builder/recipe.h"

namespace ironstone::builder {

// What every debian: base gets besides the recipe's packages: the kernel and its initrd, the
// boot loader, systemd, cloud-init (and growpart, so the root grows to the node's disk), and
// what the installer's flasher needs on a UEFI board (efibootmgr, mtools).
inline const std::vector<std::string> kDebianBasePackages = {
    "linux-image-arm64", "initramfs-tools", "systemd", "systemd-sysv", "udev", "dbus", "kmod",
    "systemd-boot-efi", "cloud-init", "cloud-guest-utils", "e2fsprogs", "efibootmgr", "mtools",
    "ca-certificates", "curl", "iproute2"};

// The ids of one base image (lower-case, as sfdisk/mke2fs take them).
struct DiskIds {
  std::string disk_guid, esp_guid, root_guid;  // GPT
  std::string root_uuid;                       // the ext4 filesystem
  std::string esp_serial;                      // the FAT volume id, 8 hex digits
};

struct DebianBaseOptions {
  std::filesystem::path cache;  // created when missing
  std::function<void(const std::string&)> log;  // one line per step, and mmdebstrap's output
  std::filesystem::path apt_dir = "/etc/apt";   // the host's apt sources (tests point elsewhere)
  // stderr is a terminal the user watches: mmdebstrap draws its own step names and progress
  // bars there (its messages then go to the terminal, not to `log`).
  bool terminal_progress = false;
};

struct DebianBase {
  std::filesystem::path image;  // CACHE/debian-<key>.img
  std::string key;              // 64 hex digits
  bool from_cache = false;
};

// The apt sources the base is built from, one-line style ("deb URI SUITE main"). With
// debian.mirror: that mirror only. Without: the host's Debian mirror (from APT_DIR/sources.list
// and sources.list.d/*.list|*.sources), plus its -updates and -security entries when the host
// runs the same suite. Throws kTool when the host has no Debian source to use.
std::vector<std::string> debian_apt_sources(const DebianSource& debian, const std::filesystem::path& apt_dir);

// The sorted, unique package set: kDebianBasePackages, debian.packages and packages:.
std::vector<std::string> debian_package_set(const Recipe& recipe);

// SHA-256 (hex) of everything that goes into the base.
std::string debian_base_key(const Recipe& recipe, const std::vector<std::string>& sources);

// The ids derived from a key.
DiskIds disk_ids(const std::string& key);

// "xxxxxxxx-xxxx-4xxx-Nxxx-xxxxxxxxxxxx" (version 4, RFC 4122 variant) from 32 hex digits.
std::string uuid_v4_from_hex(std::string hex32);

// The mmdebstrap command that bootstraps `root_dir`. With a `deb_cache` directory (which must
// exist) the downloaded .deb files are shared between builds: synced into the chroot's
// /var/cache/apt/archives before apt runs and back out afterwards, so a base that differs in
// one package downloads only that one (apt still checks every file against the signed index
// and fetches again what does not match).
std::vector<std::string> mmdebstrap_argv(const Recipe& recipe, const std::vector<std::string>& sources,
                                         const std::filesystem::path& root_dir,
                                         const std::filesystem::path& deb_cache = {});

// Texts written into the base (for tests and docs).
std::string debian_fstab_text(const DiskIds& ids);
std::string debian_loader_entry_text(const DiskIds& ids);
std::string debian_esp_hook_text();
std::string debian_network_text();
// The sfdisk script of the layout ("label: gpt", two partitions).
std::string debian_sfdisk_script(const DiskLayout& layout, const DiskIds& ids);

// Throws kTool naming what is missing and how to get it (see above).
void check_debian_host();

// The base image for `recipe` (REQUIRES: recipe.debian), from the cache or built into it.
DebianBase debian_base(const Recipe& recipe, const DebianBaseOptions& options);

}  // namespace ironstone::builder
