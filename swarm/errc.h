// Error codes of the swarm module (network plumbing: HTTP client, URLs, sessions).
#pragma once

#include "util/error.h"

namespace ironstone::swarm {

enum class Errc {
  kUrl = 1,      // a URL is malformed or uses something unsupported (https, userinfo, ...)
  kResolve,      // the host name does not resolve
  kConnect,      // the connection could not be made, or broke during the exchange
  kTimeout,      // the request did not complete within its time limit
  kProtocol,     // the peer's HTTP is malformed
  kTooLarge,     // a response exceeds its hard size bound
  kHttpStatus,   // the server answered with a status the caller does not accept (4xx, 3xx)
  kServerError,  // the server answered 5xx (after retries, when retried)
  kEnrolment,    // an enrolment key, identity request or sealed answer is malformed or refused (enrolment.h)
};

const std::error_category& category();
inline std::error_code make_error_code(Errc e) { return {static_cast<int>(e), category()}; }
inline Error error(Errc e, const std::string& message) { return Error(make_error_code(e), message); }

}  // namespace ironstone::swarm

template <>
struct std::is_error_code_enum<ironstone::swarm::Errc> : std::true_type {};
