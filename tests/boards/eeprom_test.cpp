#include "boards/eeprom.h"

#include <gtest/gtest.h>

#include "boards/eeprom_config.h"
#include "boards/errc.h"

namespace ironstone::boards {
namespace {

const char* kPi5Default =
    "[all]\n"
    "BOOT_UART=1\n"
    "POWER_OFF_ON_HALT=0\n"
    "BOOT_ORDER=0xf461\n";

EepromParams nvme_first() { return EepromParams{.boot_order = "0xf416", .pcie_probe = false}; }

TEST(EepromConfig, SetChangesOnlyTheKeyAndKeepsCommentsAndSections) {
  const std::string text =
      "# site config\n"
      "BOOT_UART=1\n"
      "BOOT_ORDER = 0xf41  \n"
      "\n"
      "[gpio4=1]\n"
      "BOOT_ORDER=0xf1\n"
      "[all]\n"
      "WAKE_ON_GPIO=0\n";
  EepromConfig cfg = EepromConfig::parse(text, "boot.conf");
  EXPECT_EQ(cfg.get("BOOT_ORDER"), "0xf41");
  cfg.set("BOOT_ORDER", "0xf416");
  EXPECT_EQ(cfg.text(),
            "# site config\n"
            "BOOT_UART=1\n"
            "BOOT_ORDER=0xf416\n"
            "\n"
            "[gpio4=1]\n"
            "BOOT_ORDER=0xf1\n"
            "[all]\n"
            "WAKE_ON_GPIO=0\n");
}

TEST(EepromConfig, MissingKeyIsAddedToTheLastUnconditionalBlock) {
  EepromConfig cfg = EepromConfig::parse("[all]\nBOOT_UART=1\n\n[pi4]\nFOO=1\n", "boot.conf");
  cfg.set("PCIE_PROBE", "1");
  EXPECT_EQ(cfg.text(), "[all]\nBOOT_UART=1\nPCIE_PROBE=1\n\n[pi4]\nFOO=1\n");
}

TEST(EepromConfig, OnlyConditionalSectionsGetANewAllSection) {
  EepromConfig cfg = EepromConfig::parse("[pi4]\nBOOT_ORDER=0x1\n", "boot.conf");
  EXPECT_EQ(cfg.get("BOOT_ORDER"), std::nullopt);
  cfg.set("BOOT_ORDER", "0xf416");
  EXPECT_EQ(cfg.text(), "[pi4]\nBOOT_ORDER=0x1\n[all]\nBOOT_ORDER=0xf416\n");
  EXPECT_EQ(cfg.get("BOOT_ORDER"), "0xf416");
}

TEST(EepromConfig, LastUnconditionalValueWins) {
  EepromConfig cfg = EepromConfig::parse("BOOT_ORDER=0x1\n[all]\nBOOT_ORDER=0x2\n", "boot.conf");
  EXPECT_EQ(cfg.get("BOOT_ORDER"), "0x2");
}

TEST(EepromConfig, MalformedSectionHeaderNamesTheLine) {
  try {
    EepromConfig::parse("BOOT_UART=1\n[all\n", "boot.conf");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "boot.conf: line 2: unterminated section header '[all'");
  }
}

TEST(EepromConfig, HexValuesCompareNumerically) {
  EXPECT_TRUE(same_setting_value("0xF416", "0xf416"));
  EXPECT_FALSE(same_setting_value("0xf416", "0xf461"));
  EXPECT_TRUE(same_setting_value("1", " 1"));
  EXPECT_FALSE(same_setting_value("abc", "abd"));
}

TEST(Eeprom, EepromAlreadyBootingNvmeIsNotRewritten) {
  SimulatedEeprom eeprom("[all]\nBOOT_UART=1\nBOOT_ORDER=0xF416\n");
  FirmwareResult r = update_eeprom(eeprom, nvme_first(), nullptr);
  EXPECT_EQ(r.outcome, FirmwareOutcome::kAlreadyCurrent);
  EXPECT_EQ(eeprom.writes(), 0);
}

TEST(Eeprom, SdFirstEepromIsRewrittenAndReadBack) {
  SimulatedEeprom eeprom(kPi5Default);
  FirmwareResult r = update_eeprom(eeprom, nvme_first(), nullptr);
  EXPECT_EQ(r.outcome, FirmwareOutcome::kUpdated);
  EXPECT_EQ(r.detail, "BOOT_ORDER 0xf461 -> 0xf416");
  EXPECT_EQ(eeprom.writes(), 1);
  EXPECT_EQ(eeprom.config(), "[all]\nBOOT_UART=1\nPOWER_OFF_ON_HALT=0\nBOOT_ORDER=0xf416\n");
  // Idempotent: a second run changes nothing.
  EXPECT_EQ(update_eeprom(eeprom, nvme_first(), nullptr).outcome, FirmwareOutcome::kAlreadyCurrent);
  EXPECT_EQ(eeprom.writes(), 1);
}

TEST(Eeprom, PcieProbeIsAddedWhenTheProfileWantsIt) {
  SimulatedEeprom eeprom("[all]\nBOOT_ORDER=0xf416\n");
  EepromParams p = nvme_first();
  p.pcie_probe = true;
  FirmwareResult r = update_eeprom(eeprom, p, nullptr);
  EXPECT_EQ(r.detail, "PCIE_PROBE (unset) -> 1");
  EXPECT_EQ(eeprom.config(), "[all]\nBOOT_ORDER=0xf416\nPCIE_PROBE=1\n");
}

TEST(Eeprom, ReleaseImageIsUsedAsTheBaseOfTheWrite) {
  init_crypto();
  SimulatedEeprom eeprom(kPi5Default);
  std::vector<std::uint8_t> image(4096, 0xAB);
  FirmwarePayload payload{image, blake2b256(image), "pieeprom.bin"};
  EXPECT_EQ(update_eeprom(eeprom, nvme_first(), &payload).outcome, FirmwareOutcome::kUpdated);
  EXPECT_EQ(eeprom.last_image(), image);
}

TEST(Eeprom, PayloadWithWrongHashIsRefusedBeforeAnyWrite) {
  init_crypto();
  SimulatedEeprom eeprom(kPi5Default);
  std::vector<std::uint8_t> image(4096, 0xAB);
  FirmwarePayload payload{image, blake2b256(std::vector<std::uint8_t>(1, 0)), "pieeprom.bin"};
  try {
    update_eeprom(eeprom, nvme_first(), &payload);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(Errc::kHashMismatch));
    EXPECT_TRUE(std::string(e.what()).starts_with("rpi-eeprom: pieeprom.bin: hash ")) << e.what();
  }
  EXPECT_EQ(eeprom.writes(), 0);
}

TEST(Eeprom, WriteFailureIsReported) {
  SimulatedEeprom eeprom(kPi5Default, {.fail_write = true});
  try {
    update_eeprom(eeprom, nvme_first(), nullptr);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(Errc::kCommand));
  }
}

TEST(Eeprom, ReadBackMismatchIsReported) {
  SimulatedEeprom eeprom(kPi5Default, {.lose_write = true});
  try {
    update_eeprom(eeprom, nvme_first(), nullptr);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(Errc::kVerify));
    EXPECT_EQ(std::string(e.what()), "rpi-eeprom: read back after writing, still wrong: BOOT_ORDER 0xf461 -> 0xf416");
  }
}

TEST(Eeprom, RealToolMissingIsACommandError) {
  // On a machine without rpi-eeprom-config the real tool fails with a clear error.
  RealEepromTool tool;
  if (std::system("command -v rpi-eeprom-config >/dev/null 2>&1") == 0) GTEST_SKIP() << "rpi-eeprom-config present";
  try {
    tool.read_config();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(Errc::kCommand));
    EXPECT_EQ(std::string(e.what()),
              "rpi-eeprom: read config: cannot run `rpi-eeprom-config`: No such file or directory");
  }
}

}  // namespace
}  // namespace ironstone::boards
