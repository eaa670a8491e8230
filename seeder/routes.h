// The seeder's HTTP routes (docs/http-api.md), registered on a Router.
//
//   store routes (routes_store.cpp): channel pointers, release files, release list,
//     the chunk store as BEP 19 web seed.
//   API routes (routes_api.cpp): seeder info, tracker, node events, fleet view, metrics, dashboard.
//   fleet routes (routes_fleet.cpp, added by add_api_routes): first-boot lifecycle reports and
//     a node's history.
//   identity route (routes_identity.cpp): a node's first-boot identity from the inventory.
//
// Thread safety: the handlers only touch thread-safe objects (Tracker, Fleet,
// atomics, the file system) and may run concurrently. The referenced objects must
// outlive the router.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>

#include "seeder/enrolment_keys.h"
#include "seeder/fleet.h"
#include "seeder/inventory_file.h"
#include "seeder/metrics.h"
#include "seeder/router.h"
#include "seeder/tracker.h"

namespace ironstone::seeder {

// Defines the parameter types used by the routes: board, channel, version, firmware,
// aa (2 hex), hex (64 lower-case hex), node, mac (aa:bb:cc:dd:ee:ff, any case, ':' or '-'),
// node_or_mac (either).
void define_route_params(Router& router);

// The releases of the store, as GET /v1/releases lists them: directories
// releases/<board>/<version>/ holding a manifest.json, sorted by board, then version.
nlohmann::json list_releases(const std::filesystem::path& store);

// `store` must be canonical. Adds the size of every chunk body sent to chunk_bytes.
void add_store_routes(Router& router, const std::filesystem::path& store,
                      std::atomic<std::uint64_t>& chunk_bytes);

struct ApiContext {
  Tracker& tracker;
  Fleet& fleet;
  std::function<MetricsSnapshot()> metrics;
  // GET /v1/info: the seeder's identity and ports (docs/http-api.md). Unset: no route.
  std::function<nlohmann::json()> info = {};
};

void add_api_routes(Router& router, ApiContext context);

// POST /v1/nodes/<node-or-mac>/lifecycle (204) and GET /v1/nodes/<node>/history.
void add_fleet_routes(Router& router, Fleet& fleet);

// GET /v1/nodes/<mac>/identity: the node's identity document (api/node_identity.h), 404
// when the MAC is not in the inventory or there is no inventory (`inventory` null).
void add_identity_routes(Router& router, InventoryFile* inventory);
// /v1/nodes/<mac>/identity (seeder/routes_identity.cpp, docs/http-api.md): POST, an enrolled
// card's signed request (swarm/enrolment.h) answered sealed; GET, the identity in clear, only
// without enrolment keys. 404 when the MAC is not in the inventory or there is no inventory.
struct IdentityContext {
  InventoryFile* inventory = nullptr;         // null: no inventory, every request is a 404
  EnrolmentKeysFile* enrolment_keys = nullptr;  // null: no POST; GET serves in clear
};
void add_identity_routes(Router& router, IdentityContext context);

}  // namespace ironstone::seeder
