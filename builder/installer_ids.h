// The installer card's own partition ids. An installer is often made from the same upstream
// image as the gold image (Raspberry Pi OS on both, or the gold image itself on a UEFI board),
// and then both disks carry the same PARTUUIDs: with the card still inserted after the flash,
// the NVMe's boot loader may mount the card's root. So `installer` gives the card new ids —
// a random GPT disk GUID and partition GUIDs, or a random MBR disk signature (PARTUUID
// "<signature>-NN") — with sfdisk on the image file, and rewrites the references to the old
// ones in the card's /etc/fstab (root filesystem) and in the boot partition's cmdline.txt and
// systemd-boot loader entries. Filesystem UUIDs and labels are left as they are: the bases this
// project knows name their partitions by PARTUUID.
// Errors: builder::Errc::kTool when sfdisk fails; disk::Errc from the image tools.
// Thread safety: one call at a time per image.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "builder/image_edit.h"
#include "disk/partition_table.h"

namespace ironstone::builder {

struct IdChange {
  std::string from, to;  // PARTUUID text (GPT: a GUID; MBR: the 8 hex digits of the signature and '-')
};

// Gives the image's table new ids (sfdisk); returns what each PARTUUID became.
std::vector<IdChange> reassign_partition_ids(const std::filesystem::path& image, int fd, const disk::PartitionTable& table);

// `text` with every `from` (any letter case) replaced by its `to`.
std::string replace_ids(std::string text, const std::vector<IdChange>& changes);

// Rewrites the references: /etc/fstab into `edit` (applied by the caller), the boot
// partition's files directly. Returns the paths changed ("/etc/fstab", "boot:/cmdline.txt").
std::vector<std::string> rewrite_id_references(const std::filesystem::path& image, const disk::Ext4Image& root,
                                               const std::optional<disk::Partition>& boot,
                                               const std::vector<IdChange>& changes, RootEdit& edit);

}  // namespace ironstone::builder
