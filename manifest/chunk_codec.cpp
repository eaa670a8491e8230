#include "manifest/chunk_codec.h"

#include <cstring>
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

void ChunkDecoder::decode(std::span<const std::uint8_t> stored, const Chunk& entry, std::vector<std::uint8_t>* out) {
  if (stored.size() != entry.stored_size)
    throw error(Errc::kCompression, "stored size " + std::to_string(stored.size()) + " is not the signed " +
                                        std::to_string(entry.stored_size));
  out->resize(entry.length);
  if (entry.compression == Compression::kRaw) {
    std::memcpy(out->data(), stored.data(), stored.size());
  } else {
    // The output buffer is exactly the signed length: zstd cannot write past it.
    std::size_t n = ZSTD_decompressDCtx(ctx_->dctx, out->data(), out->size(), stored.data(), stored.size());
    if (ZSTD_isError(n))
      throw error(Errc::kCompression, std::string("zstd: ") + ZSTD_getErrorName(n) + " (signed length " +
                                          std::to_string(entry.length) + ")");
    if (n != entry.length)
      throw error(Errc::kCompression, "decompressed to " + std::to_string(n) + " bytes, signed length is " +
                                          std::to_string(entry.length));
  }
  Hash256 h = blake2b256(*out);
  if (h != entry.hash)
    throw error(Errc::kHashMismatch, "hash mismatch: BLAKE2b " + h.hex() + ", signed " + entry.hash.hex());
}

}  // namespace ironstone::manifest
