#include "flasher/stages.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <system_error>

#include "api/paths.h"
#include "flasher/errc.h"
#include "flasher/identity.h"
#include "flasher/stripe.h"
#include "manifest/image_hash.h"

namespace ironstone::flasher {

namespace fs = std::filesystem;

// ---------------------------------------------------------------- board

namespace {

fs::path profiles_dir(const FlashOptions& o) {
  if (!o.profiles_dir.empty()) return o.profiles_dir;
  return boards::default_profiles_dir();
}

// True when the device tree under `root` names `name` (no device tree, or another board: false).
bool device_tree_names(std::span<const boards::BoardProfile> profiles, const fs::path& root,
                       const std::string& name) {
  try {
    return boards::detect_board(profiles, root).name == name;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

OnBoard make_board(const FlashOptions& o) {
  const fs::path dir = profiles_dir(o);
  auto profiles = boards::load_profiles(dir);
  boards::BoardParts parts = o.board_parts ? o.board_parts() : boards::BoardParts{};
  if (o.board == "auto") return {boards::Board::detect(profiles, o.root, std::move(parts)), true};
  for (auto& p : profiles)
    if (p.name == o.board) {
      const bool matches = device_tree_names(profiles, o.root, p.name);
      return {boards::Board(p, o.root, std::move(parts)), matches};
    }
  std::string known;
  for (const auto& p : profiles) known += (known.empty() ? "" : ", ") + p.name;
  throw error(Errc::kBadTarget, "--board " + o.board + ": no such board profile in " + dir.string() +
                                    " (known: " + known + ")");
}

// ---------------------------------------------------------------- scan

ScannedTarget open_and_scan(const fs::path& path, const manifest::Manifest& m, const fs::path& root,
                            unsigned threads, ScanProgress progress) {
  TargetOptions to;
  to.image_size = m.image_size;
  to.proc_root = root / "proc";
  to.sys_root = root / "sys";
  ScannedTarget out;
  out.path = path;
  out.target = open_target(path, to);
  out.scan = scan_target(*out.target, m, threads, std::move(progress));
  return out;
}

DownloadPlan plan_download(const manifest::Manifest& m, const ScanResult& scan) {
  DownloadPlan plan;
  plan.pending.resize(m.chunks.size());
  plan.wanted.assign(m.chunks.size(), false);
  for (std::size_t i = 0; i < m.chunks.size(); ++i) {
    for (std::size_t j = 0; j < m.chunks[i].offsets.size(); ++j)
      if (!scan.present[i][j]) plan.pending[i].push_back(m.chunks[i].offsets[j]);
    plan.wanted[i] = !plan.pending[i].empty();
    if (plan.wanted[i]) {
      ++plan.chunks_todo;
      plan.bytes_to_fetch += m.chunks[i].stored_size;
    }
  }
  for (bool z : scan.zero_present) plan.zero_todo += !z;
  return plan;
}

// ---------------------------------------------------------------- download

std::vector<std::string> all_seeders(const FlashOptions& o) {
  std::vector<std::string> urls{o.seeder_url};
  urls.insert(urls.end(), o.more_seeders.begin(), o.more_seeders.end());
  return urls;
}

SwarmOptions download_options(const FlashOptions& o, const SeederClient& seeder, const manifest::Manifest& m,
                              const DownloadPlan& plan, const std::string& node_id) {
  SwarmOptions so;
  so.listen_interfaces = o.bt_listen;
  so.trackers = {seeder.url(api::kAnnouncePath)};
  so.web_seeds = {seeder.url("/")};
  for (const auto& url : all_seeders(o)) {
    const SeederClient other(url);
    if (other.base() == seeder.base()) continue;
    so.trackers.push_back(other.url(api::kAnnouncePath));
    so.web_seeds.push_back(other.url("/"));
  }
  if (o.http_stripe) so.chunk_store = seeder.url("/");
  so.peers = o.peers;
  const auto facts = seeder.info();
  if (facts.bt_port) so.seeder_endpoints.push_back(seeder.host() + ":" + std::to_string(*facts.bt_port));
  so.seeder_upload_limit = facts.upload_limit;
  so.cache_dir = o.cache_dir;
  std::string why;
  so.cache_in_memory = cache_in_memory(o.cache, plan.bytes_to_fetch, o.root, &why);
  spdlog::info("download: chunks kept {}", why);
  so.web_seed_after = o.web_seed_after;
  so.stall_timeout = o.stall_timeout;
  so.stripe = [&seeder, key = m.board + "/" + m.version, node_id]() -> std::optional<Stripe> {
    auto fleet = seeder.fleet();
    return fleet ? stripe_from_fleet(*fleet, key, node_id) : std::nullopt;
  };
  if (!so.cache_in_memory) fs::create_directories(o.cache_dir);
  return so;
}

std::unique_ptr<SwarmDownload> fetch_chunks(const Release& release, const DownloadPlan& plan, SwarmOptions swarm,
                                            ChunkWriter& writer,
                                            const std::function<void(const SwarmStats&)>& progress) {
  auto download = std::make_unique<SwarmDownload>(release.torrent, release.manifest.manifest(), plan.wanted,
                                                  std::move(swarm));
  download->run(
      [&](SwarmDownload::Arrived a) {
        if (a.proven)
          writer.submit(a.chunk, std::move(*a.proven));
        else
          writer.submit(a.chunk, std::move(a.stored));
      },
      progress);
  return download;
}

void clear_zero_ranges(Target& target, const manifest::Manifest& m, const ScanResult& scan) {
  for (std::size_t k = 0; k < m.zero_ranges.size(); ++k) {
    if (scan.zero_present[k]) continue;
    const auto& z = m.zero_ranges[k];
    try {
      target.zero_range(z.offset, z.length);
    } catch (const Error& e) {
      throw e.with_context("zero range " + hex_offset(z.offset) + "+" + std::to_string(z.length));
    }
  }
}

// ---------------------------------------------------------------- verify

namespace {

std::string read_error_suffix(const ScanResult& check) {
  return check.first_read_error.empty() ? "" : " (" + check.first_read_error + ")";
}

void check_chunks_present(const manifest::Manifest& m, const ScanResult& check) {
  for (std::size_t i = 0; i < m.chunks.size(); ++i)
    for (std::size_t j = 0; j < m.chunks[i].offsets.size(); ++j)
      if (!check.present[i][j])
        throw error(Errc::kVerify, "chunk " + std::to_string(i) + " @ " + hex_offset(m.chunks[i].offsets[j]) +
                                       " does not hold the signed bytes after writing" + read_error_suffix(check));
}

void check_zero_ranges_present(const manifest::Manifest& m, const ScanResult& check) {
  for (std::size_t k = 0; k < m.zero_ranges.size(); ++k)
    if (!check.zero_present[k])
      throw error(Errc::kVerify, "zero range @ " + hex_offset(m.zero_ranges[k].offset) +
                                     " does not read as zeros" + read_error_suffix(check));
}

}  // namespace

void verify_target(Target& target, const manifest::Manifest& m, const ChunkWriter& writer, bool full,
                   unsigned threads, ScanProgress progress) {
  target.flush();
  // Every chunk position either hashed right in the scan (and was not written since) or
  // was written and read back equal to bytes that hashed right (ChunkWriter). Zero ranges
  // are read again here: cheap (holes are not read, zeros are not hashed).
  ScanOptions so;
  so.threads = threads;
  so.check_chunks = full;
  so.progress = std::move(progress);
  const ScanResult check = scan_target(target, m, so);
  if (full) check_chunks_present(m, check);
  if (writer.positions_verified() != writer.positions_pending())
    throw error(Errc::kVerify, std::to_string(writer.positions_pending() - writer.positions_verified()) + " of " +
                                   std::to_string(writer.positions_pending()) +
                                   " chunk positions were not written and read back");
  check_zero_ranges_present(m, check);
  // The image hash is BLAKE2b over the block hashes (docs/release-format.md): with every
  // block holding its signed bytes, the target's image hash is the manifest's.
  if (manifest::image_hash_of(m) != m.image_hash)
    throw error(Errc::kVerify, "the block hashes do not add up to the signed image hash " + m.image_hash.hex());
}

bool boot_only_changed(Target& target, const manifest::Manifest& m, const DownloadPlan& plan,
                       const ScanResult& scan) {
  if (plan.nothing_to_do()) return false;
  // The target now holds the signed image: its partition table is the release's.
  try {
    if (auto boot = disk::boot_partition(read_target_table(target, m.image_size)))
      return boot_only_changes(m, plan.pending, scan.zero_present, *boot);
  } catch (const Error&) {
    // no partition table: nothing to say
  }
  return false;
}

// ---------------------------------------------------------------- report

std::string done_message(const FlashResult& r, const manifest::Manifest& m, const fs::path& target_path) {
  const std::string release = m.board + "/" + m.version;
  if (r.already_current) return "target already holds " + release;
  if (r.boot_only_changed)
    return "target already holds " + release + " apart from the boot partition's node identity, written again";
  return "flashed " + release + " to " + target_path.string();
}

// ---------------------------------------------------------------- power

std::uint64_t linger_seeding(SwarmDownload& download, std::chrono::seconds max, const SeederClient& seeder,
                             const std::string& release_key) {
  spdlog::info("lingering up to {} s to seed the rest of the rack", max.count());
  try {
    download.linger(max, [&] { return seeder.rack_still_flashing(release_key); }, {});
  } catch (const Error& e) {
    spdlog::warn("seeding after the flash stopped: {}", e.what());
  }
  return download.stats().uploaded;
}

namespace {

bool same_file_path(const fs::path& a, const fs::path& b) {
  std::error_code ea, eb;
  const fs::path ca = fs::weakly_canonical(a, ea), cb = fs::weakly_canonical(b, eb);
  return (ea || eb) ? a.lexically_normal() == b.lexically_normal() : ca == cb;
}

}  // namespace

PowerDecision decide_power(const OnBoard& on, const FlashOptions& o, const fs::path& target_path) {
  if (o.power) return {o.power, "--power " + std::string(boards::to_string(*o.power)) + " was given"};
  const std::string board = on.board.name();
  if (!on.device_tree_matches)
    return {std::nullopt, "this machine's device tree does not name " + board + " (give --power to override)"};
  const fs::path device = on.board.target_device();
  if (!same_file_path(target_path, device))
    return {std::nullopt, "the target " + target_path.string() + " is not " + board + "'s device " +
                              device.string() + " (give --power to override)"};
  return {on.board.profile().power.action, "the " + board + " profile's action"};
}

void power_stage(OnBoard& on, const FlashOptions& o, const fs::path& target_path) {
  const PowerDecision d = decide_power(on, o, target_path);
  if (!d.action) {
    spdlog::info("power: left alone: {}", d.why);
    return;
  }
  spdlog::info("power: {} ({})", boards::to_string(*d.action), d.why);
  on.board.finish(d.action);
}

}  // namespace ironstone::flasher
