// Where the flasher keeps its downloaded chunks (flasher/chunk_cache.h): auto goes by the
// MemAvailable of <root>/proc/meminfo.
#include "flasher/chunk_cache.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/testutil/testutil.h"

namespace ironstone::flasher {
namespace {

using ::ironstone::testing::TempDir;

constexpr std::uint64_t kMiB = 1024 * 1024;

class ChunkCacheTest : public ::testing::Test {
 protected:
  void meminfo(const std::string& text) {
    std::filesystem::create_directories(root.path() / "proc");
    std::ofstream(root.path() / "proc/meminfo") << text;
  }
  TempDir root;
  std::string why;
};

TEST_F(ChunkCacheTest, AutoKeepsInMemoryWhatTakesAtMostHalfTheAvailableMemory) {
  meminfo("MemTotal:        8000000 kB\nMemFree:         1000000 kB\nMemAvailable:    2048000 kB\n");
  EXPECT_EQ(memory_available(root.path()), 2048000ull * 1024);
  EXPECT_TRUE(cache_in_memory(ChunkCache::kAuto, 1000 * kMiB, root.path(), &why));
  EXPECT_EQ(why, "in memory (1000.0 MiB of 2000.0 MiB available)");
  EXPECT_FALSE(cache_in_memory(ChunkCache::kAuto, 1001 * kMiB, root.path(), &why));
  EXPECT_EQ(why, "on disk (1001.0 MiB of 2000.0 MiB available: more than half)");
}

TEST_F(ChunkCacheTest, AutoWithoutMemAvailableKeepsChunksOnDisk) {
  meminfo("MemTotal:        8000000 kB\n");
  EXPECT_FALSE(memory_available(root.path()));
  EXPECT_FALSE(cache_in_memory(ChunkCache::kAuto, kMiB, root.path(), &why));
  EXPECT_EQ(why, "on disk (1.0 MiB; " + (root.path() / "proc/meminfo").string() + " has no MemAvailable)");
}

TEST_F(ChunkCacheTest, ExplicitModesDoNotLookAtMemory) {
  EXPECT_TRUE(cache_in_memory(ChunkCache::kMemory, 1ull << 40, root.path(), &why));
  EXPECT_EQ(why, "in memory (1048576.0 MiB, --cache memory)");
  EXPECT_FALSE(cache_in_memory(ChunkCache::kDisk, kMiB, root.path(), &why));
  EXPECT_EQ(why, "on disk (1.0 MiB, --cache disk)");
}

}  // namespace
}  // namespace ironstone::flasher
