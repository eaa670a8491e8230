// Fuzz target: the board profile parser (boards/profile.h), a parser of outside input.
// Any input must either parse or throw ironstone::Error; nothing else (no other
// exception, crash, leak or unbounded work). A parsed profile must survive
// re-validation of its parts (firmware method lookup, LED patterns).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "boards/firmware.h"
#include "boards/leds.h"
#include "boards/profile.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    ironstone::boards::BoardProfile p = ironstone::boards::parse_profile(text, "fuzz.json");
    if (!ironstone::boards::find_firmware_method(p.firmware.method)) __builtin_trap();
    for (int code = 1; code <= 9; ++code) (void)ironstone::boards::pattern_steps(p.leds.failed, code);
    (void)ironstone::boards::pattern_steps(p.leds.working, 0);
  } catch (const ironstone::Error&) {
  }
  return 0;
}
