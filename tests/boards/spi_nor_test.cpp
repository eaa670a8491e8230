#include "boards/spi_nor.h"

#include <gtest/gtest.h>

#include "boards/errc.h"
#include "boards/mtd.h"
#include "tests/testutil/testutil.h"

namespace ironstone::boards {
namespace {

constexpr std::uint32_t kBlock = 4096;
constexpr std::uint64_t kFlash = 16 * kBlock;

class SpiNor : public ::testing::Test {
 protected:
  void SetUp() override { init_crypto(); }
  std::vector<std::uint8_t> image = ironstone::testing::pseudo_random(5 * kBlock + 100, 42);
  FirmwarePayload payload() const { return {image, blake2b256(image), "u-boot-rockchip-spi.bin"}; }
};

TEST_F(SpiNor, FlashAlreadyHoldingTheImageIsNotWritten) {
  SimulatedNor nor(kFlash, kBlock);
  std::copy(image.begin(), image.end(), nor.bytes().begin());
  FirmwareResult r = update_spi_nor(nor, payload());
  EXPECT_EQ(r.outcome, FirmwareOutcome::kAlreadyCurrent);
  EXPECT_EQ(nor.erases(), 0);
  EXPECT_EQ(nor.writes(), 0);
}

TEST_F(SpiNor, DifferentImageIsErasedWrittenAndReadBack) {
  SimulatedNor nor(kFlash, kBlock);
  std::fill(nor.bytes().begin(), nor.bytes().end(), 0x00);  // old content: all bits programmed
  FirmwareResult r = update_spi_nor(nor, payload());
  EXPECT_EQ(r.outcome, FirmwareOutcome::kUpdated);
  EXPECT_TRUE(std::equal(image.begin(), image.end(), nor.bytes().begin()));
  EXPECT_EQ(nor.bytes()[image.size()], 0xFF);       // tail of the last erase block: erased
  EXPECT_EQ(nor.bytes()[6 * kBlock], 0x00);         // past the last block: untouched
  EXPECT_EQ(nor.erases(), 6);
  EXPECT_EQ(update_spi_nor(nor, payload()).outcome, FirmwareOutcome::kAlreadyCurrent);
}

TEST_F(SpiNor, OnlyDifferingEraseBlocksAreRewritten) {
  SimulatedNor nor(kFlash, kBlock);
  std::copy(image.begin(), image.end(), nor.bytes().begin());
  nor.bytes()[2 * kBlock + 7] ^= 0x10;
  FirmwareResult r = update_spi_nor(nor, payload());
  EXPECT_EQ(r.outcome, FirmwareOutcome::kUpdated);
  EXPECT_EQ(r.detail, "wrote u-boot-rockchip-spi.bin to simulated-nor (1 of 6 erase blocks)");
  EXPECT_EQ(nor.erases(), 1);
}

TEST_F(SpiNor, WriteFailureIsReported) {
  SimulatedNor nor(kFlash, kBlock, {.fail_write_at = 3 * kBlock + 1});
  try {
    update_spi_nor(nor, payload());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(Errc::kDevice));
    EXPECT_EQ(std::string(e.what()), "simulated-nor: write failed at 0x3001");
  }
}

TEST_F(SpiNor, ReadBackMismatchNamesDeviceAndOffset) {
  image[0x2345] = 0x12;
  SimulatedNor nor(kFlash, kBlock, {.stuck_at = 0x2345});
  try {
    update_spi_nor(nor, payload());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(Errc::kVerify));
    EXPECT_EQ(std::string(e.what()),
              "simulated-nor: read-back mismatch at 0x2345 after writing u-boot-rockchip-spi.bin "
              "(read 0xFF, wrote 0x12)");
  }
}

TEST_F(SpiNor, PayloadWithWrongHashIsRefusedBeforeAnyWrite) {
  SimulatedNor nor(kFlash, kBlock);
  FirmwarePayload p = payload();
  p.hash.bytes[0] ^= 1;
  EXPECT_THROW(update_spi_nor(nor, p), Error);
  EXPECT_EQ(nor.writes(), 0);
  EXPECT_EQ(nor.erases(), 0);
}

TEST_F(SpiNor, ImageLargerThanTheFlashIsRefused) {
  SimulatedNor nor(4 * kBlock, kBlock);
  try {
    update_spi_nor(nor, payload());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(Errc::kTooLarge));
  }
  EXPECT_EQ(nor.writes(), 0);
}

TEST_F(SpiNor, SimulatedNorWritesCanOnlyClearBits) {
  SimulatedNor nor(kBlock, kBlock);
  std::uint8_t a = 0xF0, b = 0x3C;
  nor.write(0, {&a, 1});
  nor.write(0, {&b, 1});
  EXPECT_EQ(nor.bytes()[0], 0x30);
  nor.erase(0, kBlock);
  EXPECT_EQ(nor.bytes()[0], 0xFF);
}

TEST_F(SpiNor, RegularFileIsNotAnMtdDevice) {
  ironstone::testing::TempDir dir;
  ironstone::testing::write_file(dir / "mtd0", std::vector<std::uint8_t>(kFlash, 0xFF));
  try {
    MtdDevice::open(dir / "mtd0");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(Errc::kNotMtd));
    EXPECT_EQ(std::string(e.what()), (dir / "mtd0").string() + ": not an MTD device (not a character device)");
  }
}

TEST_F(SpiNor, CharacterDeviceThatIsNotMtdIsRejected) {
  try {
    MtdDevice::open("/dev/null");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(Errc::kNotMtd));
    EXPECT_TRUE(std::string(e.what()).starts_with("/dev/null: not an MTD device (MEMGETINFO: ")) << e.what();
  }
}

TEST_F(SpiNor, MissingDeviceIsADeviceError) {
  try {
    MtdDevice::open("/nonexistent/mtd0");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "/nonexistent/mtd0: cannot open: No such file or directory");
  }
}

}  // namespace
}  // namespace ironstone::boards
