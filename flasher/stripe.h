// Stripes: which chunks this node fetches first, so that the NAS sends each chunk once.
//
// At the start of a rack flash every chunk is only on the seeder, and every node picks
// chunks to ask it for at random: two nodes often fetch the same chunk from the NAS at
// the same time (measured: the NAS sent 2-3 copies of the release for 8 nodes). Given
// its place among the nodes flashing the same release (from the seeder's fleet view),
// a node asks for the chunks of its own stripe (stripe_table) at once and for
// the others only once another node holds them (stripe_priority): the nodes fetch
// disjoint stripes from the NAS and each other's stripes from each other. Every wanted
// chunk is still downloaded, and a wrong or stale view costs time, never correctness.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ironstone::flasher {

struct Stripe {
  std::size_t index = 0;  // this node's place, 0 <= index < count
  std::size_t count = 1;  // nodes flashing the release
  bool operator==(const Stripe&) const = default;
};

// From the body of GET /v1/fleet (docs/http-api.md; read by api::parse_fleet_view): the
// nodes whose state is "working" on release_key ("rpi5/2026.11.1") plus node_id itself,
// sorted by node id, and node_id's place among them. nullopt when the body is not a fleet
// view (the strict parser refused it). Never throws.
//
// Nodes boot at different times, so the view grows: the flasher asks again every few
// seconds while downloading and re-prioritises when its stripe changed.
std::optional<Stripe> stripe_from_fleet(std::string_view fleet_json, const std::string& release_key,
                                        const std::string& node_id);

// The stripe (0..count-1) of every chunk: chunks are dealt out largest first, each to
// the stripe with the fewest stored bytes so far (ties: the lower chunk index, the lower
// stripe), so that every node has about 1/count of the bytes to fetch from the NAS and
// the rack does not wait on the node that drew the big chunks (chunk % count could
// differ by 25% in bytes with ~20 chunks a stripe). Every node computes the same table
// from the signed chunk table. count 0 is taken as 1.
std::vector<std::uint32_t> stripe_table(std::span<const std::uint64_t> stored_sizes, std::size_t count);

// The order in which a node asks the seeder's HTTP store for chunks: the smallest at both
// ends, the largest in the middle (sorted by stored size, ties by index: the 1st, 3rd, 5th...
// smallest first, ascending, then the rest, descending). A node's stripe is the subsequence
// of its own chunks, so it too starts and ends small. At the start a small first chunk
// reaches its node sooner, which can then pass it on while the NAS sends the next; at the
// end the NAS's last chunks are the smallest, so the rack's tail is short: a chunk the NAS
// sends last must still go out through its one holder's port to every other node (at 50
// Mbit/s, 7 x 4 MiB takes 4.7 s). Index order ended with whatever chunks the image has last
// (measured: docs/performance-realistic-image.md, "The fetch order"). A permutation of 0..n-1.
std::vector<std::size_t> fetch_order(std::span<const std::uint64_t> stored_sizes);

// libtorrent piece priority of a chunk. Strict stripes: the seeder has every chunk,
// so a node asking libtorrent for other stripes got them from the NAS too (measured, 2
// nodes on 100 Mbit/s ports: the NAS sent 1.5 copies and the nodes' ports idled). A
// node's own stripe comes from the seeder over HTTP (flasher/chunk_fetch.h; 7 here, in
// case another node has a chunk of it first); a chunk of another stripe is not asked
// for at all (0) until another node holds it, then at 4. `fallback` (the node's own
// stripe is done and the swarm went quiet, or the web seed is in use) asks for
// everything left at 1: a node that left the rack, or a stale view, costs time at the
// end, never the flash.
//   alone (count <= 1): 4 for every chunk, libtorrent's own order.
std::uint8_t stripe_priority(bool own, std::size_t count, bool a_peer_holds_it, bool fallback);

// Where a chunk still missing should come from now. A chunk a connected node holds
// comes from that node (own stripe or not: a node flashing alone next to nodes that are
// done takes the release from them, not from the NAS); otherwise the node's own stripe,
// and in the fallback everything, from the seeder's HTTP store; otherwise nowhere yet
// (another node will have it).
enum class ChunkSource { kPeers, kSeederHttp, kWait };
ChunkSource chunk_source(bool own, bool a_peer_holds_it, bool fallback);

}  // namespace ironstone::flasher
