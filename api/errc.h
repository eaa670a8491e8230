// Error codes of the api module (documents of the seeder <-> flasher HTTP API).
#pragma once

#include "util/error.h"

namespace ironstone::api {

enum class Errc {
  kIdentity = 1,  // a node identity document is malformed or out of range
  kFleet,         // a fleet view (GET /v1/fleet) is malformed or out of range
  kTooLarge,      // a document exceeds its limit (api/limits.h)
  kEvent,         // a node event or lifecycle report (api/node_event.h) is malformed or out of range
  kPush,          // a push bundle or push status (api/push.h) is malformed
  kOrder,         // a re-flash order or request (api/node_order.h) is malformed
};

const std::error_category& category();
inline std::error_code make_error_code(Errc e) { return {static_cast<int>(e), category()}; }
inline Error error(Errc e, const std::string& message) { return Error(make_error_code(e), message); }

}  // namespace ironstone::api

template <>
struct std::is_error_code_enum<ironstone::api::Errc> : std::true_type {};
