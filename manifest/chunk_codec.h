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

// How much of a chunk's signed entry ChunkDecoder::decode() checks.
enum class RawCheck {
  // The stored bytes against stored_hash, then decompression within the signed length; the
  // decoded bytes' hash only for a format-1 entry (no stored_hash). The flasher's and the
  // seeders' check: the decoded bytes are those of the signed stored bytes (zstd decoding
  // is deterministic), for a third of the hashing at a compression ratio of 3.
  kWhenUnsigned,
  // Also the decoded bytes' hash: what a publisher checks, so that a release's `hash`
  // (the chunk's name, and what a flasher's scan of a disk compares) holds for its bytes.
  kAlways,
};

class ProvenStored;

class ChunkDecoder {
 public:
  ChunkDecoder();
  ~ChunkDecoder();
  ChunkDecoder(const ChunkDecoder&) = delete;
  ChunkDecoder& operator=(const ChunkDecoder&) = delete;

  // Decodes the stored bytes of `entry` into out (resized to entry.length), with the
  // signed length as the hard limit. With a stored_hash (format 2) the stored bytes are
  // checked against it first, before zstd reads them; the decoded bytes' BLAKE2b-256 is
  // checked for a format-1 entry, or with RawCheck::kAlways.
  // Throws Error kCompression ("stored 4100 bytes do not decompress to 4194304 bytes")
  // or kHashMismatch. `out` is only meaningful when this returns.
  // Hashing the decoded bytes, zstd chunks are decoded one zstd block (<= 128 KiB) at a time
  // straight into `out`, each block hashed at once while it is in the CPU cache.
  // With `cpu`, the thread's CPU time of both stages is added to it.
  void decode(std::span<const std::uint8_t> stored, const Chunk& entry, std::vector<std::uint8_t>* out,
              DecodeCpu* cpu = nullptr, RawCheck raw = RawCheck::kWhenUnsigned);
  // Proves the stored bytes are `entry`'s without keeping what they decode to: the stored
  // hash (format 2), or decoding and the decoded bytes' hash (format 1). Throws as decode().
  void prove(std::span<const std::uint8_t> stored, const Chunk& entry, DecodeCpu* cpu = nullptr);
  // prove(), and the bytes as a ProvenStored for decode_proven() (no second hash).
  ProvenStored proven(std::shared_ptr<const std::vector<std::uint8_t>> stored, const Chunk& entry,
                      DecodeCpu* cpu = nullptr);
  // Decodes stored bytes proven for `entry` within the signed length, without hashing them
  // again. Throws Error kHashMismatch if `proven` was made for another entry.
  void decode_proven(const ProvenStored& proven, const Chunk& entry, std::vector<std::uint8_t>* out,
                     DecodeCpu* cpu = nullptr);

 private:
  // Decompresses the zstd frames of `stored` into `out` (exactly out.size() bytes), feeding
  // every block it produces to `hash`; returns the CPU ns spent hashing (when timed).
  std::uint64_t decompress_hashing(std::span<const std::uint8_t> stored, std::span<std::uint8_t> out,
                                   Blake2b256& hash, bool timed);
  // Decodes and checks the decoded bytes' hash against entry.hash.
  void decode_hashing(std::span<const std::uint8_t> stored, const Chunk& entry, std::vector<std::uint8_t>* out,
                      DecodeCpu* cpu);
  // Decodes within the signed length, no hashing (the stored bytes are proven).
  void decompress_proven(std::span<const std::uint8_t> stored, const Chunk& entry, std::vector<std::uint8_t>* out,
                         DecodeCpu* cpu);
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
  std::vector<std::uint8_t> scratch_;  // prove()'s decoded bytes of a format-1 entry
};

// A chunk's stored bytes proven against its signed entry (ChunkDecoder::prove()): only
// ChunkDecoder makes one, so a ProvenStored in hand means the check was done. The bytes are
// shared and never changed.
class ProvenStored {
 public:
  const std::shared_ptr<const std::vector<std::uint8_t>>& bytes() const { return bytes_; }
  const Hash256& chunk() const { return chunk_; }  // the entry's hash it was proven for

 private:
  friend class ChunkDecoder;
  ProvenStored(std::shared_ptr<const std::vector<std::uint8_t>> b, const Hash256& chunk)
      : bytes_(std::move(b)), chunk_(chunk) {}
  std::shared_ptr<const std::vector<std::uint8_t>> bytes_;
  Hash256 chunk_;
};

}  // namespace ironstone::manifest
