// Fuzz target: the node identity document the flasher receives from the seeder
// (api/node_identity.h) and the NoCloud seed it renders from it (flasher/nocloud.h).
// Any input must either parse or throw ironstone::Error; a parsed identity must survive a
// serialize/parse round trip unchanged and render a seed without throwing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "flasher/nocloud.h"
#include "util/error.h"
#include "api/node_identity.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  ironstone::api::NodeIdentity id;
  try {
    id = ironstone::api::parse_node_identity(text, "fuzz-identity.json");
  } catch (const ironstone::Error&) {
    return 0;
  }
  try {
    if (ironstone::api::parse_node_identity(ironstone::api::serialize_node_identity(id), "fuzz") != id)
      std::abort();
  } catch (const ironstone::Error&) {
    std::abort();
  }
  const auto files = ironstone::flasher::nocloud_seed(id, ironstone::flasher::SeedContext{"node-1", "http://nas:8080/", "rpi5", "1.0", 3});
  if (files.size() < 2 || files[0].name != "meta-data" || files[1].name != "user-data") std::abort();
  return 0;
}
