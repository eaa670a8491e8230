// The base layer (util/): formatting and the error type every component uses.
#include <gtest/gtest.h>

#include <array>
#include <system_error>

#include "util/error.h"
#include "util/format.h"
#include "util/hex.h"

namespace ironstone {
namespace {

TEST(HumanSize, UsesBinaryUnitsWithOneDecimal) {
  EXPECT_EQ(util::human_size(512), "512 B");
  EXPECT_EQ(util::human_size(1536), "1.5 KiB");
  EXPECT_EQ(util::human_size(64ull << 20), "64.0 MiB");
  EXPECT_EQ(util::human_size(3ull << 39), "1.5 TiB");
}

TEST(HexOffset, IsUpperCaseHexWithPrefix) {
  EXPECT_EQ(hex_offset(0), "0x0");
  EXPECT_EQ(hex_offset(0x1CA00000), "0x1CA00000");
}

TEST(Hex, RoundTripsAndRejectsWrongLengthOrDigits) {
  const std::array<std::uint8_t, 3> bytes{0x00, 0xAB, 0x7F};
  EXPECT_EQ(to_hex(bytes), "00ab7f");
  std::array<std::uint8_t, 3> out{};
  EXPECT_TRUE(from_hex("00AB7f", out));
  EXPECT_EQ(out, bytes);
  EXPECT_FALSE(from_hex("00ab7", out));
  EXPECT_FALSE(from_hex("00ab7g", out));
}

TEST(Hex, LowerHexIsExactlyThatManyLowerCaseDigits) {
  EXPECT_TRUE(is_lower_hex("00ab7f", 6));
  EXPECT_FALSE(is_lower_hex("00AB7f", 6));
  EXPECT_FALSE(is_lower_hex("00ab7f", 8));
  EXPECT_FALSE(is_lower_hex("00ab7g", 6));
}

TEST(Error, WithContextPutsContextInFrontAndKeepsTheCode) {
  const Error e(std::make_error_code(std::errc::io_error), "hash mismatch");
  const Error outer = e.with_context("flash: chunk 3");
  EXPECT_STREQ(outer.what(), "flash: chunk 3: hash mismatch");
  EXPECT_EQ(outer.code(), e.code());
}

}  // namespace
}  // namespace ironstone
