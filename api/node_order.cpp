#include "api/node_order.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "api/errc.h"
#include "api/node_event.h"
#include "api/node_identity.h"
#include "util/hex.h"
#include "util/json_reader.h"

namespace ironstone::api {

namespace {

using json = nlohmann::json;

Error order_error(const std::string& message) { return error(Errc::kOrder, message); }

std::int64_t seconds(strict_json::ObjectReader& r, const char* key) {
  return static_cast<std::int64_t>(r.uint(key, 1ull << 40));
}

}  // namespace

bool valid_order_id(std::string_view id) { return is_lower_hex(id, 32); }
bool valid_order_key(std::string_view key) { return is_lower_hex(key, 64); }

std::string serialize_node_order(const NodeOrder& o) {
  const json doc{{"action", o.action}, {"expires", o.expires}, {"id", o.id},
                 {"issued", o.issued}, {"mac", o.mac},         {"node_id", o.node_id}};
  return doc.dump() + "\n";
}

NodeOrder parse_node_order(std::string_view body, std::string_view source) {
  const json doc = strict_json::parse_strict_within(body, kMaxOrderBytes, source, order_error, 4, "malformed JSON: ");
  strict_json::ObjectReader r(doc, "", source, order_error);
  NodeOrder o;
  o.action = r.string("action");
  if (o.action != "reflash") r.fail("action", "must be \"reflash\"");
  o.expires = seconds(r, "expires");
  o.id = r.string("id");
  if (!valid_order_id(o.id)) r.fail("id", "expected 32 lower-case hex digits");
  o.issued = seconds(r, "issued");
  if (o.expires < o.issued) r.fail("expires", "before 'issued'");
  o.mac = r.string("mac");
  if (canonical_mac(o.mac) != o.mac) r.fail("mac", "expected a lower-case MAC address like dc:a6:32:01:02:03");
  o.node_id = r.string("node_id");
  if (!valid_node_id(o.node_id)) r.fail("node_id", "not a node id [A-Za-z0-9][A-Za-z0-9._-]{0,63}");
  r.finish();
  return o;
}

std::vector<std::string> parse_reflash_request(std::string_view body) {
  const std::string source = "re-flash request";
  const json doc =
      strict_json::parse_strict_within(body, kMaxReflashRequestBytes, source, order_error, 4, "malformed JSON: ");
  strict_json::ObjectReader r(doc, "", source, order_error);
  const json& nodes = r.array("nodes");
  if (nodes.empty()) r.fail("nodes", "names no node");
  if (nodes.size() > kMaxReflashNodes) r.fail("nodes", "more than " + std::to_string(kMaxReflashNodes) + " nodes");
  std::vector<std::string> out;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const std::string f = strict_json::element("nodes", i);
    if (!nodes[i].is_string()) r.fail(f.c_str(), "expected a string");
    const std::string n = nodes[i].get<std::string>();
    if (!valid_node_id(n) && !canonical_mac(n)) r.fail(f.c_str(), "not a node id or MAC");
    if (std::find(out.begin(), out.end(), n) != out.end()) r.fail(f.c_str(), "'" + n + "' named twice");
    out.push_back(n);
  }
  r.finish();
  return out;
}

std::string serialize_reflash_request(const std::vector<std::string>& nodes) {
  return json{{"nodes", nodes}}.dump() + "\n";
}

}  // namespace ironstone::api
