#include "flasher/flash.h"

#include <spdlog/spdlog.h>

#include <exception>

#include "api/paths.h"
#include "flasher/card_boot.h"
#include "flasher/chunk_writer.h"
#include "flasher/errc.h"
#include "flasher/failed_step.h"
#include "flasher/identity.h"
#include "flasher/release_fetch.h"
#include "flasher/reporter.h"
#include "flasher/stages.h"
#include "flasher/state.h"

namespace ironstone::flasher {

namespace fs = std::filesystem;
using boards::FailedStep;
using Clock = std::chrono::steady_clock;

namespace {

void show_failed(boards::Board* board, FailedStep code) {
  if (!board) return;
  try {
    board->leds().failed(code);
  } catch (const std::exception& led) {
    spdlog::warn("LED: {}", led.what());
  }
}

// Runs `body` as one step: any failure is reported, shown on the LEDs and rethrown — an
// Error with the step's name as context, anything else as it was thrown.
template <typename F>
auto step(Reporter& rep, boards::Board* board, FailedStep code, const std::string& name,
          const std::string& message, F&& body) {
  rep.step(name, message);
  try {
    return body();
  } catch (const Error& e) {
    Error with = e.with_context(name);
    rep.failed(with.what());
    show_failed(board, board ? failed_step_for(code, with, board->root()) : code);
    throw with;
  } catch (const std::exception& e) {
    rep.failed(name + ": " + e.what());
    show_failed(board, code);
    throw;
  } catch (...) {
    rep.failed(name + ": unknown exception");
    show_failed(board, code);
    throw;
  }
}

void led(boards::Board& board, void (boards::StatusLeds::*show)()) {
  try {
    (board.leds().*show)();
  } catch (const Error& e) {
    spdlog::warn("LED: {}", e.what());  // a missing LED never fails a flash
  }
}

ScanProgress scan_progress(Reporter& rep) {
  return [&rep](std::uint64_t done, std::uint64_t total) {
    rep.progress({total ? double(done) / double(total) : 1.0, done, total});
  };
}

std::string plan_message(const DownloadPlan& plan, const manifest::Manifest& m) {
  return std::to_string(plan.chunks_todo) + " of " + std::to_string(m.chunks.size()) + " chunks to fetch, " +
         std::to_string(plan.zero_todo) + " zero ranges to clear";
}

// "127.0.0.1:41000 (sent data that failed the piece hash); ..." for the fleet view.
std::string banned_text(const std::vector<BannedPeer>& banned) {
  std::string out;
  for (const auto& b : banned) out += (out.empty() ? "" : "; ") + b.endpoint + " (" + b.reason + ")";
  return out;
}

Progress download_progress(const SwarmStats& s, const manifest::Manifest& m) {
  return {.fraction = s.chunks_wanted ? double(s.chunks_received) / double(s.chunks_wanted) : 1.0,
          .bytes_done = s.from_seeder + s.from_peers,
          .bytes_total = m.stored_bytes(),
          .from_seeder = s.from_seeder,
          .from_peers = s.from_peers,
          .from_banned_peers = s.from_banned_peers,
          .banned_peers = banned_text(s.banned),
          .rate = s.download_rate};
}

// The download stage: the wanted chunks from the swarm into the writer, the zero ranges
// cleared, the first chunk written last. Returns the swarm session (null when nothing
// was downloaded), still seeding.
std::unique_ptr<SwarmDownload> download_stage(const FlashOptions& o, const SeederClient& seeder,
                                              const Release& rel, const DownloadPlan& plan, ScannedTarget& t,
                                              ChunkWriter& writer, Reporter& rep) {
  const manifest::Manifest& m = rel.manifest.manifest();
  std::unique_ptr<SwarmDownload> download;
  if (plan.chunks_todo > 0) {
    writer.begin();
    download = fetch_chunks(rel, plan, download_options(o, seeder, m, plan, rep.node_id()), writer,
                            [&](const SwarmStats& s) { rep.progress(download_progress(s, m)); });
  }
  clear_zero_ranges(*t.target, m, t.scan);
  writer.finish();  // the first chunk, last
  return download;
}

void add_swarm_stats(FlashResult& r, const SwarmStats& s) {
  r.from_seeder = s.from_seeder;
  r.from_peers = s.from_peers;
  r.hash_failures = s.hash_failures;
  r.banned_peers = s.banned_peers;
  r.from_banned_peers = s.from_banned_peers;
  r.banned.clear();
  for (const auto& b : s.banned) r.banned.push_back(b.endpoint + " (" + b.reason + ")");
  r.web_seed_used = s.web_seed_used;
  r.seeder_bittorrent_used = s.seeder_bittorrent_used;
  spdlog::debug(
      "swarm: {} pieces proven by their v2 tree ({} of them from memory, {} by the HTTP fetcher's block hashes), "
      "{} hashed with SHA-1 as well",
      s.pieces_proven_by_v2, s.pieces_kept_in_memory, s.pieces_vouched, s.pieces_not_proven_by_v2);
  // Pieces hashed by libtorrent's disk I/O and by the HTTP fetcher's proofs, which also hash
  // the stored bytes (and, for a format-1 release, decode them); the writer's stages add to these.
  r.cpu.piece_hash = s.piece_hash_cpu_s + s.http_piece_hash_cpu_s;
  r.cpu.blake2b = s.http_blake2b_cpu_s;
  r.cpu.zstd = s.http_zstd_cpu_s;
  r.cpu.copied_in = s.copied_in;
  r.cpu.copied_out = s.copied_out;
}

// The writer's CPU by stage added to r.cpu (after add_swarm_stats()), and the "cpu by stage"
// line (ironstone-bench reads it).
void add_writer_cpu(FlashResult& r, const ChunkWriter& w) {
  r.cpu.zstd += w.cpu().decode.zstd.seconds();
  r.cpu.blake2b += w.cpu().decode.blake2b.seconds();
  r.cpu.write = w.cpu().write.seconds();
  r.cpu.read_back = w.cpu().read_back.seconds();
  spdlog::info("cpu by stage (s): piece_hash={:.3f} zstd={:.3f} blake2b={:.3f} write={:.3f} read_back={:.3f}; "
               "copied_in={} copied_out={} bytes_written={}",
               r.cpu.piece_hash, r.cpu.zstd, r.cpu.blake2b, r.cpu.write, r.cpu.read_back, r.cpu.copied_in,
               r.cpu.copied_out, r.bytes_written);
}

// fetch_release() from `seeder`, then from each other seeder of the options in order; the first
// that verifies wins. Rethrows the last failure, with every seeder's reason logged.
Release fetch_release_from_any(const FlashOptions& o, const SeederClient& seeder, const std::string& board,
                               const SeenState& seen) {
  std::vector<std::string> others;
  for (const auto& url : all_seeders(o))
    if (SeederClient(url).base() != seeder.base()) others.push_back(url);
  try {
    return fetch_release(seeder, board, o.channel, o.public_keys, seen, o.allow_older);
  } catch (const Error& e) {
    if (others.empty()) throw;
    spdlog::warn("release: {}: {}; trying the next seeder", seeder.base(), e.what());
  }
  for (std::size_t i = 0; i < others.size(); ++i) {
    try {
      return fetch_release(SeederClient(others[i], o.retry), board, o.channel, o.public_keys, seen, o.allow_older);
    } catch (const Error& e) {
      if (i + 1 == others.size()) throw;
      spdlog::warn("release: {}: {}; trying the next seeder", others[i], e.what());
    }
  }
  throw error(Errc::kSeeder, "no seeder given");
}

// The first seeder of the options that answers GET /v1/info (one short attempt each), else the first.
std::string first_answering_seeder(const FlashOptions& o) {
  const auto urls = all_seeders(o);
  if (urls.size() == 1) return urls.front();
  for (const auto& url : urls) {
    try {
      SeederClient(url, RetryPolicy{1, std::chrono::milliseconds(0), std::chrono::milliseconds(0),
                                    std::chrono::milliseconds(3000)})
          .get(api::kInfoPath, 64 * 1024);
      return url;
    } catch (const Error& e) {
      spdlog::warn("seeder {} does not answer ({}): trying the next one", url, e.what());
    }
  }
  return urls.front();
}

// The release stage: the board's release from the seeder, verified against the keys and the
// sequences in `seen` (fetch_release). Fills in the result's version, sequence and chunk count.
Release release_stage(const FlashOptions& o, const SeederClient& seeder, Reporter& rep, boards::Board& board,
                      const SeenState& seen, FlashResult& result) {
  Release rel = step(
      rep, &board, FailedStep::kRelease, "release",
      "fetching the " + o.channel + " release for " + board.name() + " from " + seeder.base(),
      [&] { return fetch_release_from_any(o, seeder, board.name(), seen); });
  const manifest::Manifest& m = rel.manifest.manifest();
  result.version = m.version;
  result.sequence = m.sequence;
  result.chunks_total = m.chunks.size();
  rep.set_release(m.version);
  return rel;
}

// The stages after the verified write, in order: the identity (--identity), an after-write
// firmware method (the boot order), disarming the installer card (--disarm-card). Each
// fills in its part of the result.
void after_write_stages(const FlashOptions& o, const SeederClient& seeder, Reporter& rep, boards::Board& board,
                        const Release& rel, ScannedTarget& t, const fs::path& target_path, const std::string& mac,
                        FlashResult& result) {
  const manifest::Manifest& m = rel.manifest.manifest();
  if (o.write_identity)
    result.identity = step(rep, &board, FailedStep::kIdentity, "identity",
                           "asking the seeder for the identity of " + (mac.empty() ? "this node" : mac),
                           [&] { return identity_step(seeder, mac, rep.node_id(), *t.target, target_path, m); });
  if (!o.skip_firmware && board.firmware_after_write())
    result.firmware = step(rep, &board, FailedStep::kFirmware, "firmware", "setting the boot order",
                           [&] { return firmware_step(seeder, board, rel, *t.target, target_path); });
  if (o.disarm_card && !board.profile().disarm_card.empty())
    result.disarm = step(rep, &board, FailedStep::kFirmware, "disarm", "disarming the installer card",
                         [&] { return disarm_step(o.root, target_path, board.profile().disarm_card); });
}

}  // namespace

FlashResult run_flash(const FlashOptions& o) {
  init_crypto();
  const auto started = Clock::now();
  FlashResult result;
  SeederClient seeder(first_answering_seeder(o), o.retry);
  if (o.write_identity && !o.enrolment_key.empty()) seeder.set_enrolment_key(load_enrolment_key(o.enrolment_key));
  const std::string mac = primary_mac(o.root.string());
  Reporter rep(&seeder, o.node_id.empty() ? default_node_id(mac) : o.node_id, mac);

  OnBoard on = step(rep, nullptr, FailedStep::kBoard, "board", "detecting the board", [&] { return make_board(o); });
  boards::Board& board = on.board;
  result.board = board.name();
  rep.set_board(board.name());
  led(board, &boards::StatusLeds::working);

  SeenState seen = step(rep, &board, FailedStep::kRelease, "state", "reading " + o.state_file.string(),
                        [&] { return load_state(o.state_file); });
  const Release rel = release_stage(o, seeder, rep, board, seen, result);
  const manifest::Manifest& m = rel.manifest.manifest();

  if (!o.skip_firmware && !board.firmware_after_write())
    result.firmware = step(rep, &board, FailedStep::kFirmware, "firmware", "checking the board firmware",
                           [&] { return firmware_step(seeder, board, rel); });

  const fs::path target_path = o.target.empty() ? board.target_device() : o.target;
  ScannedTarget t = step(rep, &board, FailedStep::kTarget, "scan", "scanning " + target_path.string(),
                         [&] { return open_and_scan(target_path, m, o.root, o.threads, scan_progress(rep)); });
  const DownloadPlan plan = plan_download(m, t.scan);
  result.already_current = plan.nothing_to_do();

  ChunkWriter writer(*t.target, m, plan.pending, o.threads);
  std::unique_ptr<SwarmDownload> download =
      step(rep, &board, FailedStep::kWrite, "download", plan_message(plan, m),
           [&] { return download_stage(o, seeder, rel, plan, t, writer, rep); });
  result.bytes_written = writer.bytes_written();
  result.chunks_downloaded = writer.chunks_done();
  if (download) add_swarm_stats(result, download->stats());
  add_writer_cpu(result, writer);

  step(rep, &board, FailedStep::kVerify, "verify",
       o.full_verify ? "flushing and verifying the whole image" : "flushing and verifying the zero ranges",
       [&] { verify_target(*t.target, m, writer, o.full_verify, o.threads, scan_progress(rep)); });
  result.boot_only_changed = boot_only_changed(*t.target, m, plan, t.scan);
  after_write_stages(o, seeder, rep, board, rel, t, target_path, mac, result);

  step(rep, &board, FailedStep::kIdentity, "state", "recording sequence " + std::to_string(m.sequence), [&] {
    if (seen.record(m.board, m.channel, m.sequence, m.version)) save_state(o.state_file, seen);
  });
  result.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  rep.done(done_message(result, m, target_path));
  if (download && o.linger.count() > 0)
    result.uploaded = linger_seeding(*download, o.linger, seeder, m.board + "/" + m.version);
  download.reset();
  led(board, &boards::StatusLeds::done);
  power_stage(on, o, target_path);
  return result;
}

}  // namespace ironstone::flasher
