// read_back(): the compare of a written range, slice by slice (flasher/read_back.h).
#include "flasher/read_back.h"

#include <gtest/gtest.h>

#include "tests/flasher/memory_target.h"
#include "tests/testutil/expect_error.h"
#include "tests/testutil/testutil.h"

namespace ironstone::flasher {
namespace {

constexpr std::size_t kRange = 4 * kReadBackSlice + 1000;  // four whole slices and a short one
constexpr std::uint64_t kOff = 0x100000;

struct Written {
  MemoryTarget t{kOff + kRange + 4096};
  std::vector<std::uint8_t> bytes = testing::pseudo_random(kRange, 7);
  Written() { t.write_at(kOff, bytes); }
};

TEST(ReadBack, AWriteThatReadsBackTheSameBytesPassesInSlicesOfTheScratchSize) {
  Written w;
  std::vector<std::uint8_t> scratch;
  read_back(w.t, kOff, w.bytes, scratch);
  EXPECT_EQ(w.t.reads(), 5u);  // 4 whole slices and the rest
  EXPECT_EQ(scratch.size(), kReadBackSlice);
}

TEST(ReadBack, ADifferenceInALaterSliceIsFoundAndItsTargetOffsetNamed) {
  Written w;
  w.t.raw()[kOff + 3 * kReadBackSlice + 17] ^= 0x01;
  std::vector<std::uint8_t> scratch;
  EXPECT_ERROR_EQ(read_back(w.t, kOff, w.bytes, scratch), Errc::kVerify,
                  "the target does not read back the verified bytes just written (first difference @ 0xD00011)");
}

TEST(ReadBack, ADifferenceInTheLastShortSliceIsFound) {
  Written w;
  w.t.raw()[kOff + kRange - 1] ^= 0x80;
  std::vector<std::uint8_t> scratch;
  EXPECT_ERROR_EQ(read_back(w.t, kOff, w.bytes, scratch), Errc::kVerify,
                  "the target does not read back the verified bytes just written (first difference @ 0x11003E7)");
}

TEST(ReadBack, AReadErrorRisesWithItsOffset) {
  Written w;
  w.t.inject_error(MemoryTarget::Op::kRead, kOff + 2 * kReadBackSlice + 5);
  std::vector<std::uint8_t> scratch;
  EXPECT_ERROR_HAS(read_back(w.t, kOff, w.bytes, scratch), Errc::kIo, "reading back: memory: read @ 0x900005");
}

TEST(ReadBack, ARangeShorterThanASliceIsReadOnceWithAScratchOfItsSize) {
  Written w;
  std::vector<std::uint8_t> scratch;
  read_back(w.t, kOff, std::span(w.bytes).first(100), scratch);
  EXPECT_EQ(w.t.reads(), 1u);
  EXPECT_EQ(scratch.size(), 100u);
}

}  // namespace
}  // namespace ironstone::flasher
