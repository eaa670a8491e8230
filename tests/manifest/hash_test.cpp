#include "manifest/hash.h"

#include <gtest/gtest.h>

namespace ironstone {
namespace {

TEST(Hash, Blake2b256OfEmptyInputMatchesKnownAnswer) {
  init_crypto();
  EXPECT_EQ(blake2b256({}).hex(), "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
}

TEST(Hash, IncrementalHashEqualsOneShot) {
  init_crypto();
  std::vector<std::uint8_t> data(100000, 7);
  Blake2b256 h;
  h.update(std::span(data).first(333));
  h.update(std::span(data).subspan(333));
  EXPECT_EQ(h.final(), blake2b256(data));
}

TEST(Hash, FromHexRejectsWrongLengthAndNonHex) {
  EXPECT_FALSE(Hash256::from_hex("abc"));
  EXPECT_FALSE(Hash256::from_hex(std::string(64, 'g')));
  auto h = Hash256::from_hex(std::string(64, 'A'));
  ASSERT_TRUE(h);
  EXPECT_EQ(h->hex(), std::string(64, 'a'));
}

}  // namespace
}  // namespace ironstone
