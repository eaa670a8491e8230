// Fuzz target: the seeder's strict parser of node event bodies (api/node_event.h
// parse_node_event), which reads what any host on the LAN POSTs to
// /v1/nodes/<node-id>/events. Any input must either parse or throw ironstone::Error;
// nothing else. An event that parses must hold the documented invariants, go into a
// Fleet, come out of the fleet view (JSON and the CLI table), and parse again to the same
// event both from the view and from the body a flasher would send for it
// (serialize_node_event).
//
// Input: the body; or "@<node-id>\n<body>" to fuzz the node id too (as the router
// would hand it over after its own validation, which parse_node_event repeats).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "util/error.h"
#include "seeder/fleet.h"
#include "seeder/fleet_view.h"

namespace {

bool same(const ironstone::seeder::NodeEvent& a, const ironstone::seeder::NodeEvent& b) {
  return a.node_id == b.node_id && a.mac == b.mac && a.board == b.board && a.release == b.release &&
         a.step == b.step && a.state == b.state && a.progress == b.progress && a.bytes_done == b.bytes_done &&
         a.bytes_total == b.bytes_total && a.bytes_from_seeder == b.bytes_from_seeder &&
         a.bytes_from_peers == b.bytes_from_peers && a.bytes_from_banned_peers == b.bytes_from_banned_peers &&
         a.banned_peers == b.banned_peers && a.rate == b.rate && a.error == b.error;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ironstone::seeder;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string_view node_id = "rack1-n03";
  if (input.starts_with('@')) {
    const std::size_t nl = input.find('\n');
    node_id = input.substr(1, nl == std::string_view::npos ? std::string_view::npos : nl - 1);
    input = nl == std::string_view::npos ? std::string_view{} : input.substr(nl + 1);
  }
  NodeEvent event;
  try {
    event = parse_node_event(node_id, input);
  } catch (const ironstone::Error&) {
    return 0;
  }
  // Documented invariants (docs/http-api.md, "Node events").
  if (!valid_node_id(event.node_id) || event.node_id != node_id) std::abort();
  if (event.step.empty() || event.step.size() > 32) std::abort();
  if (event.state != "working" && event.state != "done" && event.state != "failed") std::abort();
  if (!(event.progress >= 0 && event.progress <= 1)) std::abort();
  if (!(event.rate >= 0)) std::abort();
  if (event.bytes_total != 0 && event.bytes_done > event.bytes_total) std::abort();
  if (event.error.size() > 1024 || !(event.mac.empty() || event.mac.size() == 17)) std::abort();

  try {
    if (!same(parse_node_event(node_id, ironstone::api::serialize_node_event(event)), event)) std::abort();
  } catch (const ironstone::Error&) {
    std::abort();
  }

  Fleet fleet(Fleet::Options{});
  try {
    fleet.record(event);
  } catch (const ironstone::Error&) {
    std::abort();  // one node never exceeds max_nodes
  }
  const nlohmann::json view = fleet.view();
  (void)view.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  (void)fleet.summary().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  (void)format_fleet(view);

  // Round trip: the node as the view reports it, minus the seeder's own fields.
  nlohmann::json node = view.at("nodes").at(0);
  for (const char* key : {"first_seen", "last_seen", "flash_state", "reason", "hostname", "running_release",
                          "flashed_at", "order"}) {
    node.erase(key);
  }
  if (event.mac.empty()) node.erase("mac");  // optional, but "" is not a MAC address
  try {
    if (!same(parse_node_event(node_id, node.dump()), event)) std::abort();
  } catch (const ironstone::Error&) {
    std::abort();
  }
  return 0;
}
