// Per-chunk encoding: zstd (independently decompressible frames) or raw, and the
// verifying decoder used before any chunk is written (docs/design.md, "Trust rules", rule 2).
// Thread safety: a ChunkEncoder / ChunkDecoder holds a zstd context: one per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "manifest/manifest.h"

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
  void decode(std::span<const std::uint8_t> stored, const Chunk& entry, std::vector<std::uint8_t>* out);

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

}  // namespace ironstone::manifest
