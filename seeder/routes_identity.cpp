// GET /v1/nodes/<mac>/identity (docs/http-api.md, docs/first-boot.md).
//
// The answer carries the cluster's join token: anyone who can reach the seeder's port and
// names a MAC in the inventory can read it. The seeder is meant for a trusted provisioning
// LAN (README, "Trust model"); every identity served is logged with the client's address.
#include <spdlog/spdlog.h>

#include "api/paths.h"
#include "seeder/routes.h"
#include "api/node_identity.h"

namespace ironstone::seeder {

void add_identity_routes(Router& router, InventoryFile* inventory) {
  router.add({http::verb::get}, api::route::kNodeIdentity, [inventory](const Request& r, const Params& p) {
    const std::string mac = api::canonical_mac(p[0]).value_or(p[0]);
    if (!inventory) {
      return error_response(http::status::not_found,
                            "no identity for " + mac + ": this seeder has no inventory (--inventory)");
    }
    auto inv = inventory->current();
    const api::NodeIdentity* id = inv->find(mac);
    if (!id) {
      spdlog::info("identity: {} asked for {}, which is not in the inventory", r.remote.to_string(), mac);
      return error_response(http::status::not_found, "no identity for " + mac + ": not in the inventory " +
                                                         inventory->path().filename().string());
    }
    spdlog::info("identity: served {} ({}) to {}", id->hostname, mac, r.remote.to_string());
    return json_response(api::serialize_node_identity(*id));
  });
}

}  // namespace ironstone::seeder
