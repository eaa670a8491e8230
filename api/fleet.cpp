#include "api/fleet.h"

#include "api/errc.h"
#include "api/limits.h"
#include "util/json_reader.h"

namespace ironstone::api {

namespace {

Error fleet_error(const std::string& message) { return error(Errc::kFleet, message); }

std::string optional_string(strict_json::ObjectReader& r, const char* key) {
  return r.has(key) ? r.string(key) : std::string();
}

}  // namespace

FleetView parse_fleet_view(std::string_view json, std::string_view source) {
  if (json.size() > kMaxFleetBytes)
    throw error(Errc::kTooLarge, std::string(source) + ": " + std::to_string(json.size()) +
                                     " bytes exceed the fleet view limit of " + std::to_string(kMaxFleetBytes));
  const nlohmann::json doc = strict_json::parse_strict(json, source, fleet_error, 16, "malformed JSON: ");
  if (!doc.is_object()) throw fleet_error(std::string(source) + ": expected a JSON object");
  strict_json::ObjectReader top(doc, "", source, fleet_error);
  const nlohmann::json& nodes = top.array("nodes");
  if (nodes.size() > kMaxFleetNodes)
    throw error(Errc::kTooLarge, std::string(source) + ": nodes: " + std::to_string(nodes.size()) +
                                     " nodes, more than " + std::to_string(kMaxFleetNodes));
  FleetView view;
  view.nodes.reserve(nodes.size());
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const std::string path = strict_json::element("nodes", i);
    if (!nodes[i].is_object()) throw fleet_error(std::string(source) + ": " + path + ": expected an object");
    strict_json::ObjectReader n(nodes[i], path, source, fleet_error);
    FleetNode node;
    node.node_id = n.string("node_id");
    node.state = n.string("state");
    node.board = optional_string(n, "board");
    node.release = optional_string(n, "release");
    view.nodes.push_back(std::move(node));
  }
  return view;
}

}  // namespace ironstone::api
