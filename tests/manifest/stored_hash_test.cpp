// Format 2's stored_hash (manifest/chunk_codec.h): the stored bytes are proven before zstd reads
// them, decoding stays within the signed length, the decoded bytes' hash is checked only for a
// format-1 entry or when asked (RawCheck::kAlways: publishers), and a ProvenStored is only
// decoded for the entry it was proven for.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "manifest/chunk_codec.h"
#include "manifest/manifest.h"
#include "tests/testutil/expect_error.h"
#include "tests/testutil/testutil.h"

namespace ironstone::manifest {
namespace {

using ::ironstone::testing::pseudo_random;

struct Encoded {
  std::vector<std::uint8_t> data, stored;
  Chunk format1, format2;  // the same chunk without and with stored_hash
};

Encoded encoded(std::size_t length, std::uint32_t seed, bool compressible = true) {
  Encoded x;
  x.data = pseudo_random(length, seed, compressible);
  ChunkEncoder enc(3);
  const Compression how = enc.encode(x.data, &x.stored);
  x.format1 = Chunk{blake2b256(x.data), static_cast<std::uint32_t>(length), static_cast<std::uint32_t>(x.stored.size()),
                    how, {0}, std::nullopt};
  x.format2 = x.format1;
  x.format2.stored_hash = how == Compression::kRaw ? x.format1.hash : blake2b256(x.stored);
  return x;
}

TEST(StoredHash, AFormatTwoChunkDecodesToItsBytes) {
  for (bool compressible : {true, false}) {
    const Encoded x = encoded(65536, 21, compressible);
    ChunkDecoder dec;
    std::vector<std::uint8_t> out;
    dec.decode(x.stored, x.format2, &out);
    EXPECT_EQ(out, x.data) << compressible;
  }
}

TEST(StoredHash, AFlippedStoredByteIsRefusedByTheStoredHashBeforeZstdReadsIt) {
  const Encoded x = encoded(65536, 22);
  ASSERT_EQ(x.format2.compression, Compression::kZstd);
  auto flipped = x.stored;
  flipped[flipped.size() / 2] ^= 1;
  ChunkDecoder dec;
  std::vector<std::uint8_t> out;
  EXPECT_ERROR_EQ(dec.decode(flipped, x.format2, &out), Errc::kHashMismatch,
                  "hash mismatch: stored bytes' BLAKE2b " + blake2b256(flipped).hex() + ", signed stored_hash " +
                      x.format2.stored_hash->hex());
  EXPECT_TRUE(out.empty());  // nothing was decoded
}

TEST(StoredHash, ProvenStoredBytesStillDecodeOnlyWithinTheSignedLength) {
  // A signer's frame of 128 KiB under a 64 KiB entry, its stored hash right: zstd stops at the limit.
  Encoded big = encoded(131072, 23);
  big.format2.length = 65536;
  ChunkDecoder dec;
  std::vector<std::uint8_t> out;
  EXPECT_ERROR_HAS(dec.decode(big.stored, big.format2, &out), Errc::kCompression, "zstd: ");
  EXPECT_LE(out.size(), 65536u);
  // And a frame that ends short of the signed length.
  Encoded small = encoded(1000, 24);
  small.format2.length = 65536;
  EXPECT_ERROR_EQ(dec.decode(small.stored, small.format2, &out), Errc::kCompression,
                  "decompressed to 1000 bytes, signed length is 65536");
}

TEST(StoredHash, TheDecodedBytesHashIsCheckedForFormatOneAndWhenAPublisherAsks) {
  // The stored hash holds but the signed `hash` does not: a flasher writes the signed stored
  // bytes' decoding; a publisher (RawCheck::kAlways) refuses the release.
  Encoded x = encoded(65536, 25);
  x.format2.hash = blake2b256(pseudo_random(65536, 26, true));
  ChunkDecoder dec;
  std::vector<std::uint8_t> out;
  dec.decode(x.stored, x.format2, &out);
  EXPECT_EQ(out, x.data);
  EXPECT_ERROR_EQ(dec.decode(x.stored, x.format2, &out, nullptr, RawCheck::kAlways), Errc::kHashMismatch,
                  "hash mismatch: BLAKE2b " + blake2b256(x.data).hex() + ", signed " + x.format2.hash.hex());
  Chunk format1 = x.format1;
  format1.hash = x.format2.hash;
  EXPECT_ERROR_HAS(dec.decode(x.stored, format1, &out), Errc::kHashMismatch, "hash mismatch: BLAKE2b ");
}

TEST(StoredHash, ProveHashesOnlyTheStoredBytesOfFormatTwoAndDecodesFormatOne) {
  Encoded x = encoded(65536, 27);
  ChunkDecoder dec;
  DecodeCpu cpu;
  dec.prove(x.stored, x.format2, &cpu);
  EXPECT_EQ(cpu.zstd.seconds(), 0.0);  // nothing decompressed
  auto flipped = x.stored;
  flipped[3] ^= 1;
  EXPECT_ERROR_HAS(dec.prove(flipped, x.format2), Errc::kHashMismatch, "signed stored_hash");
  EXPECT_ERROR_HAS(dec.prove(flipped, x.format1), Errc::kCompression, "zstd: ");
  Chunk wrong = x.format1;
  wrong.hash = blake2b256(flipped);
  EXPECT_ERROR_HAS(dec.prove(x.stored, wrong), Errc::kHashMismatch, "hash mismatch: BLAKE2b ");
  EXPECT_ERROR_EQ(dec.prove(std::span(x.stored).first(10), x.format2), Errc::kCompression,
                  "stored size 10 is not the signed " + std::to_string(x.stored.size()));
}

TEST(StoredHash, AProvenChunkDecodesWithoutASecondHashAndOnlyForItsOwnEntry) {
  const Encoded a = encoded(65536, 28), b = encoded(65536, 29);
  ChunkDecoder dec;
  for (const Chunk* entry : {&a.format1, &a.format2}) {
    ProvenStored proven = dec.proven(std::make_shared<const std::vector<std::uint8_t>>(a.stored), *entry);
    DecodeCpu cpu;
    std::vector<std::uint8_t> out;
    dec.decode_proven(proven, *entry, &out, &cpu);
    EXPECT_EQ(out, a.data);
    EXPECT_EQ(cpu.blake2b.seconds(), 0.0);
    EXPECT_ERROR_EQ(dec.decode_proven(proven, b.format2, &out), Errc::kHashMismatch,
                    "stored bytes proven for chunk " + a.format2.hash.hex() + ", not for " + b.format2.hash.hex());
  }
  auto flipped = a.stored;
  flipped[7] ^= 1;
  EXPECT_ERROR_HAS(dec.proven(std::make_shared<const std::vector<std::uint8_t>>(flipped), a.format2),
                   Errc::kHashMismatch, "signed stored_hash");
}

}  // namespace
}  // namespace ironstone::manifest
