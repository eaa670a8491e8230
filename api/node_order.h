// Re-flash orders (docs/http-api.md "Re-flash orders", docs/first-boot.md "Re-flash orders"):
// the operator asks the seeder to re-flash nodes, the nodes' gold images poll for them.
//
//   POST   /v1/fleet/reflash  {"nodes":["rack1-n01","dc:a6:32:01:02:03",…]}   (operator token)
//   DELETE /v1/fleet/reflash  {"nodes":[…]}                                    (cancels)
//   GET    /v1/nodes/<node-id>/order  -> 204 (none) or 200 with one NodeOrder and the header
//          X-Ironstone-Order-Auth: hex HMAC-SHA256 of the body's exact bytes under the node's key
//
// The node's order key (32 bytes, 64 hex) reaches it once, in its identity (the sealed seed,
// api/node_identity.h "order_key"), derived by the seeder from its own secret and the node's
// MAC, so no key is stored per node. The gold image's orders unit acts on an order only when
// the HMAC, the node id and the expiry check, and on each order id at most once.
// Form of the order body (serialize_node_order): compact JSON, keys sorted, values from
// restricted alphabets only (no quotes or backslashes), so a shell script can read it once the
// HMAC checks. Thread safety: plain values and pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ironstone::api {

inline constexpr const char* kOrderAuthHeader = "X-Ironstone-Order-Auth";
inline constexpr std::size_t kMaxOrderBytes = 1024;
inline constexpr std::size_t kMaxReflashRequestBytes = 1024 * 1024;
inline constexpr std::size_t kMaxReflashNodes = 4096;  // = kMaxFleetNodes
inline constexpr std::int64_t kOrderLifetimeSeconds = 24 * 3600;

struct NodeOrder {
  std::string node_id;             // api::valid_node_id
  std::string mac;                 // canonical, the key's MAC
  std::string action = "reflash";  // the only action today
  std::string id;                  // 32 lower-case hex digits, random
  std::int64_t issued = 0;         // Unix seconds
  std::int64_t expires = 0;        // issued + kOrderLifetimeSeconds
  bool operator==(const NodeOrder&) const = default;
};

// The order as served: {"action","expires","id","issued","mac","node_id"} + "\n".
std::string serialize_node_order(const NodeOrder& order);
// Strict (every field required, nothing else, each value of its form, at most kMaxOrderBytes).
// Throws api::Errc::kOrder naming `source` and the field.
NodeOrder parse_node_order(std::string_view body, std::string_view source);

// {"nodes":[…]}: 1 to kMaxReflashNodes node ids or MACs, as given (the seeder resolves them).
// Throws api::Errc::kOrder naming the field (e.g. "nodes[3]: not a node id or MAC").
std::vector<std::string> parse_reflash_request(std::string_view body);
std::string serialize_reflash_request(const std::vector<std::string>& nodes);

bool valid_order_id(std::string_view id);    // [0-9a-f]{32}
bool valid_order_key(std::string_view key);  // [0-9a-f]{64}

}  // namespace ironstone::api
