// Fuzz target: the seeder's inventory parser (seeder/inventory.h), which reads an
// operator-written file. Any input must either parse or throw ironstone::Error. Every
// identity it yields must survive the trip to the flasher: serialized, it parses back
// (api/node_identity.h) to the same value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "util/error.h"
#include "seeder/inventory.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  ironstone::seeder::Inventory inv;
  try {
    inv = ironstone::seeder::parse_inventory(text, "fuzz-inventory.json", "/nonexistent-fuzz-dir");
  } catch (const ironstone::Error&) {
    return 0;
  }
  for (const auto& [mac, id] : inv.nodes) {
    if (inv.find(mac) != &id) std::abort();
    try {
      if (ironstone::api::parse_node_identity(ironstone::api::serialize_node_identity(id), "fuzz") != id)
        std::abort();
    } catch (const ironstone::Error&) {
      std::abort();  // what the seeder serves must be what the flasher accepts
    }
  }
  return 0;
}
