// Stripes: which chunks this node fetches first, so that the NAS sends each chunk once.
//
// At the start of a rack flash every chunk is only on the seeder, and every node picks
// chunks to ask it for at random: two nodes often fetch the same chunk from the NAS at
// the same time (measured: the NAS sent 2-3 copies of the release for 8 nodes). Given
// its place among the nodes flashing the same release (from the seeder's fleet view),
// a node gives the chunks of its own stripe (chunk % count == index) the highest
// libtorrent priority: the nodes fetch disjoint stripes from the NAS and each other's
// stripes from each other. Only an order: every wanted chunk is still downloaded, and
// a wrong or stale view costs duplicates, never correctness.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ironstone::flasher {

struct Stripe {
  std::size_t index = 0;  // this node's place, 0 <= index < count
  std::size_t count = 1;  // nodes flashing the release
  bool operator==(const Stripe&) const = default;
};

// From the body of GET /v1/fleet (docs/http-api.md): the nodes whose state is "working"
// on release_key ("rpi5/2026.11.1") plus node_id itself, sorted by node id, and node_id's
// place among them. nullopt when the body is not a fleet view. Never throws.
//
// Nodes boot at different times, so the view grows: the flasher asks again every few
// seconds while downloading and re-prioritises when its stripe changed.
std::optional<Stripe> stripe_from_fleet(std::string_view fleet_json, const std::string& release_key,
                                        const std::string& node_id);

// libtorrent piece priority of chunk i: 7 (top) in the node's stripe, 4 (default) otherwise.
std::uint8_t stripe_priority(const Stripe& stripe, std::size_t chunk);

}  // namespace ironstone::flasher
