#include "seeder/http_types.h"

#include <nlohmann/json.hpp>

namespace ironstone::seeder {

Response make_response(http::status status, std::string body, std::string_view content_type) {
  StringResponse res{status, 11};
  res.set(http::field::content_type, std::string(content_type));
  res.set(http::field::cache_control, "no-store");
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

Response error_response(http::status status, std::string_view message) {
  nlohmann::json doc = {{"error", std::string(message)}};
  return make_response(status, doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n",
                       "application/json");
}

Response json_response(std::string body, http::status status) {
  return make_response(status, std::move(body), "application/json");
}

http::status status_of(const Response& response) {
  return std::visit([](const auto& r) { return r.result(); }, response);
}

}  // namespace ironstone::seeder
