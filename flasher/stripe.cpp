#include "flasher/stripe.h"

#include <algorithm>
#include <vector>

#include "api/fleet.h"
#include "api/paths.h"
#include "util/error.h"

namespace ironstone::flasher {

std::optional<Stripe> stripe_from_fleet(std::string_view fleet_json, const std::string& release_key,
                                        const std::string& node_id) {
  api::FleetView view;
  try {
    view = api::parse_fleet_view(fleet_json, api::kFleetPath);
  } catch (const Error&) {
    return std::nullopt;
  }
  std::vector<std::string> ids;
  for (const auto& n : view.nodes)
    if (n.state == "working" && n.board + "/" + n.release == release_key) ids.push_back(n.node_id);
  ids.push_back(node_id);  // this node is working on it, whether or not its report arrived yet
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  auto it = std::find(ids.begin(), ids.end(), node_id);
  return Stripe{static_cast<std::size_t>(it - ids.begin()), ids.size()};
}

std::vector<std::uint32_t> stripe_table(std::span<const std::uint64_t> stored_sizes, std::size_t count) {
  count = std::max<std::size_t>(count, 1);
  std::vector<std::size_t> order(stored_sizes.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return stored_sizes[a] > stored_sizes[b]; });
  std::vector<std::uint64_t> load(count, 0);
  std::vector<std::uint32_t> table(stored_sizes.size(), 0);
  for (std::size_t chunk : order) {
    const auto least = static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    table[chunk] = static_cast<std::uint32_t>(least);
    load[least] += stored_sizes[chunk];
  }
  return table;
}

std::vector<std::size_t> fetch_order(std::span<const std::uint64_t> stored_sizes) {
  std::vector<std::size_t> by_size(stored_sizes.size());
  for (std::size_t i = 0; i < by_size.size(); ++i) by_size[i] = i;
  std::stable_sort(by_size.begin(), by_size.end(),
                   [&](std::size_t a, std::size_t b) { return stored_sizes[a] < stored_sizes[b]; });
  std::vector<std::size_t> order;
  order.reserve(by_size.size());
  for (std::size_t r = 0; r < by_size.size(); r += 2) order.push_back(by_size[r]);  // ascending
  for (std::size_t r = by_size.size(); r-- > 0;)
    if (r % 2 == 1) order.push_back(by_size[r]);  // descending
  return order;
}

std::uint8_t stripe_priority(bool own, std::size_t count, bool a_peer_holds_it, bool fallback) {
  if (count <= 1) return 4;
  if (own) return 7;
  if (a_peer_holds_it) return 4;
  return fallback ? 1 : 0;
}

ChunkSource chunk_source(bool own, bool a_peer_holds_it, bool fallback) {
  if (a_peer_holds_it) return ChunkSource::kPeers;
  if (own || fallback) return ChunkSource::kSeederHttp;
  return ChunkSource::kWait;
}

}  // namespace ironstone::flasher
