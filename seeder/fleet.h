// The fleet view: what every node last reported, its history, and a log of changes.
//
// Two kinds of report reach it (docs/http-api.md):
//   - flash events (NodeEvent): the flasher POSTs one per step change and periodically
//     during long steps; state "working", then "done" (flashed, powered off) or "failed";
//   - lifecycle reports (LifecycleReport): the gold image's first-boot units POST "booted"
//     (with the node's new host name and the release it runs), then "joined" (k3s started)
//     or "failed" (with the stage and reason).
// A node's state, as shown: working -> done -> booted -> joined, or failed (with the reason)
// at any stage, or stale: "working" but silent for stale_after, or "done" with no
// first-boot report within boot_timeout ("flashed at …, no first-boot report for 30 min").
// A new flash (a "working" event after done/failed/booted/joined) starts over.
//
// History: per node, every finished flash (release, start and end time, bytes from the
// seeder and from peers, outcome) and every lifecycle report, newest last (at most
// max_history kept in memory; the store keeps all).
//
// Persistence: with a FleetStore (seeder/fleet_store.h) every change is handed to its writer
// thread; record() and report() wait for the write only for state transitions (a flash
// ending or starting, a lifecycle report), so what was acknowledged survives a crash, and
// progress events stay off the disk path (coalesced by the writer). The rate history used
// by the dashboard's chart is kept in memory only.
//
// Thread safety: all members may be called from any thread (one mutex). Readers (view,
// history, counts) only read memory.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/limits.h"

namespace ironstone::seeder {

class FleetStore;

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
  // Of bytes_from_peers, from peers this node banned for corrupt data, and their "ip:port"
  // (at most kMaxBannedPeers, each at most 47 characters: "[v6 address]:port").
  std::uint64_t bytes_from_banned_peers = 0;
  std::vector<std::string> banned_peers;
  double rate = 0;                      // bytes per second, current
  std::string error;                    // failure reason, at most 1024 bytes
};

// A report of the gold image's first-boot units (CONTRACT-firstboot, docs/http-api.md).
struct LifecycleReport {
  std::string node_id;   // resolved by the caller (Fleet::resolve_node_id)
  std::string state;     // "booted" | "joined" | "failed"
  std::string hostname;  // [A-Za-z0-9.-]{1,253}, may be empty
  std::string board;     // may be empty
  std::string release;   // the release the node runs, may be empty
  std::optional<std::uint64_t> sequence;
  std::string stage;     // [a-z0-9-]{1,32}, e.g. "k3s"; required with "failed"
  std::string reason;    // at most 1024 bytes; required with "failed"
};

inline constexpr std::size_t kMaxBannedPeers = 32;
inline constexpr std::size_t kMaxLifecycleBody = api::kMaxLifecycleBytes;
inline constexpr std::size_t kMaxReasonText = api::kMaxLifecycleReasonBytes;

bool valid_node_id(std::string_view id);

// Strict parser of an event body (a JSON object; unknown or duplicate keys, wrong
// types, out-of-range values are errors). Throws Error(Errc::kBadRequest) naming
// the field, e.g. "event: field 'progress': must be a number in [0, 1]".
NodeEvent parse_node_event(std::string_view node_id, std::string_view body);

// Strict parser of a lifecycle body (fleet_parse.cpp): at most kMaxLifecycleBody bytes
// (else Error(Errc::kTooLarge) "lifecycle: body larger than 4096 bytes"), one flat JSON
// object with "state" and optional "hostname", "board", "release", "sequence", "stage",
// "reason" ("stage" and "reason" required for "failed"). Other errors are
// Error(Errc::kBadRequest) naming the field: "lifecycle: field 'state': must be \"booted\",
// \"joined\" or \"failed\"". `node_id` is stored as given.
LifecycleReport parse_lifecycle_report(std::string_view node_id, std::string_view body);

struct FleetCounts {
  std::size_t nodes = 0;
  std::size_t working = 0;  // still flashing (not stale)
  std::size_t done = 0;     // flashed, no first-boot report yet (not stale)
  std::size_t booted = 0;
  std::size_t joined = 0;
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
    std::chrono::seconds boot_timeout{1800};
    std::size_t max_history = 256;        // per node, in memory
    std::size_t max_rate_samples = 360;   // the dashboard's chart
    std::chrono::seconds rate_sample_every{5};
  };

  explicit Fleet(Options options);

  // Persist into `store` from now on, starting with what it loaded (memory only until then).
  // REQUIRES: called once, before any record()/report(); `store` outlives the Fleet.
  // Throws Error(Errc::kDatabase) naming the file when a stored record is malformed.
  void attach(FleetStore* store);

  // Throws Error(Errc::kTooLarge) when the node is new and max_nodes are known.
  void record(NodeEvent event, Clock::time_point now = Clock::now());
  void report(LifecycleReport report, Clock::time_point now = Clock::now());

  // The node id a lifecycle URL names: a node id as is; a MAC (any case, ':' or '-') the
  // node whose flash events carried that MAC, else "node-<12 hex>" (the flasher's default).
  std::string resolve_node_id(std::string_view id_or_mac) const;

  // {"time", "nodes": [...], "summary": {...}, "events": [...], "rates": [...]}
  // (docs/http-api.md).
  nlohmann::json view(Clock::time_point now = Clock::now()) const;
  // {"summary": {...}, "releases": {"<board>/<release>": {...}}}: what lingering
  // flashers poll.
  nlohmann::json summary(Clock::time_point now = Clock::now()) const;
  FleetCounts counts(Clock::time_point now = Clock::now()) const;
  // {"node_id", "node": {…as in view…}, "history": [...]}, nullopt for an unknown node.
  std::optional<nlohmann::json> history(std::string_view node_id, Clock::time_point now = Clock::now()) const;

 private:
  struct Node {
    NodeEvent last;  // the last flash event (only node_id set when none came yet)
    bool flashed = false;
    Clock::time_point first_seen;
    Clock::time_point last_seen;      // last report of either kind
    Clock::time_point flash_started;  // first event of the current flash
    Clock::time_point flash_ended;    // when it reported done / failed
    std::optional<LifecycleReport> boot;
    Clock::time_point boot_at;
    std::deque<nlohmann::json> history;
  };
  struct Shown {
    std::string state;
    std::string reason;
  };
  Shown shown(const Node& node, Clock::time_point now) const;
  FleetCounts counts_locked(Clock::time_point now) const;
  nlohmann::json node_json(const Node& node, Clock::time_point now) const;
  Node& node_for(const std::string& id, Clock::time_point now);
  void add_history(Node& node, nlohmann::json entry);
  void log_change(const std::string& id, nlohmann::json entry);
  void sample_rates(Clock::time_point now);
  std::uint64_t persist(const Node& node, const nlohmann::json* history_entry);
  void restore();

  Options options_;
  FleetStore* store_ = nullptr;
  mutable std::mutex mutex_;
  std::map<std::string, Node> nodes_;
  std::deque<nlohmann::json> log_;
  std::deque<nlohmann::json> rates_;  // {"time", "seeder", "peers"}: cumulative bytes
  Clock::time_point last_sample_{};
};

}  // namespace ironstone::seeder
