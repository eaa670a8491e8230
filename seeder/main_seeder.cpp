// ironstone-seeder: flags and config file -> SeederConfig -> Seeder. See docs/seeder.md.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "seeder/errc.h"
#include "seeder/seeder.h"

namespace {

std::chrono::milliseconds seconds_to_ms(double s) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(s * 1000.0));
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
  std::size_t max_body = 64 * 1024, max_connections = 2048;
  bool no_bittorrent = false, open_tracker = false;

  app.add_option("--store", store, "Release store directory (as written by ironstone-build publish)")
      ->required();
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
  app.add_option("--http-threads", http_threads, "HTTP worker threads")->capture_default_str();
  app.add_option("--max-body", max_body, "Largest request body accepted, bytes")->capture_default_str();
  app.add_option("--max-connections", max_connections, "Most open HTTP connections")->capture_default_str();
  app.add_flag("--no-bittorrent", no_bittorrent, "Serve HTTP only (web seed, tracker, API); do not seed");
  app.add_flag("--open-tracker", open_tracker, "Track any info-hash, not only the releases seeded here");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")->capture_default_str();

  CLI11_PARSE(app, argc, argv);

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
    config.max_body = max_body;
    config.max_connections = max_connections;
    config.tracker_known_only = !open_tracker;

    Seeder seeder(config);
    seeder.start();
    spdlog::info("ironstone-seeder {}: HTTP port {}, BitTorrent port {}", IRONSTONE_VERSION,
                 seeder.http_port(), seeder.bittorrent_port());
    int sig = 0;
    sigwait(&signals, &sig);
    spdlog::info("seeder: {} received, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
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
