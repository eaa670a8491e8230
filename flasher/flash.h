// The flasher's run (docs/design.md, "The flasher's run"):
//
//   board → LED working → seeder → channel pointer + manifest, verified (trust.h)
//   → release torrent, checked → firmware step → open + scan target → swarm
//   download, verify, write (first chunk last) → zero ranges → flush → final
//   verification against the signed image hash → node identity (cloud-init seed in
//   the boot partition, flasher/identity.h) → after-write firmware step (UEFI
//   BootOrder, boards/efi_boot.h) → installer-card self-disarm (boards that boot the
//   card first, flasher/card_boot.h) → state file → report done → linger seeding →
//   LED done → power action.
//
// Each stage is a function of its own with explicit inputs and outputs (flasher/stages.h),
// reusable without the rest of the run.
//
// Nothing is written to the target before the release passed every trust rule.
// Every step is reported to the seeder and logged; a failure reports its reason,
// sets the LED "failed" pattern for its step (flasher/failed_step.h), and is thrown as an Error with
// context ("write: flash: chunk 12 @ 0x3000000: hash mismatch …"); any other
// exception is reported and shown the same way, then rethrown as it was.
//
// Power: the profile's action (poweroff, reboot) only when the device tree under `root`
// names the board being flashed and the target is the board's device; an explicit
// `power` always; otherwise power is left alone and that is logged (stages.h decide_power).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "boards/board.h"
#include "flasher/chunk_cache.h"
#include "flasher/seeder_client.h"

namespace ironstone::flasher {

struct FlashOptions {
  std::string seeder_url;                      // http://nas:8080
  // Further seeders (--seeder given again; peers in peer mode, docs/peer-mode.md): the first of
  // seeder_url, more_seeders that answers GET /v1/info serves the run (reports, identity,
  // firmware, the HTTP stripe); the release (channel, manifest, torrent) is asked of that one,
  // then of the others in order when it fails; every one is a tracker and a web seed. Trust does
  // not depend on which answered: the same signatures and policy hold for all.
  std::vector<std::string> more_seeders;
  std::string board = "auto";                  // "auto": detect from the device tree under root
  std::string channel = "stable";
  std::filesystem::path target;                // empty: the board profile's default device
  std::vector<std::filesystem::path> public_keys;
  std::filesystem::path state_file = "/var/lib/ironstone/state.json";
  bool allow_older = false;                    // operator flag: accept a lower sequence (logged)
  std::filesystem::path root = "/";            // where /proc, /sys and /dev are (tests: a fake tree)
  std::filesystem::path profiles_dir;          // board profiles; empty: installed or source location
  bool skip_firmware = false;
  // Boards whose profile lists "disarm_card" files: rename them on the installer card after
  // the verified flash (flasher/card_boot.h). false (--no-disarm): leave the card bootable.
  bool disarm_card = true;
  bool write_identity = true;                  // false (--no-identity): no "identity" step
  // The installer card's enrolment secret key (--enrolment-key; swarm/enrolment.h): the identity
  // is asked for signed and answered sealed. Empty: asked for in clear (old cards; refused by
  // seeders with --enrolment-keys).
  std::string enrolment_key;
  // Given (--power): always taken. Unset: the profile's, on the board itself only (above).
  std::optional<boards::PowerAction> power;
  std::string node_id;                         // default: from the MAC
  std::string bt_listen = "0.0.0.0:6881";
  std::filesystem::path cache_dir = "/var/cache/ironstone";
  ChunkCache cache = ChunkCache::kAuto;         // where the downloaded chunks are kept (chunk_cache.h)
  std::chrono::seconds linger{300};
  unsigned threads = 2;
  // Final verification re-reads and re-hashes every chunk position (slow, independent
  // of the write path); by default each write is read back as it is made (chunk_writer.h).
  bool full_verify = false;
  std::vector<std::string> peers;              // extra peers "ip:port"
  // This node's stripe from the seeder's HTTP chunk store, the rest from the other nodes
  // (flasher/chunk_fetch.h). false (--bittorrent-only): everything over BitTorrent, the
  // seeder's BitTorrent side included, with the web seed as the fallback.
  bool http_stripe = true;
  RetryPolicy retry;
  std::chrono::milliseconds web_seed_after{3000};
  std::chrono::milliseconds stall_timeout{120000};
  // Tests inject simulated firmware / power parts here.
  std::function<boards::BoardParts()> board_parts;
};

struct FlashResult {
  std::string board, version;
  std::uint64_t sequence = 0;
  bool already_current = false;       // the target held the release: nothing downloaded or written
  std::size_t chunks_total = 0;       // unique chunks in the release
  std::size_t chunks_downloaded = 0;
  std::uint64_t bytes_written = 0;
  std::uint64_t from_seeder = 0, from_peers = 0, uploaded = 0;
  int hash_failures = 0, banned_peers = 0;
  std::uint64_t from_banned_peers = 0;  // bytes accepted from peers banned afterwards
  std::vector<std::string> banned;      // "ip:port (reason)" of each peer banned
  bool web_seed_used = false;           // the HTTP fallback fetched chunks (swarm_download.h)
  bool seeder_bittorrent_used = false;  // the HTTP stripe failed: its chunks came over BitTorrent
  std::string firmware;               // outcome line of the firmware step
  std::string identity;               // outcome line of the identity step ("" when not run)
  std::string disarm;                 // outcome line of the card's self-disarm ("" when not run)
  // The target held the release except for boot-partition chunks (what an earlier run's
  // identity seed changes): those were fetched again, nothing else.
  bool boot_only_changed = false;
  double seconds = 0;
  // CPU seconds by stage, summed over the threads that ran it (per-thread CPU clocks):
  // proving pieces (SHA-256), zstd, BLAKE2b, writing, reading back + comparing; and the
  // bytes copied into / out of the swarm's in-memory pieces. Logged as "cpu by stage".
  struct StageCpu {
    double piece_hash = 0, zstd = 0, blake2b = 0, write = 0, read_back = 0;
    std::uint64_t copied_in = 0, copied_out = 0;
  } cpu;
};

FlashResult run_flash(const FlashOptions& options);

}  // namespace ironstone::flasher
