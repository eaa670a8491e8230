// scan_target(): which chunk positions and zero ranges the target already holds.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <mutex>

#include "flasher/scan.h"
#include "flasher/target.h"
#include "tests/flasher/memory_target.h"
#include "tests/testutil/testutil.h"

namespace ironstone::flasher {
namespace {

using manifest::Manifest;
constexpr std::uint32_t kChunk = 64 * 1024;

// Image layout (chunk index: content): 0 A, 1 B, 2 zero, 3 zero, 4 A (duplicate of 0),
// 5 C, 6 zero, 7 D-tail (1000 bytes, the image's short tail).
std::vector<std::uint8_t> make_image() {
  std::vector<std::uint8_t> img(7 * kChunk + 1000, 0);
  auto put = [&](std::size_t index, std::uint64_t seed, std::size_t len) {
    auto d = testing::pseudo_random(len, seed);
    std::copy(d.begin(), d.end(), img.begin() + static_cast<std::ptrdiff_t>(index * kChunk));
  };
  put(0, 1, kChunk);
  put(1, 2, kChunk);
  put(4, 1, kChunk);
  put(5, 3, kChunk);
  put(7, 4, 1000);
  return img;
}

// A manifest for img as the builder would make it: unique chunks sorted by hash, zero ranges merged.
Manifest manifest_for(const std::vector<std::uint8_t>& img) {
  init_crypto();
  Manifest m;
  m.chunk_size = kChunk;
  m.image_size = img.size();
  std::map<Hash256, manifest::Chunk> chunks;
  for (std::uint64_t off = 0; off < img.size(); off += kChunk) {
    auto len = static_cast<std::uint32_t>(std::min<std::uint64_t>(kChunk, img.size() - off));
    std::span<const std::uint8_t> bytes(img.data() + off, len);
    if (std::all_of(bytes.begin(), bytes.end(), [](std::uint8_t b) { return b == 0; })) {
      if (!m.zero_ranges.empty() && m.zero_ranges.back().offset + m.zero_ranges.back().length == off) {
        m.zero_ranges.back().length += len;
      } else {
        m.zero_ranges.push_back({off, len});
      }
      continue;
    }
    Hash256 h = blake2b256(bytes);
    auto& c = chunks[h];
    c.hash = h;
    c.length = len;
    c.stored_size = len;
    c.compression = manifest::Compression::kRaw;
    c.offsets.push_back(off);
  }
  for (auto& [h, c] : chunks) m.chunks.push_back(c);
  return m;
}

std::size_t chunk_at(const Manifest& m, std::uint64_t offset, std::size_t* pos) {
  for (std::size_t i = 0; i < m.chunks.size(); ++i) {
    for (std::size_t j = 0; j < m.chunks[i].offsets.size(); ++j) {
      if (m.chunks[i].offsets[j] == offset) {
        *pos = j;
        return i;
      }
    }
  }
  ADD_FAILURE() << "no chunk at " << offset;
  return 0;
}

bool present_at(const Manifest& m, const ScanResult& r, std::size_t index) {
  std::size_t pos = 0;
  std::size_t i = chunk_at(m, index * kChunk, &pos);
  return r.present[i][pos];
}

class ScanTest : public ::testing::Test {
 protected:
  std::vector<std::uint8_t> image = make_image();
  Manifest m = manifest_for(image);
  MemoryTarget target{image.size()};
};

TEST_F(ScanTest, ManifestHelperDeduplicatesAndMergesZeroRanges) {
  ASSERT_EQ(m.chunks.size(), 4u);  // A (twice), B, C, D
  ASSERT_EQ(m.zero_ranges.size(), 2u);
  EXPECT_EQ(m.zero_ranges[0], (manifest::ZeroRange{2 * kChunk, 2 * kChunk}));
}

TEST_F(ScanTest, TargetHoldingTheImageHasEverythingPresent) {
  target.raw() = image;
  ScanResult r = scan_target(target, m, 3);
  EXPECT_EQ(r.positions_missing(), 0u);
  EXPECT_EQ(r.positions_present(), 5u);
  for (std::size_t i = 0; i < m.chunks.size(); ++i) EXPECT_TRUE(r.chunk_complete(i));
  EXPECT_THAT(r.zero_present, ::testing::ElementsAre(true, true));
  EXPECT_EQ(r.bytes_present, image.size());
  EXPECT_EQ(r.bytes_scanned, image.size());
  EXPECT_EQ(r.read_errors, 0u);
  EXPECT_FALSE(r.cancelled);
}

TEST_F(ScanTest, ChunksWithWrongBytesAreMissingAndRightOnesPresent) {
  target.raw() = image;
  target.raw()[4 * kChunk + 17] ^= 0x01;   // second copy of A: one bit off
  target.raw()[7 * kChunk + 999] ^= 0x80;  // last byte of the tail
  ScanResult r = scan_target(target, m, 2);
  EXPECT_TRUE(present_at(m, r, 0));
  EXPECT_TRUE(present_at(m, r, 1));
  EXPECT_FALSE(present_at(m, r, 4));
  EXPECT_TRUE(present_at(m, r, 5));
  EXPECT_FALSE(present_at(m, r, 7));
  std::size_t pos = 0;
  EXPECT_FALSE(r.chunk_complete(chunk_at(m, 0, &pos)));  // A still has to be written at chunk 4
  EXPECT_EQ(r.positions_missing(), 2u);
}

TEST_F(ScanTest, BlankTargetHasOnlyZeroRangesPresent) {
  ScanResult r = scan_target(target, m, 2);
  EXPECT_EQ(r.positions_present(), 0u);
  EXPECT_THAT(r.zero_present, ::testing::ElementsAre(true, true));
  EXPECT_EQ(r.bytes_present, 3u * kChunk);
}

TEST_F(ScanTest, ZeroRangeHoldingStaleDataIsNotPresent) {
  target.raw() = image;
  target.raw()[3 * kChunk + 5] = 1;  // inside the first zero range's second piece
  ScanResult r = scan_target(target, m, 2);
  EXPECT_THAT(r.zero_present, ::testing::ElementsAre(false, true));
}

TEST_F(ScanTest, ZeroRangesAreNotReadWhenNotAsked) {
  target.raw() = image;
  ScanOptions o;
  o.check_zero_ranges = false;
  ScanResult r = scan_target(target, m, o);
  EXPECT_THAT(r.zero_present, ::testing::ElementsAre(false, false));
  EXPECT_EQ(r.bytes_scanned, image.size() - 3 * kChunk);
}

TEST_F(ScanTest, ReadErrorCountsAsMissingAndIsReported) {
  target.raw() = image;
  target.inject_error(MemoryTarget::Op::kRead, 5 * kChunk + 10);
  ScanResult r = scan_target(target, m, 2);
  EXPECT_FALSE(present_at(m, r, 5));
  EXPECT_TRUE(present_at(m, r, 1));
  EXPECT_EQ(r.read_errors, 1u);
  EXPECT_EQ(r.first_read_error, "memory: read @ 0x5000A: Input/output error");
}

TEST_F(ScanTest, TargetShorterThanImageLeavesTheRestMissing) {
  MemoryTarget small(5 * kChunk);
  small.raw().assign(image.begin(), image.begin() + 5 * kChunk);
  ScanResult r = scan_target(small, m, 2);
  EXPECT_TRUE(present_at(m, r, 4));
  EXPECT_FALSE(present_at(m, r, 5));
  EXPECT_FALSE(present_at(m, r, 7));
  EXPECT_THAT(r.zero_present, ::testing::ElementsAre(true, false));
}

TEST_F(ScanTest, ProgressIsMonotonicAndReachesTheTotal) {
  target.raw() = image;
  std::mutex mu;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> calls;
  scan_target(target, m, 4, [&](std::uint64_t done, std::uint64_t total) {
    std::lock_guard lock(mu);
    calls.emplace_back(done, total);
  });
  ASSERT_EQ(calls.size(), 8u);  // 5 chunk positions + 3 zero pieces
  for (std::size_t i = 1; i < calls.size(); ++i) EXPECT_GT(calls[i].first, calls[i - 1].first);
  EXPECT_EQ(calls.back().first, image.size());
  EXPECT_EQ(calls.back().second, image.size());
}

TEST_F(ScanTest, CancelledScanCountsNothingItDidNotRead) {
  target.raw() = image;
  std::atomic<bool> cancel{true};
  ScanOptions o;
  o.cancel = &cancel;
  ScanResult r = scan_target(target, m, o);
  EXPECT_TRUE(r.cancelled);
  EXPECT_EQ(r.positions_present(), 0u);
  EXPECT_THAT(r.zero_present, ::testing::ElementsAre(false, false));
}

TEST_F(ScanTest, ExceptionFromProgressCallbackStopsTheScan) {
  target.raw() = image;
  EXPECT_THROW(scan_target(target, m, 3, [](std::uint64_t, std::uint64_t) { throw std::runtime_error("stop"); }),
               std::runtime_error);
}

// A real file target (created empty, i.e. all holes) for the image of make_image().
struct FileTargetFixture {
  testing::TempDir dir;
  std::vector<std::uint8_t> image = make_image();
  Manifest m = manifest_for(image);
  std::unique_ptr<Target> t = open_target(dir / "disk.img", TargetOptions{image.size()});
};

TEST(ScanFileTarget, ScansARealFileWithSeveralThreads) {
  FileTargetFixture f;
  auto& [dir, image, m, t] = f;
  t->write_at(0, std::span(image.data(), 2 * kChunk));  // A and B; the rest is a hole
  ScanResult r = scan_target(*t, m, 3);
  EXPECT_TRUE(present_at(m, r, 0));
  EXPECT_TRUE(present_at(m, r, 1));
  EXPECT_FALSE(present_at(m, r, 4));
  EXPECT_FALSE(present_at(m, r, 5));
  EXPECT_THAT(r.zero_present, ::testing::ElementsAre(true, true));
}

// A freshly created (all-hole) file target: nothing is read at all, every chunk is
// missing and every zero range is right.
TEST(ScanFileTarget, HolesOfASparseFileAreNotRead) {
  FileTargetFixture f;
  ScanResult r = scan_target(*f.t, f.m, 2);
  EXPECT_EQ(r.bytes_scanned, 0u);
  EXPECT_EQ(r.positions_present(), 0u);
  EXPECT_THAT(r.zero_present, ::testing::ElementsAre(true, true));
}

TEST(ScanFileTarget, KnownZeroIsTrueOnlyWhereTheFileHasNoData) {
  testing::TempDir dir;
  TargetOptions o;
  o.image_size = 8 * kChunk;
  auto t = open_target(dir / "disk.img", o);
  std::vector<std::uint8_t> data(kChunk, 7);
  t->write_at(4 * kChunk, data);
  EXPECT_TRUE(t->known_zero(0, 4 * kChunk));
  EXPECT_FALSE(t->known_zero(0, 4 * kChunk + 1));
  EXPECT_FALSE(t->known_zero(4 * kChunk, kChunk));
  EXPECT_TRUE(t->known_zero(5 * kChunk, 3 * kChunk));  // from the end of the data to EOF
  EXPECT_FALSE(t->known_zero(7 * kChunk, 2 * kChunk));  // out of range: unknown
  EXPECT_FALSE(t->known_zero(0, 0));
}

// A position reading as zeros is not a stored chunk (no hashing needed) — unless the
// signed chunk itself is all zeros, which a manifest may list: then it is present.
TEST_F(ScanTest, ZerosArePresentOnlyForAChunkOfZeros) {
  std::vector<std::uint8_t> zeros(kChunk, 0);
  manifest::Chunk z;
  z.hash = blake2b256(zeros);
  z.length = kChunk;
  z.stored_size = kChunk;
  z.compression = manifest::Compression::kRaw;
  z.offsets = {2 * kChunk};
  m.chunks.push_back(z);
  m.zero_ranges[0] = {3 * kChunk, kChunk};
  ScanResult r = scan_target(target, m, 2);  // a blank target
  EXPECT_TRUE(r.present.back()[0]);
  EXPECT_EQ(r.positions_present(), 1u);
}

TEST_F(ScanTest, OnlyZeroRangesAreReadWhenChunksAreNotAsked) {
  target.raw() = image;
  ScanOptions o;
  o.check_chunks = false;
  ScanResult r = scan_target(target, m, o);
  EXPECT_EQ(r.positions_present(), 0u);
  EXPECT_THAT(r.zero_present, ::testing::ElementsAre(true, true));
  EXPECT_EQ(r.bytes_scanned, 3u * kChunk);
}

}  // namespace
}  // namespace ironstone::flasher
