// Peer accounting of one SwarmDownload (swarm_download.h): polls libtorrent's peer list
// and splits the payload received into "from the seeder" (its web seed, the BitTorrent
// endpoint it named, or a peer whose client or peer id says so) and "from peers" (the
// other nodes), counts the BitTorrent peers, notes which chunks the other nodes hold
// (ChunkState::peer_holds) and measures the download rate.
//
// libtorrent's total_download is per connection: a smaller figure under a known
// endpoint is a new connection (a reconnect), whose bytes all count.
//
// Thread safety: belongs to the thread that drives the download.
#pragma once

#include <libtorrent/torrent_handle.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "flasher/swarm_chunks.h"
#include "flasher/swarm_download.h"

namespace ironstone::flasher {

class PeerAccounting {
 public:
  using Clock = std::chrono::steady_clock;

  // seeder_endpoints: "ip:port" of the seeder's BitTorrent side (SwarmOptions).
  explicit PeerAccounting(const std::vector<std::string>& seeder_endpoints);

  // One poll: adds the payload since the last poll to stats.from_seeder / from_peers, sets
  // stats.peers (BitTorrent peers, web seeds not counted), stats.uploaded and
  // stats.download_rate (over at least 0.2 s), and every chunk's peer_holds.
  void poll(const lt::torrent_handle& handle, ChunkTable& chunks, SwarmStats& stats);

 private:
  std::set<std::string> seeder_endpoints_;
  std::map<std::string, std::int64_t> last_download_;  // per connection ("bt:"/"web:" + endpoint), cumulative
  std::uint64_t last_rate_bytes_ = 0;
  Clock::time_point last_rate_time_ = Clock::now();
};

}  // namespace ironstone::flasher
