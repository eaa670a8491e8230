#include "boards/profile.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "boards/errc.h"
#include "boards/firmware.h"
#include "tests/boards/fake_root.h"
#include "tests/testutil/testutil.h"

namespace ironstone::boards {
namespace {

using nlohmann::json;

json valid_profile() {
  return json::parse(R"({
    "format": 1, "name": "testboard", "description": "Test board",
    "compatible": ["vendor,test-board"], "target_device": "/dev/nvme0n1",
    "firmware": {"method": "rpi-eeprom", "params": {"boot_order": "0xf416"}},
    "leds": {"status": {"name": "ACT"},
             "working": {"mode": "blink", "on_ms": 100, "off_ms": 100},
             "done": {"mode": "on"},
             "failed": {"mode": "code", "on_ms": 300, "off_ms": 300, "pause_ms": 1500}},
    "power": {"action": "poweroff"}})");
}

// The error message of parsing `text` as "test.json" (empty when it parses).
std::string parse_error(const std::string& text, Errc* code = nullptr) {
  try {
    parse_profile(text, "test.json");
  } catch (const Error& e) {
    if (code) *code = static_cast<Errc>(e.code().value());
    EXPECT_EQ(e.code().category(), category());
    return e.what();
  }
  return "";
}

TEST(Profile, ShippedProfilesLoad) {
  auto profiles = load_profiles(source_profiles_dir());
  ASSERT_EQ(profiles.size(), 3u);
  const auto& rock = profiles[0];
  const auto& pi = profiles[1];
  EXPECT_EQ(pi.name, "rpi5");
  EXPECT_EQ(pi.firmware.method, "rpi-eeprom");
  EXPECT_EQ(std::get<EepromParams>(pi.firmware.params).boot_order, "0xf416");
  EXPECT_EQ(pi.leds.status, "ACT");
  EXPECT_EQ(pi.leds.fault, "PWR");
  EXPECT_EQ(pi.target_device, "/dev/nvme0n1");
  EXPECT_EQ(rock.name, "rock5b");
  EXPECT_EQ(rock.firmware.method, "spi-nor");
  EXPECT_EQ(std::get<SpiNorParams>(rock.firmware.params).device, "/dev/mtd0");
  EXPECT_EQ(rock.leds.failed.mode, LedMode::kCode);
  EXPECT_EQ(rock.power.action, PowerAction::kPowerOff);
  EXPECT_EQ(rock.disarm_card.front(), "/extlinux/extlinux.conf");  // its U-Boot boots the card first
  EXPECT_TRUE(pi.disarm_card.empty());                             // the EEPROM has a boot order
  const auto& uefi = profiles[2];
  EXPECT_EQ(uefi.name, "uefi-arm64");
  EXPECT_EQ(uefi.detect, DetectBy::kUefi);
  EXPECT_TRUE(uefi.compatible.empty());
  EXPECT_EQ(uefi.firmware.method, "efi-boot-order");
  EXPECT_EQ(std::get<EfiBootParams>(uefi.firmware.params).loader, "\\EFI\\BOOT\\BOOTAA64.EFI");
  EXPECT_EQ(uefi.target_device, "/dev/nvme0n1");
  EXPECT_EQ(uefi.power.method, PowerMethod::kSystemd);
  EXPECT_TRUE(uefi.disarm_card.empty());  // UEFI BootOrder
}

TEST(Profile, UefiDetectionTakesNoCompatibleStrings) {
  json j = valid_profile();
  j["detect"] = "uefi";
  EXPECT_EQ(parse_error(j.dump()), "test.json: field 'compatible': not allowed with \"detect\": \"uefi\"");
  j.erase("compatible");
  EXPECT_EQ(parse_profile(j.dump(), "test.json").detect, DetectBy::kUefi);
  j["detect"] = "dmi";
  EXPECT_EQ(parse_error(j.dump()), "test.json: field 'detect': 'dmi' is not one of compatible, uefi");
}

TEST(Profile, EfiBootOrderParamsAreChecked) {
  json j = valid_profile();
  j["firmware"] = {{"method", "efi-boot-order"}, {"params", {{"loader", "EFI/x.efi"}}}};
  EXPECT_EQ(parse_error(j.dump()), "test.json: field 'firmware.params.loader': 'EFI/x.efi' must be an absolute path in the "
                         "ESP, e.g. /EFI/BOOT/BOOTAA64.EFI");
  j["firmware"] = {{"method", "efi-boot-order"}};
  EXPECT_EQ(std::get<EfiBootParams>(parse_profile(j.dump(), "test.json").firmware.params).description,
            "Ironstone NVMe");
}

TEST(Profile, DisarmPathsMustBePlainAbsolutePaths) {
  json j = valid_profile();
  j["disarm_card"] = {"/boot.scr", "boot/x"};
  EXPECT_EQ(parse_error(j.dump()), "test.json: field 'disarm_card[1]': 'boot/x' must be an absolute path of [A-Za-z0-9._-] names");
  j["disarm_card"] = {"/../etc/passwd"};
  EXPECT_NE(parse_error(j.dump()), "");
}

TEST(Profile, SecondUefiProfileIsRejected) {
  ironstone::testing::TempDir dir;
  for (const char* name : {"a", "b"}) {
    json p = valid_profile();
    p["name"] = name;
    p["detect"] = "uefi";
    p.erase("compatible");
    ironstone::testing::write_text(dir / (std::string(name) + ".json"), p.dump());
  }
  try {
    load_profiles(dir.path());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), (dir / "b.json").string() + ": field 'detect': \"uefi\" is already claimed by board 'a'");
  }
}

TEST(Profile, ValidProfileParsesEveryField) {
  BoardProfile p = parse_profile(valid_profile().dump(), "test.json");
  EXPECT_EQ(p.name, "testboard");
  EXPECT_EQ(p.compatible, std::vector<std::string>{"vendor,test-board"});
  EXPECT_FALSE(std::get<EepromParams>(p.firmware.params).pcie_probe);
  EXPECT_EQ(p.leds.working, (LedPattern{LedMode::kBlink, 100, 100, 0}));
  EXPECT_EQ(p.leds.failed.pause_ms, 1500u);
  EXPECT_EQ(p.power.method, PowerMethod::kSystemd);
}

TEST(Profile, UnknownFieldIsNamedWithItsPath) {
  json j = valid_profile();
  j["leds"]["status"]["colour"] = "green";
  EXPECT_EQ(parse_error(j.dump()), "test.json: field 'leds.status.colour': unknown field");
}

TEST(Profile, MissingFieldIsNamedWithItsPath) {
  json j = valid_profile();
  j["leds"]["status"].erase("name");
  Errc code{};
  EXPECT_EQ(parse_error(j.dump(), &code), "test.json: field 'leds.status.name': missing");
  EXPECT_EQ(code, Errc::kField);
}

TEST(Profile, WrongTypeIsNamedWithItsPath) {
  json j = valid_profile();
  j["leds"]["status"]["name"] = 7;
  EXPECT_EQ(parse_error(j.dump()), "test.json: field 'leds.status.name': expected a string, got number");
  j = valid_profile();
  j["compatible"] = {"a,b", 3};
  EXPECT_EQ(parse_error(j.dump()), "test.json: field 'compatible[1]': expected a string, got number");
  j = valid_profile();
  j["leds"]["working"]["on_ms"] = -5;
  EXPECT_EQ(parse_error(j.dump()),
            "test.json: field 'leds.working.on_ms': expected an unsigned integer, got a negative number");
}

TEST(Profile, OutOfRangeAndBadValuesAreRejected) {
  json j = valid_profile();
  j["format"] = 2;
  EXPECT_EQ(parse_error(j.dump()), "test.json: field 'format': 2 is out of range [1, 1]");
  j = valid_profile();
  j["firmware"]["params"]["boot_order"] = "f416";
  EXPECT_EQ(parse_error(j.dump()),
            "test.json: field 'firmware.params.boot_order': 'f416' must be 0x followed by 1 to 8 hex digits");
  j = valid_profile();
  j["firmware"]["method"] = "uefi";
  EXPECT_EQ(parse_error(j.dump()),
            "test.json: field 'firmware.method': unknown method 'uefi' (known: none, rpi-eeprom, spi-nor, efi-boot-order)");
  j = valid_profile();
  j["target_device"] = "/etc/passwd";
  EXPECT_EQ(parse_error(j.dump()), "test.json: field 'target_device': '/etc/passwd' must be an absolute path under /dev/");
  j = valid_profile();
  j["leds"]["status"]["name"] = "../../etc";
  EXPECT_EQ(parse_error(j.dump()), "test.json: field 'leds.status.name': '../../etc' is not a valid LED name");
  j = valid_profile();
  j["power"]["action"] = "halt";
  EXPECT_EQ(parse_error(j.dump()),
            "test.json: field 'power.action': 'halt' is not one of poweroff, reboot, stay-up");
}

TEST(Profile, FailedPatternMustBeABlinkCodeAndDistinctFromOthers) {
  json j = valid_profile();
  j["leds"]["failed"] = {{"mode", "on"}};
  EXPECT_EQ(parse_error(j.dump()), "test.json: field 'leds.failed': mode must be 'code' (N blinks, then a pause)");
  j = valid_profile();
  j["leds"]["done"] = j["leds"]["working"];
  EXPECT_EQ(parse_error(j.dump()), "test.json: field 'leds.done': must differ from 'leds.working'");
  j = valid_profile();
  j["leds"]["done"]["on_ms"] = 5;
  EXPECT_EQ(parse_error(j.dump()), "test.json: field 'leds.done.on_ms': not allowed with mode 'on'");
}

TEST(Profile, MalformedDuplicateAndOversizedInputAreRejected) {
  Errc code{};
  EXPECT_EQ(parse_error("[1, 2]", &code), "test.json: top level: expected an object, got array");
  EXPECT_EQ(code, Errc::kField);
  EXPECT_EQ(parse_error(R"({"name": "a", "name": "b"})", &code), "test.json: duplicate key 'name'");
  EXPECT_EQ(code, Errc::kParse);
  EXPECT_TRUE(parse_error("{\"format\": 1,", &code).starts_with("test.json: malformed JSON: "));
  EXPECT_EQ(code, Errc::kParse);
  EXPECT_EQ(parse_error(std::string(100, '[') + std::string(100, ']'), &code), "test.json: nesting deeper than 16");
  EXPECT_EQ(parse_error(std::string(kMaxProfileBytes + 1, ' '), &code),
            "test.json: 65537 bytes exceeds the limit of 65536");
  EXPECT_EQ(code, Errc::kTooLarge);
}

TEST(Profile, FileNameMustMatchBoardName) {
  ironstone::testing::TempDir dir;
  ironstone::testing::write_text(dir / "other.json", valid_profile().dump());
  try {
    load_profile(dir / "other.json");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              (dir / "other.json").string() + ": field 'name': 'testboard' does not match the file name 'other'");
  }
}

TEST(Profile, CompatibleStringClaimedByTwoProfilesIsRejected) {
  ironstone::testing::TempDir dir;
  json a = valid_profile();
  a["name"] = "a";
  json b = valid_profile();
  b["name"] = "b";
  ironstone::testing::write_text(dir / "a.json", a.dump());
  ironstone::testing::write_text(dir / "b.json", b.dump());
  try {
    load_profiles(dir.path());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), (dir / "b.json").string() +
                                         ": field 'compatible': 'vendor,test-board' is already claimed by board 'a'");
  }
}

TEST(Profile, UnderRootMapsDevicePaths) {
  EXPECT_EQ(under_root("/tmp/fake", "/dev/mtd0"), std::filesystem::path("/tmp/fake/dev/mtd0"));
  EXPECT_EQ(under_root("/", "/dev/nvme0n1"), std::filesystem::path("/dev/nvme0n1"));
}

}  // namespace
}  // namespace ironstone::boards
