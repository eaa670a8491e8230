// Fuzz target for the gold recipe parser (builder/recipe.h): YAML from a user's file. Only
// ironstone::Error may escape it (yaml-cpp's own exceptions are turned into recipe errors);
// anything else (crash, another exception, a sanitizer report) is a bug. Whatever parses must
// keep the invariants the builder relies on (absolute image paths, modes within 07777).
// Seeds: fuzz/corpus/recipe/ (the shipped recipes and broken variants).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "builder/recipe.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const ironstone::builder::Recipe r = ironstone::builder::parse_recipe(text, "/fuzz/recipe.yaml");
    if (r.board.empty()) std::abort();
    for (const auto& f : r.files) {
      if (f.path.empty() || f.path[0] != '/' || f.mode > 07777) std::abort();
      if (f.source.empty() == !f.content.has_value()) std::abort();
    }
    if (r.base && r.debian) std::abort();
  } catch (const ironstone::Error&) {
  }
  return 0;
}
