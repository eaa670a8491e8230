// The seeder daemon as a library: HTTP API + built-in tracker + fleet view +
// BitTorrent seeding of a store. ironstone-seeder (main_seeder.cpp) only parses
// flags into a SeederConfig and runs one of these; tests run it in-process on
// ephemeral ports.
//
// Lifetime and thread safety: construct, start() once (throws Error on a bad store,
// a bad inventory, a corrupt or locked fleet database or a port in use), stop() once from any thread that is not a handler (the
// destructor calls it). Graceful: the BitTorrent side stops first (its final
// announce still reaches the tracker), then the HTTP server stops accepting and
// lets requests in progress finish. Accessors may be called from any thread
// between start() and destruction.
#pragma once

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include "seeder/config.h"
#include "seeder/enrolment_keys.h"
#include "seeder/fleet.h"
#include "seeder/fleet_store.h"
#include "seeder/http_server.h"
#include "seeder/inventory_file.h"
#include "seeder/metrics.h"
#include "seeder/order_keys.h"
#include "seeder/router.h"
#include "seeder/routes.h"
#include "seeder/swarm_seeder.h"
#include "seeder/tracker.h"
#include "seeder/upload.h"

namespace ironstone::seeder {

class Seeder {
 public:
  explicit Seeder(SeederConfig config);
  ~Seeder();
  Seeder(const Seeder&) = delete;
  Seeder& operator=(const Seeder&) = delete;

  void start();
  void stop();

  std::uint16_t http_port() const;
  std::uint16_t bittorrent_port() const;                     // 0 when BitTorrent is disabled
  const std::string& base_url() const { return base_url_; }  // "http://host:port/"

  Fleet& fleet() { return fleet_; }
  FleetStore* fleet_store() { return fleet_store_.get(); }  // null before start()
  Tracker& tracker() { return tracker_; }
  SwarmSeeder* swarm() { return swarm_.get(); }  // null when BitTorrent is disabled
  InventoryFile* inventory() { return inventory_.get(); }  // null without --inventory
  UploadService* uploads() { return uploads_.get(); }      // null with --no-uploads

  MetricsSnapshot metrics() const;
  // What GET /v1/info answers (docs/http-api.md): {"name", "version", "http_port",
  // "bt_port" (absent when BitTorrent is off), "base_url", "releases" (count),
  // "upload_limit", "super_seed", "auto_super_seed"}.
  nlohmann::json info() const;

 private:
  UploadContext make_uploads(const std::vector<manifest::PublicKey>& keys);

  SeederConfig config_;
  std::filesystem::path store_;  // canonical
  Tracker tracker_;
  std::unique_ptr<FleetStore> fleet_store_;  // opened by start(); outlives the HTTP server's use of fleet_
  Fleet fleet_;
  std::atomic<std::uint64_t> chunk_bytes_{0};
  Router router_;
  std::unique_ptr<InventoryFile> inventory_;
  std::unique_ptr<EnrolmentKeysFile> enrolment_keys_;
  std::unique_ptr<OrderKeys> order_keys_;  // from the fleet database's secret
  std::unique_ptr<UploadService> uploads_;  // null with --no-uploads
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<SwarmSeeder> swarm_;
  std::string base_url_;
  bool stopped_ = false;
};

}  // namespace ironstone::seeder
