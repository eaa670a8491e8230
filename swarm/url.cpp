#include "swarm/url.h"

#include <boost/asio/ip/address.hpp>

#include <cctype>
#include <charconv>

namespace ironstone::swarm {
namespace {

Error bad(std::string_view text, const std::string& why) {
  return error(Errc::kUrl, "bad URL '" + std::string(text) + "': " + why);
}

bool valid_hostname(std::string_view h) {
  if (h.empty() || h.size() > 253) return false;
  std::size_t label = 0;
  for (std::size_t i = 0; i < h.size(); ++i) {
    char c = h[i];
    if (c == '.') {
      if (label == 0 || h[i - 1] == '-') return false;
      label = 0;
      continue;
    }
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok || (c == '-' && label == 0) || ++label > 63) return false;
  }
  return h.back() != '-';
}

}  // namespace

std::string Url::host_header() const {
  std::string h = ipv6_literal ? "[" + host + "]" : host;
  return port == 80 ? h : h + ":" + std::to_string(port);
}

std::string Url::text() const { return "http://" + host_header() + target; }

namespace {

// After "http://": the authority (host and port), with url.target set from what follows it.
std::string_view split_target(std::string_view text, Url& url) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) throw bad(text, "contains a space or control character");
  }
  auto colon = text.find("://");
  if (colon == std::string_view::npos) throw bad(text, "missing scheme (expected http://)");
  std::string scheme(text.substr(0, colon));
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "http") throw bad(text, "unsupported scheme '" + scheme + "' (only http:// is supported)");
  std::string_view rest = text.substr(colon + 3);
  if (rest.find('#') != std::string_view::npos) throw bad(text, "fragments are not supported");
  std::size_t slash = rest.find_first_of("/?");
  if (slash != std::string_view::npos) {
    url.target = std::string(rest.substr(slash));
    if (url.target[0] == '?') url.target.insert(0, "/");
  }
  std::string_view authority = rest.substr(0, slash);
  if (authority.find('@') != std::string_view::npos) throw bad(text, "user info is not supported");
  return authority;
}

// "[v6]" or "[v6]:port" into url.host; returns the port text (empty: none).
std::string_view parse_ipv6_authority(std::string_view text, std::string_view authority, Url& url) {
  auto close = authority.find(']');
  if (close == std::string_view::npos) throw bad(text, "unterminated IPv6 literal");
  url.host = std::string(authority.substr(1, close - 1));
  boost::system::error_code ec;
  auto addr = boost::asio::ip::make_address_v6(url.host, ec);
  if (ec) throw bad(text, "bad IPv6 literal '" + url.host + "'");
  url.host = addr.to_string();
  url.ipv6_literal = true;
  std::string_view after = authority.substr(close + 1);
  if (after.empty()) return {};
  if (after[0] != ':') throw bad(text, "unexpected text after IPv6 literal");
  if (after.size() == 1) throw bad(text, "empty port");
  return after.substr(1);
}

// "host", "host:port", "1.2.3.4[:port]" into url.host; returns the port text (empty: none).
std::string_view parse_host_authority(std::string_view text, std::string_view authority, Url& url) {
  std::string_view port_text;
  auto c = authority.find(':');
  url.host = std::string(authority.substr(0, c));
  if (c != std::string_view::npos) {
    port_text = authority.substr(c + 1);
    if (port_text.empty()) throw bad(text, "empty port");
  }
  if (url.host.empty()) throw bad(text, "missing host");
  if (!valid_hostname(url.host)) throw bad(text, "bad host name '" + url.host + "'");
  if (url.host.find_first_not_of("0123456789.") == std::string::npos) {
    boost::system::error_code ec;
    boost::asio::ip::make_address_v4(url.host, ec);
    if (ec) throw bad(text, "bad IPv4 address '" + url.host + "'");
  }
  return port_text;
}

std::uint16_t parse_port(std::string_view text, std::string_view port_text) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || value == 0 || value > 65535) {
    throw bad(text, "bad port '" + std::string(port_text) + "' (expected 1..65535)");
  }
  return static_cast<std::uint16_t>(value);
}

}  // namespace

Url parse_url(std::string_view text) {
  Url url;
  const std::string_view authority = split_target(text, url);
  const std::string_view port_text = !authority.empty() && authority[0] == '['
                                         ? parse_ipv6_authority(text, authority, url)
                                         : parse_host_authority(text, authority, url);
  if (!port_text.empty()) url.port = parse_port(text, port_text);
  return url;
}

}  // namespace ironstone::swarm
