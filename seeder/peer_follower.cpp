#include "seeder/peer_follower.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <malloc.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <set>

#include "api/paths.h"
#include "api/peer_report.h"
#include "swarm/http_client.h"
#include "boards/detect.h"
#include "boards/profile.h"
#include "flasher/swarm_download.h"
#include "manifest/channel.h"
#include "manifest/chunk_codec.h"
#include "manifest/layout.h"
#include "manifest/trust.h"
#include "seeder/chunk_guard.h"
#include "seeder/errc.h"
#include "seeder/seeder.h"
#include "api/node_event.h"
#include "util/hex.h"

namespace ironstone::seeder {

namespace fs = std::filesystem;
namespace layout = manifest::layout;

namespace {

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string read_whole(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw error(Errc::kStore, path.string() + ": cannot read: " + std::strerror(errno));
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Writes path.tmp-<pid>, fsyncs it and renames it over `path` (its directory is created).
void write_atomic(const fs::path& path, std::string_view bytes) {
  fs::create_directories(path.parent_path());
  const fs::path tmp = path.string() + ".tmp-" + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw error(Errc::kStore, tmp.string() + ": cannot create: " + std::strerror(errno));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = std::strerror(errno);
      ::close(fd);
      fs::remove(tmp);
      throw error(Errc::kStore, tmp.string() + ": write failed: " + why);
    }
    done += static_cast<std::size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced) throw error(Errc::kStore, tmp.string() + ": fsync failed: " + std::strerror(errno));
  fs::rename(tmp, path);
}

std::string_view as_text(std::span<const std::uint8_t> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

struct StoredRelease {
  std::string board, version;
  fs::path dir;
  std::string key() const { return board + "/" + version; }
};

std::vector<StoredRelease> stored_releases(const fs::path& store) {
  std::vector<StoredRelease> out;
  std::error_code ec;
  for (const auto& b : fs::directory_iterator(store / "releases", ec)) {
    if (!b.is_directory() || b.path().filename().string().starts_with(".")) continue;
    for (const auto& v : fs::directory_iterator(b.path())) {
      if (!v.is_directory() || v.path().filename().string().starts_with(".")) continue;
      if (!fs::exists(v.path() / layout::kManifestFile)) continue;
      out.push_back({b.path().filename().string(), v.path().filename().string(), v.path()});
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.key() < b.key(); });
  return out;
}

manifest::Manifest read_manifest(const StoredRelease& r) {
  const fs::path p = r.dir / layout::kManifestFile;
  return manifest::parse_manifest(read_whole(p), p.string());
}

// Renames the release directory out of sight first (the seeder never sees half of it), then removes it.
void drop_release(const fs::path& store, const StoredRelease& r) {
  const fs::path hidden = r.dir.parent_path() / (".tmp-drop-" + r.version + "-" + std::to_string(::getpid()));
  fs::remove_all(hidden);
  fs::rename(r.dir, hidden);
  fs::remove_all(hidden);
  std::error_code ec;
  for (const auto& c : fs::directory_iterator(store / "channels" / r.board, ec)) {
    if (c.path().extension() != ".json") continue;
    try {
      auto p = manifest::parse_channel_pointer(read_whole(c.path()), c.path().string());
      if (p.version != r.version) continue;
      fs::remove(c.path().string() + std::string(api::kSignatureSuffix));
      fs::remove(c.path());
    } catch (const Error&) {
    }
  }
}

std::set<std::string> pinned_releases(const fs::path& store) {
  std::set<std::string> pinned;
  std::error_code ec;
  for (const auto& b : fs::directory_iterator(store / "channels", ec))
    for (const auto& c : fs::directory_iterator(b.path(), ec)) {
      if (c.path().extension() != ".json") continue;
      try {
        auto p = manifest::parse_channel_pointer(read_whole(c.path()), c.path().string());
        pinned.insert(p.board + "/" + p.version);
      } catch (const Error& e) {
        spdlog::warn("peer: {}", e.what());
      }
    }
  return pinned;
}

std::uint64_t tree_bytes(const fs::path& dir) {
  std::uint64_t n = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec))
    if (it->is_regular_file(ec)) n += it->file_size(ec);
  return n;
}

// Deletes chunk files no release of the store lists.
void collect_chunks(const fs::path& store) {
  std::set<std::string> used;
  for (const auto& r : stored_releases(store))
    for (const auto& c : read_manifest(r).chunks) used.insert(layout::chunk_relpath(c.hash));
  std::error_code ec;
  std::vector<fs::path> unused;
  for (auto it = fs::recursive_directory_iterator(store / "chunks", ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
    if (it->is_regular_file(ec) && !used.contains(fs::relative(it->path(), store).generic_string()))
      unused.push_back(it->path());
  for (const auto& p : unused) fs::remove(p);
}

bool chunk_file_good(const fs::path& path, const manifest::Chunk& c, manifest::ChunkDecoder& dec) {
  std::string bytes;
  try {
    bytes = read_whole(path);
    verify_stored_chunk(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()), c, dec);
    return true;
  } catch (const Error& e) {
    spdlog::warn("peer: {}: {}", path.string(), e.what());
    return false;
  }
}

// The stored release's manifest, its signature checked again against `keys` (board, channel, expiry).
manifest::VerifiedManifest verified_manifest(const StoredRelease& r, const std::vector<manifest::PublicKey>& keys) {
  const std::string bytes = read_whole(r.dir / layout::kManifestFile);
  const std::string sig = read_whole(r.dir / (std::string(layout::kManifestFile) + layout::kSignatureSuffix));
  manifest::TrustPolicy policy;
  policy.trusted_keys = keys;
  policy.board = r.board;
  policy.channel = manifest::parse_manifest(bytes, r.dir.string()).channel;
  policy.now = unix_now();
  return manifest::verify_manifest(manifest::UnverifiedManifest(bytes, sig, r.dir.string()), policy);
}

}  // namespace

std::vector<std::pair<std::string, std::string>> follow_list(const std::vector<std::string>& boards,
                                                             const std::vector<std::string>& channels) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& b : boards)
    for (const auto& c : channels.empty() ? std::vector<std::string>{"stable"} : channels) out.emplace_back(b, c);
  return out;
}

std::string detect_own_board() {
  const fs::path installed = "/usr/share/ironstone/boards";
  const auto profiles = boards::load_profiles(fs::exists(installed) ? installed : boards::source_profiles_dir());
  return boards::detect_board(profiles, "/").name;
}

std::string default_peer_id() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || !api::valid_node_id(name)) return "peer";
  return name;
}

std::uint64_t bytes_served_by(Seeder& seeder) {
  std::uint64_t n = seeder.metrics().chunk_bytes_served;
  if (seeder.swarm())
    for (const auto& t : seeder.swarm()->stats()) n += static_cast<std::uint64_t>(std::max<std::int64_t>(0, t.uploaded));
  return n;
}

void lower_own_priority() {
  if (::setpriority(PRIO_PROCESS, 0, 10) != 0) spdlog::warn("peer: setpriority(10): {}", std::strerror(errno));
  constexpr int kWhoProcess = 1, kClassBestEffort = 2, kClassShift = 13;
  if (::syscall(SYS_ioprio_set, kWhoProcess, 0, (kClassBestEffort << kClassShift) | 7) != 0)
    spdlog::warn("peer: ioprio_set(best-effort 7): {}", std::strerror(errno));
  if (::mallopt(M_MMAP_THRESHOLD, 1 << 20) != 1) spdlog::warn("peer: mallopt(M_MMAP_THRESHOLD) refused");
}

PeerFollower::PeerFollower(PeerFollowerOptions options) : options_(std::move(options)) {
  keys_ = flasher::load_trusted_keys(options_.public_keys);
  if (options_.state_file.empty()) options_.state_file = options_.store / "peer-state.json";
  fs::create_directories(options_.store / "releases");
  fs::create_directories(options_.store / "chunks");
  // The store's keys/*.pub: the peer's own Seeder then seeds only releases these keys signed.
  for (std::size_t i = 0; i < keys_.size(); ++i)
    write_atomic(options_.store / "keys" / ("peer-" + std::to_string(i) + ".pub"),
                 read_whole(options_.public_keys[i]));
  guard_ = options_.guard ? options_.guard : std::make_shared<ChunkGuard>();
  guard_->set_on_suspect([this] {
    {
      std::lock_guard lock(wake_mutex_);
      repair_due_ = true;
    }
    wake_.notify_all();
  });
  reindex();
}

PeerFollower::~PeerFollower() {
  stop();
  guard_->set_on_suspect({});
}

void PeerFollower::reindex() {
  ChunkGuard::Index index;
  for (const auto& r : stored_releases(options_.store)) {
    try {
      const auto vm = verified_manifest(r, keys_);  // named: a range-for does not extend its life
      for (const auto& c : vm.manifest().chunks) index.emplace(to_hex(c.hash.bytes), c);
    } catch (const Error& e) {
      spdlog::warn("peer: {}: {} (its chunks are not served)", r.dir.string(), e.what());
    }
  }
  guard_->set_index(std::move(index));
}

std::vector<std::string> PeerFollower::repair_locked() {
  std::vector<std::string> dropped;
  {
    std::lock_guard lock(wake_mutex_);
    repair_due_ = false;  // before the take: a suspect found after it wakes the worker again
  }
  const auto suspects = guard_->take_suspects();
  if (suspects.empty()) return dropped;
  for (const auto& [hex, c] : suspects) {
    fs::remove(options_.store / layout::chunk_relpath(c.hash));
    dropped.push_back("chunk " + hex);
  }
  for (const auto& r : stored_releases(options_.store)) {
    bool needs = false;
    for (const auto& c : read_manifest(r).chunks) needs = needs || suspects.contains(to_hex(c.hash.bytes));
    if (!needs) continue;
    spdlog::warn("peer: {} needs a chunk found bad while serving: taken out (fetched again)", r.key());
    drop_release(options_.store, r);
    dropped.push_back(r.key());
  }
  changed();
  return dropped;
}

std::vector<std::string> PeerFollower::releases() const {
  std::vector<std::string> out;
  for (const auto& r : stored_releases(options_.store)) out.push_back(r.key());
  return out;
}

void PeerFollower::changed() {
  reindex();
  if (options_.on_change) options_.on_change();
}

PollResult PeerFollower::poll_now() {
  std::lock_guard lock(work_mutex_);
  PollResult result;
  result.dropped = repair_locked();
  const flasher::SeederClient upstream(options_.upstream, options_.retry);
  flasher::SeenState seen = flasher::load_state(options_.state_file);
  for (const auto& [board, channel] : options_.follow) {
    try {
      flasher::Release rel = flasher::fetch_release(upstream, board, channel, options_.public_keys, seen, false);
      const auto& m = rel.manifest.manifest();
      if (install(rel, channel, upstream)) result.installed.push_back(m.board + "/" + m.version);
      if (seen.record(board, channel, m.sequence, m.version)) flasher::save_state(options_.state_file, seen);
    } catch (const std::exception& e) {
      result.errors.push_back("peer: following " + board + "/" + channel + " of " + options_.upstream + ": " +
                              e.what());
      spdlog::warn("{}", result.errors.back());
    }
  }
  if (!result.installed.empty()) {
    for (const auto& k : result.installed) spdlog::info("peer: now serving {}", k);
    changed();  // before eviction: the new release is seeded before an old one goes
    std::vector<std::string> evicted;
    try {
      if (options_.max_store > 0) evicted = evict_locked();
    } catch (const std::exception& e) {
      result.errors.push_back(std::string("peer: eviction: ") + e.what());
    }
    if (!evicted.empty()) changed();
  }
  report_to_upstream();
  return result;
}

void PeerFollower::report_to_upstream() {
  if (options_.peer_id.empty()) return;
  api::PeerReport r;
  r.peer_id = options_.peer_id;
  r.url = options_.own_url ? options_.own_url() : "";
  r.releases = releases();
  r.bytes_served = options_.bytes_served ? options_.bytes_served() : 0;
  try {
    const flasher::SeederClient upstream(options_.upstream);
    swarm::RequestOptions ro;
    ro.timeout = std::chrono::milliseconds(3000);
    const auto resp = swarm::http_post_json(upstream.url(api::peer_path(r.peer_id)), api::peer_report_json(r), ro);
    if (resp.status != 204) spdlog::debug("peer: report to {}: HTTP {}: {}", options_.upstream, resp.status, resp.body);
  } catch (const std::exception& e) {
    spdlog::debug("peer: report to {}: {}", options_.upstream, e.what());
  }
}

bool PeerFollower::install(const flasher::Release& rel, const std::string& channel,
                           const flasher::SeederClient& upstream) {
  const auto& m = rel.manifest.manifest();
  const fs::path dir = layout::release_dir(options_.store, m.board, m.version);
  if (fs::exists(dir / layout::kManifestFile)) {
    if (read_whole(dir / layout::kManifestFile) != rel.manifest.bytes())
      throw error(Errc::kConflict, dir.string() + ": holds another manifest for " + m.board + "/" + m.version);
    const fs::path pointer = layout::channel_file(options_.store, m.board, channel);
    if (!fs::exists(pointer) || read_whole(pointer) != rel.channel_bytes) write_release(rel, channel, upstream);
    return false;
  }
  std::vector<bool> wanted(m.chunks.size());
  std::size_t n = 0;
  for (std::size_t i = 0; i < m.chunks.size(); ++i)
    n += wanted[i] = !fs::exists(options_.store / layout::chunk_relpath(m.chunks[i].hash));
  spdlog::info("peer: {}/{} sequence {}: fetching {} of {} chunks", m.board, m.version, m.sequence, n,
               m.chunks.size());
  if (n > 0) fetch_chunks(rel, wanted);
  write_release(rel, channel, upstream);
  return true;
}

void PeerFollower::fetch_chunks(const flasher::Release& rel, const std::vector<bool>& wanted) {
  const auto& m = rel.manifest.manifest();
  const flasher::SeederClient upstream(options_.upstream, options_.retry);
  flasher::SwarmOptions so;
  so.listen_interfaces = options_.bt_listen;
  so.trackers = {upstream.url(api::kAnnouncePath)};
  so.web_seeds = {upstream.url("/")};  // the upstream's HTTP chunk store: last resort only
  so.cache_dir = options_.store / ".peer-download" / (m.board + "-" + m.version);
  so.web_seed_after = options_.web_seed_after;
  so.stall_timeout = options_.stall_timeout;
  so.disk_backend = options_.disk_backend;
  so.max_held_bytes = options_.max_held_bytes;
  so.bounded_memory = true;
  fs::create_directories(so.cache_dir);
  {
    flasher::SwarmDownload download(rel.torrent, m, wanted, so);
    manifest::ChunkDecoder dec;
    download.run(
        [&](flasher::SwarmDownload::Arrived a) {
          const auto& c = m.chunks[a.chunk];
          if (!a.proven) verify_stored_chunk(*a.stored, c, dec);  // else proven by the HTTP fetch already
          write_atomic(options_.store / layout::chunk_relpath(c.hash), as_text(*a.stored));
        },
        [](const flasher::SwarmStats&) {});
    const auto st = download.stats();
    spdlog::info("peer: {}/{}: {} bytes from the upstream, {} from peers{}", m.board, m.version, st.from_seeder,
                 st.from_peers, st.web_seed_used ? " (web seed used)" : "");
  }
  fs::remove_all(so.cache_dir);
}

namespace {

// Fetched bytes of a file the manifest names by size and hash: written to `file` when they match.
void write_checked(const std::string& bytes, const manifest::FileRef& want, const fs::path& file,
                   const std::string& what) {
  auto data = std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  if (bytes.size() != want.size || blake2b256(data) != want.hash)
    throw error(Errc::kStore, what + ": fetched bytes do not match the signed size and hash");
  write_atomic(file, bytes);
}

}  // namespace

void PeerFollower::fetch_firmware(const flasher::Release& rel, const fs::path& dir,
                                  const flasher::SeederClient& upstream) {
  const auto& m = rel.manifest.manifest();
  for (const auto& fw : m.firmware) {
    const std::string bytes = upstream.firmware(m.board, m.version, fw.name, fw.size);
    write_checked(bytes, {fw.size, fw.hash}, dir / "firmware" / fw.name,
                  "firmware " + fw.name + " of " + m.board + "/" + m.version);
  }
}

// The release files the manifest lists (SBOM, recipe, build log: the audit trail, which no
// flasher needs): fetched, checked against the signed size and hash, written. One the upstream
// does not have is left out with a warning (`verify` on this store then names it); one with
// other bytes is an error, as for firmware.
void PeerFollower::fetch_release_files(const flasher::Release& rel, const fs::path& dir,
                                       const flasher::SeederClient& upstream) {
  const auto& m = rel.manifest.manifest();
  for (const auto& f : manifest::listed_release_files(m)) {
    std::string bytes;
    try {
      bytes = upstream.get(api::release_dir_path(m.board, m.version) + f.name, f.ref->size);
    } catch (const Error& e) {
      spdlog::warn("peer: {}/{}: {} not fetched, the release is kept without it: {}", m.board, m.version, f.name,
                   e.what());
      continue;
    }
    write_checked(bytes, *f.ref, dir / f.name, std::string(f.name) + " of " + m.board + "/" + m.version);
  }
}

void PeerFollower::write_release(const flasher::Release& rel, const std::string& channel,
                                 const flasher::SeederClient& upstream) {
  const auto& m = rel.manifest.manifest();
  const fs::path dir = layout::release_dir(options_.store, m.board, m.version);
  if (!fs::exists(dir)) {
    for (const auto& c : m.chunks)
      if (!fs::exists(options_.store / layout::chunk_relpath(c.hash)))
        throw error(Errc::kStore, m.board + "/" + m.version + ": chunk " + to_hex(c.hash.bytes) + " still missing");
    const fs::path staging = dir.parent_path() / (".tmp-" + m.version + "-peer-" + std::to_string(::getpid()));
    fs::remove_all(staging);
    fs::create_directories(staging);
    write_atomic(staging / layout::kManifestFile, rel.manifest.bytes());
    write_atomic(staging / (std::string(layout::kManifestFile) + layout::kSignatureSuffix), rel.manifest_signature);
    const auto& t = rel.torrent.bytes();
    write_atomic(staging / layout::kTorrentFile, std::string_view(t.data(), t.size()));
    fetch_firmware(rel, staging, upstream);
    fetch_release_files(rel, staging, upstream);
    fs::rename(staging, dir);
  }
  const fs::path pointer = layout::channel_file(options_.store, m.board, channel);
  write_atomic(pointer.string() + layout::kSignatureSuffix, rel.channel_signature);
  write_atomic(pointer, rel.channel_bytes);
}

std::size_t PeerFollower::verify_store() {
  std::lock_guard lock(work_mutex_);
  manifest::ChunkDecoder dec;
  std::map<std::string, bool> checked;  // chunk relpath -> good
  std::size_t bad = 0;
  bool dropped = false;
  for (const auto& r : stored_releases(options_.store)) {
    bool ok = true;
    try {
      const auto vm = verified_manifest(r, keys_);
      for (const auto& c : vm.manifest().chunks) {
        const std::string rel = layout::chunk_relpath(c.hash);
        auto [it, fresh] = checked.try_emplace(rel, false);
        if (fresh) {
          it->second = chunk_file_good(options_.store / rel, c, dec);
          if (!it->second && fs::remove(options_.store / rel)) ++bad;
        }
        ok = ok && it->second;
      }
    } catch (const Error& e) {
      spdlog::warn("peer: {}: {}", r.dir.string(), e.what());
      ok = false;
    }
    if (ok) continue;
    spdlog::warn("peer: {} failed verification: taken out of the store (fetched again from the upstream)", r.key());
    drop_release(options_.store, r);
    dropped = true;
  }
  if (dropped) changed();
  else reindex();
  return bad;
}

std::vector<std::string> PeerFollower::evict() {
  std::lock_guard lock(work_mutex_);
  return evict_locked();
}

std::vector<std::string> PeerFollower::evict_locked() {
  std::vector<std::string> removed;
  if (options_.max_store == 0) return removed;
  while (tree_bytes(options_.store / "releases") + tree_bytes(options_.store / "chunks") > options_.max_store) {
    auto all = stored_releases(options_.store);
    if (all.size() <= options_.keep) break;
    const auto pinned = pinned_releases(options_.store);
    const StoredRelease* oldest = nullptr;
    std::int64_t oldest_created = 0;
    for (const auto& r : all) {
      if (pinned.contains(r.key())) continue;
      const std::int64_t created = read_manifest(r).created;
      if (!oldest || created < oldest_created) oldest = &r, oldest_created = created;
    }
    if (!oldest) break;
    spdlog::info("peer: store over --max-store ({} bytes): evicting {}", options_.max_store, oldest->key());
    drop_release(options_.store, *oldest);
    removed.push_back(oldest->key());
    collect_chunks(options_.store);
  }
  return removed;
}

void PeerFollower::start() {
  if (worker_.joinable()) return;
  worker_ = std::thread([this] { run(); });
}

void PeerFollower::stop() {
  {
    std::lock_guard lock(wake_mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void PeerFollower::run() {
  auto backoff = options_.min_backoff;
  auto last_scrub = std::chrono::steady_clock::now();
  while (true) {
    PollResult r;
    try {
      const auto now = std::chrono::steady_clock::now();
      if (options_.scrub_interval.count() > 0 && now - last_scrub >= options_.scrub_interval) {
        spdlog::info("peer: scrub: {} bad chunks dropped", verify_store());
        last_scrub = now;
      }
      r = poll_now();
    } catch (const std::exception& e) {
      r.errors.push_back(std::string("peer: ") + e.what());
    }
    const auto wait = r.ok() ? options_.poll_interval : backoff;
    backoff = r.ok() ? options_.min_backoff : std::min(backoff * 2, options_.max_backoff);
    if (!r.ok()) spdlog::info("peer: next try in {} ms (still serving what the store holds)", wait.count());
    std::unique_lock lock(wake_mutex_);
    wake_.wait_for(lock, wait, [this] { return stop_ || repair_due_; });  // a suspect chunk: at once
    if (stop_) return;
  }
}

}  // namespace ironstone::seeder
