// Read-back of a write: the flasher's proof that a written position holds the verified
// bytes (docs/design.md, "Trust rules", rule 2; ChunkWriter reads back every write).
//
// read_back() reads the range in slices of kReadBackSlice (a whole 4 MiB chunk in one read)
// into a caller-owned scratch buffer and compares each slice with the expected bytes.
// Measured (docs/performance.md, "Per-chunk pipeline", 2026-12-03 22:57): slices of 256 KiB,
// which stay in L2 between the kernel's copy and the compare, made the one-core pipeline
// slower (0.42-0.44x of 2.5 GbE against 0.47x), and 4 MiB slices the same as one read.
//
// Errors: Errc::kVerify when the target holds other bytes, naming the first differing
// byte's offset on the target ("... first difference @ 0x30005"); a read failure rises with
// its own offset ("reading back: /dev/nvme0n1: read @ 0x30000: ..."). The caller adds which chunk and position ("flash: chunk 3 @ 0x30000: ").
//
// Thread safety: as Target::read_at(); each thread uses its own scratch buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "flasher/target.h"

namespace ironstone::flasher {

inline constexpr std::size_t kReadBackSlice = 4 * 1024 * 1024;

// REQUIRES: off + expected.size() <= target.size(). `scratch` is resized as needed and
// may be reused across calls (it is only a buffer).
void read_back(Target& target, std::uint64_t off, std::span<const std::uint8_t> expected,
               std::vector<std::uint8_t>& scratch);

}  // namespace ironstone::flasher
