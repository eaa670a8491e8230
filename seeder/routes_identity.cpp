// The node identity routes (docs/http-api.md "Node identity", docs/first-boot.md).
//
// POST /v1/nodes/<mac>/identity: an installer card's signed request (swarm/enrolment.h); the
// answer is the identity sealed to the request's ephemeral key, so the join token is never
// readable on the wire. GET /v1/nodes/<mac>/identity: the identity in clear, only for seeders
// started with --insecure-open-identity and without --enrolment-keys (labs; README "Trust
// model"); otherwise refused (403). A seeder without --enrolment-keys refuses both (fail
// closed). Every answer and every refusal is logged with the client's address.
#include <spdlog/spdlog.h>

#include <chrono>

#include "seeder/query.h"
#include "seeder/routes.h"
#include "swarm/enrolment.h"
#include "api/node_identity.h"
#include "api/paths.h"

namespace ironstone::seeder {

namespace {

Response refuse(const Request& r, http::status status, const std::string& mac, const std::string& why) {
  spdlog::warn("identity: refused {} to {}: {}", mac, r.remote.to_string(), why);
  return error_response(status, "no identity for " + mac + ": " + why);
}

// The identity as served: with the node's order key when the flasher asks for it (api/node_identity.h).
std::string served(const Request& r, const api::NodeIdentity& id, const IdentityContext& c) {
  const auto query = parse_query(r.query);
  if (!c.order_keys || !query || find_param(*query, "with") != "order_key") return api::serialize_node_identity(id);
  api::NodeIdentity with_key = id;
  with_key.order_key = c.order_keys->key_hex(id.mac);
  return api::serialize_node_identity(with_key);
}

const char* const kNoEnrolmentKeys =
    "this seeder gives identities only to enrolled installer cards and has no --enrolment-keys; make the "
    "cards with ironstone-build installer --enrolment-keys <file> and start the seeder with "
    "--enrolment-keys <the same file>";

Response clear_identity(const Request& r, const std::string& mac, const IdentityContext& c) {
  if (!c.enrolment_keys && !c.open_identity) return refuse(r, http::status::forbidden, mac, kNoEnrolmentKeys);
  if (c.enrolment_keys)
    return refuse(r, http::status::forbidden, mac,
                  "this seeder serves identities only to enrolled installer cards (POST, signed with the card's "
                  "enrolment key); make the card again with ironstone-build installer");
  const api::NodeIdentity* id = c.inventory->current()->find(mac);
  if (!id) return refuse(r, http::status::not_found, mac, "not in the inventory " + c.inventory->path().filename().string());
  spdlog::warn("identity: served {} ({}) IN CLEAR to {} (--insecure-open-identity: the k3s join token is "
               "readable by anyone on the network)", id->hostname, mac, r.remote.to_string());
  return json_response(served(r, *id, c));
}

Response sealed_identity(const Request& r, const std::string& mac, const IdentityContext& c) {
  if (!c.enrolment_keys) return refuse(r, http::status::forbidden, mac, kNoEnrolmentKeys);
  swarm::IdentityRequest req;
  std::string card;
  try {
    req = swarm::parse_identity_request(r.message.body());
  } catch (const Error& e) {
    return refuse(r, http::status::bad_request, mac, e.what());
  }
  if (req.mac != mac) return refuse(r, http::status::bad_request, mac, "the request is signed for " + req.mac);
  const auto now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  try {
    card = swarm::check_identity_request(req, *c.enrolment_keys->current(), now);
  } catch (const Error& e) {
    return refuse(r, http::status::forbidden, mac, e.what());
  }
  const api::NodeIdentity* id = c.inventory->current()->find(mac);
  if (!id) return refuse(r, http::status::not_found, mac, "not in the inventory " + c.inventory->path().filename().string());
  spdlog::info("identity: served {} ({}) sealed, card '{}', to {}", id->hostname, mac, card, r.remote.to_string());
  return json_response(swarm::seal_identity(served(r, *id, c), req.ephemeral_key));
}

}  // namespace

void add_identity_routes(Router& router, IdentityContext context) {
  router.add({http::verb::get, http::verb::post}, api::route::kNodeIdentity,
             [c = std::move(context)](const Request& r, const Params& p) {
               const std::string mac = api::canonical_mac(p[0]).value_or(p[0]);
               if (!c.inventory)
                 return refuse(r, http::status::not_found, mac, "this seeder has no inventory (--inventory)");
               return r.method() == http::verb::post ? sealed_identity(r, mac, c) : clear_identity(r, mac, c);
             });
}

}  // namespace ironstone::seeder
