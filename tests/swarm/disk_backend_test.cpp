// swarm/disk_backend.h: the names the seeder's --disk-io takes.
#include "swarm/disk_backend.h"

#include <gtest/gtest.h>

namespace ironstone::swarm {
namespace {

TEST(DiskBackend, NamesRoundTripAndNothingElseParses) {
  for (DiskBackend b : {DiskBackend::kMmap, DiskBackend::kPosix}) EXPECT_EQ(parse_disk_backend(disk_backend_name(b)), b);
  EXPECT_EQ(disk_backend_name(DiskBackend::kPosix), "posix");
  EXPECT_FALSE(parse_disk_backend("POSIX"));
  EXPECT_FALSE(parse_disk_backend(""));
  EXPECT_TRUE(disk_io_constructor(DiskBackend::kPosix));
  EXPECT_TRUE(disk_io_constructor(DiskBackend::kMmap));
}

}  // namespace
}  // namespace ironstone::swarm
