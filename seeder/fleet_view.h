// The CLI fleet view (`ironstone-seeder fleet --url http://nas:8080 [--watch S]`):
// GET /v1/fleet from a running seeder and print one row per node plus a summary
// line. The formatting works on a parsed document, so it is unit-testable; the
// document comes from the network and is not trusted: missing fields or fields of
// the wrong type show as "-" (or 0), never as an exception.
//
// Thread safety: pure functions, except run_fleet_view(), which blocks the calling
// thread on HTTP requests and sleeps.
#pragma once

#include <chrono>
#include <functional>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>

namespace ironstone::seeder {

// The table for a GET /v1/fleet document (docs/http-api.md):
//
//   NODE       HOST       BOARD  RELEASE    STEP      STATE    PROGRESS  RATE MB/s  SEEDER MB  PEERS MB  LAST SEEN
//   rack1-n03  -          rpi5   2026.11.1  download  working     42.0%      118.0      104.9     775.9  1s ago
//   node-a1    rack1-n01  rpi5   2026.11.1  linger    joined     100.0%        0.0        0.0       0.0  3m ago
//   4 nodes: 1 working, 1 done, 0 booted, 1 joined, 1 failed, 0 stale; 118.0 MB/s; from seeder …, from peers …
//
// MB = 10^6 bytes. HOST is the host name the node reported at first boot; RELEASE the
// release it runs once booted, else the one being flashed. "LAST SEEN" is relative to the
// document's "time". Failed and stale nodes get an indented line with their reason below
// their row ("    error: verify: …", "    stale: flashed at …"). Every line ends with '\n'.
std::string format_fleet(const nlohmann::json& fleet);

// True when the document has at least one node and none is still flashing (every
// node is "done", "booted", "joined", "failed" or "stale": a stale node stopped
// reporting and no longer counts as flashing, see Fleet).
bool fleet_settled(const nlohmann::json& fleet);

struct FleetViewOptions {
  std::string url = "http://127.0.0.1:8080";  // the seeder's base URL; "/v1/fleet" is appended
  // 0: print once. Otherwise redraw every `watch` until fleet_settled() or
  // stop_requested() returns true.
  std::chrono::milliseconds watch{0};
  bool clear_screen = false;                  // redraw in place (ANSI) instead of appending
  std::chrono::milliseconds timeout{10'000};  // per request
};

// Prints the fleet to `out`. Once: a failed request (connection, HTTP status other
// than 200, a body that is not a JSON object) throws ironstone::Error naming the
// URL. Watching: the first request must succeed (same errors); later failures are
// printed and retried at the next tick. Returns when done.
void run_fleet_view(const FleetViewOptions& options, std::ostream& out,
                    const std::function<bool()>& stop_requested = [] { return false; });

}  // namespace ironstone::seeder
