#include "boards/detect.h"

#include <gtest/gtest.h>

#include "boards/errc.h"
#include "tests/boards/fake_root.h"

namespace ironstone::boards {
namespace {

using ironstone::testing::TempDir;
using testing::put_compatible;

class Detect : public ::testing::Test {
 protected:
  std::vector<BoardProfile> profiles = load_profiles(source_profiles_dir());
  TempDir root;
};

TEST_F(Detect, RaspberryPi5DeviceTreeIsDetected) {
  put_compatible(root.path(), {"raspberrypi,5-model-b", "brcm,bcm2712"});
  EXPECT_EQ(detect_board(profiles, root.path()).name, "rpi5");
}

TEST_F(Detect, Rock5bDeviceTreeUnderSysfirmwareIsDetected) {
  put_compatible(root.path(), {"radxa,rock-5b", "rockchip,rk3588"}, "sys/firmware/devicetree/base/compatible");
  EXPECT_EQ(detect_board(profiles, root.path()).name, "rock5b");
}

TEST_F(Detect, MostSpecificCompatibleStringWins) {
  BoardProfile generic = profiles[0];
  generic.name = "generic-rk3588";
  generic.compatible = {"rockchip,rk3588"};
  profiles.insert(profiles.begin(), generic);
  EXPECT_EQ(match_board(profiles, {"radxa,rock-5b", "rockchip,rk3588"}).name, "rock5b");
}

TEST_F(Detect, UnknownBoardErrorListsFoundStringsAndKnownBoards) {
  put_compatible(root.path(), {"pine64,rockpro64", "rockchip,rk3399"});
  try {
    detect_board(profiles, root.path());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(Errc::kUnknownBoard));
    EXPECT_EQ(std::string(e.what()),
              "unknown board: device-tree compatible strings [\"pine64,rockpro64\", \"rockchip,rk3399\"] match none "
              "of the known boards: rock5b [\"radxa,rock-5b\"], rpi5 [\"raspberrypi,5-model-b\"]");
  }
}

TEST_F(Detect, MissingDeviceTreeIsAClearError) {
  try {
    detect_board(profiles, root.path());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(Errc::kNoDeviceTree));
    EXPECT_EQ(std::string(e.what()), "no device tree: cannot read " + (root / "proc/device-tree/compatible").string() +
                                         " or " + (root / "sys/firmware/devicetree/base/compatible").string());
  }
}

TEST_F(Detect, CompatibleStringsAreSplitOnNul) {
  testing::put(root.path(), "proc/device-tree/compatible", std::string("a,b\0\0c,d", 8));
  EXPECT_EQ(read_compatible(root.path()), (std::vector<std::string>{"a,b", "c,d"}));
}

TEST_F(Detect, OversizedCompatibleFileIsRejected) {
  testing::put(root.path(), "proc/device-tree/compatible", std::string(kMaxCompatibleBytes + 1, 'x'));
  EXPECT_THROW(read_compatible(root.path()), Error);
}

}  // namespace
}  // namespace ironstone::boards
