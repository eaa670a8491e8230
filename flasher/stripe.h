// Stripes: which chunks this node fetches first, so that the NAS sends each chunk once.
//
// At the start of a rack flash every chunk is only on the seeder, and every node picks
// chunks to ask it for at random: two nodes often fetch the same chunk from the NAS at
// the same time (measured: the NAS sent 2-3 copies of the release for 8 nodes). Given
// its place among the nodes flashing the same release (from the seeder's fleet view),
// a node asks for the chunks of its own stripe (chunk % count == index) at once and for
// the others only once another node holds them (stripe_priority): the nodes fetch
// disjoint stripes from the NAS and each other's stripes from each other. Every wanted
// chunk is still downloaded, and a wrong or stale view costs time, never correctness.
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

// libtorrent piece priority of chunk i. Strict stripes. Priorities order requests, but the seeder has every chunk, so a node
// whose own stripe was all requested asked the NAS for other stripes too (measured, 2
// nodes on 100 Mbit/s ports: the NAS sent 1.5 copies and the nodes' ports idled). So a
// chunk outside the node's stripe is not asked for at all (priority 0) until another
// node holds it, and then at 4: it can only come from that node... or from the seeder,
// which the picker still prefers less than any chunk of the node's own stripe (7).
// `fallback` (the node's own stripe is done and the swarm went quiet, or the web seed
// is in use) asks for everything left at 1, from anyone: a node that left the rack, or
// a stale view, costs time at the end, never the flash.
//   one node (count <= 1): 4 for every chunk, libtorrent's own order.
std::uint8_t stripe_priority(const Stripe& stripe, std::size_t chunk, bool a_peer_holds_it, bool fallback);

}  // namespace ironstone::flasher
