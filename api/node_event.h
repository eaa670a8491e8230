// The two reports a node sends the seeder (docs/http-api.md, "Node events", "Node
// lifecycle"): what the flasher POSTs to /v1/nodes/<node-id>/events (NodeEvent) and what the
// gold image's first-boot units POST to /v1/nodes/<node-id>/lifecycle (LifecycleReport). The
// flasher builds its body with serialize_node_event(), the seeder reads both with the strict
// parsers below, and the tests use both sides.
//
// Parsing is strict: one flat JSON object (no nesting, no duplicate keys, nothing after it),
// no unknown fields, every value of its type and range. Errors are api::Errc::kEvent naming
// the document and the field, e.g.
//   "event: field 'progress': must be a number in [0, 1]"
//   "lifecycle: field 'state': must be \"booted\", \"joined\" or \"failed\""
// except a lifecycle body over kMaxLifecycleBytes: api::Errc::kTooLarge
//   "lifecycle: body larger than 4096 bytes".
// (The event body's size is bounded by the seeder's --max-body, api::kMaxEventBytes.)
// Thread safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "api/limits.h"

namespace ironstone::api {

inline constexpr std::size_t kMaxEventErrorBytes = 1024;   // NodeEvent::error
inline constexpr std::size_t kMaxEventBannedBytes = 1024;  // NodeEvent::banned_peers

struct NodeEvent {
  std::string node_id;  // from the URL: [A-Za-z0-9][A-Za-z0-9._-]{0,63}
  std::string mac;      // "dc:a6:32:01:02:03" (lower-case), may be empty
  std::string board;    // [a-z0-9-]+, may be empty before detection
  std::string release;  // release version being flashed, may be empty
  std::string step;     // [a-z0-9-]{1,32}, e.g. "download"
  std::string state;    // "working" | "done" | "failed"
  double progress = 0;  // of the current step, 0..1
  std::uint64_t bytes_done = 0;
  std::uint64_t bytes_total = 0;
  std::uint64_t bytes_from_seeder = 0;  // BitTorrent from the seeder + web seed
  std::uint64_t bytes_from_peers = 0;   // BitTorrent from other nodes
  // Bytes accepted from peers that were banned afterwards for data failing the piece hash,
  // and those peers: "ip:port (reason); ..." (at most kMaxEventBannedBytes; may be empty).
  std::uint64_t bytes_from_banned_peers = 0;
  std::string banned_peers;
  double rate = 0;                      // bytes per second, current
  std::string error;                    // failure reason, at most kMaxEventErrorBytes
};

// A report of the gold image's first-boot units (CONTRACT-firstboot).
struct LifecycleReport {
  std::string node_id;   // resolved by the seeder (Fleet::resolve_node_id)
  std::string state;     // "booted" | "joined" | "failed" | "reflashing" (a re-flash order taken)
  std::string hostname;  // [A-Za-z0-9.-]{1,253}, may be empty
  std::string board;     // may be empty
  std::string release;   // the release the node runs, may be empty
  std::optional<std::uint64_t> sequence;
  std::string stage;     // [a-z0-9-]{1,32}, e.g. "k3s"; required with "failed"
  std::string reason;    // at most kMaxLifecycleReasonBytes; required with "failed"
  // "join_expected" (with "booted"): the node will start k3s (a k3s binary in the image and a
  // role in its seed), so a "joined" report should follow; absent: false.
  bool join_expected = false;
  std::string order;  // with "reflashing" (required): the order's id (api/node_order.h)
};

// A node id as it appears in the URL: [A-Za-z0-9][A-Za-z0-9._-]{0,63}.
bool valid_node_id(std::string_view id);

// The body of POST /v1/nodes/<event.node_id>/events: step, state and the numbers always;
// mac, board, release, banned_peers and error only when not empty (the seeder checks their form); the
// node id is in the URL, not the body. Compact JSON.
std::string serialize_node_event(const NodeEvent& event);
// Every field of `event`, node_id included, empty strings as "": the record the seeder keeps
// and shows for a node's last event.
nlohmann::json to_json(const NodeEvent& event);

// Strict parser of an event body for the node `node_id` (from the URL; a "node_id" field,
// when present, must equal it). Requires "step" and "state"; bytes_done <= bytes_total when
// bytes_total is not 0.
NodeEvent parse_node_event(std::string_view node_id, std::string_view body);

// The body of POST /v1/nodes/<node-id>/lifecycle: state always; hostname, board, release,
// stage and reason only when not empty, sequence only when set. Compact JSON.
std::string serialize_lifecycle_report(const LifecycleReport& report);
// The fields of a lifecycle report but its node id, empty strings as "", "sequence" only
// when set: the record the seeder keeps in a node's history.
nlohmann::json to_json(const LifecycleReport& report);

// Strict parser of a lifecycle body: at most kMaxLifecycleBytes, "state" required, "stage"
// and "reason" required with "failed". `node_id` is stored as given.
LifecycleReport parse_lifecycle_report(std::string_view node_id, std::string_view body);

}  // namespace ironstone::api
