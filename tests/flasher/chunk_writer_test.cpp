// ChunkWriter: verify, then write at every pending offset, read each write back.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "flasher/chunk_writer.h"
#include "manifest/chunk_codec.h"
#include "tests/flasher/memory_target.h"
#include "tests/testutil/expect_error.h"
#include "tests/testutil/testutil.h"

namespace ironstone::flasher {
namespace {

using ::testing::HasSubstr;
constexpr std::uint32_t kChunk = 64 * 1024;

// A MemoryTarget whose reads of one offset come back with a bit flipped: a disk
// that accepts writes and returns something else.
class FlippingTarget final : public Target {
 public:
  FlippingTarget(std::uint64_t size, std::uint64_t flip_at) : inner_(size), flip_at_(flip_at) {}
  std::uint64_t size() const override { return inner_.size(); }
  void read_at(std::uint64_t offset, std::span<std::uint8_t> out) override {
    inner_.read_at(offset, out);
    if (flip_at_ >= offset && flip_at_ < offset + out.size()) out[flip_at_ - offset] ^= 0x10;
  }
  void write_at(std::uint64_t offset, std::span<const std::uint8_t> data) override { inner_.write_at(offset, data); }
  void zero_range(std::uint64_t offset, std::uint64_t length) override { inner_.zero_range(offset, length); }
  void flush() override {}
  std::string description() const override { return "flipping"; }
  MemoryTarget inner_;

 private:
  std::uint64_t flip_at_;
};

// Two chunks, chunk 0 at two offsets. format 1: no stored_hash; format 2: with one, and
// compressible bytes (zstd chunks).
struct Fixture {
  manifest::Manifest m;
  std::vector<std::vector<std::uint8_t>> raw, stored;
  explicit Fixture(int format = 1) {
    init_crypto();
    m.chunk_size = kChunk;
    m.image_size = 4 * kChunk;
    m.format_version = static_cast<std::uint32_t>(format);
    manifest::ChunkEncoder enc(3);
    for (std::uint64_t i = 0; i < 2; ++i) {
      auto bytes = testing::pseudo_random(kChunk, 40 + i, /*compressible=*/format == 2);
      manifest::Chunk c;
      c.hash = blake2b256(bytes);
      c.length = kChunk;
      std::vector<std::uint8_t> s;
      c.compression = enc.encode(bytes, &s);
      c.stored_size = static_cast<std::uint32_t>(s.size());
      if (format == 2) c.stored_hash = blake2b256(s);
      raw.push_back(bytes);
      stored.push_back(s);
      m.chunks.push_back(c);
    }
    m.chunks[0].offsets = {0, 2 * kChunk};  // chunk 0 twice, one copy at offset 0
    m.chunks[1].offsets = {3 * kChunk};
  }
  std::vector<std::vector<std::uint64_t>> all_pending() const {
    return {m.chunks[0].offsets, m.chunks[1].offsets};
  }
  std::shared_ptr<const std::vector<std::uint8_t>> shared(std::size_t i) const {
    return std::make_shared<const std::vector<std::uint8_t>>(stored[i]);
  }
};

TEST(ChunkWriter, VerifiedChunksLandAtEveryOffsetAndAreReadBack) {
  Fixture f;
  MemoryTarget t(f.m.image_size);
  ChunkWriter w(t, f.m, f.all_pending(), 2);
  w.begin();
  w.submit(1, f.stored[1]);
  w.submit(0, f.stored[0]);
  w.finish();
  EXPECT_EQ(t.bytes(0, kChunk), f.raw[0]);
  EXPECT_EQ(t.bytes(2 * kChunk, kChunk), f.raw[0]);
  EXPECT_EQ(t.bytes(3 * kChunk, kChunk), f.raw[1]);
  EXPECT_EQ(w.positions_pending(), 3u);
  EXPECT_EQ(w.positions_verified(), 3u);
  EXPECT_EQ(w.bytes_written(), 3u * kChunk);
  EXPECT_EQ(w.chunks_done(), 2u);
}

TEST(ChunkWriter, CpuByStageCountsTheWorkersDecodeWriteAndReadBack) {
  Fixture f;
  MemoryTarget t(f.m.image_size);
  ChunkWriter w(t, f.m, f.all_pending(), 2);
  EXPECT_EQ(w.cpu().write.ns.load(), 0u);
  w.begin();
  w.submit(1, f.stored[1]);
  w.submit(0, f.stored[0]);
  w.finish();
  EXPECT_GT(w.cpu().decode.blake2b.ns.load(), 0u);
  EXPECT_GT(w.cpu().write.ns.load(), 0u);
  EXPECT_GT(w.cpu().read_back.ns.load(), 0u);
}

TEST(ChunkWriter, StoredBytesFailingTheSignedHashAreNeverWritten) {
  Fixture f;
  MemoryTarget t(f.m.image_size);
  ChunkWriter w(t, f.m, f.all_pending(), 1);
  auto bad = f.stored[1];
  bad[bad.size() / 2] ^= 0x01;
  w.submit(1, bad);
  EXPECT_THROW(w.finish(), Error);
  EXPECT_EQ(t.writes(), 0u);
  EXPECT_EQ(w.positions_verified(), 0u);
}

TEST(ChunkWriter, WriteThatReadsBackDifferentlyFailsNamingChunkAndOffset) {
  Fixture f;
  FlippingTarget t(f.m.image_size, 3 * kChunk + 100);
  ChunkWriter w(t, f.m, f.all_pending(), 1);
  w.submit(1, f.stored[1]);
  EXPECT_ERROR_EQ(w.finish(), Errc::kVerify,
               "flash: chunk 1 @ 0x30000: the target does not read back the verified bytes just written "
                  "(first difference @ 0x30064)");
  EXPECT_EQ(w.positions_verified(), 0u);
}

TEST(ChunkWriter, FirstChunkIsWrittenOnlyByFinishAndReadBackToo) {
  Fixture f;
  FlippingTarget t(f.m.image_size, 5);
  ChunkWriter w(t, f.m, f.all_pending(), 2);
  w.submit(0, f.stored[0]);
  w.submit(1, f.stored[1]);
  EXPECT_ERROR_EQ(w.finish(), Errc::kVerify,
                  "flash: chunk 0 @ 0x0: the target does not read back the verified bytes just written "
                  "(first difference @ 0x5)");
  EXPECT_EQ(t.inner_.bytes(2 * kChunk, kChunk), f.raw[0]);  // the other copy went first
  EXPECT_EQ(w.positions_verified(), 2u);                   // all but offset 0
}

TEST(ChunkWriter, FormatTwoStoredBytesFailingTheStoredHashAreNeverWritten) {
  Fixture f(2);
  ASSERT_EQ(f.m.chunks[1].compression, manifest::Compression::kZstd);
  MemoryTarget t(f.m.image_size);
  ChunkWriter w(t, f.m, f.all_pending(), 1);
  auto bad = f.stored[1];
  bad[bad.size() / 2] ^= 0x01;
  w.submit(1, bad);
  EXPECT_ERROR_HAS(w.finish(), manifest::Errc::kHashMismatch,
                   "flash: chunk 1 @ 0x30000: hash mismatch: stored bytes' BLAKE2b ");
  EXPECT_EQ(t.writes(), 0u);
}

// Fetched over HTTP, a chunk comes proven: the writer decodes it and hashes nothing.
TEST(ChunkWriter, ProvenChunksAreDecodedWithoutASecondHashAndLandAtEveryOffset) {
  Fixture f(2);
  MemoryTarget t(f.m.image_size);
  ChunkWriter w(t, f.m, f.all_pending(), 2);
  manifest::ChunkDecoder dec;
  w.begin();
  w.submit(1, dec.proven(f.shared(1), f.m.chunks[1]));
  w.submit(0, dec.proven(f.shared(0), f.m.chunks[0]));
  w.finish();
  EXPECT_EQ(t.bytes(0, kChunk), f.raw[0]);
  EXPECT_EQ(t.bytes(2 * kChunk, kChunk), f.raw[0]);
  EXPECT_EQ(t.bytes(3 * kChunk, kChunk), f.raw[1]);
  EXPECT_EQ(w.positions_verified(), 3u);
  EXPECT_EQ(w.cpu().decode.blake2b.ns.load(), 0u);
  EXPECT_GT(w.cpu().decode.zstd.ns.load(), 0u);
}

TEST(ChunkWriter, AProofForAnotherChunkIsRefusedAndNothingIsWritten) {
  Fixture f(2);
  MemoryTarget t(f.m.image_size);
  ChunkWriter w(t, f.m, f.all_pending(), 1);
  manifest::ChunkDecoder dec;
  w.submit(1, dec.proven(f.shared(0), f.m.chunks[0]));
  EXPECT_ERROR_EQ(w.finish(), manifest::Errc::kHashMismatch,
                  "flash: chunk 1 @ 0x30000: stored bytes proven for chunk " + f.m.chunks[0].hash.hex() +
                      ", not for " + f.m.chunks[1].hash.hex());
  EXPECT_EQ(t.writes(), 0u);
}

}  // namespace
}  // namespace ironstone::flasher
