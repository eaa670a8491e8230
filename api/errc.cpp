#include "api/errc.h"

namespace ironstone::api {
namespace {
const char* describe(int value) {
  switch (static_cast<Errc>(value)) {
    case Errc::kIdentity: return "malformed node identity";
    case Errc::kFleet: return "bad fleet view";
    case Errc::kTooLarge: return "document too large";
    case Errc::kEvent: return "malformed node report";
    case Errc::kPush: return "malformed push request";
    case Errc::kOrder: return "malformed re-flash order";
  }
  return "unknown api error";
}
}  // namespace

const std::error_category& category() {
  static const TableCategory cat("api", describe);
  return cat;
}

}  // namespace ironstone::api
