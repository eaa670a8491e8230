#include "seeder/config.h"

#include <boost/asio/ip/address.hpp>
#include <charconv>

#include "seeder/errc.h"

namespace ironstone::seeder {

Endpoint parse_endpoint(std::string_view text, std::uint16_t default_port, std::string_view what) {
  const auto fail = [&](const std::string& why) {
    return error(Errc::kConfig, std::string(what) + " '" + std::string(text) + "': " + why);
  };
  Endpoint ep{"", default_port};
  std::string_view host = text;
  std::string_view port;
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos) throw fail("missing ']'");
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') throw fail("expected ':' after ']'");
      port = rest.substr(1);
      if (port.empty()) throw fail("empty port");
    }
  } else if (const auto colon = text.rfind(':'); colon != std::string_view::npos) {
    if (text.find(':') != colon) throw fail("IPv6 addresses need brackets: [::1]:8080");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (port.empty()) throw fail("empty port");
  }
  if (!port.empty()) {
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || ptr != port.data() + port.size() || value > 65535) throw fail("bad port");
    ep.port = static_cast<std::uint16_t>(value);
  }
  ep.address = host.empty() ? "0.0.0.0" : std::string(host);
  boost::system::error_code ec;
  boost::asio::ip::make_address(ep.address, ec);
  if (ec) throw fail("not an IP address");
  return ep;
}

void validate(const SeederConfig& c) {
  if (c.store.empty()) throw error(Errc::kConfig, "--store: required");
  if (c.http_threads < 1 || c.http_threads > 256)
    throw error(Errc::kConfig, "--http-threads: must be 1..256");
  if (c.request_timeout.count() <= 0) throw error(Errc::kConfig, "--request-timeout: must be positive");
  if (c.scan_interval.count() <= 0) throw error(Errc::kConfig, "--scan-interval: must be positive");
  if (c.announce_interval.count() <= 0) throw error(Errc::kConfig, "--announce-interval: must be positive");
  if (c.max_body < 1024) throw error(Errc::kConfig, "--max-body: must be at least 1024");
  if (!c.public_url.empty() && !c.public_url.starts_with("http://")) {
    throw error(Errc::kConfig, "--public-url '" + c.public_url + "': must start with http://");
  }
  if (c.public_url.find('?') != std::string::npos) {
    throw error(Errc::kConfig,
                "--public-url: may not carry a query (libtorrent refuses local web seeds with one)");
  }
}

std::string base_url(const SeederConfig& c, std::uint16_t bound_port) {
  if (!c.public_url.empty()) return c.public_url.ends_with('/') ? c.public_url : c.public_url + "/";
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(c.http.address, ec);
  std::string host = "127.0.0.1";
  if (!ec && !address.is_unspecified()) host = address.is_v6() ? "[" + c.http.address + "]" : c.http.address;
  return "http://" + host + ":" + std::to_string(bound_port) + "/";
}

}  // namespace ironstone::seeder
