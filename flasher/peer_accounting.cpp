#include "flasher/peer_accounting.h"

#include <libtorrent/peer_info.hpp>
#include <libtorrent/torrent_status.hpp>

#include "swarm/lan_settings.h"

namespace ironstone::flasher {
namespace {

std::string endpoint(const lt::tcp::endpoint& ep) { return ep.address().to_string() + ":" + std::to_string(ep.port()); }

}  // namespace

PeerAccounting::PeerAccounting(const std::vector<std::string>& seeder_endpoints)
    : seeder_endpoints_(seeder_endpoints.begin(), seeder_endpoints.end()) {}

void PeerAccounting::poll(const lt::torrent_handle& handle, ChunkTable& chunks, SwarmStats& stats) {
  std::vector<lt::peer_info> peers;
  handle.get_peer_info(peers);
  int bt_peers = 0;
  seeder_visible_ = false;
  std::vector<bool> holds(chunks.size(), false);  // what the nodes connected now hold
  for (const auto& p : peers) {
    const bool web =
        (p.connection_type & (lt::peer_info::web_seed | lt::peer_info::http_seed)) != lt::connection_type_t{};
    std::string ep = endpoint(p.ip);
    std::string key = (web ? "web:" : "bt:") + ep;
    auto it = last_download_.try_emplace(key, 0).first;
    const std::int64_t prev = it->second;
    const std::int64_t delta = p.total_download >= prev ? p.total_download - prev : p.total_download;
    it->second = p.total_download;
    // The seeder is its web seed, the BitTorrent endpoint it told us (if any), or a peer
    // whose client name (extension handshake "v" = the seeder's user agent) says so.
    const bool from_seeder = web || seeder_endpoints_.count(ep) || p.client.rfind("ironstone-seeder", 0) == 0 ||
                             swarm::is_seeder_peer_id(p.pid);
    if (from_seeder)
      stats.from_seeder += static_cast<std::uint64_t>(delta);
    else
      stats.from_peers += static_cast<std::uint64_t>(delta);
    bt_peers += !web;
    if (!web && from_seeder && p.pieces.count() > 0) seeder_visible_ = true;
    if (!from_seeder)
      for (std::size_t i = 0; i < holds.size() && i < static_cast<std::size_t>(p.pieces.size()); ++i)
        if (p.pieces.get_bit(lt::piece_index_t(static_cast<int>(i)))) holds[i] = true;
  }
  for (std::size_t i = 0; i < chunks.size(); ++i) chunks[i].peer_holds = holds[i];
  stats.peers = bt_peers;
  lt::torrent_status st = handle.status({});
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

}  // namespace ironstone::flasher

namespace ironstone::flasher {

void PeerAccounting::on_block(const lt::tcp::endpoint& ep, std::uint64_t bytes) { accepted_[endpoint(ep)] += bytes; }

void PeerAccounting::on_ban(const lt::tcp::endpoint& ep, const std::string& reason, SwarmStats& stats) {
  const std::string key = endpoint(ep);
  auto it = accepted_.find(key);
  if (it != accepted_.end()) {
    stats.from_banned_peers += it->second;
    accepted_.erase(it);  // counted once: a second ban alert for it adds what came since
  }
  // libtorrent may connect to a banned endpoint again (a peer given on the command line)
  // and ban it again: listed once, its bytes counted every time.
  for (const auto& b : stats.banned)
    if (b.endpoint == key) return;
  stats.banned.push_back({key, reason});
  stats.banned_peers = static_cast<int>(stats.banned.size());
}

}  // namespace ironstone::flasher
