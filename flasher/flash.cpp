#include "flasher/flash.h"

#include <spdlog/spdlog.h>

#include "api/paths.h"
#include "flasher/chunk_writer.h"
#include "flasher/errc.h"
#include "flasher/identity.h"
#include "flasher/release_fetch.h"
#include "flasher/reporter.h"
#include "flasher/scan.h"
#include "flasher/state.h"
#include "flasher/stripe.h"
#include "flasher/swarm_download.h"
#include "flasher/target.h"
#include "manifest/image_hash.h"

namespace ironstone::flasher {

namespace fs = std::filesystem;
using boards::FailedStep;
using Clock = std::chrono::steady_clock;

namespace {

boards::Board make_board(const FlashOptions& o) {
  fs::path dir = o.profiles_dir;
  if (dir.empty())
    dir = fs::exists("/usr/share/ironstone/boards") ? fs::path("/usr/share/ironstone/boards")
                                                    : boards::source_profiles_dir();
  auto profiles = boards::load_profiles(dir);
  boards::BoardParts parts = o.board_parts ? o.board_parts() : boards::BoardParts{};
  if (o.board == "auto") return boards::Board::detect(profiles, o.root, std::move(parts));
  for (auto& p : profiles)
    if (p.name == o.board) return boards::Board(p, o.root, std::move(parts));
  std::string known;
  for (const auto& p : profiles) known += (known.empty() ? "" : ", ") + p.name;
  throw error(Errc::kBadTarget, "--board " + o.board + ": no such board profile in " + dir.string() +
                                    " (known: " + known + ")");
}

// Runs `body` as one step: a failure is reported, shown on the LEDs and rethrown with context.
template <typename F>
auto step(Reporter& rep, boards::Board* board, FailedStep code, const std::string& name,
          const std::string& message, F&& body) {
  rep.step(name, message);
  try {
    return body();
  } catch (const Error& e) {
    Error with = e.with_context(name);
    rep.failed(with.what());
    if (board) {
      try {
        board->leds().failed(code);
      } catch (const Error& led) {
        spdlog::warn("LED: {}", led.what());
      }
    }
    throw with;
  }
}

void led(boards::Board& board, void (boards::StatusLeds::*show)()) {
  try {
    (board.leds().*show)();
  } catch (const Error& e) {
    spdlog::warn("LED: {}", e.what());  // a missing LED never fails a flash
  }
}

}  // namespace

FlashResult run_flash(const FlashOptions& o) {
  init_crypto();
  const auto started = Clock::now();
  FlashResult result;
  SeederClient seeder(o.seeder_url, o.retry);
  if (o.write_identity && !o.enrolment_key.empty()) seeder.set_enrolment_key(load_enrolment_key(o.enrolment_key));
  const std::string mac = primary_mac(o.root.string());
  Reporter rep(&seeder, o.node_id.empty() ? default_node_id(mac) : o.node_id, mac);

  boards::Board board =
      step(rep, nullptr, FailedStep::kBoard, "board", "detecting the board", [&] { return make_board(o); });
  result.board = board.name();
  rep.set_board(board.name());
  led(board, &boards::StatusLeds::working);

  SeenState seen = step(rep, &board, FailedStep::kRelease, "state", "reading " + o.state_file.string(),
                        [&] { return load_state(o.state_file); });
  Release rel = step(
      rep, &board, FailedStep::kRelease, "release",
      "fetching the " + o.channel + " release for " + board.name() + " from " + seeder.base(),
      [&] { return fetch_release(seeder, board.name(), o.channel, o.public_keys, seen, o.allow_older); });
  const manifest::Manifest& m = rel.manifest.manifest();
  result.version = m.version;
  result.sequence = m.sequence;
  result.chunks_total = m.chunks.size();
  rep.set_release(m.version);

  if (!o.skip_firmware)
    result.firmware = step(rep, &board, FailedStep::kFirmware, "firmware", "checking the board firmware",
                           [&] { return firmware_step(seeder, board, rel); });

  const fs::path target_path = o.target.empty() ? board.target_device() : o.target;
  std::unique_ptr<Target> target;
  ScanResult scan = step(rep, &board, FailedStep::kTarget, "scan", "scanning " + target_path.string(), [&] {
    TargetOptions to;
    to.image_size = m.image_size;
    to.proc_root = o.root / "proc";
    to.sys_root = o.root / "sys";
    target = open_target(target_path, to);
    return scan_target(*target, m, o.threads, [&](std::uint64_t done, std::uint64_t total) {
      rep.progress({total ? double(done) / double(total) : 1.0, done, total});
    });
  });

  std::vector<std::vector<std::uint64_t>> pending(m.chunks.size());
  std::vector<bool> wanted(m.chunks.size(), false);
  for (std::size_t i = 0; i < m.chunks.size(); ++i)
    for (std::size_t j = 0; j < m.chunks[i].offsets.size(); ++j)
      if (!scan.present[i][j]) pending[i].push_back(m.chunks[i].offsets[j]);
  for (std::size_t i = 0; i < m.chunks.size(); ++i) wanted[i] = !pending[i].empty();
  std::size_t zero_todo = 0;
  for (bool z : scan.zero_present) zero_todo += !z;
  const std::size_t chunks_todo = std::count(wanted.begin(), wanted.end(), true);
  result.already_current = chunks_todo == 0 && zero_todo == 0;

  std::unique_ptr<SwarmDownload> download;
  ChunkWriter writer(*target, m, pending, o.threads);
  step(rep, &board, FailedStep::kWrite, "download",
       std::to_string(chunks_todo) + " of " + std::to_string(m.chunks.size()) + " chunks to fetch, " +
           std::to_string(zero_todo) + " zero ranges to clear",
       [&] {
         if (chunks_todo > 0) {
           writer.begin();
           SwarmOptions so;
           so.listen_interfaces = o.bt_listen;
           so.trackers = {seeder.url(api::kAnnouncePath)};
           so.web_seeds = {seeder.url("/")};
           if (o.http_stripe) so.chunk_store = seeder.url("/");
           so.peers = o.peers;
           const auto facts = seeder.info();
           if (facts.bt_port)
             so.seeder_endpoints.push_back(seeder.host() + ":" + std::to_string(*facts.bt_port));
           so.seeder_upload_limit = facts.upload_limit;
           so.cache_dir = o.cache_dir;
           std::uint64_t to_fetch = 0;
           for (std::size_t i = 0; i < m.chunks.size(); ++i)
             to_fetch += wanted[i] ? m.chunks[i].stored_size : 0;
           std::string why;
           so.cache_in_memory = cache_in_memory(o.cache, to_fetch, o.root, &why);
           spdlog::info("download: chunks kept {}", why);
           so.web_seed_after = o.web_seed_after;
           so.stall_timeout = o.stall_timeout;
           so.stripe = [&]() -> std::optional<Stripe> {
             auto fleet = seeder.fleet();
             return fleet ? stripe_from_fleet(*fleet, m.board + "/" + m.version, rep.node_id())
                          : std::nullopt;
           };
           if (!so.cache_in_memory) fs::create_directories(o.cache_dir);
           download = std::make_unique<SwarmDownload>(rel.torrent, m, wanted, so);
           download->run(
               [&](std::size_t i, std::shared_ptr<const std::vector<std::uint8_t>> stored) {
                 writer.submit(i, std::move(stored));
               },
               [&](const SwarmStats& s) {
                 rep.progress({s.chunks_wanted ? double(s.chunks_received) / double(s.chunks_wanted) : 1.0,
                               s.from_seeder + s.from_peers, m.stored_bytes(), s.from_seeder, s.from_peers,
                               s.download_rate});
               });
         }
         for (std::size_t k = 0; k < m.zero_ranges.size(); ++k) {
           if (scan.zero_present[k]) continue;
           const auto& z = m.zero_ranges[k];
           try {
             target->zero_range(z.offset, z.length);
           } catch (const Error& e) {
             throw e.with_context("zero range " + hex_offset(z.offset) + "+" + std::to_string(z.length));
           }
         }
         writer.finish();  // the first chunk, last
         result.bytes_written = writer.bytes_written();
         result.chunks_downloaded = writer.chunks_done();
       });
  if (download) {
    SwarmStats s = download->stats();
    result.from_seeder = s.from_seeder;
    result.from_peers = s.from_peers;
    result.hash_failures = s.hash_failures;
    result.banned_peers = s.banned_peers;
    result.web_seed_used = s.web_seed_used;
    spdlog::debug(
        "swarm: {} pieces proven by their v2 tree ({} of them from memory), {} hashed with SHA-1 as well",
        s.pieces_proven_by_v2, s.pieces_kept_in_memory, s.pieces_not_proven_by_v2);
  }

  step(rep, &board, FailedStep::kVerify, "verify",
       o.full_verify ? "flushing and verifying the whole image" : "flushing and verifying the zero ranges",
       [&] {
         target->flush();
         // Every chunk position either hashed right in the scan (and was not written since) or
         // was written and read back equal to bytes that hashed right (ChunkWriter). Zero ranges
         // are read again here: cheap (holes are not read, zeros are not hashed).
         ScanOptions so;
         so.threads = o.threads;
         so.check_chunks = o.full_verify;
         so.progress = [&](std::uint64_t done, std::uint64_t total) {
           rep.progress({total ? double(done) / double(total) : 1.0, done, total});
         };
         ScanResult check = scan_target(*target, m, so);
         for (std::size_t i = 0; o.full_verify && i < m.chunks.size(); ++i)
           for (std::size_t j = 0; j < m.chunks[i].offsets.size(); ++j)
             if (!check.present[i][j])
               throw error(Errc::kVerify,
                           "chunk " + std::to_string(i) + " @ " + hex_offset(m.chunks[i].offsets[j]) +
                               " does not hold the signed bytes after writing" +
                               (check.first_read_error.empty() ? "" : " (" + check.first_read_error + ")"));
         if (writer.positions_verified() != writer.positions_pending())
           throw error(Errc::kVerify,
                       std::to_string(writer.positions_pending() - writer.positions_verified()) + " of " +
                           std::to_string(writer.positions_pending()) +
                           " chunk positions were not written and read back");
         for (std::size_t k = 0; k < m.zero_ranges.size(); ++k)
           if (!check.zero_present[k])
             throw error(Errc::kVerify,
                         "zero range @ " + hex_offset(m.zero_ranges[k].offset) + " does not read as zeros" +
                             (check.first_read_error.empty() ? "" : " (" + check.first_read_error + ")"));
         // The image hash is BLAKE2b over the block hashes (docs/release-format.md): with every
         // block holding its signed bytes, the target's image hash is the manifest's.
         if (manifest::image_hash_of(m) != m.image_hash)
           throw error(Errc::kVerify,
                       "the block hashes do not add up to the signed image hash " + m.image_hash.hex());
       });

  if (!result.already_current) {
    // The target now holds the signed image: its partition table is the release's.
    try {
      if (auto boot = disk::boot_partition(read_target_table(*target, m.image_size)))
        result.boot_only_changed = boot_only_changes(m, pending, scan.zero_present, *boot);
    } catch (const Error&) {
      // no partition table: nothing to say
    }
  }
  if (o.write_identity)
    result.identity = step(rep, &board, FailedStep::kIdentity, "identity",
                           "asking the seeder for the identity of " + (mac.empty() ? "this node" : mac),
                           [&] { return identity_step(seeder, mac, *target, target_path, m); });

  step(rep, &board, FailedStep::kIdentity, "state", "recording sequence " + std::to_string(m.sequence), [&] {
    if (seen.record(m.board, m.channel, m.sequence, m.version)) save_state(o.state_file, seen);
  });
  result.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  rep.done(result.already_current ? "target already holds " + m.board + "/" + m.version
           : result.boot_only_changed
               ? "target already holds " + m.board + "/" + m.version +
                     " apart from the boot partition's node identity, written again"
               : "flashed " + m.board + "/" + m.version + " to " + target_path.string());
  if (download && o.linger.count() > 0) {
    spdlog::info("lingering up to {} s to seed the rest of the rack", o.linger.count());
    try {
      download->linger(o.linger, [&] { return seeder.rack_still_flashing(m.board + "/" + m.version); }, {});
    } catch (const Error& e) {
      spdlog::warn("seeding after the flash stopped: {}", e.what());
    }
    result.uploaded = download->stats().uploaded;
  }
  download.reset();
  led(board, &boards::StatusLeds::done);
  board.finish(o.power);
  return result;
}

}  // namespace ironstone::flasher
