// The Raspberry Pi bootloader EEPROM configuration text (what `rpi-eeprom-config`
// prints and takes): "KEY=value" lines, "# comments", blank lines and "[section]"
// filters such as [all], [pi5], [gpio4=1]. Parsing keeps every line as it was, so
// text() after set() differs from the input only in the lines that changed.
//
// Settings that apply unconditionally are those before the first section header
// and those in [all] sections; get()/set() act on these only (a conditional
// section such as [gpio4=1] is left alone).
// Thread safety: plain value.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ironstone::boards {

inline constexpr std::size_t kMaxEepromConfigBytes = 64 * 1024;

class EepromConfig {
 public:
  // Throws Error(kTooLarge) above kMaxEepromConfigBytes, Error(kParse) for a
  // malformed line (unterminated "[section", NUL byte), naming `source` and the line.
  static EepromConfig parse(std::string_view text, std::string_view source);

  // The unconditional value of `key` (the last one wins, as in the bootloader).
  std::optional<std::string> get(std::string_view key) const;
  // Changes every unconditional "key=" line to `value`; when there is none, adds
  // "key=value" at the end of the last unconditional block (or a new [all] block).
  void set(std::string_view key, std::string_view value);
  std::string text() const;

 private:
  struct Line {
    std::string raw;          // the line as read (without '\n')
    std::string key{};        // set for a key=value line
    std::string value{};
    bool unconditional = false;
  };
  std::vector<Line> lines_;
  bool final_newline_ = true;
};

// Compares two setting values: as numbers when both are integers (decimal or 0x
// hex, so "0xF416" equals "0xf416"), else as exact strings.
bool same_setting_value(std::string_view a, std::string_view b);

}  // namespace ironstone::boards
