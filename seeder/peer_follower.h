// PeerFollower: the follower half of peer mode (`ironstone-seeder --peer-of URL`,
// docs/peer-mode.md). A provisioned node keeps a verified copy of the current releases of
// its board in its own store, which its own Seeder serves (BitTorrent + HTTP read API).
//
// poll_now(), for each followed (board, channel): exactly what a flasher does before it
// writes anything (flasher/release_fetch.h: channel pointer signature, manifest signature
// and trust policy, torrent check) with the follower's own rollback state file
// STORE/peer-state.json (a lower sequence than the highest seen is never followed);
// then every chunk the store lacks comes from the swarm (flasher::SwarmDownload, the
// upstream's tracker; the upstream's HTTP chunk store only as the web seed of last
// resort), each verified as the flasher's ChunkWriter does (libtorrent's piece hash,
// then decoding with the signed length as the limit and BLAKE2b-256 against the signed
// manifest) before it is renamed into STORE/chunks/. Only when every chunk and firmware
// payload is there is the release directory renamed into STORE/releases/<board>/<version>/
// and the channel pointer replaced; then the on_change hook runs (the Seeder's rescan).
// Whatever STORE/chunks/ and STORE/releases/ hold is therefore verified.
//
// verify_store(): re-verifies every chunk file of every release the store holds (run it
// before the store is served: the SwarmSeeder seeds without re-hashing). A chunk that fails
// is deleted and every release needing it is taken out (the next poll fetches it again).
//
// evict(): while the store is larger than max_store, removes the release with the oldest
// `created` time, never going below `keep` releases nor removing one a channel pointer
// names, then the chunk files no remaining release uses.
//
// Nothing wrong at run time either: the follower keeps the guard's index (seeder/chunk_guard.h)
// of the chunks its releases list, so its Seeder checks every chunk before serving it over
// HTTP; a chunk found bad there wakes the polling thread, whose next poll_now() first deletes
// it and takes out the releases needing it (PollResult::dropped), then fetches them again.
// What libtorrent seeds from disk is checked by the receiving flasher (piece hash), and by
// the peer every scrub_interval (verify_store() on the polling thread).
//
// Never blocking on the upstream: start() runs poll_now() on a thread of its own; a failed
// round is retried after a back-off doubling from min_backoff up to max_backoff; the
// store keeps being served meanwhile.
//
// Thread safety: poll_now(), verify_store() and evict() may be called from any thread;
// they are serialised by one mutex (the worker thread uses them too). status() from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "flasher/release_fetch.h"
#include "flasher/seeder_client.h"
#include "flasher/state.h"
#include "seeder/chunk_guard.h"

namespace ironstone::seeder {

struct PeerFollowerOptions {
  std::string upstream;                             // "http://nas:8080"
  std::filesystem::path store;                      // this peer's own store
  std::vector<std::filesystem::path> public_keys;   // the keys a release must be signed by
  std::vector<std::pair<std::string, std::string>> follow;  // (board, channel)
  std::size_t keep = 2;           // eviction never goes below this many releases
  std::uint64_t max_store = 0;    // bytes of releases/ + chunks/; 0 = no limit
  std::string bt_listen = "0.0.0.0:0";  // the download session's BitTorrent side
  std::filesystem::path state_file;     // empty: STORE/peer-state.json
  std::chrono::milliseconds poll_interval{30'000};
  std::chrono::milliseconds min_backoff{1'000};
  std::chrono::milliseconds max_backoff{300'000};
  std::chrono::milliseconds web_seed_after{3'000};
  std::chrono::milliseconds stall_timeout{120'000};
  // How the download session reads and writes (swarm/disk_backend.h): posix, so fetching a
  // release does not map it into the peer's memory.
  swarm::DiskBackend disk_backend = swarm::DiskBackend::kPosix;
  // Proven pieces waiting in memory for the follower's check and write (flasher::SwarmOptions).
  // None: each is read back (pread) when the follower takes it, a few at a time, so a fast LAN
  // does not fill the node's memory with the release (measured: 32 MiB here raised the peak
  // by 15-30 MiB, docs/performance.md "Rack with provisioned peers").
  std::size_t max_held_bytes = 0;
  flasher::RetryPolicy retry{3, std::chrono::milliseconds(200), std::chrono::milliseconds(2'000),
                             std::chrono::milliseconds(10'000)};
  // Called (from the polling thread) after releases were added or removed: the Seeder's rescan.
  std::function<void()> on_change;
  // The report to the upstream after every poll (api/peer_report.h, best effort, one short
  // attempt): POST /v1/peers/<peer_id>. Empty peer_id: no report. own_url: this peer's base
  // URL as flashers reach it; bytes_served: what its seeder uploaded so far. Called from the
  // polling thread.
  std::string peer_id;
  std::function<std::string()> own_url;
  std::function<std::uint64_t()> bytes_served;
  // The check the peer's own Seeder runs on every chunk it serves over HTTP
  // (SeederConfig::chunk_check = ChunkGuard::checker(guard)): the follower keeps its index
  // and repairs its suspects. Null: a guard of its own (guard()).
  std::shared_ptr<ChunkGuard> guard;
  // verify_store() again every scrub_interval on the polling thread (what libtorrent seeds
  // from disk is not re-hashed by the peer otherwise); 0: never.
  std::chrono::milliseconds scrub_interval{std::chrono::hours(6)};
};

struct PollResult {
  // "chunk <hex>" found bad while served (ChunkGuard), deleted, and the "board/version" that
  // needed it, taken out: the round's first step (the fetch below then takes them again).
  std::vector<std::string> dropped;
  std::vector<std::string> installed;  // "board/version" made visible by this round
  std::vector<std::string> errors;     // one line per failed (board, channel), naming it
  bool ok() const { return errors.empty(); }
};

class PeerFollower {
 public:
  // Throws flasher::Errc::kPolicy when a public key cannot be read.
  explicit PeerFollower(PeerFollowerOptions options);
  ~PeerFollower();  // stop()
  PeerFollower(const PeerFollower&) = delete;
  PeerFollower& operator=(const PeerFollower&) = delete;

  PollResult poll_now();
  // Returns the number of chunk files found bad and deleted.
  std::size_t verify_store();
  // Returns the "board/version" keys removed.
  std::vector<std::string> evict();
  // "board/version" of every release in the store.
  std::vector<std::string> releases() const;
  const std::shared_ptr<ChunkGuard>& guard() const { return guard_; }

  void start();  // the polling thread
  void stop();   // idempotent

 private:
  void run();
  bool install(const flasher::Release& release, const std::string& channel, const flasher::SeederClient& upstream);
  void fetch_chunks(const flasher::Release& release, const std::vector<bool>& wanted);
  void fetch_firmware(const flasher::Release& release, const std::filesystem::path& dir,
                      const flasher::SeederClient& upstream);
  void fetch_release_files(const flasher::Release& release, const std::filesystem::path& dir,
                           const flasher::SeederClient& upstream);
  void write_release(const flasher::Release& release, const std::string& channel,
                     const flasher::SeederClient& upstream);
  void changed();
  void report_to_upstream();
  std::vector<std::string> evict_locked();  // REQUIRES: work_mutex_ held
  std::vector<std::string> repair_locked();  // REQUIRES: work_mutex_ held
  void reindex();  // the guard's index from the store's releases

  PeerFollowerOptions options_;
  std::vector<manifest::PublicKey> keys_;
  std::mutex work_mutex_;  // one poll / verify / evict at a time
  std::mutex wake_mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  bool repair_due_ = false;  // a suspect chunk: poll now (guarded by wake_mutex_)
  std::shared_ptr<ChunkGuard> guard_;
  std::thread worker_;
};

// The board/channel list from --board and --channel values: every board with every channel.
std::vector<std::pair<std::string, std::string>> follow_list(const std::vector<std::string>& boards,
                                                             const std::vector<std::string>& channels);

// The board this machine is, detected as the flasher does (boards/detect.h) from the
// profiles in /usr/share/ironstone/boards (else the source tree's). Throws naming why.
std::string detect_own_board();

// This machine's host name as a peer id (api::valid_node_id; "peer" when it has none).
std::string default_peer_id();

// Payload a seeder served so far: BitTorrent uploads of every torrent plus the web seed's chunk bytes.
std::uint64_t bytes_served_by(class Seeder& seeder);

// Lowers this process's CPU (nice 10) and I/O priority (best-effort class, level 7); logs
// and goes on when the kernel refuses. Also gives memory back as soon as it is freed: glibc
// serves allocations of 1 MiB and more (piece buffers) from mmap and unmaps them on free,
// instead of raising its threshold and keeping freed pieces in the heap (measured: a peer kept
// 45-85 MiB resident after a fetch, against 24 MiB with the fixed threshold).
void lower_own_priority();

}  // namespace ironstone::seeder
