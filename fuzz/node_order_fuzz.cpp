// Fuzz target: the strict parsers of re-flash orders and of the operator's re-flash request
// (api/node_order.h). The first byte picks the parser. Any input must parse or throw
// ironstone::Error; an order that parses serializes back to bytes that parse to the same order
// (what the gold image's orders.sh reads is exactly what the seeder signed), and a request's
// node list survives its own serialization.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "api/node_order.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ironstone::api;
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    if (data[0] % 2 == 0) {
      const NodeOrder o = parse_node_order(input, "order");
      if (!valid_order_id(o.id) || o.action != "reflash" || o.expires < o.issued) std::abort();
      const std::string again = serialize_node_order(o);
      if (again.size() > kMaxOrderBytes || !(parse_node_order(again, "again") == o)) std::abort();
    } else {
      const auto nodes = parse_reflash_request(input);
      if (nodes.empty() || nodes.size() > kMaxReflashNodes) std::abort();
      if (parse_reflash_request(serialize_reflash_request(nodes)) != nodes) std::abort();
    }
  } catch (const ironstone::Error&) {
  }
  return 0;
}
