// ironstone-seeder: flags and config file -> SeederConfig -> Seeder (the daemon, when no
// subcommand is given), or `fleet`: the CLI fleet view of a running seeder
// (seeder/fleet_view.h). See docs/seeder.md.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <unistd.h>

#include "api/limits.h"
#include "api/paths.h"
#include "seeder/chunk_guard.h"
#include "seeder/errc.h"
#include "seeder/fleet_view.h"
#include "seeder/peer_follower.h"
#include "seeder/seeder.h"

namespace {

std::chrono::milliseconds seconds_to_ms(double s) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(s * 1000.0));
}

volatile std::sig_atomic_t g_interrupted = 0;
extern "C" void on_interrupt(int) { g_interrupted = 1; }

int run_fleet(const std::string& url, double watch) {
  using namespace ironstone::seeder;
  FleetViewOptions options;
  options.url = url;
  options.watch = seconds_to_ms(watch);
  options.clear_screen = watch > 0 && isatty(STDOUT_FILENO);
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  std::signal(SIGPIPE, SIG_IGN);
  try {
    run_fleet_view(options, std::cout, [] { return g_interrupted != 0; });
  } catch (const std::exception& e) {
    std::cerr << "ironstone-seeder fleet: " << e.what() << "\n";
    return 1;
  }
  return std::cout.good() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ironstone::seeder;
  CLI::App app{
      "ironstone-seeder: seeds every release of a store over BitTorrent and serves the HTTP API\n"
      "(manifests, torrents, web seed, tracker, fleet view, dashboard, metrics)."};
  app.set_version_flag("--version", std::string(IRONSTONE_VERSION));
  app.set_config("--config", "", "Read options from a TOML or INI file (keys = long flag names)");

  std::string store, listen = "0.0.0.0:8080", bt_listen = "0.0.0.0:6881", public_url, log_level = "info";
  double scan_interval = 2, request_timeout = 10;
  int announce_interval = 30, node_stale_after = 300, http_threads = 4;
  std::size_t max_body = ironstone::api::kMaxEventBytes, max_connections = 2048;
  bool no_bittorrent = false, open_tracker = false, super_seed = false, auto_super_seed = false;
  std::string upload_limit = "0";
  std::string inventory, fleet_db, enrolment_keys, upload_token_file, operator_token_file;
  int boot_timeout = 1800;
  int join_timeout = 1800;
  bool no_uploads = false, insecure_open_identity = false;
  double upload_timeout = 600;

  // Required unless a subcommand is given (checked after parsing).
  app.add_option("--store", store, "Release store directory (as written by ironstone-build publish)");
  app.add_option("--listen", listen, "HTTP listen address, ADDR:PORT")->capture_default_str();
  app.add_option("--bt-listen", bt_listen, "BitTorrent listen address, ADDR:PORT")->capture_default_str();
  app.add_option("--public-url", public_url,
                 "Base URL nodes reach this seeder at (web seed, tracker), e.g. http://nas.lan:8080/");
  app.add_option("--scan-interval", scan_interval, "Seconds between store scans for new releases")
      ->capture_default_str();
  app.add_option("--request-timeout", request_timeout, "Seconds a client has to send one request")
      ->capture_default_str();
  app.add_option("--announce-interval", announce_interval, "Tracker announce interval, seconds")
      ->capture_default_str();
  app.add_option("--node-stale-after", node_stale_after,
                 "Seconds without an event after which a working node counts as stale")
      ->capture_default_str();
  app.add_option("--boot-timeout", boot_timeout,
                 "Seconds after a node's \"done\" without a first-boot report before it counts as stale")
      ->capture_default_str();
  app.add_option("--join-timeout", join_timeout,
                 "Seconds after a node's \"booted\" (one that will start k3s) without \"joined\" before it counts as stale")
      ->capture_default_str();
  app.add_option("--fleet-db", fleet_db,
                 "The fleet database (SQLite; nodes and their history), default STORE/fleet.sqlite");
  app.add_option("--http-threads", http_threads, "HTTP worker threads")->capture_default_str();
  app.add_option("--max-body", max_body, "Largest request body accepted, bytes")->capture_default_str();
  app.add_option("--max-connections", max_connections, "Most open HTTP connections")->capture_default_str();
  app.add_flag("--no-bittorrent", no_bittorrent, "Serve HTTP only (web seed, tracker, API); do not seed");
  app.add_flag("--open-tracker", open_tracker, "Track any info-hash, not only the releases seeded here");
  app.add_option("--upload-limit", upload_limit,
                 "BitTorrent upload budget over all peers, bytes/s: 0 (unlimited), 12M, 100mbit, ...")
      ->capture_default_str();
  app.add_flag("--super-seed", super_seed,
               "BEP 16 super seeding, always: offer each peer pieces nobody else has, so each piece leaves once");
  app.add_flag("--auto-super-seed,!--no-auto-super-seed", auto_super_seed,
               "switch super seeding on by itself while two or more nodes download (off by default: "
               "it defeats the flashers' stripes, see docs/seeder.md)");
  app.add_option("--inventory", inventory,
                 "Node inventory (JSON: MAC -> hostname, role, labels; k3s settings) behind "
                 "GET /v1/nodes/<mac>/identity; reloaded when it changes");
  app.add_option("--enrolment-keys", enrolment_keys,
                 "Installer cards' enrolment public keys (\"<hex> <name>\" a line; remove a line to revoke; "
                 "reloaded when it changes): identities are served only sealed to those cards; without it, "
                 "none is served");
  app.add_flag("--insecure-open-identity", insecure_open_identity,
               "LABS ONLY: without --enrolment-keys, serve identities (with the k3s join token) in clear to "
               "anyone who can reach the port (GET /v1/nodes/<mac>/identity)");
  app.add_flag("--no-uploads", no_uploads,
               "Refuse pushed releases (ironstone-build push); by default they are accepted when they verify "
               "against the store's keys/*.pub");
  app.add_option("--upload-token-file", upload_token_file,
                 "File whose first line is a token every push must also send (a second factor besides the "
                 "release signature)");
  app.add_option("--operator-token-file", operator_token_file,
                 "File whose first line is the token an operator sends to order nodes re-flashed (POST "
                 "/v1/fleet/reflash, docs/seeder.md \"Re-flashing nodes\"); without it no orders are taken");
  app.add_option("--upload-timeout", upload_timeout, "Seconds a client has to send one upload request")
      ->capture_default_str();
  std::string peer_of, max_store = "0";
  std::vector<std::string> public_keys, peer_boards, peer_channels;
  std::size_t keep = 2;
  double poll_interval = 30, scrub_interval = 6 * 3600;
  app.add_option("--peer-of", peer_of,
                 "Peer mode: follow this upstream seeder's signed channel pointers (e.g. http://nas:8080), keep "
                 "verified copies of its releases in --store and seed them (docs/peer-mode.md)");
  app.add_option("--public-key", public_keys, "Peer mode: a key releases must be signed by (repeatable)");
  app.add_option("--board", peer_boards, "Peer mode: a board to follow (repeatable; default: this machine's)");
  app.add_option("--channel", peer_channels, "Peer mode: a channel to follow (repeatable; default: stable)");
  app.add_option("--keep", keep, "Peer mode: eviction never goes below this many releases")->capture_default_str();
  app.add_option("--max-store", max_store, "Peer mode: store size limit (20G, 500M; 0 = none)")
      ->capture_default_str();
  app.add_option("--poll-interval", poll_interval, "Peer mode: seconds between polls of the upstream")
      ->capture_default_str();
  app.add_option("--scrub-interval", scrub_interval,
                 "Peer mode: seconds between re-verifications of the whole store (0 = only at start)")
      ->capture_default_str();
  std::string disk_io;
  app.add_option("--disk-io", disk_io,
                 "How BitTorrent reads the store: mmap (fast; served pages stay mapped, so resident memory grows "
                 "with the releases) or posix (pread, one thread, bounded memory). Default: posix with --peer-of, "
                 "else mmap")
      ->check(CLI::IsMember({"mmap", "posix"}));
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")->capture_default_str();

  std::string fleet_url = "http://127.0.0.1:8080";
  double fleet_watch = 0;
  CLI::App* fleet = app.add_subcommand("fleet", "Print the fleet view of a running seeder (GET /v1/fleet)");
  fleet->add_option("--url", fleet_url, "The seeder's base URL, e.g. http://nas:8080")->capture_default_str();
  fleet->add_option("--watch", fleet_watch,
                    "Redraw every SECONDS until every node is done, failed or stale (or Ctrl-C)")
      ->check(CLI::NonNegativeNumber);
  app.require_subcommand(0, 1);

  CLI11_PARSE(app, argc, argv);
  if (fleet->parsed()) return run_fleet(fleet_url, fleet_watch);
  if (store.empty()) return app.exit(CLI::RequiredError("--store"));

  spdlog::set_level(spdlog::level::from_str(log_level));
  if (std::getenv("JOURNAL_STREAM")) spdlog::set_pattern("%l: %v");  // journald adds time and unit

  // SIGTERM/SIGINT are blocked in every thread and taken synchronously below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  try {
    SeederConfig config;
    config.store = store;
    config.http = parse_endpoint(listen, 8080, "--listen");
    config.bittorrent = parse_endpoint(bt_listen, 6881, "--bt-listen");
    config.enable_bittorrent = !no_bittorrent;
    config.public_url = public_url;
    config.http_threads = http_threads;
    config.request_timeout = seconds_to_ms(request_timeout);
    config.scan_interval = seconds_to_ms(scan_interval);
    config.announce_interval = std::chrono::seconds(announce_interval);
    config.node_stale_after = std::chrono::seconds(node_stale_after);
    config.boot_timeout = std::chrono::seconds(boot_timeout);
    config.join_timeout = std::chrono::seconds(join_timeout);
    config.fleet_db = fleet_db;
    config.max_body = max_body;
    config.max_connections = max_connections;
    config.tracker_known_only = !open_tracker;
    config.upload_limit = parse_rate(upload_limit, "--upload-limit");
    config.super_seed = super_seed;
    config.auto_super_seed = auto_super_seed;
    config.inventory = inventory;
    config.enrolment_keys = enrolment_keys;
    config.insecure_open_identity = insecure_open_identity;
    config.enable_uploads = !no_uploads;
    config.upload_token_file = upload_token_file;
    config.operator_token_file = operator_token_file;
    config.upload_timeout = seconds_to_ms(upload_timeout);
    if (disk_io.empty()) disk_io = peer_of.empty() ? "mmap" : "posix";
    config.disk_backend = *ironstone::swarm::parse_disk_backend(disk_io);

    std::shared_ptr<ChunkGuard> guard;  // peer mode: every chunk checked before it is served
    if (!peer_of.empty()) {
      config.enable_uploads = false;  // a peer's store takes only what it verified itself
      config.peer_mode = true;
      config.upstream_tracker = ironstone::flasher::SeederClient(peer_of).url(ironstone::api::kAnnouncePath);
      guard = std::make_shared<ChunkGuard>();
      config.chunk_check = ChunkGuard::checker(guard);
      std::filesystem::create_directories(store);  // systemd's StateDirectory= makes only its parent
    }
    Seeder seeder(config);
    std::unique_ptr<PeerFollower> follower;  // destroyed (its thread stopped) before the seeder
    if (!peer_of.empty()) {
      lower_own_priority();  // before any thread starts: every thread inherits it
      PeerFollowerOptions po;
      po.upstream = peer_of;
      po.store = store;
      po.public_keys = {public_keys.begin(), public_keys.end()};
      po.follow = follow_list(peer_boards.empty() ? std::vector<std::string>{detect_own_board()} : peer_boards,
                              peer_channels);
      po.keep = keep;
      po.max_store = parse_size(max_store, "--max-store");
      po.poll_interval = seconds_to_ms(poll_interval);
      po.on_change = [&seeder] {
        if (seeder.swarm()) seeder.swarm()->scan_now();
      };
      po.peer_id = default_peer_id();
      po.own_url = [&seeder] { return seeder.base_url(); };
      po.bytes_served = [&seeder] { return bytes_served_by(seeder); };
      po.guard = guard;
      po.scrub_interval = seconds_to_ms(scrub_interval);
      po.disk_backend = config.disk_backend;
      follower = std::make_unique<PeerFollower>(po);
      spdlog::info("peer: re-verifying the store: {} bad chunks dropped", follower->verify_store());
    }
    seeder.start();
    if (follower) follower->start();
    spdlog::info("ironstone-seeder {}: HTTP port {}, BitTorrent port {}", IRONSTONE_VERSION,
                 seeder.http_port(), seeder.bittorrent_port());
    int sig = 0;
    sigwait(&signals, &sig);
    spdlog::info("seeder: {} received, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    if (follower) follower->stop();
    seeder.stop();
  } catch (const ironstone::Error& e) {
    spdlog::error("{}", e.what());
    return 1;
  } catch (const std::exception& e) {
    spdlog::error("unexpected: {}", e.what());
    return 1;
  }
  spdlog::info("seeder: stopped");
  return 0;
}
