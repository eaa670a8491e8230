// The fleet view: what every flashing node last reported, and a log of changes.
//
// Flashers POST one NodeEvent per step change and periodically during long steps
// (docs/http-api.md, "Node events"). The seeder keeps the latest event per node,
// a bounded log of state/step changes and errors, and answers "is anyone still
// flashing?" for lingering flashers: a node counts as flashing while its state is
// "working" and it reported within stale_after; after that it shows as "stale".
//
// Thread safety: all members may be called from any thread (one mutex).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace ironstone::seeder {

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
  double rate = 0;                      // bytes per second, current
  std::string error;                    // failure reason, at most 1024 bytes
};

bool valid_node_id(std::string_view id);

// Strict parser of an event body (a JSON object; unknown or duplicate keys, wrong
// types, out-of-range values are errors). Throws Error(Errc::kBadRequest) naming
// the field, e.g. "event: field 'progress': must be a number in [0, 1]".
NodeEvent parse_node_event(std::string_view node_id, std::string_view body);

struct FleetCounts {
  std::size_t nodes = 0;
  std::size_t working = 0;  // still flashing (not stale)
  std::size_t done = 0;
  std::size_t failed = 0;
  std::size_t stale = 0;
  std::uint64_t bytes_from_seeder = 0;
  std::uint64_t bytes_from_peers = 0;
  double rate = 0;  // sum over working nodes
};

class Fleet {
 public:
  using Clock = std::chrono::system_clock;
  struct Options {
    std::size_t max_nodes = 4096;
    std::size_t max_log = 1000;
    std::chrono::seconds stale_after{300};
  };

  explicit Fleet(Options options);

  // Throws Error(Errc::kTooLarge) when the node is new and max_nodes are known.
  void record(NodeEvent event, Clock::time_point now = Clock::now());

  // {"nodes": [...], "summary": {...}, "events": [...]} (docs/http-api.md).
  nlohmann::json view(Clock::time_point now = Clock::now()) const;
  // {"summary": {...}, "releases": {"<board>/<release>": {...}}}: what lingering
  // flashers poll.
  nlohmann::json summary(Clock::time_point now = Clock::now()) const;
  FleetCounts counts(Clock::time_point now = Clock::now()) const;

 private:
  struct Node {
    NodeEvent last;
    Clock::time_point first_seen;
    Clock::time_point last_seen;
  };
  std::string effective_state(const Node& node, Clock::time_point now) const;
  FleetCounts counts_locked(Clock::time_point now) const;

  Options options_;
  mutable std::mutex mutex_;
  std::map<std::string, Node> nodes_;
  std::deque<nlohmann::json> log_;
};

}  // namespace ironstone::seeder
