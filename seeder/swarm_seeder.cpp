#include "seeder/swarm_seeder.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>
#include <libtorrent/alert_types.hpp>
#include <libtorrent/load_torrent.hpp>
#include <libtorrent/peer_class.hpp>
#include <libtorrent/peer_class_type_filter.hpp>
#include <libtorrent/session_params.hpp>
#include <libtorrent/torrent_info.hpp>
#include <libtorrent/torrent_status.hpp>

#include "api/limits.h"
#include "manifest/hash.h"
#include "manifest/layout.h"
#include "manifest/manifest.h"
#include "seeder/errc.h"
#include "seeder/store_keys.h"
#include "swarm/lan_settings.h"
#include "util/hex.h"

namespace ironstone::seeder {

namespace fs = std::filesystem;

namespace {

std::vector<char> read_torrent(const fs::path& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) throw error(Errc::kTorrent, path.string() + ": " + ec.message());
  if (size > api::kMaxTorrentBytes) throw error(Errc::kTorrent, path.string() + ": larger than 16 MiB");
  std::vector<char> data(size);
  std::ifstream in(path, std::ios::binary);
  if (!in.read(data.data(), static_cast<std::streamsize>(size))) {
    throw error(Errc::kTorrent, path.string() + ": cannot read");
  }
  return data;
}

std::string state_name(const lt::torrent_status& st) {
  if (st.errc) return "error: " + st.errc.message();
  if (st.flags & lt::torrent_flags::paused) return "paused";
  switch (st.state) {
    case lt::torrent_status::checking_files:
      return "checking";
    case lt::torrent_status::downloading_metadata:
      return "metadata";
    case lt::torrent_status::downloading:
      return "downloading";
    case lt::torrent_status::finished:
      return "finished";
    case lt::torrent_status::seeding:
      return "seeding";
    case lt::torrent_status::checking_resume_data:
      return "checking";
    default:
      return "unknown";
  }
}

}  // namespace

SwarmSeeder::SwarmSeeder(SwarmSeederOptions options) : options_(std::move(options)) {}

SwarmSeeder::~SwarmSeeder() { stop(); }

void SwarmSeeder::start() {
  swarm::LanOptions lan;
  lan.role = swarm::Role::kSeeder;
  lan.listen_interfaces = options_.listen_interfaces;
  // A flasher counts a peer named "ironstone-seeder/…" as the NAS (flasher/peer_accounting.cpp).
  lan.user_agent = std::string(options_.peer_mode ? "ironstone-peer/" : "ironstone-seeder/") + IRONSTONE_VERSION;
  lan.alert_mask = lt::alert_category::error | lt::alert_category::status | lt::alert_category::storage;
  lan.bounded_memory = options_.peer_mode;
  lt::session_params params(swarm::lan_settings(lan));
  // Each tracker is a tier of its own (a peer's own and its upstream's): announce to all of them.
  params.settings.set_bool(lt::settings_pack::announce_to_all_tiers, true);
  if (options_.peer_mode)
    params.settings.set_str(lt::settings_pack::peer_fingerprint, swarm::peer_seeder_fingerprint(IRONSTONE_VERSION));
  params.disk_io_constructor = swarm::disk_io_constructor(options_.disk_backend);
  session_ = std::make_unique<lt::session>(std::move(params));
  swarm::apply_lan_peer_classes(*session_);
  apply_upload_limit();

  // Wait for the listen socket, so an ephemeral port can be reported.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::string failure;
  while (listen_port_ == 0 && failure.empty() && std::chrono::steady_clock::now() < deadline) {
    session_->wait_for_alert(std::chrono::milliseconds(100));
    std::vector<lt::alert*> alerts;
    session_->pop_alerts(&alerts);
    for (lt::alert* a : alerts) {
      if (auto* ok = lt::alert_cast<lt::listen_succeeded_alert>(a)) {
        if (ok->socket_type == lt::socket_type_t::tcp) listen_port_ = static_cast<std::uint16_t>(ok->port);
      } else if (auto* bad = lt::alert_cast<lt::listen_failed_alert>(a)) {
        failure = bad->message();
      }
    }
  }
  if (listen_port_ == 0) {
    session_.reset();
    throw error(Errc::kListen, "bittorrent: listen on " + options_.listen_interfaces + ": " +
                                   (failure.empty() ? std::string("no listen socket") : failure));
  }
  spdlog::info("bittorrent: listening on port {}", listen_port_);
  scan();
  refresh_stats();
  worker_ = std::thread([this] { run(); });
}

void SwarmSeeder::apply_upload_limit() {
  if (options_.upload_limit <= 0) return;
  const lt::peer_class_t cls = session_->create_peer_class("ironstone upload budget");
  lt::peer_class_info info = session_->get_peer_class(cls);
  info.upload_limit = static_cast<int>(options_.upload_limit);
  info.download_limit = 0;
  info.ignore_unchoke_slots = true;
  info.label = "ironstone upload budget";
  session_->set_peer_class(cls, info);
  lt::peer_class_type_filter types = session_->get_peer_class_type_filter();
  using F = lt::peer_class_type_filter;
  for (auto type : {F::tcp_socket, F::utp_socket, F::ssl_tcp_socket, F::ssl_utp_socket, F::i2p_socket}) {
    types.add(type, cls);
  }
  session_->set_peer_class_type_filter(types);
  budget_class_ = cls;
  spdlog::info("bittorrent: upload limited to {} bytes/s over all peers", options_.upload_limit);
}

std::int64_t SwarmSeeder::upload_budget() const {
  if (!session_ || !budget_class_) return 0;
  lt::peer_class_type_filter types = session_->get_peer_class_type_filter();
  const std::uint32_t joined = types.apply(lt::peer_class_type_filter::tcp_socket, 0);
  if (!(joined & (1u << static_cast<std::uint32_t>(*budget_class_)))) return 0;
  return session_->get_peer_class(*budget_class_).upload_limit;
}

void SwarmSeeder::stop() {
  if (stop_.exchange(true)) return;
  if (worker_.joinable()) worker_.join();
  if (session_) {
    spdlog::info("bittorrent: stopping session");
    session_.reset();
  }
}

void SwarmSeeder::run() {
  auto next_scan = std::chrono::steady_clock::now() + options_.scan_interval;
  auto next_stats = std::chrono::steady_clock::now() + options_.stats_interval;
  while (!stop_.load()) {
    session_->wait_for_alert(std::chrono::milliseconds(100));
    handle_alerts();
    const auto now = std::chrono::steady_clock::now();
    try {
      if (now >= next_scan) {
        scan();
        next_scan = now + options_.scan_interval;
      }
      if (now >= next_stats) {
        refresh_stats();
        next_stats = now + options_.stats_interval;
      }
    } catch (const std::exception& e) {
      spdlog::error("bittorrent: {}", e.what());
    }
  }
}

void SwarmSeeder::handle_alerts() {
  std::vector<lt::alert*> alerts;
  session_->pop_alerts(&alerts);
  for (lt::alert* a : alerts) {
    if (lt::alert_cast<lt::torrent_error_alert>(a) || lt::alert_cast<lt::file_error_alert>(a) ||
        lt::alert_cast<lt::listen_failed_alert>(a) || lt::alert_cast<lt::hash_failed_alert>(a)) {
      spdlog::warn("bittorrent: {}", a->message());
    } else if (a->category() & lt::alert_category::error) {
      spdlog::debug("bittorrent: {}", a->message());
    }
  }
}

void SwarmSeeder::scan_now() {
  scan();
  refresh_stats();
}

void SwarmSeeder::scan() {
  std::lock_guard lock(scan_mutex_);
  if (!session_) return;
  std::set<std::string> present;
  std::error_code ec;
  const fs::path releases = options_.store / "releases";
  for (fs::directory_iterator boards(releases, ec), end; !ec && boards != end; boards.increment(ec)) {
    const std::string board = boards->path().filename().string();
    if (!manifest::valid_board_name(board) || !boards->is_directory(ec)) continue;
    std::error_code ec2;
    for (fs::directory_iterator versions(boards->path(), ec2); !ec2 && versions != end;
         versions.increment(ec2)) {
      const std::string version = versions->path().filename().string();
      if (version.starts_with('.') || !manifest::valid_version_name(version)) continue;
      std::error_code ec3;
      if (!fs::is_regular_file(versions->path() / manifest::layout::kTorrentFile, ec3)) continue;
      const std::string key = board + "/" + version;
      present.insert(key);
      if (!release_to_hash_.contains(key)) scan_release(key, versions->path());
    }
  }
  drop_vanished(present);
  publish_known_hashes();
}

void SwarmSeeder::scan_release(const std::string& key, const fs::path& dir) {
  const fs::path torrent = dir / manifest::layout::kTorrentFile;
  std::error_code ec;
  const auto mtime = fs::last_write_time(torrent, ec);
  if (auto f = failed_.find(key); f != failed_.end() && f->second == mtime) return;
  try {
    if (!options_.trusted_keys.empty()) {
      try {
        check_release_signed(dir, options_.trusted_keys);
      } catch (const std::exception& e) {
        spdlog::warn("bittorrent: not seeding release {}: no key in {}/keys verifies it: {}", key,
                     options_.store.string(), e.what());
        failed_[key] = mtime;
        return;
      }
    }
    add_release(key, torrent);
    failed_.erase(key);
  } catch (const std::exception& e) {
    spdlog::warn("bittorrent: release {}: {}", key, e.what());
    failed_[key] = mtime;
  }
}

void SwarmSeeder::drop_vanished(const std::set<std::string>& present) {
  for (auto it = release_to_hash_.begin(); it != release_to_hash_.end();) {
    if (present.contains(it->first)) {
      ++it;
      continue;
    }
    auto seeded = seeded_.find(it->second);
    if (seeded != seeded_.end()) {
      seeded->second.releases.erase(it->first);
      if (seeded->second.releases.empty()) {
        spdlog::info("bittorrent: release {} vanished, removing torrent {}", it->first, it->second);
        session_->remove_torrent(seeded->second.handle);  // keeps the files: chunks are shared
        seeded_.erase(seeded);
      }
    }
    it = release_to_hash_.erase(it);
  }
  std::erase_if(failed_, [&](const auto& f) { return !present.contains(f.first); });
}

void SwarmSeeder::publish_known_hashes() {
  std::set<InfoHash20> known, known_v1;
  for (const auto& [hex, s] : seeded_) {
    known.insert(s.short_hash);
    if (s.v1_hash) known_v1.insert(*s.v1_hash);
  }
  std::lock_guard slock(stats_mutex_);
  known_ = std::move(known);
  known_v1_ = std::move(known_v1);
}

namespace {

// The release's torrent file, parsed and checked: a v2 (or hybrid) torrent named "chunks".
lt::add_torrent_params load_release_torrent(const fs::path& torrent_file) {
  const std::vector<char> data = read_torrent(torrent_file);
  lt::add_torrent_params atp;
  try {
    atp =
        lt::load_torrent_buffer(lt::span<const char>(data.data(), static_cast<std::ptrdiff_t>(data.size())));
  } catch (const std::exception& e) {
    throw error(Errc::kTorrent, torrent_file.string() + ": " + e.what());
  }
  if (!atp.ti || !atp.ti->info_hashes().has_v2()) {
    throw error(Errc::kTorrent, torrent_file.string() + ": not a v2 torrent");
  }
  if (atp.ti->name() != "chunks") {
    throw error(Errc::kTorrent,
                torrent_file.string() + ": torrent name is '" + atp.ti->name() + "', not 'chunks'");
  }
  return atp;
}

// Seed mode from the store, started at once, with the seeder's own web seed and tracker only.
void configure_seeding(lt::add_torrent_params& atp, const SwarmSeederOptions& options) {
  atp.save_path = options.store.string();
  atp.flags |= lt::torrent_flags::seed_mode;
  atp.flags &= ~lt::torrent_flags::auto_managed;
  atp.flags &= ~lt::torrent_flags::paused;
  if (options.super_seed) atp.flags |= lt::torrent_flags::super_seeding;
  atp.url_seeds.clear();
  if (!options.web_seed_url.empty()) atp.url_seeds.push_back(options.web_seed_url);
  atp.trackers.clear();
  atp.tracker_tiers.clear();
  if (!options.tracker_url.empty()) atp.trackers.push_back(options.tracker_url);
  for (const auto& t : options.extra_trackers) atp.trackers.push_back(t);
  for (std::size_t i = 0; i < atp.trackers.size(); ++i) atp.tracker_tiers.push_back(static_cast<int>(i));
}

// The v1 info-hash of a hybrid torrent, as the tracker sees it.
std::optional<InfoHash20> v1_hash_of(const lt::info_hash_t& hashes) {
  if (!hashes.has_v1()) return std::nullopt;
  InfoHash20 out{};
  std::copy_n(reinterpret_cast<const std::uint8_t*>(hashes.v1.data()), out.size(), out.begin());
  return out;
}

}  // namespace

void SwarmSeeder::add_release(const std::string& key, const fs::path& torrent_file) {
  lt::add_torrent_params atp = load_release_torrent(torrent_file);
  const lt::sha256_hash v2 = atp.ti->info_hashes().v2;
  const std::string hex = to_hex(std::span(reinterpret_cast<const std::uint8_t*>(v2.data()), v2.size()));
  if (auto it = seeded_.find(hex); it != seeded_.end()) {
    it->second.releases.insert(key);
    release_to_hash_[key] = hex;
    spdlog::info("bittorrent: release {} shares torrent {}", key, hex);
    return;
  }
  configure_seeding(atp, options_);
  InfoHash20 short_hash{};
  std::copy_n(reinterpret_cast<const std::uint8_t*>(v2.data()), short_hash.size(), short_hash.begin());
  const std::optional<InfoHash20> v1_hash = v1_hash_of(atp.ti->info_hashes());
  {
    // Known to the tracker before the torrent's first announce can arrive.
    std::lock_guard slock(stats_mutex_);
    known_.insert(short_hash);
    if (v1_hash) known_v1_.insert(*v1_hash);
  }
  lt::error_code ec;
  lt::torrent_handle h = session_->add_torrent(std::move(atp), ec);
  if (ec) throw error(Errc::kTorrent, torrent_file.string() + ": add to session: " + ec.message());

  Seeded s;
  s.handle = h;
  s.releases.insert(key);
  s.short_hash = short_hash;
  s.v1_hash = v1_hash;
  s.hex = hex;
  seeded_.emplace(hex, std::move(s));
  release_to_hash_[key] = hex;
  spdlog::info("bittorrent: seeding release {} (info-hash {})", key, hex);
}

std::int64_t SwarmSeeder::uploaded_of(const Seeded& s, const lt::torrent_status& st) {
  return std::max(st.all_time_upload, s.uploaded_before_resume + st.total_payload_upload);
}

void SwarmSeeder::auto_super_seed(Seeded& s, const lt::torrent_status& st, std::int64_t uploaded) {
  // libtorrent serves a super-seeded peer only the pieces it offered it, and a peer
  // keeps the piece list it was given when it connected: switching on drops every
  // connection (pause + resume; the nodes reconnect within a second or two) so each
  // peer starts from the super-seeding offer; switching off waits until nobody is
  // connected, as a late bitfield is not taken by libtorrent peers.
  const bool on = static_cast<bool>(st.flags & lt::torrent_flags::super_seeding);
  const int downloading = st.num_peers - st.num_seeds;
  if (on) {
    if (st.num_peers == 0) s.handle.unset_flags(lt::torrent_flags::super_seeding);
    return;
  }
  s.crowded_checks = downloading >= 2 ? s.crowded_checks + 1 : 0;
  if (s.crowded_checks < 2) return;
  s.crowded_checks = 0;
  s.handle.set_flags(lt::torrent_flags::super_seeding);
  s.uploaded_before_resume = uploaded;
  s.handle.pause();
  s.handle.resume();
  spdlog::info("bittorrent: super seeding on for {}: {} peers downloading (reconnecting them)", s.hex, downloading);
}

void SwarmSeeder::refresh_stats() {
  std::vector<TorrentStats> out;
  {
    std::lock_guard lock(scan_mutex_);
    for (auto& [hex, s] : seeded_) {
      const lt::torrent_status st = s.handle.status();
      const std::int64_t uploaded = uploaded_of(s, st);
      if (options_.auto_super_seed && !options_.super_seed) auto_super_seed(s, st, uploaded);
      for (const std::string& key : s.releases) {
        TorrentStats t;
        const auto slash = key.find('/');
        t.board = key.substr(0, slash);
        t.version = key.substr(slash + 1);
        t.info_hash = hex;
        t.uploaded = uploaded;  // survives the pause + resume of auto super seeding
        t.peers = st.num_peers;
        t.seeds = st.num_seeds;
        t.upload_rate = st.upload_payload_rate;
        t.state = state_name(st);
        t.super_seeding = static_cast<bool>(st.flags & lt::torrent_flags::super_seeding);
        out.push_back(std::move(t));
      }
    }
  }
  std::lock_guard lock(stats_mutex_);
  stats_ = std::move(out);
}

bool SwarmSeeder::knows(const InfoHash20& hash) const {
  std::lock_guard lock(stats_mutex_);
  return known_.contains(hash) || known_v1_.contains(hash);
}

std::vector<TorrentStats> SwarmSeeder::stats() const {
  std::lock_guard lock(stats_mutex_);
  return stats_;
}

std::size_t SwarmSeeder::torrent_count() const {
  std::lock_guard lock(stats_mutex_);
  return known_.size();
}

}  // namespace ironstone::seeder
