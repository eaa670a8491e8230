// http:// URLs for the seeder's API (manifests, channel pointers, status reports).
//
// Accepted: "http://" host [":" port] [path ["?" query]], where host is a DNS name
// (letters, digits, '-', '.'), an IPv4 literal or a bracketed IPv6 literal ("[fe80::1]").
// Refused with a clear Error(swarm::Errc::kUrl) naming the URL: other schemes (https
// included: the swarm trusts signatures, not transport), user info, fragments, empty
// or bad hosts, ports outside 1..65535, spaces and control characters.
// Thread safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "swarm/errc.h"

namespace ironstone::swarm {

struct Url {
  std::string host;        // without brackets for IPv6 ("::1")
  std::uint16_t port = 80;
  std::string target = "/";  // path and query, always starting with '/'
  bool ipv6_literal = false;

  // The Host header value: "host", "host:8080", "[::1]:8080".
  std::string host_header() const;
  // Canonical text: "http://[::1]:8080/path?q".
  std::string text() const;
  bool operator==(const Url&) const = default;
};

Url parse_url(std::string_view text);

}  // namespace ironstone::swarm
