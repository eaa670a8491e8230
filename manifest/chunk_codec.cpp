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

void ChunkDecoder::decode(std::span<const std::uint8_t> stored, const Chunk& entry, std::vector<std::uint8_t>* out,
                          DecodeCpu* cpu) {
  if (stored.size() != entry.stored_size)
    throw error(Errc::kCompression, "stored size " + std::to_string(stored.size()) + " is not the signed " +
                                        std::to_string(entry.stored_size));
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

}  // namespace ironstone::manifest
