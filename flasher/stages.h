// The stages of the flasher's run (flash.h), each a function with explicit inputs and
// outputs, so that other runs can put them together differently (a peer that only seeds
// is "release + download + verify" without a node's target and power).
//
//   board      make_board()         → OnBoard        (the Board, and whether we run on it)
//   release    load_state(), fetch_release() (release_fetch.h)
//   firmware   firmware_step()      (release_fetch.h)
//   scan       open_and_scan()      → ScannedTarget  (the open target, what it holds)
//              plan_download()      → DownloadPlan   (what is missing)
//   download   download_options()   → SwarmOptions,  fetch_chunks() → SwarmDownload,
//              clear_zero_ranges()
//   verify     verify_target()
//   identity   identity_step()      (identity.h),    boot_only_changed()
//   report     done_message()
//   power      linger_seeding(), power_stage() → PowerDecision
//
// None of these reports to the seeder or sets LEDs: run_flash() wraps each in a step
// that does (flash.cpp). Errors: ironstone::Error with flasher::Errc (or the module's
// own) and context naming what failed. Thread safety: each stage runs on the calling
// thread; the objects handed in are used by it alone while it runs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "boards/board.h"
#include "flasher/chunk_writer.h"
#include "flasher/flash.h"
#include "flasher/release_fetch.h"
#include "flasher/scan.h"
#include "flasher/seeder_client.h"
#include "flasher/swarm_download.h"
#include "flasher/target.h"
#include "manifest/manifest.h"

namespace ironstone::flasher {

// ---------------------------------------------------------------- board

struct OnBoard {
  boards::Board board;
  // The device tree under options.root names this board (with --board auto: always).
  // False on a workstation flashing an image for a board it is not.
  bool device_tree_matches = false;
};

// The board profile options.board names (or the one detected under options.root), from
// options.profiles_dir (empty: the installed profiles, else the source tree's), with
// options.board_parts. Throws Errc::kBadTarget for an unknown --board, boards::Errc
// from detection.
OnBoard make_board(const FlashOptions& options);

// ---------------------------------------------------------------- scan

struct ScannedTarget {
  std::filesystem::path path;      // what was opened
  std::unique_ptr<Target> target;  // open for writing, sized for the image
  ScanResult scan;                 // what it already holds (scan.h)
};

// Opens `path` for the release (proc/ and sys/ under `root` for the safety checks,
// open_target in target.h) and scans it with `threads` workers.
ScannedTarget open_and_scan(const std::filesystem::path& path, const manifest::Manifest& m,
                            const std::filesystem::path& root, unsigned threads, ScanProgress progress);

struct DownloadPlan {
  // pending[i]: the offsets of chunk i that do not hold it yet (ChunkWriter's input).
  std::vector<std::vector<std::uint64_t>> pending;
  std::vector<bool> wanted;       // wanted[i] = !pending[i].empty()
  std::size_t chunks_todo = 0;    // chunks with at least one pending offset
  std::size_t zero_todo = 0;      // zero ranges that do not read as zeros
  std::uint64_t bytes_to_fetch = 0;  // stored bytes of the wanted chunks
  bool nothing_to_do() const { return chunks_todo == 0 && zero_todo == 0; }
};

DownloadPlan plan_download(const manifest::Manifest& m, const ScanResult& scan);

// ---------------------------------------------------------------- download

// seeder_url then more_seeders, in order (FlashOptions::more_seeders).
std::vector<std::string> all_seeders(const FlashOptions& options);

// The swarm's options for this node: the seeder's tracker, web seed, HTTP chunk store
// (unless --bittorrent-only), BitTorrent endpoint and upload budget (asked of the
// seeder: GET /v1/info), the cache (memory or options.cache_dir, created here when on
// disk), and the stripe from the seeder's fleet view for `node_id`.
// REQUIRES: `seeder` outlives the returned options (the stripe function asks it).
SwarmOptions download_options(const FlashOptions& options, const SeederClient& seeder,
                              const manifest::Manifest& m, const DownloadPlan& plan, const std::string& node_id);

// Downloads every wanted chunk into `writer` (which must have begun) and returns the
// session, still seeding (for linger_seeding()). `progress` gets the swarm's figures.
// REQUIRES: release, plan and writer outlive the call.
std::unique_ptr<SwarmDownload> fetch_chunks(const Release& release, const DownloadPlan& plan,
                                            SwarmOptions swarm, ChunkWriter& writer,
                                            const std::function<void(const SwarmStats&)>& progress);

// Zeroes every zero range of `m` that the scan did not find reading as zeros.
void clear_zero_ranges(Target& target, const manifest::Manifest& m, const ScanResult& scan);

// ---------------------------------------------------------------- verify

// Flushes the target and checks that it holds the signed image: every chunk position
// either hashed right in the scan or was written and read back (writer), or, with
// `full`, re-reads and re-hashes every chunk; zero ranges read as zeros; the block hashes
// add up to the signed image hash. Throws Errc::kVerify naming the chunk or range.
void verify_target(Target& target, const manifest::Manifest& m, const ChunkWriter& writer, bool full,
                   unsigned threads, ScanProgress progress);

// After a successful write: true when only boot-partition chunks had changed (an earlier
// run's identity seed, identity.h boot_only_changes()). False when nothing changed or
// the image has no partition table.
bool boot_only_changed(Target& target, const manifest::Manifest& m, const DownloadPlan& plan,
                       const ScanResult& scan);

// ---------------------------------------------------------------- report

// The line of the "done" report: flashed, already held, or held apart from the boot
// partition's identity.
std::string done_message(const FlashResult& result, const manifest::Manifest& m,
                         const std::filesystem::path& target_path);

// ---------------------------------------------------------------- power

// Keeps seeding for up to `max` while the seeder says the rack is still flashing
// `release_key`; a failure is logged, never thrown. Returns the bytes uploaded.
std::uint64_t linger_seeding(SwarmDownload& download, std::chrono::seconds max, const SeederClient& seeder,
                             const std::string& release_key);

struct PowerDecision {
  std::optional<boards::PowerAction> action;  // nullopt: power is left alone
  std::string why;                            // for the log
};

// Whether the run powers off / reboots (issue 15): an explicit --power (options.power)
// always; otherwise the profile's action only on the board itself — its device tree
// names the board being flashed and the target is the board's device. A flasher run by
// hand on a workstation (--board rpi5 --target some.img) leaves power alone.
PowerDecision decide_power(const OnBoard& on, const FlashOptions& options,
                           const std::filesystem::path& target_path);

// decide_power(), logged, then the action requested of the board's power control.
void power_stage(OnBoard& on, const FlashOptions& options, const std::filesystem::path& target_path);

}  // namespace ironstone::flasher
