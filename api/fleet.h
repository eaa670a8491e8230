// The fleet view as the flasher reads it: the body of GET /v1/fleet (docs/http-api.md,
// "Fleet view"), which the seeder builds in seeder/fleet.h. A flasher uses it to find its
// place among the nodes flashing the same release (flasher/stripe.h).
//
// parse_fleet_view() is strict about what it reads: the body must be one JSON object (no
// duplicate keys, no NUL, nothing after it, nesting within 16, at most kMaxFleetBytes) with a
// "nodes" array of at most kMaxFleetNodes objects, each with string "node_id" and "state",
// and "board" and "release" strings when present. Other fields of the view and of a node
// ("summary", "events", byte counts, times, fields a newer seeder adds) are not read and
// therefore not checked: the view grows, and the flasher only depends on these four.
// Errors are api::Errc::kFleet (kTooLarge for the size) naming the field:
//   "http://nas:8080/v1/fleet: field 'nodes[3].state': expected a string".
// Thread safety: plain values and pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ironstone::api {

struct FleetNode {
  std::string node_id;
  std::string board;    // empty when the node did not say
  std::string release;  // empty when the node did not say
  std::string state;    // the node's state as the seeder shows it: "working", "done", ...
  bool operator==(const FleetNode&) const = default;
};

struct FleetView {
  std::vector<FleetNode> nodes;
};

FleetView parse_fleet_view(std::string_view json, std::string_view source);

}  // namespace ironstone::api
