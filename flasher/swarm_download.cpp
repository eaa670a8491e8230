#include "flasher/swarm_download.h"

#include <spdlog/spdlog.h>

#include <libtorrent/add_torrent_params.hpp>
#include <libtorrent/alert_types.hpp>
#include <libtorrent/extensions/smart_ban.hpp>
#include <libtorrent/load_torrent.hpp>
#include <libtorrent/session.hpp>
#include <libtorrent/session_params.hpp>
#include <libtorrent/torrent_handle.hpp>
#include <libtorrent/torrent_info.hpp>
#include <libtorrent/torrent_status.hpp>
#include <algorithm>
#include <exception>
#include <optional>
#include <string_view>

#include "flasher/errc.h"
#include "flasher/http_handoff.h"
#include "flasher/peer_accounting.h"
#include "flasher/seeder_filter.h"
#include "flasher/stripe_policy.h"
#include "flasher/swarm_chunks.h"
#include "manifest/layout.h"
#include "manifest/torrent.h"
#include "swarm/lan_settings.h"
#include "swarm/proving_disk_io.h"

namespace ironstone::flasher {

using Clock = std::chrono::steady_clock;

// One download: its chunks (swarm_chunks.h), the stripe policy and the fleet view
// (stripe_policy.h), peer accounting (peer_accounting.h), the HTTP hand-off
// (http_handoff.h), the libtorrent session, and the run loop's clocks. All of it is
// used by the thread that drives run()/linger(), apart from the poller's thread.
struct SwarmDownload::Impl {
  const manifest::Manifest& m;
  SwarmOptions opt;
  ChunkTable chunks;
  StripePolicy stripes;
  PeerAccounting peers;
  // Chunks over HTTP: this node's stripe (opt.chunk_store), and the fallback (opt.web_seeds).
  // null: neither.
  std::unique_ptr<HttpHandoff> http;
  // Hides the seeder's BitTorrent pieces while the stripe comes over HTTP; null: not hidden.
  std::shared_ptr<SeederFilterSwitch> seeder_hidden;
  // Pieces checked on an in-memory copy by the disk I/O, taken instead of read_piece().
  std::shared_ptr<swarm::ProvenPieces> proven = std::make_shared<swarm::ProvenPieces>(opt.max_held_bytes);
  static constexpr int kMaxReadsInFlight = 4;
  int reads_in_flight = 0;  // read_piece() calls not answered yet (at most kMaxReadsInFlight)
  // Asks libtorrent for the passed chunks not yet delivered, up to kMaxReadsInFlight at a time:
  // each answer carries a whole piece buffer, so a consumer slower than the network must not
  // have every passed piece read at once.
  void read_passed();
  void read(ChunkState& c, lt::piece_index_t pi) {
    c.reading = true;
    ++reads_in_flight;
    handle.read_piece(pi);
  }
  std::unique_ptr<lt::session> session;
  lt::torrent_handle handle;
  SwarmStats stats;
  FleetViewPoller view;
  Clock::time_point last_delivery = Clock::now();
  Clock::time_point last_progress = Clock::now();  // a piece passed or payload arrived
  std::int64_t last_payload = 0;
  std::optional<Clock::time_point> last_hash_failure;
  Clock::time_point last_report = Clock::now();

  Impl(const manifest::Manifest& manifest, SwarmOptions o, const std::vector<bool>& wanted)
      : m(manifest), opt(std::move(o)), chunks(manifest.chunks.size()), peers(opt.seeder_endpoints) {
    for (std::size_t i = 0; i < chunks.size(); ++i) {
      chunks[i].wanted = i < wanted.size() && wanted[i];
      chunks[i].stored_size = manifest.chunks[i].stored_size;
    }
    stats.chunks_wanted = chunks.wanted_count();
  }

  void handle_alert(lt::alert* a, const ChunkSink& sink);
  void piece_finished(const lt::piece_finished_alert& pf, const ChunkSink& sink);
  void piece_read(const lt::read_piece_alert& rp, const ChunkSink& sink);
  // Hands chunk p's stored bytes (checked against the signed size) to the sink, once.
  void deliver(int p, std::shared_ptr<const std::vector<std::uint8_t>> stored, const ChunkSink& sink,
               std::optional<manifest::ProvenStored> proven = std::nullopt);
  void poll_peers() { peers.poll(handle, chunks, stats); }
  void request_have_pieces();
  bool complete() const { return stats.chunks_received >= stats.chunks_wanted; }
  bool http_stripes() const { return seeder_hidden != nullptr; }
  void maybe_use_http();
  void show_seeder(const char* why);
  void reconnect_seeder(Clock::time_point now);
  Clock::time_point last_seeder_connect{};
  void note_payload();
  void on_block(const lt::block_finished_alert& bf);
  lt::download_priority_t priority(const ChunkState& c) const {
    return stripes.priority(c, http_stripes() && seeder_hidden->hiding());
  }
  void set_stripe(const std::optional<Stripe>& s) {
    if (stripes.set(s, chunks) && http) http->on_stripe(*stripes.stripe(), chunks);
  }
  void fetch_from_seeder() {
    if (http) http->request(chunks, stripes.fallback());
  }
  void add_fetched(const ChunkSink& sink);
  void apply_priorities();
  void maybe_fall_back();
  void restripe();
  void log_progress() const;
  void pump(const ChunkSink* sink, std::chrono::milliseconds wait);
  void check_stall(Clock::time_point now) const;
};

void SwarmDownload::Impl::log_progress() const {
  constexpr double kMiB = 1024.0 * 1024.0;
  spdlog::debug(
      "swarm: {} of {} chunks, {:.1f} MiB/s, {:.1f} MiB from the seeder, {:.1f} MiB from peers, "
      "{:.1f} MiB uploaded, {} peers",
      stats.chunks_received, stats.chunks_wanted, stats.download_rate / kMiB,
      static_cast<double>(stats.from_seeder) / kMiB, static_cast<double>(stats.from_peers) / kMiB,
      static_cast<double>(stats.uploaded) / kMiB, stats.peers);
}

namespace {

// How often the download loop does its bookkeeping (payload progress, the HTTP stores,
// the stripes, the peers) at most; it hands chunks on at every turn.
constexpr std::chrono::milliseconds kHousekeeping(50);

lt::session_params session_params(const SwarmOptions& opt, const lt::add_torrent_params& atp,
                                  std::shared_ptr<swarm::ProvenPieces> proven) {
  swarm::LanOptions lan;
  lan.listen_interfaces = opt.listen_interfaces;
  lan.user_agent = std::string("ironstone-flasher/") + IRONSTONE_VERSION;
  lan.bounded_memory = opt.bounded_memory;
  lan.alert_mask |= lt::alert_category::piece_progress | lt::alert_category::peer |
                    lt::alert_category::block_progress;  // block_finished: the bytes of peers banned later
  lt::session_params params(swarm::lan_settings(lan));
  // Pieces proven by their v2 tree skip the SHA-1 of the padded piece and the read-back
  // (swarm/proving_disk_io.h).
  params.disk_io_constructor =
      swarm::proving_disk_io(atp.ti, std::move(proven), opt.cache_in_memory, opt.disk_backend);
  return params;
}

// "ip:port" as an endpoint; nullopt when it is not one.
std::optional<lt::tcp::endpoint> parse_endpoint(const std::string& p) {
  const auto colon = p.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  lt::error_code ec;
  const auto addr = lt::make_address(p.substr(0, colon), ec);
  if (ec) return std::nullopt;
  try {
    const int port = std::stoi(p.substr(colon + 1));
    if (port < 0 || port > 65535) return std::nullopt;
    return lt::tcp::endpoint(addr, static_cast<std::uint16_t>(port));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

void add_direct_peers(lt::add_torrent_params& atp, const std::vector<std::string>& peers) {
  for (const auto& p : peers)
    if (auto ep = parse_endpoint(p)) atp.peers.push_back(*ep);
}

}  // namespace

SwarmDownload::SwarmDownload(const manifest::CheckedTorrent& torrent, const manifest::Manifest& m,
                             std::vector<bool> wanted, SwarmOptions options)
    : impl_(std::make_unique<Impl>(m, std::move(options), wanted)) {
  Impl& s = *impl_;
  lt::add_torrent_params atp = torrent.add_params();
  s.session = std::make_unique<lt::session>(session_params(s.opt, atp, s.proven));
  s.session->add_extension(&lt::create_smart_ban_plugin);
  swarm::apply_lan_peer_classes(*s.session);

  atp.save_path = s.opt.cache_dir.string();
  atp.flags &= ~(lt::torrent_flags::auto_managed | lt::torrent_flags::paused);
  atp.url_seeds.clear();  // the web seed is the fallback, added when the swarm stalls
  atp.trackers = s.opt.trackers;
  const auto files = manifest::chunk_files(*atp.ti);
  for (std::size_t i = 0; i < s.chunks.size(); ++i) {
    s.chunks[i].piece_size = atp.ti->piece_size(lt::piece_index_t(static_cast<int>(i)));
    if (i < files.size()) {
      s.chunks[i].has_file = true;
      s.chunks[i].file = files[i];
      s.chunks[i].root = atp.ti->files().root(files[i]);
    }
  }
  std::vector<std::string> stores = s.opt.web_seeds;
  if (!s.opt.chunk_store.empty()) {
    stores.erase(std::remove(stores.begin(), stores.end(), s.opt.chunk_store), stores.end());
    stores.insert(stores.begin(), s.opt.chunk_store);  // the stripe's store first
    s.seeder_hidden = std::make_shared<SeederFilterSwitch>();
    atp.extensions.push_back(seeder_filter_plugin(s.seeder_hidden));
  }
  if (!stores.empty())
    s.http = std::make_unique<HttpHandoff>(stores, m, s.chunks, s.http_stripes(), s.opt.http_connections,
                                           s.opt.seeder_upload_limit);
  atp.file_priorities.assign(static_cast<std::size_t>(atp.ti->num_files()), lt::dont_download);
  if (s.opt.stripe) s.set_stripe(s.opt.stripe());
  for (auto& c : s.chunks) {
    if (!c.has_file || !c.wanted) continue;
    const auto prio = s.priority(c);
    atp.file_priorities[static_cast<std::size_t>(static_cast<int>(c.file))] = prio;
    c.applied = static_cast<int>(static_cast<std::uint8_t>(prio));
  }
  s.stripes.log(s.chunks, s.http_stripes());
  add_direct_peers(atp, s.opt.peers);
  lt::error_code ec;
  s.handle = s.session->add_torrent(std::move(atp), ec);
  if (ec) throw error(Errc::kSwarm, "swarm: cannot add the release torrent: " + ec.message());
}

SwarmDownload::~SwarmDownload() {
  if (impl_) impl_->view.stop();
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
  st.pieces_vouched = impl_->proven->vouched;
  st.piece_hash_cpu_s = impl_->proven->piece_hash.seconds();
  if (impl_->http) {
    const auto& proof = impl_->http->proof_cpu();
    st.http_piece_hash_cpu_s = proof.piece_hash.seconds();
    st.http_blake2b_cpu_s = proof.decode.blake2b.seconds();
    st.http_zstd_cpu_s = proof.decode.zstd.seconds();
  }
  st.copied_in = impl_->proven->copied_in;
  st.copied_out = impl_->proven->copied_out;
  return st;
}

void SwarmDownload::Impl::request_have_pieces() {
  // Pieces already verified in the cache (a resumed run) never raise piece_finished.
  lt::torrent_status st = handle.status(lt::torrent_handle::query_pieces);
  for (int p = 0; p < static_cast<int>(chunks.size()); ++p) {
    lt::piece_index_t pi(p);
    ChunkState& c = chunks[static_cast<std::size_t>(p)];
    if (c.missing() && st.pieces.size() > p && st.pieces.get_bit(pi)) c.passed = true;
  }
  read_passed();
}

void SwarmDownload::Impl::read_passed() {
  for (std::size_t p = 0; p < chunks.size() && reads_in_flight < kMaxReadsInFlight; ++p) {
    ChunkState& c = chunks[p];
    if (c.passed && c.missing() && !c.reading) read(c, lt::piece_index_t(static_cast<int>(p)));
  }
}

void SwarmDownload::Impl::maybe_use_http() {
  if (!http) return;
  // With BitTorrent peers connected and nothing wrong with their data, a quiet spell is
  // a busy swarm starting up (connections, a NAS shared by the rack): wait longer before
  // asking the seeders' HTTP stores for everything, which loads the NAS a second time. No
  // peer at all, or peers whose pieces fail their hash: the normal wait. (A hidden seeder
  // counts as a peer: an HTTP stripe at a NAS shared by the rack is slow to start too.)
  const auto now = Clock::now();
  const bool hidden = http_stripes() && seeder_hidden->hiding();
  const bool honest_peers = stats.peers > 0 && (!last_hash_failure || now - *last_hash_failure > opt.web_seed_after);
  const auto wait =
      honest_peers ? std::max<std::chrono::milliseconds>(4 * opt.web_seed_after, std::chrono::seconds(10))
                   : opt.web_seed_after;
  const bool quiet = now - last_progress >= wait;
  // With HTTP stripes: the store gave up a chunk (errors, wrong bytes) or stalled.
  if (hidden && (quiet || http->any_given_up(chunks)))
    show_seeder(quiet ? "nothing arrived over HTTP" : "its HTTP chunk store failed a chunk at every attempt");
  if (stats.web_seed_used || !quiet) return;
  http->take_everything();
  stats.web_seed_used = true;
  stripes.fall_back();  // anyone may serve everything left
  apply_priorities();
  fetch_from_seeder();
  spdlog::info("swarm: no data from {} for {} ms, fetching the {} missing chunks over HTTP from {}",
               honest_peers ? std::to_string(stats.peers) + " connected peers" : std::string("any peer"),
               std::chrono::duration_cast<std::chrono::milliseconds>(now - last_progress).count(),
               stats.chunks_wanted - stats.chunks_received, opt.web_seeds.empty() ? opt.chunk_store : opt.web_seeds.front());
}

void SwarmDownload::Impl::show_seeder(const char* why) {
  seeder_hidden->show();
  stats.seeder_bittorrent_used = true;
  stripes.fall_back();
  apply_priorities();
  spdlog::warn("swarm: the seeder's BitTorrent pieces shown again: {}", why);
}

void SwarmDownload::Impl::reconnect_seeder(Clock::time_point now) {
  // Once shown, the seeder must tell its pieces again: seeder_filter.h closes a connection
  // whose messages it dropped; connect again until a seeder connection shows pieces.
  if (!seeder_hidden || seeder_hidden->hiding() || peers.seeder_visible()) return;
  if (now - last_seeder_connect < std::chrono::seconds(1)) return;
  last_seeder_connect = now;
  for (const auto& text : opt.seeder_endpoints)
    if (auto ep = parse_endpoint(text)) handle.connect_peer(*ep);
}

void SwarmDownload::Impl::deliver(int p, std::shared_ptr<const std::vector<std::uint8_t>> stored,
                                  const ChunkSink& sink, std::optional<manifest::ProvenStored> proven) {
  const auto& c = m.chunks[static_cast<std::size_t>(p)];
  if (stored->size() != c.stored_size)
    throw error(Errc::kSwarm, "swarm: chunk " + std::to_string(p) + " came with " +
                                  std::to_string(stored->size()) + " bytes, expected " +
                                  std::to_string(c.stored_size));
  chunks[static_cast<std::size_t>(p)].delivered = true;
  if (http) http->cancel(static_cast<std::size_t>(p));
  ++stats.chunks_received;
  last_progress = last_delivery = Clock::now();
  sink({static_cast<std::size_t>(p), std::move(stored), std::move(proven)});
}

void SwarmDownload::Impl::piece_finished(const lt::piece_finished_alert& pf, const ChunkSink& sink) {
  const int p = static_cast<int>(pf.piece_index);
  last_progress = Clock::now();
  ChunkState* c = chunks.piece(p);
  if (c) c->passed = true;
  // The bytes the disk I/O proved, when it kept them; else read back through libtorrent.
  swarm::ProvenPieces::Bytes kept = proven->take(pf.piece_index);
  if (!c || !c->missing()) return;
  if (kept) {
    deliver(p, std::move(kept), sink);
  } else if (!c->reading && reads_in_flight < kMaxReadsInFlight) {
    read(*c, pf.piece_index);
  }
}

void SwarmDownload::Impl::piece_read(const lt::read_piece_alert& rp, const ChunkSink& sink) {
  const int p = static_cast<int>(rp.piece);
  ChunkState* c = chunks.piece(p);
  if (c && c->reading) {
    c->reading = false;
    --reads_in_flight;
  }
  if (rp.error) {
    spdlog::warn("swarm: reading back chunk {} failed: {}; retrying", p, rp.error.message());
    return;  // request_have_pieces() asks again
  }
  if (!c || c->delivered) return read_passed();  // a piece may pass twice (v2, <2.0.12)
  const auto& mc = m.chunks[static_cast<std::size_t>(p)];
  if (rp.size < static_cast<int>(mc.stored_size))
    throw error(Errc::kSwarm, "swarm: chunk " + std::to_string(p) + " read back " + std::to_string(rp.size) +
                                  " bytes, expected " + std::to_string(mc.stored_size));
  // The buffer is the whole piece, zero-padded: the chunk is its first stored_size bytes.
  deliver(p,
          std::make_shared<const std::vector<std::uint8_t>>(rp.buffer.get(), rp.buffer.get() + mc.stored_size),
          sink);
  read_passed();  // the next ones, up to the bound
}

void SwarmDownload::Impl::handle_alert(lt::alert* a, const ChunkSink& sink) {
  if (auto* pf = lt::alert_cast<lt::piece_finished_alert>(a)) {
    piece_finished(*pf, sink);
  } else if (auto* rp = lt::alert_cast<lt::read_piece_alert>(a)) {
    piece_read(*rp, sink);
  } else if (auto* hf = lt::alert_cast<lt::hash_failed_alert>(a)) {
    ++stats.hash_failures;
    last_hash_failure = Clock::now();
    spdlog::warn("swarm: chunk {} failed the piece hash: discarded, asking other peers",
                 static_cast<int>(hf->piece_index));
  } else if (auto* bf = lt::alert_cast<lt::block_finished_alert>(a)) {
    on_block(*bf);
  } else if (auto* ban = lt::alert_cast<lt::peer_ban_alert>(a)) {
    peers.on_ban(ban->endpoint, "sent data that failed the piece hash", stats);
    spdlog::warn("swarm: banned peer {}:{} for sending corrupt data ({} bytes from banned peers so far)",
                 ban->endpoint.address().to_string(), ban->endpoint.port(), stats.from_banned_peers);
  } else if (auto* te = lt::alert_cast<lt::torrent_error_alert>(a)) {
    throw error(Errc::kSwarm, "swarm: torrent error: " + te->error.message() + " (" + te->filename() + ")");
  } else if (auto* fe = lt::alert_cast<lt::file_error_alert>(a)) {
    throw error(Errc::kSwarm,
                "swarm: cache file " + std::string(fe->filename()) + ": " + fe->error.message());
  }
}

void SwarmDownload::Impl::on_block(const lt::block_finished_alert& bf) {
  const ChunkState* c = chunks.piece(static_cast<int>(bf.piece_index));
  if (!c) return;
  const std::int64_t start = std::int64_t{bf.block_index} * lt::default_block_size;
  const std::int64_t size = std::min<std::int64_t>(lt::default_block_size, c->piece_size - start);
  if (size > 0) peers.on_block(bf.endpoint, static_cast<std::uint64_t>(size));
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
  for (auto& c : chunks) {
    if (!c.has_file || !c.missing()) continue;
    auto prio = priority(c);
    // Never back to 0 once asked for: libtorrent 2.0.8 moves a dont_download file's
    // pieces to its part file, and a piece begun in the file then failed to read back
    // ("cache file …: End of file", seen when a restripe moved a chunk out of the stripe).
    if (prio == lt::dont_download && c.applied > 0) prio = lt::low_priority;
    const int value = static_cast<int>(static_cast<std::uint8_t>(prio));
    if (c.applied == value) continue;
    handle.file_priority(c.file, prio);
    c.applied = value;
  }
}

void SwarmDownload::Impl::maybe_fall_back() {
  const auto quiet = Clock::now() - last_delivery;
  if (!stripes.fall_back_if_quiet(chunks, quiet)) return;
  spdlog::info("swarm: own stripe done and no chunk for {} ms: asking anyone for the {} chunks left",
               std::chrono::duration_cast<std::chrono::milliseconds>(quiet).count(),
               stats.chunks_wanted - stats.chunks_received);
  apply_priorities();
}

void SwarmDownload::Impl::add_fetched(const ChunkSink& sink) {
  if (!http) return;
  for (auto& f : http->hand_over(handle, chunks, proven.get())) {
    stats.from_seeder += f.bytes().size();
    last_progress = Clock::now();
    if (f.chunk >= chunks.size() || !chunks[f.chunk].missing()) continue;
    // Proven against the signed manifest by the fetcher: delivered as it is, whole, from
    // one source (whatever libtorrent then makes of it with blocks from peers).
    if (f.proven) {
      auto bytes = f.proven->bytes();
      deliver(static_cast<int>(f.chunk), std::move(bytes), sink, std::move(f.proven));
    } else {
      deliver(static_cast<int>(f.chunk),
              std::make_shared<const std::vector<std::uint8_t>>(f.stored.begin(), f.stored.end()), sink);
    }
  }
}

void SwarmDownload::Impl::restripe() {
  std::optional<Stripe> now = view.latest();
  if (!now || now == stripes.stripe()) return;
  set_stripe(now);
  apply_priorities();
  fetch_from_seeder();
  stripes.log(chunks, http_stripes());
}

void SwarmDownload::Impl::pump(const ChunkSink* sink, std::chrono::milliseconds wait) {
  session->wait_for_alert(wait);
  std::vector<lt::alert*> alerts;
  session->pop_alerts(&alerts);
  static const ChunkSink ignore = [](Arrived) {};
  for (lt::alert* a : alerts) handle_alert(a, sink ? *sink : ignore);
}

void SwarmDownload::Impl::check_stall(Clock::time_point now) const {
  if (now - last_progress <= opt.stall_timeout) return;
  throw error(Errc::kSwarm,
              "swarm: no chunk arrived for " +
                  std::to_string(std::chrono::duration_cast<std::chrono::seconds>(opt.stall_timeout).count()) +
                  " s (" + std::to_string(stats.chunks_received) + " of " + std::to_string(stats.chunks_wanted) +
                  " received, " + std::to_string(stats.peers) + " peers" +
                  (stats.web_seed_used ? ", HTTP stores tried" : ", HTTP stores not tried") + ")");
}

void SwarmDownload::run(const ChunkSink& sink, const ProgressSink& progress) {
  Impl& s = *impl_;
  s.last_progress = Clock::now();
  auto last_have_check = Clock::now();
  s.view.start(s.opt.stripe);
  auto next_restripe = Clock::now() + std::chrono::milliseconds(500);
  auto last_debug = Clock::now();
  auto last_holders = Clock::now();
  s.fetch_from_seeder();
  // Chunks fetched over HTTP wait for this loop to hand them to libtorrent: turn it faster.
  const auto wait = s.http ? std::chrono::milliseconds(20) : std::chrono::milliseconds(100);
  auto last_housekeeping = Clock::now();
  while (!s.complete()) {
    s.pump(&sink, wait);
    s.add_fetched(sink);
    auto now = Clock::now();
    // The loop turns at the alerts' rate (a block_finished_alert per 16 KiB block: 200 to
    // 400 turns a second at N=8, 100 Mbit). The bookkeeping below asks libtorrent for its
    // status (a call into its thread) and looks at every chunk, so it runs every
    // kHousekeeping at most: 10x fewer times, -2 to -4 % user CPU a node, about the noise
    // (docs/performance-realistic-image.md, "The download loop's bookkeeping"). Progress is
    // judged in seconds.
    if (now - last_housekeeping < kHousekeeping) continue;
    last_housekeeping = now;
    s.note_payload();
    if (now - last_have_check > std::chrono::seconds(1)) {
      s.request_have_pieces();
      last_have_check = now;
    }
    s.maybe_use_http();
    s.reconnect_seeder(now);
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
    s.check_stall(now);
  }
  s.view.stop();  // lingering needs no stripe
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
