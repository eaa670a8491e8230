#include "boards/board.h"

#include <gtest/gtest.h>

#include "boards/eeprom.h"
#include "boards/errc.h"
#include "boards/spi_nor.h"
#include "tests/boards/fake_root.h"

namespace ironstone::boards {
namespace {

using ironstone::testing::read_text;
using ironstone::testing::TempDir;

class BoardFacade : public ::testing::Test {
 protected:
  void SetUp() override { init_crypto(); }
  std::vector<BoardProfile> profiles = load_profiles(source_profiles_dir());
  TempDir root;
};

TEST_F(BoardFacade, FakePowerControlRecordsRequests) {
  FakePowerControl power;
  power.request(PowerAction::kReboot);
  power.request(PowerAction::kStayUp);
  EXPECT_EQ(power.requests(), (std::vector<PowerAction>{PowerAction::kReboot, PowerAction::kStayUp}));
}

TEST_F(BoardFacade, PowerActionNamesRoundTrip) {
  for (auto a : {PowerAction::kPowerOff, PowerAction::kReboot, PowerAction::kStayUp}) {
    EXPECT_EQ(parse_power_action(to_string(a)), a);
  }
  EXPECT_EQ(parse_power_action("halt"), std::nullopt);
}

TEST_F(BoardFacade, StayUpNeverTouchesTheSystem) {
  SystemPowerControl power;
  EXPECT_NO_THROW(power.request(PowerAction::kStayUp));
}

TEST_F(BoardFacade, Pi5RunFromDetectionToPowerOff) {
  testing::put_compatible(root.path(), {"raspberrypi,5-model-b", "brcm,bcm2712"});
  auto act = testing::put_led(root.path(), "ACT", "none [mmc0] timer heartbeat pattern");
  auto pwr = testing::put_led(root.path(), "PWR", "none [default-on]");
  auto eeprom = std::make_unique<SimulatedEeprom>("[all]\nBOOT_ORDER=0xf41\n");
  SimulatedEeprom* eeprom_view = eeprom.get();
  auto power = std::make_unique<FakePowerControl>();
  FakePowerControl* power_view = power.get();
  const BoardProfile& pi = profiles[1];
  BoardParts parts{std::make_unique<EepromUpdater>(std::get<EepromParams>(pi.firmware.params), std::move(eeprom)),
                   std::move(power)};

  Board board = Board::detect(profiles, root.path(), std::move(parts));
  EXPECT_EQ(board.name(), "rpi5");
  EXPECT_EQ(board.target_device(), root / "dev/nvme0n1");
  EXPECT_EQ(board.firmware_kind(), "rpi-eeprom");
  EXPECT_FALSE(board.firmware_requires_payload());
  board.leds().working();
  EXPECT_EQ(read_text(act / "trigger"), "timer");
  EXPECT_EQ(board.update_firmware(nullptr).outcome, FirmwareOutcome::kUpdated);
  EXPECT_EQ(eeprom_view->config(), "[all]\nBOOT_ORDER=0xf416\n");
  board.leds().done();
  EXPECT_EQ(read_text(act / "brightness"), "1");
  EXPECT_EQ(read_text(pwr / "brightness"), "0");
  board.finish();
  board.finish(PowerAction::kStayUp);
  EXPECT_EQ(power_view->requests(), (std::vector<PowerAction>{PowerAction::kPowerOff, PowerAction::kStayUp}));
}

TEST_F(BoardFacade, Rock5bFirmwareNeedsAPayload) {
  Board board(profiles[0], root.path(), BoardParts{nullptr, std::make_unique<FakePowerControl>()});
  EXPECT_EQ(board.firmware_kind(), "spi-nor");
  EXPECT_TRUE(board.firmware_requires_payload());
  try {
    board.update_firmware(nullptr);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(Errc::kUnsupported));
  }
}

TEST_F(BoardFacade, Rock5bRealSpiNorOnARegularFileIsNotAnMtdDevice) {
  // The real updater opens <root>/dev/mtd0; a regular file there is refused before any write.
  testing::put(root.path(), "dev/mtd0", std::string(4096, '\xff'));
  Board board(profiles[0], root.path(), BoardParts{nullptr, std::make_unique<FakePowerControl>()});
  std::vector<std::uint8_t> image(1000, 0x5A);
  FirmwarePayload payload{image, blake2b256(image), "u-boot-rockchip-spi.bin"};
  try {
    board.update_firmware(&payload);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(Errc::kNotMtd));
    EXPECT_EQ(std::string(e.what()), (root / "dev/mtd0").string() + ": not an MTD device (not a character device)");
  }
  EXPECT_EQ(read_text(root / "dev/mtd0"), std::string(4096, '\xff'));
}

TEST_F(BoardFacade, Rock5bSimulatedSpiNorIsUpdatedThroughTheFacade) {
  auto nor = std::make_shared<SimulatedNor>(64 * 1024, 4096);
  struct Shared : NorFlash {  // hands the test's NOR to the updater without giving up ownership
    std::shared_ptr<SimulatedNor> nor;
    std::string name() const override { return nor->name(); }
    NorGeometry geometry() const override { return nor->geometry(); }
    void read(std::uint64_t o, std::span<std::uint8_t> out) override { nor->read(o, out); }
    void erase(std::uint64_t o, std::uint64_t l) override { nor->erase(o, l); }
    void write(std::uint64_t o, std::span<const std::uint8_t> d) override { nor->write(o, d); }
  };
  auto updater = std::make_unique<SpiNorUpdater>([nor] {
    auto s = std::make_unique<Shared>();
    s->nor = nor;
    return std::unique_ptr<NorFlash>(std::move(s));
  });
  Board board(profiles[0], root.path(), BoardParts{std::move(updater), std::make_unique<FakePowerControl>()});
  std::vector<std::uint8_t> image(10000, 0x5A);
  FirmwarePayload payload{image, blake2b256(image), "u-boot-rockchip-spi.bin"};
  EXPECT_EQ(board.update_firmware(&payload).outcome, FirmwareOutcome::kUpdated);
  EXPECT_EQ(board.update_firmware(&payload).outcome, FirmwareOutcome::kAlreadyCurrent);
  EXPECT_EQ(nor->bytes()[9999], 0x5A);
}

}  // namespace
}  // namespace ironstone::boards
