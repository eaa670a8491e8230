// SwarmDownload: fetches the stored chunks a flasher needs.
//
// One libtorrent session with the LAN settings (swarm/lan_settings.h). The
// release torrent is added with every chunk the target already holds set to
// dont_download; each piece that passes libtorrent's hash is handed to the sink — the
// ChunkWriter, which verifies and writes it — as the disk I/O proved it in memory
// (swarm/proving_disk_io.h), or read back through libtorrent (read_piece) when it
// was not kept (a piece from an earlier run's cache). The session seeds what it has while downloading and,
// after run(), while linger() lasts.
//
// Where chunks come from (flasher/stripe.h): this node's stripe from the seeder's
// HTTP chunk store (chunk_store; ChunkFetcher, handed to libtorrent with add_piece,
// so it is hash-checked and seeded like any piece), every other chunk from the other
// nodes over BitTorrent once one of them holds it; the seeder's BitTorrent pieces are
// hidden from libtorrent (seeder_filter.h). A chunk a connected node holds comes from
// that node. When the own stripe is done and nothing arrives for 2 s, the rest comes
// over HTTP too. The fleet view that gives the stripe is asked on a thread of its own.
//
// HTTP as the last resort (still called the web seed: --web-seed-after, web_seed_used):
// when the swarm has delivered no payload for `web_seed_after` while no honest peer is
// connected (none at all, the seeder's BitTorrent port unreachable, or only peers whose
// pieces fail their hash), or for 4 x web_seed_after (at least 10 s) while peers are
// connected, every chunk still missing is fetched whole from the seeders' HTTP stores
// (web_seeds, in order; http_handoff.h), verified against the signed manifest and
// delivered: flashing degrades to HTTP and never stops. libtorrent's own web seed is not
// used: in 2.0.8 it mixed blocks of a lying peer into the web seed's pieces, then banned
// the web seed for the failed hash, and read freed memory (web_peer_connection::
// maybe_harvest_piece, fixed in 2.0.10). A store that fails or lies is paused and asked
// again (chunk_fetch.h), never banned. Peers that send data failing the piece hash are
// banned (smart-ban plugin); their bytes and endpoints are counted (peer_accounting.h).
//
// The other way round, with HTTP stripes: when the seeder's HTTP store fails a chunk at
// every attempt (errors, wrong bytes) or nothing arrives for that same wait, the seeder's
// BitTorrent pieces are shown again (seeder_filter.h) and anyone may serve any chunk.
//
// Parts (each header states its contract): per-chunk state (swarm_chunks.h), the stripe
// policy and the fleet view poller (stripe_policy.h), peer accounting (peer_accounting.h)
// and the HTTP hand-off to libtorrent (http_handoff.h).
//
// Thread safety: one thread drives run()/linger(); stats() may be read from it. Inside,
// only the fleet view poller and the chunk fetcher have threads of their own.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "flasher/stripe.h"
#include "manifest/chunk_codec.h"
#include "manifest/manifest.h"
#include "manifest/trust.h"
#include "swarm/disk_backend.h"

namespace ironstone::flasher {

struct SwarmOptions {
  std::string listen_interfaces = "0.0.0.0:6881";
  std::vector<std::string> trackers;   // e.g. "http://nas:8080/announce"
  std::vector<std::string> web_seeds;  // the seeders' HTTP chunk stores, e.g. "http://nas:8080/"
  // The seeder's chunk store root (e.g. "http://nas:8080/"): this node's stripe comes from
  // there over HTTP (chunk_fetch.h) and the seeder's BitTorrent pieces are hidden
  // (seeder_filter.h). Empty: everything over BitTorrent, the seeder included.
  std::string chunk_store;
  unsigned http_connections = 3;  // parallel requests to chunk_store
  // The seeder's upload budget (bytes/s, 0 = none; its /v1/info "upload_limit"): the
  // stripe requests of a node are paced at budget / nodes working on the release.
  std::int64_t seeder_upload_limit = 0;
  std::vector<std::string> peers;             // "ip:port" to connect to directly
  std::vector<std::string> seeder_endpoints;  // "ip:port" of the seeder's BitTorrent side (for stats)
  std::filesystem::path cache_dir;            // where libtorrent keeps the stored chunks it seeds
  bool cache_in_memory = false;               // keep them in memory instead (flasher/chunk_cache.h)
  // How libtorrent reads and writes cache_dir (swarm/disk_backend.h): a peer seeder's follower
  // takes kPosix, so its resident memory does not grow with the release.
  swarm::DiskBackend disk_backend = swarm::DiskBackend::kMmap;
  // At most this many bytes of proven pieces wait in memory for the sink (swarm::ProvenPieces);
  // passed pieces beyond it are read back from cache_dir, a few at a time, as the sink takes
  // them. With cache_in_memory every piece is held anyway (the caller checked it fits).
  std::size_t max_held_bytes = std::size_t{256} << 20;
  bool bounded_memory = false;  // swarm::LanOptions::bounded_memory (a peer seeder's follower)
  std::chrono::milliseconds web_seed_after{3000};
  std::chrono::milliseconds stall_timeout{120000};  // no progress at all for this long: give up
  std::chrono::milliseconds progress_interval{500};
  // Asked at the start and every few seconds while downloading: the chunks to fetch first
  // (flasher/stripe.h); empty function or nullopt: libtorrent's own order.
  std::function<std::optional<Stripe>()> stripe;
};

struct BannedPeer {
  std::string endpoint;  // "ip:port"
  std::string reason;    // "sent data that failed the piece hash"
};

struct SwarmStats {
  std::uint64_t from_seeder = 0;  // payload bytes from the seeder (BitTorrent + web seed)
  std::uint64_t from_peers = 0;   // payload bytes from other nodes
  std::uint64_t uploaded = 0;     // payload bytes this node served
  std::size_t chunks_received = 0;
  std::size_t chunks_wanted = 0;
  int peers = 0;
  int hash_failures = 0;
  int banned_peers = 0;  // endpoints banned (banned.size())
  // Payload bytes libtorrent accepted (blocks) from peers that were banned afterwards
  // (peer_accounting.h), and the peers banned, in the order they were.
  std::uint64_t from_banned_peers = 0;
  std::vector<BannedPeer> banned;
  // The HTTP fallback was used: chunks missing when the swarm stalled were fetched whole
  // from the seeders' HTTP stores (the name is older than that; once libtorrent's web seed).
  bool web_seed_used = false;
  // The seeder's BitTorrent pieces, hidden while the stripe came over HTTP, were shown
  // again because its HTTP store failed, lied or stalled.
  bool seeder_bittorrent_used = false;
  double download_rate = 0;  // bytes/s
  // Pieces whose hash check the v2 tree settled without SHA-1, pieces it did not prove
  // (hashed with SHA-1 too, then failed or passed by libtorrent), and proven pieces handed
  // over from memory instead of read back (swarm/proving_disk_io.h).
  std::uint64_t pieces_proven_by_v2 = 0;
  std::uint64_t pieces_not_proven_by_v2 = 0;
  std::uint64_t pieces_kept_in_memory = 0;
  std::uint64_t pieces_vouched = 0;  // of the proven: by the HTTP fetcher's block hashes, not hashed again
  // CPU seconds proving pieces (their SHA-256 block hashes, on the disk I/O's hash thread),
  // and bytes copied into the pieces' in-memory copies / out of them for peers.
  double piece_hash_cpu_s = 0;
  // The HTTP fetcher's proofs (http_handoff.h): piece hash, BLAKE2b, and zstd (format 1 only).
  double http_piece_hash_cpu_s = 0, http_blake2b_cpu_s = 0, http_zstd_cpu_s = 0;
  std::uint64_t copied_in = 0, copied_out = 0;
};

class SwarmDownload {
 public:
  // torrent: the release torrent checked against the verified manifest `m`
  // (manifest::check_torrent); it is not parsed again. wanted[i]: chunk i must be downloaded.
  // REQUIRES: `m` outlives the SwarmDownload (it keeps a reference; `torrent` is copied).
  SwarmDownload(const manifest::CheckedTorrent& torrent, const manifest::Manifest& m, std::vector<bool> wanted,
                SwarmOptions options);
  ~SwarmDownload();
  SwarmDownload(const SwarmDownload&) = delete;
  SwarmDownload& operator=(const SwarmDownload&) = delete;

  // A chunk as it arrives: its stored bytes (exactly the signed stored_size), which passed
  // the torrent's piece hash (BitTorrent), or were fetched over HTTP and proven against the
  // signed manifest already: then `proven` holds the same bytes, and the sink need not hash
  // them again (manifest::ChunkDecoder::decode_proven()).
  struct Arrived {
    std::size_t chunk = 0;
    std::shared_ptr<const std::vector<std::uint8_t>> stored;
    std::optional<manifest::ProvenStored> proven;
  };
  using ChunkSink = std::function<void(Arrived chunk)>;
  using ProgressSink = std::function<void(const SwarmStats&)>;
  // Returns once every wanted chunk went to `sink`. Throws flasher::Errc::kSwarm when
  // nothing arrived for stall_timeout, or on a libtorrent storage/torrent error;
  // rethrows what the sink throws.
  void run(const ChunkSink& sink, const ProgressSink& progress);
  // Keeps seeding until `max` passed or still_needed() (asked every few seconds) is false.
  void linger(std::chrono::seconds max, const std::function<bool()>& still_needed,
              const ProgressSink& progress);
  SwarmStats stats() const;
  // "0.0.0.0:41234": the port this node's BitTorrent side listens on (after construction),
  // always with the address 0.0.0.0 whatever listen_interfaces says: what it tells is the port.
  std::string listen_endpoint() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ironstone::flasher
