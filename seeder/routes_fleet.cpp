// The fleet's node routes beyond flash events: the gold image's first-boot reports and a
// node's history (docs/http-api.md, "Node lifecycle", "Node history").
#include <spdlog/spdlog.h>

#include "api/errc.h"
#include "api/paths.h"
#include "seeder/errc.h"
#include "seeder/routes.h"

namespace ironstone::seeder {

void add_fleet_routes(Router& router, Fleet& fleet) {
  using V = http::verb;

  router.add({V::post}, api::route::kNodeLifecycle, [&fleet](const Request& r, const Params& p) {
    try {
      LifecycleReport report = parse_lifecycle_report(fleet.resolve_node_id(p[0]), r.message.body());
      if (report.state == "failed") {
        spdlog::warn("fleet: node {} ({}) failed at {}: {}", report.node_id, report.hostname, report.stage,
                     report.reason);
      } else {
        spdlog::info("fleet: node {} {} as {} running {}", report.node_id, report.state, report.hostname,
                     report.release);
      }
      fleet.report(std::move(report));
    } catch (const Error& e) {
      // Too large: the body (api's kTooLarge, 413) or the fleet's node bound (the seeder's,
      // 503, like flash events); anything else is a malformed report (400).
      const auto status = e.code() == api::Errc::kTooLarge ? http::status::payload_too_large
                          : e.code() == Errc::kTooLarge    ? http::status::service_unavailable
                                                           : http::status::bad_request;
      return error_response(status, e.what());
    }
    return make_response(http::status::no_content, "");
  });

  router.add({V::post}, api::route::kPeer, [&fleet](const Request& r, const Params& p) {
    try {
      api::PeerReport report = api::parse_peer_report(p[0], r.message.body(), "POST " + api::peer_path(p[0]));
      spdlog::debug("fleet: peer {} at {} holds {} releases, served {} bytes", report.peer_id, report.url,
                    report.releases.size(), report.bytes_served);
      fleet.peer_report(std::move(report));
    } catch (const Error& e) {
      const auto status = e.code() == api::Errc::kTooLarge ? http::status::payload_too_large
                          : e.code() == Errc::kTooLarge    ? http::status::service_unavailable
                                                           : http::status::bad_request;
      return error_response(status, e.what());
    }
    return make_response(http::status::no_content, "");
  });

  router.add({V::get}, api::route::kNodeHistory, [&fleet](const Request&, const Params& p) {
    auto doc = fleet.history(fleet.resolve_node_id(p[0]));  // a MAC works too
    if (!doc) return error_response(http::status::not_found, "no node " + p[0] + " in the fleet");
    return json_response(doc->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  });
}

}  // namespace ironstone::seeder
