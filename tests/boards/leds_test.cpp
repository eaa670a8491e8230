#include "boards/leds.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "boards/errc.h"
#include "tests/boards/fake_root.h"

namespace ironstone::boards {
namespace {

using ironstone::testing::read_text;
using ironstone::testing::TempDir;
using namespace std::chrono_literals;

LedSpec spec(bool with_fault = false) {
  LedSpec s;
  s.status = "ACT";
  if (with_fault) s.fault = "PWR";
  s.working = {LedMode::kBlink, 100, 100, 0};
  s.done = {LedMode::kOn};
  s.failed = {LedMode::kCode, 30, 20, 200};
  return s;
}

// Polls `path` until it reads `want` or 2 s pass.
bool eventually_reads(const std::filesystem::path& path, const std::string& want) {
  for (int i = 0; i < 400; ++i) {
    if (read_text(path) == want) return true;
    std::this_thread::sleep_for(5ms);
  }
  return false;
}

TEST(Leds, BlinkCodeIsNBlinksThenAPause) {
  auto steps = pattern_steps({LedMode::kCode, 300, 200, 1500}, 3);
  ASSERT_EQ(steps.size(), 6u);
  EXPECT_TRUE(steps[0].on);
  EXPECT_EQ(steps[0].ms, 300u);
  EXPECT_FALSE(steps[1].on);
  EXPECT_EQ(steps[1].ms, 200u);
  EXPECT_EQ(steps[5].ms, 1500u);
  EXPECT_FALSE(steps[5].on);
  EXPECT_TRUE(pattern_steps({LedMode::kOn}, 0).empty());
}

TEST(Leds, WorkingUsesTheKernelTimerTrigger) {
  TempDir root;
  auto act = testing::put_led(root.path(), "ACT", "none [mmc0] timer heartbeat");
  StatusLeds leds(spec(), root.path());
  leds.working();
  EXPECT_EQ(read_text(act / "trigger"), "timer");
  EXPECT_EQ(read_text(act / "delay_on"), "100");
  EXPECT_EQ(read_text(act / "delay_off"), "100");
  EXPECT_FALSE(leds.software_blinking());
}

TEST(Leds, DoneIsSolidOnAtMaxBrightness) {
  TempDir root;
  auto act = testing::put_led(root.path(), "ACT", "none [mmc0] timer");
  testing::put(root.path(), "sys/class/leds/ACT/max_brightness", "255");
  StatusLeds leds(spec(), root.path());
  leds.done();
  EXPECT_EQ(read_text(act / "trigger"), "none");
  EXPECT_EQ(read_text(act / "brightness"), "255");
}

TEST(Leds, FailedUsesThePatternTriggerWithTheStepCode) {
  TempDir root;
  auto act = testing::put_led(root.path(), "ACT", "none timer [heartbeat] pattern");
  auto pwr = testing::put_led(root.path(), "PWR", "[default-on] none");
  StatusLeds leds(spec(true), root.path());
  leds.failed(FailedStep::kSeeder);
  EXPECT_EQ(read_text(act / "trigger"), "pattern");
  EXPECT_EQ(read_text(act / "repeat"), "-1");
  EXPECT_EQ(read_text(act / "pattern"), "1 30 1 0 0 20 0 0 1 30 1 0 0 20 0 0 1 30 1 0 0 200 0 0");
  EXPECT_EQ(read_text(pwr / "trigger"), "none");
  EXPECT_EQ(read_text(pwr / "brightness"), "1");
  leds.working();
  EXPECT_EQ(read_text(pwr / "brightness"), "0");
}

TEST(Leds, FailedWithoutPatternTriggerBlinksFromAThreadThatStops) {
  TempDir root;
  auto act = testing::put_led(root.path(), "ACT", "none [mmc0] timer");
  LedSpec s = spec();
  s.failed.pause_ms = 3000;  // a long period: stopping must not wait it out
  StatusLeds leds(s, root.path());
  leds.failed(FailedStep::kFirmware);
  EXPECT_TRUE(leds.software_blinking());
  EXPECT_EQ(read_text(act / "trigger"), "none");
  EXPECT_TRUE(eventually_reads(act / "brightness", "1"));
  EXPECT_TRUE(eventually_reads(act / "brightness", "0"));
  auto start = std::chrono::steady_clock::now();
  leds.off();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1500ms);
  // software_blinking() is false only once off() has joined the blinking thread: nothing
  // writes after this, no need to wait and look.
  EXPECT_FALSE(leds.software_blinking());
  EXPECT_EQ(read_text(act / "brightness"), "0");
}

TEST(Leds, HeartbeatFallsBackToSoftwareWhenTheKernelLacksIt) {
  TempDir root;
  testing::put_led(root.path(), "ACT", "none");
  LedSpec s = spec();
  s.working = {LedMode::kHeartbeat};
  StatusLeds leds(s, root.path());
  leds.working();
  EXPECT_TRUE(leds.software_blinking());
  leds.done();
  EXPECT_FALSE(leds.software_blinking());
}

TEST(Leds, MissingLedIsAnLedErrorNamingTheFile) {
  TempDir root;
  StatusLeds leds(spec(), root.path());
  try {
    leds.done();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(Errc::kLed));
    EXPECT_EQ(std::string(e.what()),
              (root / "sys/class/leds/ACT/trigger").string() + ": cannot open: No such file or directory");
  }
}

}  // namespace
}  // namespace ironstone::boards
