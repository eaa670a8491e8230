// Configuration of the seeder daemon (flags and config file: docs/seeder.md).
//
// Thread safety: plain values and pure functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "api/limits.h"
#include "swarm/disk_backend.h"

namespace ironstone::seeder {

struct Endpoint {
  std::string address;
  std::uint16_t port = 0;
};

// "ADDR:PORT", "[V6]:PORT", "ADDR" (default port) or ":PORT" (all interfaces).
// Throws Error(Errc::kConfig) naming `what` ("--listen") on anything else.
Endpoint parse_endpoint(std::string_view text, std::uint16_t default_port, std::string_view what);

// A transfer rate in bytes per second: "0" (unlimited), "2000000", "12M", "512K",
// "1.5G" (K/M/G = powers of 1024, optional "B", "iB" and "/s"), or network units
// "100mbit", "1gbit", "800kbit" (powers of 1000 bits; "bps" is accepted for "bit/s").
// Case-insensitive. Throws Error(Errc::kConfig) naming `what` on anything else, or
// on a rate of 2 GiB/s and more (libtorrent's limits are ints).
std::int64_t parse_rate(std::string_view text, std::string_view what);

// A size in bytes: "0", "123456", "500M", "20G", "1.5T" (powers of 1024, optional "B"/"iB").
// Case-insensitive. Throws Error(Errc::kConfig) "<what> '<text>': <why>" on anything else,
// on a size of 16 EiB and more, and on a non-zero size that rounds to 0 bytes.
std::uint64_t parse_size(std::string_view text, std::string_view what);

// (hex of the chunk's hash, the chunk file's whole stored bytes) -> may they be served.
// Called from HTTP worker threads, concurrently.
using ChunkCheck = std::function<bool(std::string_view hex, std::string_view stored)>;

struct SeederConfig {
  std::filesystem::path store;
  Endpoint http{"0.0.0.0", 8080};
  Endpoint bittorrent{"0.0.0.0", 6881};
  bool enable_bittorrent = true;  // false: HTTP only (web seed, tracker, API)
  // Base URL given to the seeded torrents as web seed and tracker
  // ("http://nas.lan:8080/"). Empty: http://<listen address or 127.0.0.1>:<port>/.
  std::string public_url;
  int http_threads = 4;
  std::chrono::milliseconds request_timeout{10'000};
  std::chrono::milliseconds scan_interval{2'000};
  std::chrono::seconds announce_interval{30};
  std::chrono::seconds node_stale_after{300};
  // A node that reported "done" and no first boot within this time shows as stale.
  std::chrono::seconds boot_timeout{1800};
  // A node that reported "booted" and will start k3s, and did not report "joined" within this
  // time, shows as stale.
  std::chrono::seconds join_timeout{1800};
  // The fleet database (seeder/fleet_store.h); empty: <store>/fleet.sqlite.
  std::filesystem::path fleet_db;
  std::size_t max_body = api::kMaxEventBytes;
  std::size_t max_connections = 2048;
  std::size_t max_nodes = 4096;
  // Track only torrents this seeder seeds (true) or any info-hash (false).
  bool tracker_known_only = true;
  // Upload budget of the BitTorrent side, bytes/s over all peers and torrents (LAN
  // peers included); 0 = unlimited. The web seed is not counted.
  std::int64_t upload_limit = 0;
  // BEP 16 super seeding on every seeded torrent, always.
  bool super_seed = false;
  // BEP 16 super seeding once two or more peers of a torrent download (swarm_seeder.h).
  bool auto_super_seed = false;
  // The inventory (seeder/inventory.h) behind GET /v1/nodes/<mac>/identity; empty: none,
  // every identity request is a 404. Reloaded when it changes (seeder/inventory_file.h).
  std::filesystem::path inventory;
  // The installer cards' enrolment keys (seeder/enrolment_keys.h): identities are then served
  // only sealed, to cards listed there (POST /v1/nodes/<mac>/identity); GET is refused.
  // Empty: no identity is served (403), unless insecure_open_identity.
  std::filesystem::path enrolment_keys;
  // --insecure-open-identity, for labs only: without enrolment_keys, GET serves identities (with
  // the k3s join token) in clear to anyone who can reach the port; warned at start-up and on
  // every answer (README "Trust model"). Ignored when enrolment_keys is set (GET stays refused).
  bool insecure_open_identity = false;
  // Pushed releases (seeder/upload.h, ironstone-build push): accepted when they verify against
  // the store's keys/*.pub. false (--no-uploads): no /v1/uploads routes.
  bool enable_uploads = true;
  // The upload token (second factor, seeder/routes.h read_upload_token); empty: none asked.
  std::filesystem::path upload_token_file;
  // The operator token (seeder/routes.h read_token_file): re-flash orders (POST|DELETE
  // /v1/fleet/reflash) must send it. Empty: no orders taken (403).
  std::filesystem::path operator_token_file;
  // Peer mode (seeder/peer_follower.h): the upstream seeder's tracker ("http://nas:8080/announce"),
  // announced to besides this seeder's own. Empty: none.
  std::string upstream_tracker;
  // Peer mode: this seeder is a provisioned node's, not the NAS's (its BitTorrent peer id says
  // so: flashers take pieces from it as from any node; seeder/swarm_seeder.h).
  bool peer_mode = false;
  // How the BitTorrent side reads the store (swarm/disk_backend.h, --disk-io): mmap (the NAS:
  // fastest, but the store's pages it serves stay mapped, so its RSS grows with the releases) or
  // posix (pread on one thread; a peer's default: memory bounded whatever the release size).
  swarm::DiskBackend disk_backend = swarm::DiskBackend::kMmap;
  // Peer mode: every chunk the HTTP chunk store serves is first read whole and passed to this
  // check (the peer's PeerFollower::check_chunk: BLAKE2b against the signed manifests); a chunk
  // it refuses is answered 404. Empty: chunks are served from the file unchecked (the NAS).
  ChunkCheck chunk_check;
  // Time a client has to send one upload request (a bundle or a chunk of up to 64 MiB).
  std::chrono::milliseconds upload_timeout{600'000};
};

// Throws Error(Errc::kConfig) on values out of range.
void validate(const SeederConfig& config);

// public_url when set (with a trailing '/' added), else derived from the bound port.
std::string base_url(const SeederConfig& config, std::uint16_t bound_port);

}  // namespace ironstone::seeder
