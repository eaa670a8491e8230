// The keys that authenticate re-flash orders (api/node_order.h, docs/http-api.md "Re-flash
// orders"). Each node has its own: key(mac) = BLAKE2b-256 keyed with the seeder's order secret
// (FleetStore::order_secret) over "ironstone-order-key/1 " + the canonical MAC. The node gets it
// once, in its sealed identity; the seeder derives it again for each order it serves, so no key
// is stored per node and a node's key never opens another node's orders.
// An order body is authenticated with HMAC-SHA256 under the node's key (the gold image checks it
// with `openssl dgst -sha256 -mac HMAC`).
// Thread safety: immutable after construction; all members const.
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace ironstone::seeder {

class OrderKeys {
 public:
  // REQUIRES: api::valid_order_key(secret_hex) (64 lower-case hex digits).
  explicit OrderKeys(std::string_view secret_hex);
  ~OrderKeys();
  OrderKeys(const OrderKeys&) = delete;
  OrderKeys& operator=(const OrderKeys&) = delete;

  // 64 lower-case hex digits. REQUIRES: `mac` canonical (api::canonical_mac).
  std::string key_hex(std::string_view mac) const;
  // The X-Ironstone-Order-Auth value for `body` sent to the node with that MAC: 64 hex digits.
  std::string authenticate(std::string_view body, std::string_view mac) const;

 private:
  std::array<unsigned char, 32> key(std::string_view mac) const;
  std::array<unsigned char, 32> secret_{};
};

}  // namespace ironstone::seeder
