// The re-flash order routes (seeder/routes.h "Re-flash orders", api/node_order.h).
// Every order made or cancelled, and every order served, is logged with the client's address.
#include <spdlog/spdlog.h>

#include "api/errc.h"
#include "api/node_order.h"
#include "api/paths.h"
#include "seeder/errc.h"
#include "seeder/routes.h"

namespace ironstone::seeder {

namespace {

std::string names(const std::vector<std::string>& nodes) {
  std::string out;
  for (const auto& n : nodes) out += (out.empty() ? "" : ", ") + n;
  return out.size() > 300 ? out.substr(0, 300) + "…" : out;
}

// The operator's request: token, body, then the fleet; an Error becomes its status.
Response operator_request(const Request& r, const OrderContext& c) {
  try {
    if (c.operator_token.empty())
      throw error(Errc::kRefused, "this seeder takes no re-flash orders: start it with --operator-token-file FILE");
    check_bearer_token(r, c.operator_token, "operator");
    const auto nodes = api::parse_reflash_request(r.message.body());
    if (r.method() == http::verb::delete_) {
      const std::size_t n = c.fleet->cancel_orders(nodes);
      spdlog::info("re-flash: {} order(s) cancelled for {} by {}", n, names(nodes), r.remote.to_string());
      return json_response(nlohmann::json{{"cancelled", n}}.dump() + "\n");
    }
    nlohmann::json orders = nlohmann::json::array();
    for (const auto& o : c.fleet->order_reflash(nodes))
      orders.push_back({{"node_id", o.node_id}, {"mac", o.mac}, {"id", o.id}, {"expires", o.expires}});
    spdlog::info("re-flash: ordered {} by {}", names(nodes), r.remote.to_string());
    return json_response(nlohmann::json{{"orders", std::move(orders)}}.dump() + "\n");
  } catch (const Error& e) {
    const http::status status = e.code() == api::Errc::kOrder ? http::status::bad_request : status_for(e.code());
    spdlog::warn("re-flash: {} from {}: {} ({})", std::string(r.message.method_string()), r.remote.to_string(),
                 static_cast<unsigned>(status), e.what());
    return error_response(status, e.what());
  }
}

Response served_order(const Request& r, const OrderContext& c, const std::string& node) {
  const auto order = c.fleet->open_order(node);
  if (!order) return make_response(http::status::no_content, "");
  const std::string body = api::serialize_node_order(*order);
  Response res = make_response(http::status::ok, body, "application/json");
  std::get<StringResponse>(res).set(api::kOrderAuthHeader, c.keys->authenticate(body, order->mac));
  spdlog::info("re-flash: order {} served to {} ({})", order->id, order->node_id, r.remote.to_string());
  return res;
}

}  // namespace

void add_order_routes(Router& router, OrderContext context) {
  using V = http::verb;
  auto c = std::make_shared<OrderContext>(std::move(context));
  router.add({V::post, V::delete_}, api::kFleetReflashPath,
             [c](const Request& r, const Params&) { return operator_request(r, *c); });
  router.add({V::get}, api::route::kNodeOrder,
             [c](const Request& r, const Params& p) { return served_order(r, *c, p[0]); });
}

}  // namespace ironstone::seeder
