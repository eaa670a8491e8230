// The seeder's BitTorrent side: one libtorrent session that seeds every release of
// the store.
//
// Every releases/<board>/<version>/release.torrent is added with seed_mode (no
// recheck: publish wrote and hashed the data) and without auto_managed, save_path =
// the store root (the torrent's name is "chunks"), the seeder's own web seed URL and
// tracker. The store is rescanned every scan_interval: new releases are added, and
// torrents whose release directory vanished are removed (their files are kept; chunks
// are shared between releases). Two releases with identical chunk sets share one
// torrent. Hidden directories (".tmp-…", publish's staging) are ignored.
//
// Upload budget (upload_limit > 0): libtorrent's session-wide upload_rate_limit
// only binds the global peer class, and every LAN peer is in the unthrottled local
// class (swarm::apply_lan_peer_classes), so the limit is a peer class of its own
// that every peer connection joins (through the peer class type filter, for every
// socket type): one bucket shared by all peers and all torrents.
// super_seed: BEP 16 super seeding (lt::torrent_flags::super_seeding) on every
// seeded torrent: each peer is offered pieces no other peer has been given yet, so
// the seeder sends each piece about once and the nodes spread it.
// auto_super_seed (off by default since the flashers' strict stripes, flasher/stripe.h:
// a super-seeded peer may only ask for the two pieces it was offered, so the nodes
// could not fetch their stripes and the NAS ran at half its line rate): super seeding of a torrent is switched on once two or
// more of its peers are downloading at two stats checks in a row (~2 s); its peers are
// then reconnected (pause + resume), since libtorrent serves a super-seeded peer only
// the pieces it offered it and a peer connected before keeps the full piece list. It is
// switched off again once no peer is connected. Measured (docs/performance.md): for 8
// nodes super seeding cuts what the NAS sends from ~2.5 to ~1.3 copies; a single node
// super-seeded all the way takes 60% longer (it is offered two pieces at a time), so a
// single node is never super-seeded.
//
// Thread safety: start() and stop() from one owner thread; stats(), knows(),
// listen_port() and scan_now() from any thread. A worker thread drains alerts and
// scans.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <libtorrent/session.hpp>
#include <libtorrent/torrent_handle.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "manifest/minisign.h"
#include "swarm/disk_backend.h"
#include "seeder/tracker.h"

namespace ironstone::seeder {

struct SwarmSeederOptions {
  std::filesystem::path store;
  std::string listen_interfaces = "0.0.0.0:6881";
  std::string web_seed_url;  // "http://host:port/" (BEP 19 root; libtorrent appends "chunks/…")
  std::string tracker_url;   // "http://host:port/announce"
  // Further trackers each seeded torrent announces to, each a tier of its own (peer mode: the
  // upstream's, so the rack's flashers find this peer there too).
  std::vector<std::string> extra_trackers;
  // Peer mode: the peer id is swarm::kPeerSeederPeerIdPrefix's and the client name
  // "ironstone-peer/<version>", not the NAS seeder's, so the flashers take pieces from this peer
  // (flasher/seeder_filter.h hides the NAS's) and count them as from peers (peer_accounting.h).
  bool peer_mode = false;
  swarm::DiskBackend disk_backend = swarm::DiskBackend::kMmap;  // swarm/disk_backend.h
  std::chrono::milliseconds scan_interval{2000};
  std::chrono::milliseconds stats_interval{1000};
  std::int64_t upload_limit = 0;  // bytes/s over all peers and torrents; 0 = unlimited
  bool super_seed = false;        // BEP 16 on every seeded torrent, always
  bool auto_super_seed = false;   // BEP 16 while two or more peers download (see above; ignored if super_seed)
  // The store's keys/*.pub (seeder/store_keys.h). Not empty: a release is added only when
  // check_release_signed() passes; one that fails is logged ("bittorrent: not seeding release
  // rpi5/1.0: ...") and tried again when its torrent file changes. Empty: no check.
  std::vector<manifest::PublicKey> trusted_keys;
};

struct TorrentStats {
  std::string board;
  std::string version;
  std::string info_hash;      // v2, 64 hex chars
  std::int64_t uploaded = 0;  // payload bytes sent since start
  int peers = 0;
  int seeds = 0;
  int upload_rate = 0;  // bytes/s
  std::string state;    // "seeding", "checking", "error: …", …
  bool super_seeding = false;
};

class SwarmSeeder {
 public:
  explicit SwarmSeeder(SwarmSeederOptions options);
  ~SwarmSeeder();
  SwarmSeeder(const SwarmSeeder&) = delete;
  SwarmSeeder& operator=(const SwarmSeeder&) = delete;

  // Creates the session (throws Error(kListen) when it cannot listen), scans the
  // store once and starts the worker thread.
  void start();
  void stop();

  std::uint16_t listen_port() const { return listen_port_; }
  // Synchronously scans the store (the worker also does this every scan_interval).
  void scan_now();
  // True when the truncated v2 info-hash, or the v1 info-hash of a hybrid torrent, belongs
  // to a torrent being seeded (libtorrent announces a hybrid torrent under both).
  bool knows(const InfoHash20& hash) const;
  std::vector<TorrentStats> stats() const;
  std::size_t torrent_count() const;
  // The upload budget as libtorrent holds it (bytes/s): the budget peer class's upload limit,
  // read back from the session, when TCP connections join that class; 0 when there is none.
  // REQUIRES: between start() and stop(). Thread-safe.
  std::int64_t upload_budget() const;

 private:
  struct Seeded {
    lt::torrent_handle handle;
    std::set<std::string> releases;  // "board/version" keys sharing this torrent
    InfoHash20 short_hash{};
    std::optional<InfoHash20> v1_hash;  // hybrid torrents
    int crowded_checks = 0;             // auto super seeding: checks in a row with >= 2 peers downloading
    // Payload uploaded before the last pause + resume (auto super seeding), which resets
    // libtorrent's per-run total_payload_upload.
    std::int64_t uploaded_before_resume = 0;
    std::string hex;
  };

  void apply_upload_limit();
  void run();
  // scan() walks releases/: scan_release() seeds a new release directory (unless its torrent
  // failed before and has not changed), drop_vanished() removes what is gone, and
  // publish_known_hashes() hands the tracker the info-hashes. All hold scan_mutex_.
  void scan();
  void scan_release(const std::string& key, const std::filesystem::path& dir);
  void drop_vanished(const std::set<std::string>& present);
  void publish_known_hashes();
  void add_release(const std::string& key, const std::filesystem::path& torrent_file);
  void refresh_stats();
  // `uploaded`: the torrent's payload uploaded so far (uploaded_of()).
  void auto_super_seed(Seeded& s, const lt::torrent_status& st, std::int64_t uploaded);
  // Payload uploaded since start, current to the byte: libtorrent's all_time_upload is only
  // brought up to date once a second (torrent::second_tick), its total_payload_upload at
  // once but from the last resume on.
  static std::int64_t uploaded_of(const Seeded& s, const lt::torrent_status& st);
  void handle_alerts();

  SwarmSeederOptions options_;
  std::unique_ptr<lt::session> session_;
  std::optional<lt::peer_class_t> budget_class_;  // set by apply_upload_limit()
  std::uint16_t listen_port_ = 0;
  std::thread worker_;
  std::atomic<bool> stop_{false};

  std::mutex scan_mutex_;                               // one scan at a time; guards seeded_ and failed_
  std::map<std::string, Seeded> seeded_;                // by info-hash hex
  std::map<std::string, std::string> release_to_hash_;  // "board/version" -> hex
  std::map<std::string, std::filesystem::file_time_type> failed_;  // torrent files that failed to load

  mutable std::mutex stats_mutex_;
  std::vector<TorrentStats> stats_;
  std::set<InfoHash20> known_;     // truncated v2 info-hashes: one per torrent
  std::set<InfoHash20> known_v1_;  // v1 info-hashes of the hybrid ones
};

}  // namespace ironstone::seeder
