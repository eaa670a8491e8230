// A fake filesystem root for boards tests: device tree and sysfs LEDs.
#pragma once

#include <filesystem>
#include <string>

#include "tests/testutil/testutil.h"

namespace ironstone::boards::testing {

// Writes <root>/<rel> with `text`, creating parent directories.
inline void put(const std::filesystem::path& root, const std::string& rel, const std::string& text) {
  std::filesystem::create_directories((root / rel).parent_path());
  ironstone::testing::write_text(root / rel, text);
}

// <root>/proc/device-tree/compatible with NUL-terminated strings.
inline void put_compatible(const std::filesystem::path& root, std::initializer_list<std::string> strings,
                           const std::string& where = "proc/device-tree/compatible") {
  std::string data;
  for (const auto& s : strings) data += s + '\0';
  put(root, where, data);
}

// <root>/sys/class/leds/<name>/ with the attribute files the kernel would offer.
inline std::filesystem::path put_led(const std::filesystem::path& root, const std::string& name,
                                     const std::string& triggers) {
  std::filesystem::path dir = root / "sys/class/leds" / name;
  put(root, "sys/class/leds/" + name + "/trigger", triggers);
  put(root, "sys/class/leds/" + name + "/brightness", "0");
  put(root, "sys/class/leds/" + name + "/max_brightness", "1");
  for (const char* f : {"delay_on", "delay_off", "pattern", "repeat"}) {
    put(root, "sys/class/leds/" + name + "/" + f, "");
  }
  return dir;
}

}  // namespace ironstone::boards::testing
