#include "swarm/errc.h"

namespace ironstone::swarm {
namespace {
const char* describe(int value) {
  switch (static_cast<Errc>(value)) {
    case Errc::kUrl: return "bad URL";
    case Errc::kResolve: return "host name does not resolve";
    case Errc::kConnect: return "connection failed";
    case Errc::kTimeout: return "timed out";
    case Errc::kProtocol: return "malformed HTTP";
    case Errc::kTooLarge: return "response too large";
    case Errc::kHttpStatus: return "unexpected HTTP status";
    case Errc::kServerError: return "HTTP server error";
    case Errc::kEnrolment: return "enrolment refused";
  }
  return "unknown swarm error";
}
}  // namespace

const std::error_category& category() {
  static const TableCategory cat("swarm", describe);
  return cat;
}

}  // namespace ironstone::swarm
