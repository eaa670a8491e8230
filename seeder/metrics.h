// Prometheus text exposition (format 0.0.4) of the seeder's state: HTTP counters,
// the swarm (per release torrent), the tracker and the fleet.
//
// Thread safety: a pure function over snapshots.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "seeder/fleet.h"
#include "seeder/fleet_store.h"
#include "seeder/http_server.h"
#include "seeder/swarm_seeder.h"
#include "seeder/tracker.h"

namespace ironstone::seeder {

struct MetricsSnapshot {
  const HttpStats* http = nullptr;  // may be null
  std::vector<TorrentStats> torrents;
  std::vector<SwarmCounts> tracker;
  FleetCounts fleet;
  std::optional<FleetStore::Stats> fleet_db;  // absent without a database
  std::uint64_t chunk_bytes_served = 0;  // web seed payload (file routes under /chunks)
};

std::string render_metrics(const MetricsSnapshot& snapshot);

}  // namespace ironstone::seeder
