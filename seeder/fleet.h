// The fleet view: what every node last reported, its history, and a log of changes.
//
// Two kinds of report reach it (docs/http-api.md, api/node_event.h):
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
// Re-flash orders (api/node_order.h, fleet_orders.cpp): the operator orders nodes re-flashed;
// the node's gold image polls open_order(), reports "reflashing" (lifecycle, shown as state
// "reflashing", stale after boot_timeout without a flash) and reboots into its installer card;
// the order is carried out when that node's next flash starts (a history entry says so).
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

#include "api/node_event.h"
#include "api/node_order.h"
#include "api/peer_report.h"

namespace ironstone::seeder {

class FleetStore;

// The two reports and their strict parsers are the wire contract (api/node_event.h); the
// seeder's code names them as its own.
using api::LifecycleReport;
using api::NodeEvent;
using api::parse_lifecycle_report;
using api::parse_node_event;
using api::valid_node_id;

struct FleetCounts {
  std::size_t nodes = 0;
  std::size_t working = 0;  // still flashing (not stale)
  std::size_t done = 0;     // flashed, no first-boot report yet (not stale)
  std::size_t booted = 0;
  std::size_t joined = 0;
  std::size_t failed = 0;
  std::size_t reflashing = 0;  // took a re-flash order, no flash started yet (not stale)
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
    std::chrono::seconds join_timeout{1800};  // "booted" with join_expected, no "joined" since
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

  // {"time", "nodes": [...], "peers": [...], "summary": {...}, "events": [...], "rates": [...]}
  // (docs/http-api.md).
  nlohmann::json view(Clock::time_point now = Clock::now()) const;
  // {"summary": {...}, "releases": {"<board>/<release>": {...}}}: what lingering
  // flashers poll.
  nlohmann::json summary(Clock::time_point now = Clock::now()) const;
  FleetCounts counts(Clock::time_point now = Clock::now()) const;
  // A peer's report (peer mode, api/peer_report.h): kept in memory, shown in view() under
  // "peers", apart from the flashing nodes. Throws Error(Errc::kTooLarge) for a new peer
  // when max_nodes peers are known.
  void peer_report(api::PeerReport report, Clock::time_point now = Clock::now());
  // {"node_id", "node": {…as in view…}, "history": [...]}, nullopt for an unknown node.
  std::optional<nlohmann::json> history(std::string_view node_id, Clock::time_point now = Clock::now()) const;

  // Orders each named node (id or MAC) re-flashed, all or nothing: a name that is no known
  // node, or a node whose flash events never gave its MAC (its key derives from it), is
  // Error(Errc::kNotFound) naming every such name, and nothing is ordered. A node with an
  // order already gets a new one (the old id is void). Written to the store before it returns.
  std::vector<api::NodeOrder> order_reflash(const std::vector<std::string>& ids_or_macs,
                                            Clock::time_point now = Clock::now());
  // Cancels the named nodes' orders (all names must be known nodes, else kNotFound and nothing
  // changes); returns how many orders there were.
  std::size_t cancel_orders(const std::vector<std::string>& ids_or_macs, Clock::time_point now = Clock::now());
  // The node's order, while not expired; nullopt otherwise or for an unknown node.
  std::optional<api::NodeOrder> open_order(std::string_view node_id, Clock::time_point now = Clock::now()) const;

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
    std::optional<api::NodeOrder> order;  // the last re-flash order, until a flash starts or it is cancelled
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
  const Node* find_locked(std::string_view id_or_mac) const;       // by id, else by MAC
  const Node* find_by_mac_locked(const std::string& mac) const;    // REQUIRES: mac canonical
  std::vector<std::string> resolve_all(const std::vector<std::string>& ids_or_macs, bool need_mac) const;
  nlohmann::json order_json(const Node& node, Clock::time_point now) const;
  nlohmann::json carry_out_order(Node& node, Clock::time_point now);

  Options options_;
  FleetStore* store_ = nullptr;
  mutable std::mutex mutex_;
  std::map<std::string, Node> nodes_;
  std::map<std::string, std::pair<api::PeerReport, Clock::time_point>> peers_;  // by peer id
  std::deque<nlohmann::json> log_;
  std::deque<nlohmann::json> rates_;  // {"time", "seeder", "peers"}: cumulative bytes
  Clock::time_point last_sample_{};
};

}  // namespace ironstone::seeder
