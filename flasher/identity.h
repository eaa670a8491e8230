// The flasher's "identity" step (docs/first-boot.md): after the final verification, ask the
// seeder for this node's identity (by its primary MAC) and write it as a cloud-init NoCloud
// seed (flasher/nocloud.h) into the FAT boot partition of the image just written.
//
// Order: the seed is written after the target verified against the signed image hash, so
// verification checks exactly the signed bytes; the seed then changes a few chunks of the
// boot partition (node-specific, expected). A later run finds those chunks changed, fetches
// them again, verifies, and writes the seed again (see boot_only_changes()).
//
// Policy:
//   - no MAC, or the seeder answers 404 (MAC not in its inventory, or no inventory): the step
//     is skipped with a warning; the node boots with the image's own defaults;
//   - an identity but no FAT partition in the image's partition table: Errc::kIdentity naming
//     the target and the table (a node that should join the cluster would silently not);
//   - mtools missing or failing: Errc::kIdentity with the tool's complaint.
// The identity document is not signed: it is checked for form only (api/node_identity.h).
// Thread safety: one call at a time per target.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "disk/partition_table.h"
#include "flasher/nocloud.h"
#include "flasher/seeder_client.h"
#include "flasher/target.h"
#include "manifest/manifest.h"

namespace ironstone::flasher {

// The image's partition table, read through the target (image_size bounds it).
disk::PartitionTable read_target_table(Target& target, std::uint64_t image_size);

// Writes `files` into the root of the FAT boot partition of the image on `target`, which is
// open at `target_path` (mtools edits it there; the caller flushes the Target afterwards).
// Returns the partition written to. Throws Errc::kIdentity.
disk::Partition write_seed(Target& target, const std::filesystem::path& target_path, std::uint64_t image_size,
                           const std::vector<SeedFile>& files);

// The whole step; `node_id` is the id this flasher reports under (it goes into the seed's
// /etc/ironstone/node.env with the seeder's URL and the release, for the first boot's reports). Returns the line reported to the seeder and logged, e.g.
//   "rack1-n01 (agent, joins https://10.0.0.10:6443): NoCloud seed written to partition 1 (FAT) of /dev/nvme0n1".
std::string identity_step(const SeederClient& seeder, const std::string& mac, const std::string& node_id,
                          Target& target, const std::filesystem::path& target_path, const manifest::Manifest& m);

// True when something had changed on the target and every changed chunk and zero range lies
// (at least partly) in the boot partition: what a previous run's identity seed changes.
// `pending` lists the changed offsets per chunk; zero_present[k]: zero range k read as zeros.
bool boot_only_changes(const manifest::Manifest& m, const std::vector<std::vector<std::uint64_t>>& pending,
                       const std::vector<bool>& zero_present, const disk::Partition& boot);

}  // namespace ironstone::flasher
