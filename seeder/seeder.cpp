#include "seeder/seeder.h"

#include <spdlog/spdlog.h>

#include "api/paths.h"
#include "seeder/errc.h"
#include "seeder/routes.h"
#include "seeder/store_keys.h"

namespace ironstone::seeder {

namespace fs = std::filesystem;

namespace {

// The store's keys/*.pub (seeder/store_keys.h), and a line saying what they mean for seeding.
std::vector<manifest::PublicKey> store_keys_logged(const fs::path& store, bool bittorrent) {
  std::vector<manifest::PublicKey> keys = load_store_keys(store);
  if (!bittorrent) return keys;
  if (keys.empty()) {
    spdlog::warn("store {}: no keys/*.pub: releases are seeded without a signature check (flashers check them)",
                 store.string());
  } else {
    std::string ids;
    for (const auto& k : keys) ids += (ids.empty() ? "" : ", ") + k.id.hex();
    spdlog::info("store {}: seeding only releases signed by keys/*.pub ({})", store.string(), ids);
  }
  return keys;
}

SwarmSeederOptions swarm_options(const SeederConfig& c, const fs::path& store, const std::string& base_url,
                                 std::vector<manifest::PublicKey> keys) {
  SwarmSeederOptions bt;
  bt.store = store;
  bt.listen_interfaces = (c.bittorrent.address.find(':') != std::string::npos ? "[" + c.bittorrent.address + "]"
                                                                              : c.bittorrent.address) +
                         ":" + std::to_string(c.bittorrent.port);
  bt.web_seed_url = base_url;
  bt.tracker_url = base_url + "announce";
  if (!c.upstream_tracker.empty()) bt.extra_trackers.push_back(c.upstream_tracker);
  bt.peer_mode = c.peer_mode;
  bt.disk_backend = c.disk_backend;
  bt.scan_interval = c.scan_interval;
  bt.upload_limit = c.upload_limit;
  bt.super_seed = c.super_seed;
  bt.auto_super_seed = c.auto_super_seed;
  bt.trusted_keys = std::move(keys);
  return bt;
}

}  // namespace

Seeder::Seeder(SeederConfig config)
    : config_(std::move(config)),
      tracker_(Tracker::Options{config_.announce_interval}),
      fleet_(Fleet::Options{config_.max_nodes, 1000, config_.node_stale_after, config_.boot_timeout,
                            config_.join_timeout}) {}

Seeder::~Seeder() { stop(); }

void Seeder::start() {
  validate(config_);
  std::error_code ec;
  store_ = fs::canonical(config_.store, ec);
  if (ec || !fs::is_directory(store_, ec)) {
    throw error(Errc::kStore, "store " + config_.store.string() + ": not a directory" +
                                  (ec ? " (" + ec.message() + ")" : std::string()));
  }
  if (!fs::is_directory(store_ / "releases", ec)) {
    spdlog::warn("store {}: no releases/ yet; waiting for ironstone-build publish", store_.string());
  }

  const fs::path fleet_db = config_.fleet_db.empty() ? store_ / "fleet.sqlite" : config_.fleet_db;
  fleet_store_ = std::make_unique<FleetStore>(fleet_db);
  fleet_.attach(fleet_store_.get());
  std::vector<manifest::PublicKey> store_keys = store_keys_logged(store_, config_.enable_bittorrent);

  if (!config_.inventory.empty()) inventory_ = std::make_unique<InventoryFile>(config_.inventory);

  define_route_params(router_);
  add_store_routes(router_, store_, chunk_bytes_, config_.chunk_check);
  add_api_routes(router_, ApiContext{tracker_, fleet_, [this] { return metrics(); }, [this] { return info(); }});
  if (!config_.enrolment_keys.empty()) {
    enrolment_keys_ = std::make_unique<EnrolmentKeysFile>(config_.enrolment_keys);
  } else if (inventory_ && config_.insecure_open_identity) {
    spdlog::warn("identity: --insecure-open-identity: GET /v1/nodes/<mac>/identity serves identities (with the "
                 "k3s join token) in clear to anyone who can reach this port; labs only");
  } else if (inventory_) {
    spdlog::warn("identity: no --enrolment-keys: no identity is served; make installer cards with "
                 "ironstone-build installer --enrolment-keys and give the seeder the same file");
  }
  order_keys_ = std::make_unique<OrderKeys>(fleet_store_->order_secret());
  add_identity_routes(router_, IdentityContext{inventory_.get(), enrolment_keys_.get(), order_keys_.get(),
                                                config_.insecure_open_identity});
  add_order_routes(router_, OrderContext{&fleet_, order_keys_.get(),
                                         config_.operator_token_file.empty()
                                             ? std::string()
                                             : read_token_file(config_.operator_token_file, "--operator-token-file")});
  add_upload_routes(router_, make_uploads(store_keys));

  HttpServerOptions http;
  http.address = config_.http.address;
  http.port = config_.http.port;
  http.threads = config_.http_threads;
  http.request_timeout = config_.request_timeout;
  http.body_limit = config_.max_body;
  http.max_connections = config_.max_connections;
  http.server_name = std::string("ironstone-seeder/") + IRONSTONE_VERSION;
  if (uploads_) {
    http.body_rule = [timeout = config_.upload_timeout](http::verb method, std::string_view target) {
      return upload_body_rule(method, target, timeout);
    };
  }
  http_ = std::make_unique<HttpServer>(http, [this](const Request& r) { return router_.dispatch(r); });
  // Bound first (the base URL needs the port), but nothing is accepted until base_url_ and
  // swarm_ are set: handlers (/v1/info, metrics) read both without a lock.
  http_->listen();
  base_url_ = seeder::base_url(config_, http_->local_endpoint().port());

  if (config_.enable_bittorrent) {
    SwarmSeederOptions bt = swarm_options(config_, store_, base_url_, std::move(store_keys));
    swarm_ = std::make_unique<SwarmSeeder>(bt);
    if (config_.tracker_known_only) {
      tracker_.set_allowed([swarm = swarm_.get()](const InfoHash20& h) { return swarm->knows(h); });
    }
    swarm_->start();
  }
  http_->start();
  spdlog::info("seeder: store {}, base URL {}", store_.string(), base_url_);
}

UploadContext Seeder::make_uploads(const std::vector<manifest::PublicKey>& keys) {
  if (!config_.enable_uploads) return {};
  UploadContext context;
  if (!config_.upload_token_file.empty()) context.token = read_upload_token(config_.upload_token_file);
  UploadOptions options{store_, keys, [this] {
                          if (swarm_) swarm_->scan_now();
                        }, {}};
  uploads_ = std::make_unique<UploadService>(std::move(options));
  context.uploads = uploads_.get();
  if (keys.empty()) {
    spdlog::warn("push: the store has no keys/*.pub: pushed releases are refused until it has");
  } else {
    spdlog::info("push: accepting releases signed by keys/*.pub at {}{}", api::kUploadsPath,
                 context.token.empty() ? "" : " (with the upload token)");
  }
  return context;
}

void Seeder::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (swarm_) swarm_->stop();
  if (http_) http_->stop();
}

std::uint16_t Seeder::http_port() const { return http_ ? http_->local_endpoint().port() : 0; }

std::uint16_t Seeder::bittorrent_port() const { return swarm_ ? swarm_->listen_port() : 0; }

nlohmann::json Seeder::info() const {
  nlohmann::json out{{"name", "ironstone-seeder"},
                     {"version", IRONSTONE_VERSION},
                     {"http_port", http_port()},
                     {"base_url", base_url_},
                     {"releases", list_releases(store_).size()}};
  // Absent, not 0, when BitTorrent is off: clients test for an integer port.
  if (const auto bt = bittorrent_port(); bt != 0) out["bt_port"] = bt;
  out["upload_limit"] = swarm_ ? swarm_->upload_budget() : 0;  // as libtorrent holds it
  if (swarm_) out["disk_io"] = std::string(swarm::disk_backend_name(config_.disk_backend));
  out["super_seed"] = swarm_ != nullptr && config_.super_seed;
  out["auto_super_seed"] = swarm_ != nullptr && !config_.super_seed && config_.auto_super_seed;
  return out;
}

MetricsSnapshot Seeder::metrics() const {
  MetricsSnapshot s;
  s.http = http_ ? &http_->stats() : nullptr;
  if (swarm_) s.torrents = swarm_->stats();
  s.tracker = tracker_.counts();
  s.fleet = fleet_.counts();
  if (fleet_store_) s.fleet_db = fleet_store_->stats();
  s.chunk_bytes_served = chunk_bytes_.load();
  return s;
}

}  // namespace ironstone::seeder
