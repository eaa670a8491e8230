#include <spdlog/spdlog.h>

#include "api/paths.h"
#include "seeder/dashboard.h"
#include "seeder/errc.h"
#include "seeder/routes.h"

namespace ironstone::seeder {

void add_api_routes(Router& router, ApiContext ctx) {
  using V = http::verb;

  if (ctx.info) {
    router.add({V::get}, api::kInfoPath, [info = ctx.info](const Request&, const Params&) {
      return json_response(info().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    });
  }

  // BEP 3 / BEP 23 tracker. Failures are HTTP 200 with "failure reason", as clients expect.
  router.add({V::get}, api::kAnnouncePath, [&tracker = ctx.tracker](const Request& r, const Params&) {
    auto parsed = parse_announce(r.query, r.remote, r.local);
    std::string body;
    if (auto* reason = std::get_if<std::string>(&parsed)) {
      spdlog::debug("tracker: {}: {}", r.remote.to_string(), *reason);
      body = tracker_failure(*reason);
    } else {
      body = tracker.announce(std::get<Announce>(parsed));
    }
    return make_response(http::status::ok, std::move(body), "text/plain");
  });

  router.add({V::post}, api::route::kNodeEvents, [&fleet = ctx.fleet](const Request& r, const Params& p) {
    try {
      NodeEvent event = parse_node_event(p[0], r.message.body());
      if (event.state == "failed") {
        spdlog::warn("fleet: node {} failed at step {}: {}", event.node_id, event.step, event.error);
      } else {
        spdlog::debug("fleet: node {} {} {} {:.3f}", event.node_id, event.state, event.step, event.progress);
      }
      fleet.record(std::move(event));
    } catch (const Error& e) {
      const auto status =
          e.code() == Errc::kTooLarge ? http::status::service_unavailable : http::status::bad_request;
      return error_response(status, e.what());
    }
    nlohmann::json out = fleet.summary();
    out["ok"] = true;
    return json_response(out.dump() + "\n");
  });

  add_fleet_routes(router, ctx.fleet);

  router.add({V::get}, api::kFleetPath, [&fleet = ctx.fleet](const Request&, const Params&) {
    return json_response(fleet.view().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  });
  router.add({V::get}, api::kFleetSummaryPath, [&fleet = ctx.fleet](const Request&, const Params&) {
    return json_response(fleet.summary().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
                         "\n");
  });

  router.add({V::get}, api::kMetricsPath, [metrics = ctx.metrics](const Request&, const Params&) {
    return make_response(http::status::ok, render_metrics(metrics()),
                         "text/plain; version=0.0.4; charset=utf-8");
  });

  router.add({V::get}, api::kDashboardPath, [](const Request&, const Params&) {
    return make_response(http::status::ok, std::string(dashboard_html()), "text/html; charset=utf-8");
  });
}

}  // namespace ironstone::seeder
