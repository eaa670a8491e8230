// Peer accounting of one SwarmDownload (swarm_download.h): polls libtorrent's peer list
// and splits the payload received into "from the seeder" (its web seed, the BitTorrent
// endpoint it named, or a peer whose client or peer id says so) and "from peers" (the
// other nodes), counts the BitTorrent peers, notes which chunks the other nodes hold
// (ChunkState::peer_holds) and measures the download rate.
//
// libtorrent's total_download is per connection: a smaller figure under a known
// endpoint is a new connection (a reconnect), whose bytes all count. A connection that
// ended between two polls (a liar banned a few milliseconds after its first pieces) is in
// no peer list: what the torrent received beyond the connections' sums is put down to
// the connections gone since the last poll (a banned peer's first, then the seeder's,
// else the other nodes'), so every byte received is counted once.
//
// Banned peers: banned() names one; the bytes accepted from it (and later found corrupt)
// are counted in from_peers and, again, in from_banned_peers.
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
  // Peer "ip:port" was banned: its bytes so far go to stats.from_banned_peers, and so will any later.
  void banned(const std::string& endpoint, SwarmStats& stats);

 private:
  std::set<std::string> seeder_endpoints_;
  std::map<std::string, std::int64_t> last_download_;  // per connection ("bt:"/"web:" + endpoint), cumulative
  std::map<std::string, std::uint64_t> bytes_from_;    // per BitTorrent endpoint, over all its connections
  std::set<std::string> banned_;                       // endpoints banned
  std::set<std::string> banned_since_poll_;            // banned since the last poll (perhaps never seen in one)
  std::set<std::string> connected_;                    // keys seen in the last poll
  std::int64_t attributed_ = 0;                        // payload bytes counted so far
  std::uint64_t last_rate_bytes_ = 0;
  Clock::time_point last_rate_time_ = Clock::now();
};

}  // namespace ironstone::flasher
