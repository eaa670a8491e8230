// Per-chunk encoding: zstd (independently decompressible frames) or raw, and the
// verifying decoder used before any chunk is written (docs/design.md, "Trust rules", rule 2).
// Thread safety: a ChunkEncoder / ChunkDecoder holds a zstd context: one per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "manifest/manifest.h"
#include "util/cpu_clock.h"

namespace ironstone::manifest {

bool is_all_zero(std::span<const std::uint8_t> data);

class ChunkEncoder {
 public:
  explicit ChunkEncoder(int level);
  ~ChunkEncoder();
  ChunkEncoder(const ChunkEncoder&) = delete;
  ChunkEncoder& operator=(const ChunkEncoder&) = delete;

  // Compresses `data` into *stored; returns kRaw (and a copy) when zstd does not shrink it.
  Compression encode(std::span<const std::uint8_t> data, std::vector<std::uint8_t>* stored);
  // The same without a copy: returns the stored bytes, in this encoder's buffer (valid until the
  // next call) for kZstd, or `data` itself for kRaw; *how says which.
  std::span<const std::uint8_t> encode(std::span<const std::uint8_t> data, Compression* how);

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
  int level_;
};

// CPU time of ChunkDecoder::decode by stage, summed over the threads that decode.
struct DecodeCpu {
  CpuStage zstd;     // decompression (and, for raw chunks, the copy)
  CpuStage blake2b;  // the BLAKE2b-256 of the decoded bytes
};

class ChunkDecoder {
 public:
  ChunkDecoder();
  ~ChunkDecoder();
  ChunkDecoder(const ChunkDecoder&) = delete;
  ChunkDecoder& operator=(const ChunkDecoder&) = delete;

  // Decodes the stored bytes of `entry` into out (resized to entry.length), with the
  // signed length as the hard limit, and checks the BLAKE2b-256 of the result.
  // Throws Error kCompression ("stored 4100 bytes do not decompress to 4194304 bytes")
  // or kHashMismatch. `out` is only meaningful when this returns.
  // zstd chunks are decoded one zstd block (<= 128 KiB) at a time straight into `out`, each
  // block hashed at once while it is in the CPU cache: one pass over the bytes, no copy.
  // With `cpu`, the thread's CPU time of both stages is added to it.
  void decode(std::span<const std::uint8_t> stored, const Chunk& entry, std::vector<std::uint8_t>* out,
              DecodeCpu* cpu = nullptr);

 private:
  // Decompresses the zstd frames of `stored` into `out` (exactly out.size() bytes), feeding
  // every block it produces to `hash`; returns the CPU ns spent hashing (when timed).
  std::uint64_t decompress_hashing(std::span<const std::uint8_t> stored, std::span<std::uint8_t> out,
                                   Blake2b256& hash, bool timed);
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

}  // namespace ironstone::manifest
