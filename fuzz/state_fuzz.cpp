// Fuzz target: the flasher's state file parser (flasher/state.h), which reads a file
// that may be corrupted or tampered with on disk. Any input must either parse or throw
// ironstone::Error; nothing else (no other exception, crash, leak or unbounded work).
// A state that parses must survive a serialize/parse round trip unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "flasher/state.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  ironstone::flasher::SeenState state;
  try {
    state = ironstone::flasher::parse_state(text, "fuzz-state.json");
  } catch (const ironstone::Error&) {
    return 0;
  }
  const std::string canonical = ironstone::flasher::serialize_state(state);
  try {
    if (ironstone::flasher::parse_state(canonical, "fuzz-state.json") != state) std::abort();
  } catch (const ironstone::Error&) {
    std::abort();  // the canonical form of a parsed state must parse
  }
  return 0;
}
