#include "flasher/stripe.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <vector>

namespace ironstone::flasher {

std::optional<Stripe> stripe_from_fleet(std::string_view fleet_json, const std::string& release_key,
                                        const std::string& node_id) {
  const auto doc = nlohmann::json::parse(fleet_json, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("nodes") || !doc["nodes"].is_array()) return std::nullopt;
  std::vector<std::string> ids;
  for (const auto& n : doc["nodes"]) {
    if (!n.is_object()) continue;
    auto text = [&](const char* key) {
      auto it = n.find(key);
      return it != n.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    if (text("state") != "working" || text("board") + "/" + text("release") != release_key) continue;
    ids.push_back(text("node_id"));
  }
  ids.push_back(node_id);  // this node is working on it, whether or not its report arrived yet
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  auto it = std::find(ids.begin(), ids.end(), node_id);
  return Stripe{static_cast<std::size_t>(it - ids.begin()), ids.size()};
}

std::uint8_t stripe_priority(const Stripe& stripe, std::size_t chunk, bool a_peer_holds_it, bool fallback) {
  if (stripe.count <= 1) return 4;
  if (chunk % stripe.count == stripe.index) return 7;
  if (a_peer_holds_it) return 4;
  return fallback ? 1 : 0;
}

}  // namespace ironstone::flasher
