// Fuzz target: the fleet view a flasher reads from GET /v1/fleet (api/fleet.h) and the
// stripe it computes from it (flasher/stripe.h). Any input must either parse or throw
// ironstone::Error; a parsed view holds at most kMaxFleetNodes nodes, and the stripe of a
// node among them is always a place 0 <= index < count.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "api/fleet.h"
#include "api/limits.h"
#include "flasher/stripe.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  ironstone::api::FleetView view;
  try {
    view = ironstone::api::parse_fleet_view(text, "fuzz-fleet.json");
  } catch (const ironstone::Error&) {
    if (ironstone::flasher::stripe_from_fleet(text, "rpi5/1.0", "n1")) std::abort();  // refused: no stripe
    return 0;
  }
  if (view.nodes.size() > ironstone::api::kMaxFleetNodes) std::abort();
  const auto stripe = ironstone::flasher::stripe_from_fleet(text, "rpi5/1.0", "n1");
  if (!stripe || stripe->count == 0 || stripe->index >= stripe->count || stripe->count > view.nodes.size() + 1)
    std::abort();
  return 0;
}
