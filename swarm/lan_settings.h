// libtorrent session settings for a LAN swarm (seeder, flasher, benchmark).
//
// What matters on a LAN (docs/design.md, "LAN settings"):
// TCP only (uTP is far slower here), many connections per IP, fast reconnects, no
// DHT/LSD/UPnP/NAT-PMP, large send buffers and disk queues, no unchoke limit, and
// every LAN peer in the unthrottled local peer class.
//
// Thread safety: pure functions over values; apply_lan_peer_classes() calls into the
// session, which is itself thread-safe.
#pragma once

#include <libtorrent/peer_id.hpp>
#include <libtorrent/session.hpp>
#include <libtorrent/settings_pack.hpp>
#include <string>

namespace ironstone::swarm {

enum class Role {
  kLeecher,  // a flasher or benchmark node: downloads and seeds what it has
  kSeeder,   // the NAS seeder: starts from high_performance_seed()
};

struct LanOptions {
  Role role = Role::kLeecher;
  // libtorrent listen_interfaces, e.g. "0.0.0.0:6881" or "127.0.0.1:0".
  std::string listen_interfaces = "0.0.0.0:6881";
  // Appears in the peer id and the HTTP user agent, e.g. "ironstone-seeder/0.1.0".
  std::string user_agent = "ironstone";
  int alert_queue_size = 100000;
  // Alert categories to receive (lt::alert_category_t bits). The default covers
  // errors, status, storage and tracker alerts; not per-block or peer-level noise.
  lt::alert_category_t alert_mask = lt::alert_category::error | lt::alert_category::status |
                                    lt::alert_category::storage | lt::alert_category::tracker;
  // A provisioned node's peer seeder (seeder --peer-of) and its follower's downloads: memory
  // before throughput. Short queues (requests of 4 MiB in flight, 4 MiB of queued disk writes,
  // 512 KiB send buffers a peer) and, for kSeeder, not high_performance_seed()'s caches. With
  // kPosix disk I/O (swarm/disk_backend.h) this keeps a peer's resident memory bounded whatever
  // the release size (docs/performance.md "Rack with provisioned peers").
  bool bounded_memory = false;
};

// The first bytes of the BitTorrent peer id of each role ("-IS0100-…" for the seeder of
// version 0.1.0, "-IF0100-…" for a flasher): a flasher tells the seeder's connections
// from other nodes' by it (flasher/stripe.h), from the handshake on, whatever the port.
inline constexpr const char* kSeederPeerIdPrefix = "-IS";
inline constexpr const char* kNodePeerIdPrefix = "-IF";
// A provisioned node's seeder in peer mode (seeder --peer-of): a seeder, but not the NAS, so a
// flasher asks it for pieces like any other node (is_seeder_peer_id() is false for it).
inline constexpr const char* kPeerSeederPeerIdPrefix = "-IP";
// The peer id prefix of a peer-mode seeder for version "major.minor.patch".
std::string peer_seeder_fingerprint(const std::string& version);
// The peer id prefix (libtorrent peer_fingerprint) of `role` for version "major.minor.patch".
std::string peer_fingerprint(Role role, const std::string& version);
// True when `pid` is an Ironstone seeder's (starts with kSeederPeerIdPrefix).
bool is_seeder_peer_id(const lt::peer_id& pid);

// A complete settings_pack for a LAN swarm member.
lt::settings_pack lan_settings(const LanOptions& options);

// Puts every LAN address into libtorrent's unthrottled local peer class: the usual
// private ranges (10/8, 172.16/12, 192.168/16, 169.254/16, 127/8, which libtorrent
// already treats as local) plus 198.18.0.0/15 (RFC 2544 benchmark range, used by
// the rack simulation). Replaces the session's peer class IP filter.
void apply_lan_peer_classes(lt::session& session);

}  // namespace ironstone::swarm
