// Status LEDs through sysfs: <root>/sys/class/leds/<name>/{trigger,brightness,...}.
//
// Patterns (docs/leds.md for operators): the profile gives a pattern for
// "working", "done" and "failed"; "failed" is a blink code: N blinks, a pause,
// repeated, where N is the FailedStep. An optional "fault" LED is lit solid on
// failure and off otherwise.
//
// How a pattern is shown, kernel first:
//   on/off     trigger "none" + brightness (max_brightness / 0)
//   blink      trigger "timer" + delay_on/delay_off, when the kernel offers it
//   heartbeat  trigger "heartbeat", when offered
//   code       trigger "pattern" + pattern ("b ms b 0" square-wave tuples) + repeat -1, when offered
// otherwise a background thread toggles brightness (trigger "none").
//
// Contract: StatusLeds is used from one thread; it owns at most one background
// blinker thread, which every call (and the destructor) stops and joins before
// touching the files, so stopping is prompt (no sleep is waited out). Errors
// writing the files throw Error(kLed) naming the file; the flasher should log
// them and go on (an LED is never a reason to fail a flash). Errors inside the
// blinker thread are logged and end the thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "boards/profile.h"

namespace ironstone::boards {

// The flasher step that failed = the number of blinks of the "failed" code.
// Keep in sync with the table in docs/leds.md.
enum class FailedStep : std::uint8_t {
  kBoard = 1,     // board detection, profile, target device
  kNetwork = 2,   // network up (link, DHCP)
  kSeeder = 3,    // seeder not found / unreachable
  kRelease = 4,   // channel pointer or manifest fetch / signature / trust rules
  kFirmware = 5,  // firmware step (EEPROM, SPI NOR)
  kTarget = 6,    // target disk missing, too small, cannot be opened or scanned
  kWrite = 7,     // download, verify and write of chunks / zero ranges
  kVerify = 8,    // flush and final verification of the written image
  kIdentity = 9,  // node identity / cloud-init seed / reporting done
};
std::string_view describe(FailedStep step);

struct LedStep {
  bool on = false;
  std::uint32_t ms = 0;
};

// One period of a timed pattern (blink, heartbeat, code with `code` blinks);
// empty for the static modes on/off. Precondition: 1 <= code <= 9 for kCode.
std::vector<LedStep> pattern_steps(const LedPattern& pattern, int code);

// One LED's sysfs directory.
class SysfsLed {
 public:
  explicit SysfsLed(std::filesystem::path dir) : dir_(std::move(dir)) {}
  const std::filesystem::path& dir() const { return dir_; }
  std::vector<std::string> triggers() const;  // offered triggers, "[current]" brackets removed
  bool has_trigger(std::string_view name) const;
  int max_brightness() const;  // 1 when the file is missing or unreadable
  // Writes an existing attribute file (never creates one). Throws Error(kLed).
  void write(std::string_view attribute, std::string_view value) const;

 private:
  std::filesystem::path dir_;
};

class StatusLeds {
 public:
  StatusLeds(const LedSpec& spec, const std::filesystem::path& root);
  ~StatusLeds();
  StatusLeds(const StatusLeds&) = delete;
  StatusLeds& operator=(const StatusLeds&) = delete;

  void working();
  void done();
  void failed(FailedStep step);
  void off();  // both LEDs off, blinker stopped
  bool software_blinking() const { return blinker_.joinable(); }

 private:
  void show(const LedPattern& pattern, int code);
  void stop_blinker();
  void set_fault(bool on);

  LedSpec spec_;
  SysfsLed status_;
  std::optional<SysfsLed> fault_;
  std::jthread blinker_;
  std::mutex mutex_;
  std::condition_variable_any wake_;
};

}  // namespace ironstone::boards
