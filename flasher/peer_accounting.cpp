#include "flasher/peer_accounting.h"

#include <libtorrent/peer_info.hpp>
#include <libtorrent/torrent_status.hpp>

#include "swarm/lan_settings.h"

namespace ironstone::flasher {

PeerAccounting::PeerAccounting(const std::vector<std::string>& seeder_endpoints)
    : seeder_endpoints_(seeder_endpoints.begin(), seeder_endpoints.end()) {}

void PeerAccounting::poll(const lt::torrent_handle& handle, ChunkTable& chunks, SwarmStats& stats) {
  std::vector<lt::peer_info> peers;
  handle.get_peer_info(peers);
  int bt_peers = 0;
  std::vector<bool> holds(chunks.size(), false);  // what the nodes connected now hold
  std::set<std::string> connected;
  for (const auto& p : peers) {
    const bool web =
        (p.connection_type & (lt::peer_info::web_seed | lt::peer_info::http_seed)) != lt::connection_type_t{};
    std::string ep = p.ip.address().to_string() + ":" + std::to_string(p.ip.port());
    std::string key = (web ? "web:" : "bt:") + ep;
    auto it = last_download_.try_emplace(key, 0).first;
    const std::int64_t prev = it->second;
    const std::int64_t delta = p.total_download >= prev ? p.total_download - prev : p.total_download;
    it->second = p.total_download;
    connected.insert(key);
    attributed_ += delta;
    if (!web) {
      bytes_from_[ep] += static_cast<std::uint64_t>(delta);
      if (banned_.count(ep)) stats.from_banned_peers += static_cast<std::uint64_t>(delta);
    }
    // The seeder is its web seed, the BitTorrent endpoint it told us (if any), or a peer
    // whose client name (extension handshake "v" = the seeder's user agent) says so.
    const bool from_seeder = web || seeder_endpoints_.count(ep) || p.client.rfind("ironstone-seeder", 0) == 0 ||
                             swarm::is_seeder_peer_id(p.pid);
    if (from_seeder)
      stats.from_seeder += static_cast<std::uint64_t>(delta);
    else
      stats.from_peers += static_cast<std::uint64_t>(delta);
    bt_peers += !web;
    if (!from_seeder)
      for (std::size_t i = 0; i < holds.size() && i < static_cast<std::size_t>(p.pieces.size()); ++i)
        if (p.pieces.get_bit(lt::piece_index_t(static_cast<int>(i)))) holds[i] = true;
  }
  for (std::size_t i = 0; i < chunks.size(); ++i) chunks[i].peer_holds = holds[i];
  stats.peers = bt_peers;
  lt::torrent_status st = handle.status({});
  if (st.total_payload_download > attributed_) {
    // Received by connections that ended since the last poll (they are in no peer list now).
    const auto residue = static_cast<std::uint64_t>(st.total_payload_download - attributed_);
    attributed_ = st.total_payload_download;
    const std::string* banned_gone = nullptr;
    bool seeder_gone = false;
    for (const auto& key : connected_) {
      if (connected.count(key)) continue;
      const bool web = key.rfind("web:", 0) == 0;
      const std::string ep = key.substr(key.find(':') + 1);
      if (!web && banned_.count(ep)) banned_gone = &*banned_.find(ep);
      seeder_gone = seeder_gone || web || seeder_endpoints_.count(ep);
    }
    if (!banned_gone && !banned_since_poll_.empty()) banned_gone = &*banned_.find(*banned_since_poll_.begin());
    if (banned_gone) {
      stats.from_peers += residue;
      stats.from_banned_peers += residue;
      bytes_from_[*banned_gone] += residue;
    } else if (seeder_gone) {
      stats.from_seeder += residue;
    } else {
      stats.from_peers += residue;
    }
  }
  connected_ = std::move(connected);
  banned_since_poll_.clear();
  stats.uploaded = static_cast<std::uint64_t>(st.total_payload_upload);
  auto now = Clock::now();
  double secs = std::chrono::duration<double>(now - last_rate_time_).count();
  std::uint64_t total = static_cast<std::uint64_t>(st.total_payload_download);
  if (secs > 0.2) {
    stats.download_rate = static_cast<double>(total - std::min(total, last_rate_bytes_)) / secs;
    last_rate_bytes_ = total;
    last_rate_time_ = now;
  }
}

void PeerAccounting::banned(const std::string& endpoint, SwarmStats& stats) {
  if (!banned_.insert(endpoint).second) return;
  banned_since_poll_.insert(endpoint);
  auto it = bytes_from_.find(endpoint);
  if (it != bytes_from_.end()) stats.from_banned_peers += it->second;
}

}  // namespace ironstone::flasher
