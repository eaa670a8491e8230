#include "flasher/swarm_download.h"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <libtorrent/add_torrent_params.hpp>
#include <libtorrent/alert_types.hpp>
#include <libtorrent/extensions/smart_ban.hpp>
#include <libtorrent/load_torrent.hpp>
#include <libtorrent/peer_info.hpp>
#include <libtorrent/session.hpp>
#include <libtorrent/session_params.hpp>
#include <libtorrent/torrent_handle.hpp>
#include <libtorrent/torrent_info.hpp>
#include <libtorrent/torrent_status.hpp>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string_view>
#include <thread>

#include "flasher/chunk_fetch.h"
#include "flasher/errc.h"
#include "flasher/seeder_filter.h"
#include "manifest/layout.h"
#include "manifest/torrent.h"
#include "swarm/lan_settings.h"
#include "swarm/proving_disk_io.h"

namespace ironstone::flasher {

using Clock = std::chrono::steady_clock;

struct SwarmDownload::Impl {
  const manifest::Manifest& m;
  SwarmOptions opt;
  std::vector<bool> wanted;
  std::vector<bool> delivered;
  std::set<int> reading;                // pieces with a read_piece outstanding
  std::vector<lt::file_index_t> files;  // file of chunk i
  std::optional<Stripe> stripe;
  std::vector<bool> own;                  // chunk i is in this node's stripe (all of them when alone)
  std::vector<bool> passed;               // chunk i passed libtorrent's piece hash here
  std::vector<bool> peer_holds;           // chunk i is on a connected node other than the seeder (last poll)
  std::unique_ptr<ChunkFetcher> fetcher;  // this node's stripe over HTTP (opt.chunk_store)
  std::vector<FetchedChunk> unadded;      // fetched before libtorrent finished checking the torrent
  bool checked = false;                   // libtorrent has checked the torrent: add_piece() is taken
  std::vector<int> piece_size;            // libtorrent piece size of chunk i (add_piece wants it padded)
  std::vector<std::uint64_t> stored_sizes;  // signed stored size of chunk i
  std::vector<int> applied;                 // the priority last given to chunk i's file
  bool fallback = false;                    // ask anyone for everything left (flasher/stripe.h)
  Clock::time_point last_delivery = Clock::now();
  // Pieces checked on an in-memory copy by the disk I/O, taken instead of read_piece().
  std::shared_ptr<swarm::ProvenPieces> proven = std::make_shared<swarm::ProvenPieces>();
  std::unique_ptr<lt::session> session;
  lt::torrent_handle handle;
  SwarmStats stats;
  std::set<std::string> seeder_endpoints;
  std::map<std::string, std::int64_t> last_download;  // per connection, cumulative
  Clock::time_point last_progress = Clock::now();     // a piece passed or payload arrived
  std::int64_t last_payload = 0;
  std::optional<Clock::time_point> last_hash_failure;
  Clock::time_point last_report = Clock::now();
  Clock::time_point started = Clock::now();
  std::uint64_t last_rate_bytes = 0;
  Clock::time_point last_rate_time = Clock::now();

  Impl(const manifest::Manifest& manifest, SwarmOptions o, std::vector<bool> w)
      : m(manifest),
        opt(std::move(o)),
        wanted(std::move(w)),
        delivered(manifest.chunks.size(), false),
        own(manifest.chunks.size(), true),
        passed(manifest.chunks.size(), false),
        peer_holds(manifest.chunks.size(), false),
        applied(manifest.chunks.size(), -1) {}

  void handle_alert(lt::alert* a, const ChunkSink& sink);
  // Hands chunk p's stored bytes (checked against the signed size) to the sink, once.
  void deliver(int p, std::shared_ptr<const std::vector<std::uint8_t>> stored, const ChunkSink& sink);
  void poll_peers();
  void request_have_pieces();
  bool complete() const { return stats.chunks_received >= stats.chunks_wanted; }
  void maybe_add_web_seed();
  void note_payload();
  lt::download_priority_t priority(std::size_t chunk) const {
    // With the seeder's pieces hidden (HTTP stripes), a chunk no node holds cannot be asked
    // of anyone, so it may be wanted from the start: libtorrent then asks for it the moment
    // a node announces it, not at the next poll of what the peers hold.
    const bool held = peer_holds[chunk] || fetcher != nullptr;
    return stripe ? lt::download_priority_t{stripe_priority(own[chunk], stripe->count, held, fallback)}
                  : lt::default_priority;
  }
  void set_stripe(std::optional<Stripe> s);
  void fetch_from_seeder();
  void add_fetched();
  void apply_priorities();
  void maybe_fall_back();
  void log_stripe() const {
    if (!stripe || stripe->count <= 1) return;
    std::size_t n = 0;
    std::uint64_t bytes = 0;
    for (std::size_t i = 0; i < own.size(); ++i)
      if (own[i] && wanted[i]) ++n, bytes += m.chunks[i].stored_size;
    spdlog::info(
        "swarm: stripe {} of {}: {} chunks ({:.1f} MiB) from the seeder{}, the rest from the other nodes",
        stripe->index + 1, stripe->count, n, static_cast<double>(bytes) / (1024.0 * 1024.0),
        fetcher ? " over HTTP" : "");
  }
  void restripe();
  // The fleet view is asked on a thread of its own (a GET with a 1 s limit every 2 s), so
  // a slow seeder never holds up alert handling or the HTTP stripe hand-off.
  std::mutex view_mu;
  std::condition_variable view_cv;
  std::optional<Stripe> latest_view;
  bool view_stop = false;
  std::thread view_thread;
  void start_view_thread() {
    if (!opt.stripe || view_thread.joinable()) return;
    view_stop = false;
    view_thread = std::thread([this] {
      for (;;) {
        {
          std::unique_lock lock(view_mu);
          if (view_cv.wait_for(lock, std::chrono::seconds(2), [this] { return view_stop; })) return;
        }
        std::optional<Stripe> v = opt.stripe();
        std::lock_guard lock(view_mu);
        if (v) latest_view = v;
      }
    });
  }
  void stop_view_thread() {
    {
      std::lock_guard lock(view_mu);
      view_stop = true;
    }
    view_cv.notify_all();
    if (view_thread.joinable()) view_thread.join();
  }
  void log_progress() const {
    constexpr double kMiB = 1024.0 * 1024.0;
    spdlog::debug(
        "swarm: {} of {} chunks, {:.1f} MiB/s, {:.1f} MiB from the seeder, {:.1f} MiB from peers, "
        "{:.1f} MiB uploaded, {} peers",
        stats.chunks_received, stats.chunks_wanted, stats.download_rate / kMiB,
        static_cast<double>(stats.from_seeder) / kMiB, static_cast<double>(stats.from_peers) / kMiB,
        static_cast<double>(stats.uploaded) / kMiB, stats.peers);
  }
  void pump(const ChunkSink* sink, std::chrono::milliseconds wait);
};

SwarmDownload::SwarmDownload(const manifest::CheckedTorrent& torrent, const manifest::Manifest& m,
                             std::vector<bool> wanted, SwarmOptions options)
    : impl_(std::make_unique<Impl>(m, std::move(options), std::move(wanted))) {
  Impl& s = *impl_;
  s.wanted.resize(m.chunks.size(), false);
  for (bool w : s.wanted) s.stats.chunks_wanted += w;
  s.seeder_endpoints.insert(s.opt.seeder_endpoints.begin(), s.opt.seeder_endpoints.end());

  swarm::LanOptions lan;
  lan.listen_interfaces = s.opt.listen_interfaces;
  lan.user_agent = std::string("ironstone-flasher/") + IRONSTONE_VERSION;
  lan.alert_mask |= lt::alert_category::piece_progress | lt::alert_category::peer;
  lt::add_torrent_params atp = torrent.add_params();
  lt::session_params params(swarm::lan_settings(lan));
  // Pieces proven by their v2 tree skip the SHA-1 of the padded piece and the read-back
  // (swarm/proving_disk_io.h).
  params.disk_io_constructor = swarm::proving_disk_io(atp.ti, s.proven, s.opt.cache_in_memory);
  s.session = std::make_unique<lt::session>(std::move(params));
  s.session->add_extension(&lt::create_smart_ban_plugin);
  swarm::apply_lan_peer_classes(*s.session);

  atp.save_path = s.opt.cache_dir.string();
  atp.flags &= ~(lt::torrent_flags::auto_managed | lt::torrent_flags::paused);
  atp.url_seeds.clear();  // the web seed is the fallback, added when the swarm stalls
  atp.trackers = s.opt.trackers;
  const auto files = manifest::chunk_files(*atp.ti);
  for (std::size_t i = 0; i < m.chunks.size(); ++i) {
    s.piece_size.push_back(atp.ti->piece_size(lt::piece_index_t(static_cast<int>(i))));
    s.stored_sizes.push_back(m.chunks[i].stored_size);
  }
  if (!s.opt.chunk_store.empty()) {
    std::vector<std::string> urls;
    std::string base = s.opt.chunk_store;
    if (base.back() != '/') base += '/';
    for (const auto& c : m.chunks) urls.push_back(base + manifest::layout::chunk_relpath(c.hash));
    s.fetcher = std::make_unique<ChunkFetcher>(std::move(urls), s.stored_sizes, s.opt.http_connections);
    atp.extensions.push_back(&seeder_filter_plugin);
  }
  atp.file_priorities.assign(static_cast<std::size_t>(atp.ti->num_files()), lt::dont_download);
  s.files = files;
  if (s.opt.stripe) s.set_stripe(s.opt.stripe());
  for (std::size_t i = 0; i < files.size() && i < s.wanted.size(); ++i) {
    if (!s.wanted[i]) continue;
    const auto prio = s.priority(i);
    atp.file_priorities[static_cast<std::size_t>(static_cast<int>(files[i]))] = prio;
    s.applied[i] = static_cast<int>(static_cast<std::uint8_t>(prio));
  }
  s.log_stripe();
  for (const auto& p : s.opt.peers) {
    auto colon = p.rfind(':');
    if (colon == std::string::npos) continue;
    lt::error_code ec;
    auto addr = lt::make_address(p.substr(0, colon), ec);
    if (!ec) atp.peers.emplace_back(addr, static_cast<std::uint16_t>(std::stoi(p.substr(colon + 1))));
  }
  lt::error_code ec;
  s.handle = s.session->add_torrent(std::move(atp), ec);
  if (ec) throw error(Errc::kSwarm, "swarm: cannot add the release torrent: " + ec.message());
}

SwarmDownload::~SwarmDownload() {
  if (impl_) impl_->stop_view_thread();
  if (impl_ && impl_->session) {
    impl_->session->remove_torrent(impl_->handle);
    impl_->session.reset();
  }
}

std::string SwarmDownload::listen_endpoint() const {
  auto port = impl_->session->listen_port();
  return "0.0.0.0:" + std::to_string(port);
}

SwarmStats SwarmDownload::stats() const {
  SwarmStats st = impl_->stats;
  st.pieces_proven_by_v2 = impl_->proven->proven;
  st.pieces_not_proven_by_v2 = impl_->proven->not_proven;
  st.pieces_kept_in_memory = impl_->proven->kept;
  return st;
}

void SwarmDownload::Impl::request_have_pieces() {
  // Pieces already verified in the cache (a resumed run) never raise piece_finished.
  lt::torrent_status st = handle.status(lt::torrent_handle::query_pieces);
  for (int p = 0; p < static_cast<int>(wanted.size()); ++p) {
    lt::piece_index_t pi(p);
    if (wanted[p] && !delivered[p] && !reading.count(p) && st.pieces.size() > p && st.pieces.get_bit(pi)) {
      reading.insert(p);
      handle.read_piece(pi);
    }
  }
}

void SwarmDownload::Impl::maybe_add_web_seed() {
  if (stats.web_seed_used || opt.web_seeds.empty()) return;
  // With BitTorrent peers connected and nothing wrong with their data, a quiet spell is
  // a busy swarm starting up (connections, a NAS shared by the rack): wait longer before
  // adding the web seed, which loads the NAS a second time. No peer at all, or peers
  // whose pieces fail their hash: the normal wait.
  const auto now = Clock::now();
  const bool honest_peers =
      stats.peers > 0 && (!last_hash_failure || now - *last_hash_failure > opt.web_seed_after);
  const auto wait =
      honest_peers ? std::max<std::chrono::milliseconds>(4 * opt.web_seed_after, std::chrono::seconds(10))
                   : opt.web_seed_after;
  if (now - last_progress < wait) return;
  for (const auto& url : opt.web_seeds) handle.add_url_seed(url);
  stats.web_seed_used = true;
  fallback = true;  // the web seed serves only what is asked for: ask for everything
  apply_priorities();
  spdlog::info("swarm: no data from {} for {} ms, using the web seed {}",
               honest_peers ? std::to_string(stats.peers) + " connected peers" : std::string("any peer"),
               std::chrono::duration_cast<std::chrono::milliseconds>(now - last_progress).count(),
               opt.web_seeds.front());
}

void SwarmDownload::Impl::poll_peers() {
  std::vector<lt::peer_info> peers;
  handle.get_peer_info(peers);
  int bt_peers = 0;
  std::vector<bool> holds(peer_holds.size(), false);  // what the nodes connected now hold
  for (const auto& p : peers) {
    const bool web =
        (p.connection_type & (lt::peer_info::web_seed | lt::peer_info::http_seed)) != lt::connection_type_t{};
    std::string ep = p.ip.address().to_string() + ":" + std::to_string(p.ip.port());
    std::string key = (web ? "web:" : "bt:") + ep;
    // total_download is per connection: a smaller figure under a known key is a new
    // connection to the same endpoint (a reconnect), whose bytes all count.
    auto it = last_download.try_emplace(key, 0).first;
    const std::int64_t prev = it->second;
    const std::int64_t delta = p.total_download >= prev ? p.total_download - prev : p.total_download;
    it->second = p.total_download;
    // The seeder is its web seed, the BitTorrent endpoint it told us (if any), or a peer
    // whose client name (extension handshake "v" = the seeder's user agent) says so.
    const bool from_seeder = web || seeder_endpoints.count(ep) ||
                             p.client.rfind("ironstone-seeder", 0) == 0 || swarm::is_seeder_peer_id(p.pid);
    if (from_seeder)
      stats.from_seeder += static_cast<std::uint64_t>(delta);
    else
      stats.from_peers += static_cast<std::uint64_t>(delta);
    bt_peers += !web;
    if (!from_seeder)
      for (std::size_t i = 0; i < holds.size() && i < static_cast<std::size_t>(p.pieces.size()); ++i)
        if (p.pieces.get_bit(lt::piece_index_t(static_cast<int>(i)))) holds[i] = true;
  }
  peer_holds.swap(holds);
  stats.peers = bt_peers;
  lt::torrent_status st = handle.status({});
  stats.uploaded = static_cast<std::uint64_t>(st.total_payload_upload);
  auto now = Clock::now();
  double secs = std::chrono::duration<double>(now - last_rate_time).count();
  std::uint64_t total = static_cast<std::uint64_t>(st.total_payload_download);
  if (secs > 0.2) {
    stats.download_rate = static_cast<double>(total - std::min(total, last_rate_bytes)) / secs;
    last_rate_bytes = total;
    last_rate_time = now;
  }
}

void SwarmDownload::Impl::deliver(int p, std::shared_ptr<const std::vector<std::uint8_t>> stored,
                                  const ChunkSink& sink) {
  const auto& c = m.chunks[static_cast<std::size_t>(p)];
  if (stored->size() != c.stored_size)
    throw error(Errc::kSwarm, "swarm: chunk " + std::to_string(p) + " came with " +
                                  std::to_string(stored->size()) + " bytes, expected " +
                                  std::to_string(c.stored_size));
  delivered[p] = true;
  if (fetcher) fetcher->cancel(static_cast<std::size_t>(p));
  ++stats.chunks_received;
  last_progress = last_delivery = Clock::now();
  sink(static_cast<std::size_t>(p), std::move(stored));
}

void SwarmDownload::Impl::handle_alert(lt::alert* a, const ChunkSink& sink) {
  if (auto* pf = lt::alert_cast<lt::piece_finished_alert>(a)) {
    int p = static_cast<int>(pf->piece_index);
    last_progress = Clock::now();
    if (p >= 0 && p < static_cast<int>(passed.size())) passed[static_cast<std::size_t>(p)] = true;
    // The bytes the disk I/O proved, when it kept them; else read back through libtorrent.
    swarm::ProvenPieces::Bytes kept = proven->take(pf->piece_index);
    if (p < 0 || p >= static_cast<int>(wanted.size()) || !wanted[p] || delivered[p]) return;
    if (kept) {
      deliver(p, std::move(kept), sink);
    } else if (!reading.count(p)) {
      reading.insert(p);
      handle.read_piece(pf->piece_index);
    }
  } else if (auto* rp = lt::alert_cast<lt::read_piece_alert>(a)) {
    int p = static_cast<int>(rp->piece);
    reading.erase(p);
    if (rp->error) {
      spdlog::warn("swarm: reading back chunk {} failed: {}; retrying", p, rp->error.message());
      return;  // request_have_pieces() asks again
    }
    if (p >= static_cast<int>(wanted.size()) || delivered[p]) return;  // a piece may pass twice (v2, <2.0.12)
    const auto& c = m.chunks[static_cast<std::size_t>(p)];
    if (rp->size < static_cast<int>(c.stored_size))
      throw error(Errc::kSwarm, "swarm: chunk " + std::to_string(p) + " read back " +
                                    std::to_string(rp->size) + " bytes, expected " +
                                    std::to_string(c.stored_size));
    // The buffer is the whole piece, zero-padded: the chunk is its first stored_size bytes.
    deliver(
        p,
        std::make_shared<const std::vector<std::uint8_t>>(rp->buffer.get(), rp->buffer.get() + c.stored_size),
        sink);
  } else if (auto* hf = lt::alert_cast<lt::hash_failed_alert>(a)) {
    ++stats.hash_failures;
    last_hash_failure = Clock::now();
    if (fetcher) fetcher->retry(static_cast<std::size_t>(static_cast<int>(hf->piece_index)));
    spdlog::warn("swarm: chunk {} failed the piece hash: discarded, asking other peers",
                 static_cast<int>(hf->piece_index));
  } else if (auto* ban = lt::alert_cast<lt::peer_ban_alert>(a)) {
    ++stats.banned_peers;
    spdlog::warn("swarm: banned peer {} for sending corrupt data",
                 ban->endpoint.address().to_string() + ":" + std::to_string(ban->endpoint.port()));
  } else if (auto* te = lt::alert_cast<lt::torrent_error_alert>(a)) {
    throw error(Errc::kSwarm, "swarm: torrent error: " + te->error.message() + " (" + te->filename() + ")");
  } else if (auto* fe = lt::alert_cast<lt::file_error_alert>(a)) {
    throw error(Errc::kSwarm,
                "swarm: cache file " + std::string(fe->filename()) + ": " + fe->error.message());
  }
}

void SwarmDownload::Impl::note_payload() {
  // Progress is payload arriving, not only pieces passing: at a busy NAS a 4 MiB piece
  // can take seconds, and that is no reason to add the web seed's load on top. Payload
  // counts only while no piece failed its hash lately: a lying peer's bytes are no progress.
  const auto total = handle.status({}).total_payload_download;
  const auto now = Clock::now();
  if (total > last_payload && (!last_hash_failure || now - *last_hash_failure > opt.web_seed_after))
    last_progress = now;
  last_payload = std::max(last_payload, total);
}

void SwarmDownload::Impl::apply_priorities() {
  for (std::size_t i = 0; i < files.size() && i < wanted.size(); ++i) {
    if (!wanted[i] || delivered[i]) continue;
    auto prio = priority(i);
    // Never back to 0 once asked for: libtorrent 2.0.8 moves a dont_download file's
    // pieces to its part file, and a piece begun in the file then failed to read back
    // ("cache file …: End of file", seen when a restripe moved a chunk out of the stripe).
    if (prio == lt::dont_download && applied[i] > 0) prio = lt::low_priority;
    const int value = static_cast<int>(static_cast<std::uint8_t>(prio));
    if (applied[i] == value) continue;
    handle.file_priority(files[i], prio);
    applied[i] = value;
  }
}

void SwarmDownload::Impl::maybe_fall_back() {
  // Strict stripes wait for other nodes to hold the other stripes. Once this node's own
  // stripe is in and nothing arrived for 2 s (a node left or never connected, a stale
  // view), anyone may serve the rest.
  if (fallback || !stripe || stripe->count <= 1) return;
  for (std::size_t i = 0; i < wanted.size(); ++i)
    if (own[i] && wanted[i] && !delivered[i]) return;
  const auto quiet = Clock::now() - last_delivery;
  if (quiet < std::chrono::seconds(2)) return;
  fallback = true;
  spdlog::info("swarm: own stripe done and no chunk for {} ms: asking anyone for the {} chunks left",
               std::chrono::duration_cast<std::chrono::milliseconds>(quiet).count(),
               stats.chunks_wanted - stats.chunks_received);
  apply_priorities();
}

void SwarmDownload::Impl::set_stripe(std::optional<Stripe> s) {
  if (!s || s == stripe) return;
  stripe = s;
  const auto table = stripe_table(stored_sizes, stripe->count);
  for (std::size_t i = 0; i < own.size(); ++i) {
    own[i] = stripe->count <= 1 || table[i] == stripe->index;
    if (!own[i] && fetcher) fetcher->cancel(i);
  }
  // With other nodes, one request at a time: the node's port is shared by one TCP
  // stream from the seeder and one from each other node, so its own stripe (1/count of
  // the bytes) takes about its share. Several parallel requests took most of the port,
  // and the other stripes, which the others can only pass on as fast as they get them,
  // fell behind (measured, 2 nodes: 3 requests, 4 MiB/s from the other node against 5.7).
  if (fetcher) {
    fetcher->set_parallel(stripe->count <= 1 ? opt.http_connections : 1);
    const auto nodes = static_cast<double>(std::max<std::size_t>(stripe->count, 1));
    fetcher->set_rate(opt.seeder_upload_limit > 0 ? static_cast<double>(opt.seeder_upload_limit) / nodes : 0);
  }
}

void SwarmDownload::Impl::fetch_from_seeder() {
  // flasher/stripe.h chunk_source(): asked again every poll, so a chunk whose holder
  // went is fetched here after all.
  if (!fetcher) return;
  for (std::size_t i = 0; i < wanted.size(); ++i) {
    if (!wanted[i] || delivered[i] || passed[i]) continue;
    switch (chunk_source(own[i], peer_holds[i], fallback)) {
      case ChunkSource::kSeederHttp:
        fetcher->want(i);
        break;
      case ChunkSource::kPeers:
        fetcher->cancel(i);
        break;
      case ChunkSource::kWait:
        break;
    }
  }
}

void SwarmDownload::Impl::add_fetched() {
  if (!fetcher) return;
  for (auto& f : fetcher->take()) {
    stats.from_seeder += f.stored.size();
    last_progress = Clock::now();
    unadded.push_back(std::move(f));
  }
  // libtorrent drops add_piece() while it checks the torrent's files: hold them till then.
  if (!checked && !unadded.empty()) {
    const auto state = handle.status({}).state;
    checked =
        state != lt::torrent_status::checking_files && state != lt::torrent_status::checking_resume_data;
  }
  if (!checked) return;
  for (auto& f : unadded) {
    if (f.chunk >= wanted.size() || delivered[f.chunk] || passed[f.chunk]) continue;
    // libtorrent checks the piece hash (v1 and v2) of what is added, as of what a peer sends.
    f.stored.resize(static_cast<std::size_t>(piece_size[f.chunk]), '\0');
    handle.add_piece(lt::piece_index_t(static_cast<int>(f.chunk)), f.stored.data());
  }
  unadded.clear();
}

void SwarmDownload::Impl::restripe() {
  std::optional<Stripe> now;
  {
    std::lock_guard lock(view_mu);
    now = latest_view;
  }
  if (!now || now == stripe) return;
  set_stripe(now);
  apply_priorities();
  fetch_from_seeder();
  log_stripe();
}

void SwarmDownload::Impl::pump(const ChunkSink* sink, std::chrono::milliseconds wait) {
  session->wait_for_alert(wait);
  std::vector<lt::alert*> alerts;
  session->pop_alerts(&alerts);
  static const ChunkSink ignore = [](std::size_t, std::shared_ptr<const std::vector<std::uint8_t>>) {};
  for (lt::alert* a : alerts) handle_alert(a, sink ? *sink : ignore);
}

void SwarmDownload::run(const ChunkSink& sink, const ProgressSink& progress) {
  Impl& s = *impl_;
  s.last_progress = Clock::now();
  auto last_have_check = Clock::now();
  s.start_view_thread();
  auto next_restripe = Clock::now() + std::chrono::milliseconds(500);
  auto last_debug = Clock::now();
  auto last_holders = Clock::now();
  s.fetch_from_seeder();
  // Chunks fetched over HTTP wait for this loop to hand them to libtorrent: turn it faster.
  const auto wait = s.fetcher ? std::chrono::milliseconds(20) : std::chrono::milliseconds(100);
  while (!s.complete()) {
    s.pump(&sink, wait);
    s.add_fetched();
    s.note_payload();
    auto now = Clock::now();
    if (now - last_have_check > std::chrono::seconds(1)) {
      s.request_have_pieces();
      last_have_check = now;
    }
    s.maybe_add_web_seed();
    if (now >= next_restripe) {
      s.restripe();
      next_restripe = Clock::now() + std::chrono::milliseconds(500);
    }
    if (now - last_holders >= std::chrono::milliseconds(250)) {
      s.poll_peers();
      s.apply_priorities();
      s.maybe_fall_back();
      s.fetch_from_seeder();
      last_holders = now;
    }
    if (now - s.last_report >= s.opt.progress_interval) {  // stats as of the last poll, <= 250 ms old
      if (progress) progress(s.stats);
      s.last_report = now;
      if (now - last_debug >= std::chrono::seconds(1)) {
        s.log_progress();
        last_debug = now;
      }
    }
    if (now - s.last_progress > s.opt.stall_timeout)
      throw error(
          Errc::kSwarm,
          "swarm: no chunk arrived for " +
              std::to_string(std::chrono::duration_cast<std::chrono::seconds>(s.opt.stall_timeout).count()) +
              " s (" + std::to_string(s.stats.chunks_received) + " of " +
              std::to_string(s.stats.chunks_wanted) + " received, " + std::to_string(s.stats.peers) +
              " peers" + (s.stats.web_seed_used ? ", web seed tried" : ", no web seed") + ")");
  }
  s.stop_view_thread();  // lingering needs no stripe
  s.poll_peers();
  if (progress) progress(s.stats);
}

void SwarmDownload::linger(std::chrono::seconds max, const std::function<bool()>& still_needed,
                           const ProgressSink& progress) {
  Impl& s = *impl_;
  const auto deadline = Clock::now() + max;
  auto next_ask = Clock::now() + std::chrono::seconds(2);
  while (Clock::now() < deadline) {
    s.pump(nullptr, std::chrono::milliseconds(200));
    if (Clock::now() >= next_ask) {
      s.poll_peers();
      if (progress) progress(s.stats);
      if (still_needed && !still_needed()) return;
      next_ask = Clock::now() + std::chrono::seconds(2);
    }
  }
}

}  // namespace ironstone::flasher
