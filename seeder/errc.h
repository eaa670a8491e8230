// Error codes of the seeder module (HTTP server, tracker, fleet view, swarm side).
// Reported as ironstone::Error (util/error.h) with a message that says where.
#pragma once

#include "util/error.h"

namespace ironstone::seeder {

enum class Errc {
  kConfig = 1,  // a flag or config file value is invalid
  kListen,      // binding or listening on an address failed
  kStore,       // the store is missing or unreadable
  kTorrent,     // a release torrent cannot be loaded or added
  kBadRequest,  // an HTTP request is malformed (strict parsing of events, queries)
  kTooLarge,    // a request exceeds a hard bound
  kNotFound,    // no such route, release, chunk or node
  kSession,     // the libtorrent session reported an error
  kDatabase,    // the fleet database cannot be opened, is corrupt, locked or too new
  kRefused,     // a pushed release does not verify (signature, policy, torrent): 403
  kUnauthorized,  // a push without the upload token, or with a wrong one: 401
  kConflict,    // a push that cannot go on (chunks missing, another release of that version): 409
  kBusy,        // too many uploads at once, or the store is locked by another writer: 503
};

const std::error_category& category();
inline std::error_code make_error_code(Errc e) { return {static_cast<int>(e), category()}; }
inline Error error(Errc e, const std::string& message) { return Error(make_error_code(e), message); }

}  // namespace ironstone::seeder

template <>
struct std::is_error_code_enum<ironstone::seeder::Errc> : std::true_type {};
