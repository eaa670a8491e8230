// util/file.h: a small file read whole within a bound.
#include "util/file.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "tests/testutil/testutil.h"

namespace ironstone::util {
namespace {

using ::ironstone::testing::TempDir;

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 23);
  return s;
}

void write(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary) << bytes;
}

TEST(ReadSmallFile, ReadsEveryByteWhateverTheSizeAgainstTheBlocksItReadsIn) {
  TempDir dir;
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{65535}, std::size_t{65536}, std::size_t{65537},
                        std::size_t{200000}}) {
    const auto p = dir.path() / std::to_string(n);
    write(p, pattern(n));
    std::string why;
    auto got = read_small_file(p, 200000, &why);
    ASSERT_TRUE(got) << n << ": " << why;
    EXPECT_EQ(*got, pattern(n)) << n;
  }
}

TEST(ReadSmallFile, OneByteOverTheLimitIsRefusedNamingTheLimit) {
  TempDir dir;
  const auto p = dir.path() / "big";
  write(p, pattern(70001));
  std::string why;
  EXPECT_TRUE(read_small_file(p, 70001, &why)) << why;
  EXPECT_FALSE(read_small_file(p, 70000, &why));
  EXPECT_EQ(why, "larger than 70000 bytes");
  EXPECT_FALSE(read_small_file(dir.path() / "absent", 10, &why));
  EXPECT_EQ(why, "cannot open: No such file or directory");
}

TEST(ReadUpTo, StopsAtTheLimitAndSetsEofOnlyWhenTheStreamHadFewerBytes) {
  {
    std::istringstream in(pattern(70000));
    EXPECT_EQ(read_up_to(in, 70000), pattern(70000));
    EXPECT_FALSE(in.eof()) << "exactly the limit: one read() of that many bytes does not reach the end";
  }
  {
    std::istringstream in(pattern(70001));
    EXPECT_EQ(read_up_to(in, 70000), pattern(70000));
    EXPECT_FALSE(in.eof());
  }
  {
    std::istringstream in(pattern(500));
    EXPECT_EQ(read_up_to(in, 70000), pattern(500));
    EXPECT_TRUE(in.eof());
    EXPECT_FALSE(in.bad());
  }
}

}  // namespace
}  // namespace ironstone::util
