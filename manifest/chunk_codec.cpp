#include "manifest/chunk_codec.h"

#include <cstring>
#define ZSTD_STATIC_LINKING_ONLY  // the buffer-less streaming decoder (exported by libzstd 1.5)
#include <zstd.h>

namespace ironstone::manifest {

bool is_all_zero(std::span<const std::uint8_t> data) {
  // Word-at-a-time scan; the common case (non-zero data) exits on the first word.
  std::size_t i = 0;
  for (; i + 64 <= data.size(); i += 64) {
    std::uint64_t acc = 0, w[8];
    std::memcpy(w, data.data() + i, 64);
    for (auto x : w) acc |= x;
    if (acc) return false;
  }
  for (; i < data.size(); ++i)
    if (data[i]) return false;
  return true;
}

struct ChunkEncoder::Ctx {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  // Output buffer, grown to the largest bound seen; never zero-filled (zstd writes what it returns).
  std::unique_ptr<std::uint8_t[]> out;
  std::size_t out_size = 0;
  ~Ctx() { ZSTD_freeCCtx(cctx); }
};

ChunkEncoder::ChunkEncoder(int level) : ctx_(std::make_unique<Ctx>()), level_(level) {}
ChunkEncoder::~ChunkEncoder() = default;

std::span<const std::uint8_t> ChunkEncoder::encode(std::span<const std::uint8_t> data, Compression* how) {
  // A full bound lets zstd take its faster path (docs: dstCapacity >= ZSTD_compressBound).
  const std::size_t bound = ZSTD_compressBound(data.size());
  if (ctx_->out_size < bound) {
    ctx_->out = std::make_unique_for_overwrite<std::uint8_t[]>(bound);
    ctx_->out_size = bound;
  }
  std::size_t n = ZSTD_compressCCtx(ctx_->cctx, ctx_->out.get(), bound, data.data(), data.size(), level_);
  if (!ZSTD_isError(n) && n < data.size()) {
    *how = Compression::kZstd;
    return {ctx_->out.get(), n};
  }
  *how = Compression::kRaw;
  return data;
}

Compression ChunkEncoder::encode(std::span<const std::uint8_t> data, std::vector<std::uint8_t>* stored) {
  Compression how;
  std::span<const std::uint8_t> bytes = encode(data, &how);
  stored->assign(bytes.begin(), bytes.end());
  return how;
}

struct ChunkDecoder::Ctx {
  ZSTD_DCtx* dctx = ZSTD_createDCtx();
  ~Ctx() { ZSTD_freeDCtx(dctx); }
};

ChunkDecoder::ChunkDecoder() : ctx_(std::make_unique<Ctx>()) {}
ChunkDecoder::~ChunkDecoder() = default;

namespace {
Error zstd_error(std::size_t code, std::uint64_t length) {
  return error(Errc::kCompression,
               std::string("zstd: ") + ZSTD_getErrorName(code) + " (signed length " + std::to_string(length) + ")");
}
}  // namespace

std::uint64_t ChunkDecoder::decompress_hashing(std::span<const std::uint8_t> stored, std::span<std::uint8_t> out,
                                               Blake2b256& hash, bool timed) {
  // Buffer-less streaming (zstd.h): each call decodes one block header or one block straight
  // into `out` after the previous one (the earlier bytes are the window); the capacity given is
  // what is left of the signed length, so zstd cannot write past it. Concatenated frames (and
  // skippable ones) are decoded in turn, as ZSTD_decompressDCtx does.
  std::size_t in = 0, pos = 0;
  std::uint64_t hash_ns = 0;
  while (in < stored.size()) {
    if (std::size_t r = ZSTD_decompressBegin(ctx_->dctx); ZSTD_isError(r)) throw zstd_error(r, out.size());
    for (std::size_t need; (need = ZSTD_nextSrcSizeToDecompress(ctx_->dctx)) != 0; in += need) {
      if (need > stored.size() - in)
        throw error(Errc::kCompression, "zstd: the stored bytes end inside a frame (signed length " +
                                            std::to_string(out.size()) + ")");
      const std::size_t n =
          ZSTD_decompressContinue(ctx_->dctx, out.data() + pos, out.size() - pos, stored.data() + in, need);
      if (ZSTD_isError(n)) throw zstd_error(n, out.size());
      if (n == 0) continue;
      const std::uint64_t t0 = timed ? thread_cpu_ns() : 0;
      hash.update(out.subspan(pos, n));  // still in the cache: zstd just wrote it
      if (timed) hash_ns += thread_cpu_ns() - t0;
      pos += n;
    }
  }
  if (pos != out.size())
    throw error(Errc::kCompression,
                "decompressed to " + std::to_string(pos) + " bytes, signed length is " + std::to_string(out.size()));
  return hash_ns;
}

namespace {
void check_stored_size(std::span<const std::uint8_t> stored, const Chunk& entry) {
  if (stored.size() != entry.stored_size)
    throw error(Errc::kCompression, "stored size " + std::to_string(stored.size()) + " is not the signed " +
                                        std::to_string(entry.stored_size));
}

// The stored bytes against the signed stored_hash (REQUIRES: entry.stored_hash).
void check_stored_hash(std::span<const std::uint8_t> stored, const Chunk& entry, DecodeCpu* cpu) {
  const std::uint64_t t0 = cpu ? thread_cpu_ns() : 0;
  const Hash256 h = blake2b256(stored);
  if (cpu) cpu->blake2b.add(thread_cpu_ns() - t0);
  if (h != *entry.stored_hash)
    throw error(Errc::kHashMismatch,
                "hash mismatch: stored bytes' BLAKE2b " + h.hex() + ", signed stored_hash " + entry.stored_hash->hex());
}
}  // namespace

void ChunkDecoder::decompress_proven(std::span<const std::uint8_t> stored, const Chunk& entry,
                                     std::vector<std::uint8_t>* out, DecodeCpu* cpu) {
  const std::uint64_t t0 = cpu ? thread_cpu_ns() : 0;
  out->resize(entry.length);
  if (entry.compression == Compression::kRaw) {
    std::memcpy(out->data(), stored.data(), stored.size());
  } else {
    // One call, the signed length as the capacity: zstd cannot write past it, and a frame that
    // would be longer is an error (dstSize_tooSmall), as is one that ends short (checked below).
    const std::size_t n = ZSTD_decompressDCtx(ctx_->dctx, out->data(), out->size(), stored.data(), stored.size());
    if (ZSTD_isError(n)) throw zstd_error(n, out->size());
    if (n != out->size())
      throw error(Errc::kCompression,
                  "decompressed to " + std::to_string(n) + " bytes, signed length is " + std::to_string(out->size()));
  }
  if (cpu) cpu->zstd.add(thread_cpu_ns() - t0);
}

void ChunkDecoder::decode_hashing(std::span<const std::uint8_t> stored, const Chunk& entry,
                                  std::vector<std::uint8_t>* out, DecodeCpu* cpu) {
  const std::uint64_t t0 = cpu ? thread_cpu_ns() : 0;
  out->resize(entry.length);
  Blake2b256 hasher;
  std::uint64_t hash_ns = 0;
  if (entry.compression == Compression::kRaw) {
    std::memcpy(out->data(), stored.data(), stored.size());
    const std::uint64_t t1 = cpu ? thread_cpu_ns() : 0;
    hasher.update(*out);
    if (cpu) hash_ns = thread_cpu_ns() - t1;
  } else {
    hash_ns = decompress_hashing(stored, *out, hasher, cpu != nullptr);
  }
  const Hash256 h = hasher.final();
  if (cpu) {
    cpu->blake2b.add(hash_ns);
    cpu->zstd.add(thread_cpu_ns() - t0 - hash_ns);
  }
  if (h != entry.hash)
    throw error(Errc::kHashMismatch, "hash mismatch: BLAKE2b " + h.hex() + ", signed " + entry.hash.hex());
}

void ChunkDecoder::decode(std::span<const std::uint8_t> stored, const Chunk& entry, std::vector<std::uint8_t>* out,
                          DecodeCpu* cpu, RawCheck raw) {
  check_stored_size(stored, entry);
  if (!entry.stored_hash) return decode_hashing(stored, entry, out, cpu);
  check_stored_hash(stored, entry, cpu);  // before zstd sees a byte
  if (raw == RawCheck::kAlways && entry.compression != Compression::kRaw)
    return decode_hashing(stored, entry, out, cpu);
  decompress_proven(stored, entry, out, cpu);
}

void ChunkDecoder::prove(std::span<const std::uint8_t> stored, const Chunk& entry, DecodeCpu* cpu) {
  check_stored_size(stored, entry);
  if (entry.stored_hash) return check_stored_hash(stored, entry, cpu);
  decode_hashing(stored, entry, &scratch_, cpu);
}

void ChunkDecoder::decode_proven(const ProvenStored& proven, const Chunk& entry, std::vector<std::uint8_t>* out,
                                 DecodeCpu* cpu) {
  if (proven.chunk() != entry.hash || !proven.bytes())
    throw error(Errc::kHashMismatch, "stored bytes proven for chunk " + proven.chunk().hex() + ", not for " +
                                         entry.hash.hex());
  decompress_proven(*proven.bytes(), entry, out, cpu);
}

ProvenStored ChunkDecoder::proven(std::shared_ptr<const std::vector<std::uint8_t>> stored, const Chunk& entry,
                                  DecodeCpu* cpu) {
  prove(*stored, entry, cpu);
  return ProvenStored(std::move(stored), entry.hash);
}

}  // namespace ironstone::manifest
