// Peer accounting of one SwarmDownload (swarm_download.h): polls libtorrent's peer list
// and splits the payload received into "from the seeder" (its web seed, the BitTorrent
// endpoint it named, or a peer whose client or peer id says so) and "from peers" (the
// other nodes), counts the BitTorrent peers, notes which chunks the other nodes hold
// (ChunkState::peer_holds) and measures the download rate.
//
// libtorrent's total_download is per connection: a smaller figure under a known
// endpoint is a new connection (a reconnect), whose bytes all count.
//
// Banned peers: every block libtorrent accepted (block_finished_alert) is counted under
// the endpoint of the connection it came over; when a peer is banned (peer_ban_alert,
// same endpoint), what came over that endpoint goes to stats.from_banned_peers and the
// peer to stats.banned. The key is the endpoint, not the IP (on loopback, in tests and
// behind NAT, honest nodes and the seeder share an IP) nor the peer id (the peer chooses
// it): what libtorrent bans is that endpoint, and its bytes are exactly the ones counted.
// A liar that reconnects from another port is another endpoint, counted when banned too.
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
  // A block of `bytes` accepted from the connection to `ep`.
  void on_block(const lt::tcp::endpoint& ep, std::uint64_t bytes);
  // `ep` was banned for `reason`: its bytes so far to stats.from_banned_peers, it to stats.banned.
  void on_ban(const lt::tcp::endpoint& ep, const std::string& reason, SwarmStats& stats);
  // At the last poll: whether a seeder connection told libtorrent it holds pieces
  // (seeder_filter.h hides that).
  bool seeder_visible() const { return seeder_visible_; }

 private:
  std::set<std::string> seeder_endpoints_;
  std::map<std::string, std::int64_t> last_download_;  // per connection ("bt:"/"web:" + endpoint), cumulative
  std::map<std::string, std::uint64_t> accepted_;  // block bytes per endpoint, not yet banned
  bool seeder_visible_ = false;
  std::uint64_t last_rate_bytes_ = 0;
  Clock::time_point last_rate_time_ = Clock::now();
};

}  // namespace ironstone::flasher
