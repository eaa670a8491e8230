// The image hash (docs/release-format.md, "Image hash"): BLAKE2b-256 over the
// BLAKE2b-256 of every chunk-sized block of the image, in image order, zero
// blocks included (the last block may be shorter). Equal images give equal
// hashes and nothing else does (BLAKE2b collision resistance), while both the
// publisher and the flasher can hash blocks in parallel.
#pragma once

#include <vector>

#include "manifest/manifest.h"

namespace ironstone::manifest {

Hash256 image_hash_from_block_hashes(const std::vector<Hash256>& block_hashes);

// The block hashes the manifest claims, in image order (chunk hashes at their
// offsets, hashes of zero blocks in zero ranges), and their image hash. A target
// whose every block hashes as listed here holds exactly the signed image.
std::vector<Hash256> block_hashes_of(const Manifest& m);
Hash256 image_hash_of(const Manifest& m);

}  // namespace ironstone::manifest
