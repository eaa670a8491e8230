// The seeder's HTTP routes (docs/http-api.md), registered on a Router.
//
//   store routes (routes_store.cpp): channel pointers, release files, release list,
//     the chunk store as BEP 19 web seed.
//   API routes (routes_api.cpp): seeder info, tracker, node events, fleet view, metrics, dashboard.
//   fleet routes (routes_fleet.cpp, added by add_api_routes): first-boot lifecycle reports and
//     a node's history.
//   identity route (routes_identity.cpp): a node's first-boot identity from the inventory.
//   upload routes (routes_upload.cpp): releases pushed by ironstone-build push (seeder/upload.h).
//
// Thread safety: the handlers only touch thread-safe objects (Tracker, Fleet,
// atomics, the file system) and may run concurrently. The referenced objects must
// outlive the router.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string_view>
#include <nlohmann/json.hpp>

#include "seeder/config.h"
#include "seeder/enrolment_keys.h"
#include "seeder/fleet.h"
#include "seeder/http_server.h"
#include "seeder/inventory_file.h"
#include "seeder/metrics.h"
#include "seeder/order_keys.h"
#include "seeder/router.h"
#include "seeder/tracker.h"
#include "seeder/upload.h"

namespace ironstone::seeder {

// Defines the parameter types used by the routes: board, channel, version, firmware, file (a
// name of api::kReleaseFiles),
// aa (2 hex), hex (64 lower-case hex), node, mac (aa:bb:cc:dd:ee:ff, any case, ':' or '-'),
// node_or_mac (either).
void define_route_params(Router& router);

// The releases of the store, as GET /v1/releases lists them: directories
// releases/<board>/<version>/ holding a manifest.json, sorted by board, then version.
nlohmann::json list_releases(const std::filesystem::path& store);

// `store` must be canonical. Adds the size of every chunk body sent to chunk_bytes.
// check (peer mode, SeederConfig::chunk_check): when set, a chunk file is read whole and
// passed to it before any of it is sent; one it refuses is answered 404 and nothing of it
// is sent (the range is served from the checked bytes, never from the file again).
void add_store_routes(Router& router, const std::filesystem::path& store, std::atomic<std::uint64_t>& chunk_bytes,
                      ChunkCheck check = {});

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
// with open_identity and no enrolment keys; otherwise 403 (kNoEnrolmentKeys when there are none). 404 when the MAC is not in the inventory or there is no inventory.
struct IdentityContext {
  InventoryFile* inventory = nullptr;         // null: no inventory, every request is a 404
  EnrolmentKeysFile* enrolment_keys = nullptr;  // null: POST refused; GET only if open_identity
  const OrderKeys* order_keys = nullptr;        // null: no "order_key" even when asked
  bool open_identity = false;                   // --insecure-open-identity: GET in clear without keys
};
void add_identity_routes(Router& router, IdentityContext context);

// /v1/uploads... (docs/http-api.md, "Pushing a release"): POST /v1/uploads (the bundle),
// GET/DELETE /v1/uploads/<board>/<version>, PUT .../chunks/<hex>.zst, .../firmware/<name> and
// .../files/<name>,
// POST .../commit. With a token (--upload-token-file), every request must carry
// "Authorization: Bearer <token>" (compared in constant time): else 401. Errors map to statuses
// by their seeder::Errc (kBadRequest 400, kUnauthorized 401, kRefused 403, kNotFound 404,
// kConflict 409, kTooLarge 413, kBusy 503, else 500), the body naming release and chunk.
struct UploadContext {
  UploadService* uploads = nullptr;  // null: no upload routes
  std::string token;                 // empty: no token asked
};
void add_upload_routes(Router& router, UploadContext context);
// The upload token from its file: the first line, without surrounding blanks; at least 16 and at
// most api::kMaxUploadTokenBytes bytes. Throws Error(Errc::kConfig) naming the file.
std::string read_upload_token(const std::filesystem::path& file);
// The same rules for any token file; errors name `flag` and the file.
std::string read_token_file(const std::filesystem::path& file, std::string_view flag);
// Throws Error(Errc::kUnauthorized) unless `r` carries "Authorization: Bearer <token>" (compared
// in constant time); nothing asked when `token` is empty. `what` names it: "upload", "operator".
void check_bearer_token(const Request& r, const std::string& token, std::string_view what);
// The status of a seeder::Errc as the upload and order routes answer it (see add_upload_routes).
http::status status_for(const std::error_code& code);

// Re-flash orders (routes_orders.cpp, api/node_order.h, docs/http-api.md "Re-flash orders"):
// POST|DELETE /v1/fleet/reflash {"nodes":[…]} with "Authorization: Bearer <operator token>"
// (no --operator-token-file: 403, nothing ordered), answered {"orders":[…]} / {"cancelled":N};
// GET /v1/nodes/<node-or-mac>/order: 204, or 200 with the order and its X-Ironstone-Order-Auth.
struct OrderContext {
  Fleet* fleet = nullptr;
  const OrderKeys* keys = nullptr;
  std::string operator_token;  // empty: orders refused
};
void add_order_routes(Router& router, OrderContext context);
// The body rule of the upload routes (HttpServerOptions::body_rule): their limits (api/limits.h)
// and `timeout` to send the body in, for "PUT|POST /v1/uploads..."; nullopt for other requests.
std::optional<BodyRule> upload_body_rule(http::verb method, std::string_view target, std::chrono::milliseconds timeout);

}  // namespace ironstone::seeder
