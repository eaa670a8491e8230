// Safety of the flasher on the machine it runs on (issue 15, items 8 and 9): power is
// only switched off on the board being flashed, or when --power was given; any
// exception a step throws is reported as failed and shown on the LEDs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <stdexcept>
#include <system_error>

#include "boards/power.h"
#include "flasher/stages.h"
#include "tests/boards/fake_root.h"
#include "tests/flasher/flash_rig.h"

namespace ironstone::flasher {
namespace {

using namespace ironstone::flasher::testing;
using boards::PowerAction;
using ::testing::HasSubstr;

class FlashSafety : public ::testing::Test {
 protected:
  void SetUp() override { spdlog::set_level(spdlog::level::warn); }
  void TearDown() override { spdlog::set_level(spdlog::level::info); }

  // Options as `ironstone-flasher --board <board> --target <file>` run by hand: no
  // --power, and a fake power control that records what it is asked.
  FlashOptions by_hand(const std::string& name) {
    FlashOptions o = rig.flash_options(name);
    o.power.reset();
    o.board_parts = [p = power] {
      boards::BoardParts parts;
      parts.power = std::make_unique<SharedPower>(p);
      return parts;
    };
    return o;
  }
  // Makes the fake root under `o` a Raspberry Pi 5 with its NVMe device.
  static void make_pi5(const FlashOptions& o) {
    boards::testing::put_compatible(o.root, {"raspberrypi,5-model-b", "brcm,bcm2712"});
    boards::testing::put(o.root, "dev/nvme0n1", "");
  }

  Rig rig;
  std::shared_ptr<boards::FakePowerControl> power = std::make_shared<boards::FakePowerControl>();
};

TEST_F(FlashSafety, WorkstationFlashingAnImageForAnotherBoardLeavesPowerAlone) {
  const auto image = make_image(8, 21);
  rig.publish(image, "1.0");
  rig.start_seeder();
  FlashOptions o = by_hand("workstation");  // --board rpi5, no device tree under the root
  FlashResult r = run_flash(o);
  EXPECT_EQ(read_file(o.target), image);
  EXPECT_EQ(r.board, "rpi5");
  EXPECT_TRUE(power->requests().empty()) << "a workstation was asked to power off";
}

TEST_F(FlashSafety, ExplicitPowerIsObeyedOffTheBoard) {
  const auto image = make_image(8, 22);
  rig.publish(image, "1.0");
  rig.start_seeder();
  FlashOptions o = by_hand("explicit");
  o.power = PowerAction::kReboot;  // --power reboot on the command line
  run_flash(o);
  EXPECT_EQ(power->requests(), std::vector<PowerAction>{PowerAction::kReboot});
}

// The power decision for every combination of board, target and --power, without a run.
TEST_F(FlashSafety, PowerOnlyOnTheBoardsOwnDeviceOrWithExplicitPower) {
  rig.start_seeder(/*bittorrent=*/false);  // for the options' seeder URL; not asked
  FlashOptions o = by_hand("decide");
  const fs::path device = o.root / "dev/nvme0n1";
  auto decide = [&](const FlashOptions& opts, const fs::path& target) {
    OnBoard on = make_board(opts);
    return decide_power(on, opts, target);
  };
  // --board rpi5 on a machine without a device tree (x86): left alone, whatever the target.
  EXPECT_EQ(decide(o, device).action, std::nullopt);
  EXPECT_THAT(decide(o, device).why, HasSubstr("device tree does not name rpi5"));

  make_pi5(o);
  // On the Pi 5: its own device (also when named with --target) takes the profile's action.
  EXPECT_EQ(decide(o, device).action, PowerAction::kPowerOff);
  EXPECT_EQ(decide(o, o.root / "dev" / ".." / "dev" / "nvme0n1").action, PowerAction::kPowerOff);
  FlashOptions detected = o;
  detected.board = "auto";
  EXPECT_EQ(decide(detected, device).action, PowerAction::kPowerOff);
  // ... but an image file, or another disk, leaves power alone.
  const auto file = decide(detected, o.target);
  EXPECT_EQ(file.action, std::nullopt);
  EXPECT_THAT(file.why, HasSubstr("is not rpi5's device " + device.string()));
  // A board profile the device tree does not name (a Pi 5 flashing a Rock 5B image).
  FlashOptions other = o;
  other.board = "rock5b";
  EXPECT_EQ(decide(other, o.root / "dev/nvme0n1").action, std::nullopt);
  // --power always wins.
  FlashOptions forced = by_hand("forced");
  forced.power = PowerAction::kPowerOff;
  EXPECT_EQ(decide(forced, forced.target).action, PowerAction::kPowerOff);
}

// A firmware updater that fails with a std::filesystem_error, not an ironstone::Error.
class ThrowingFirmware : public boards::FirmwareUpdater {
 public:
  std::string_view method() const override { return "rpi-eeprom"; }
  boards::FirmwareResult apply(const boards::FirmwarePayload*, const boards::WrittenDisk*) override {
    throw fs::filesystem_error("cannot open the EEPROM", fs::path("/dev/spidev10.0"),
                               std::make_error_code(std::errc::permission_denied));
  }
};

TEST_F(FlashSafety, AnyExceptionInAStepIsReportedAsFailedAndShownOnTheLeds) {
  const auto image = make_image(8, 23);
  rig.publish(image, "1.0");
  auto& seeder = rig.start_seeder();
  FlashOptions o = by_hand("firmware-fails");
  const fs::path pwr = boards::testing::put_led(o.root, "PWR", "none [default-on]");
  boards::testing::put_led(o.root, "ACT", "none [mmc0] timer heartbeat pattern");
  o.skip_firmware = false;
  o.board_parts = [] {
    boards::BoardParts parts;
    parts.firmware = std::make_unique<ThrowingFirmware>();
    parts.power = std::make_unique<boards::FakePowerControl>();
    return parts;
  };
  try {
    run_flash(o);
    FAIL() << "expected the firmware step to throw";
  } catch (const fs::filesystem_error& e) {
    EXPECT_EQ(e.code(), std::make_error_code(std::errc::permission_denied));
  }
  EXPECT_EQ(read_text(pwr / "brightness"), "1") << "the fault LED is not on";
  const auto view = seeder.fleet().view();
  ASSERT_EQ(view["nodes"].size(), 1u) << view.dump();
  const auto& n = view["nodes"][0];
  EXPECT_EQ(n["state"], "failed") << n.dump();
  EXPECT_EQ(n["step"], "firmware") << n.dump();
  EXPECT_THAT(n["error"].get<std::string>(), HasSubstr("firmware: filesystem error: cannot open the EEPROM"))
      << n.dump();
}

}  // namespace
}  // namespace ironstone::flasher
