#include "seeder/config.h"

#include <boost/asio/ip/address.hpp>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

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

std::int64_t parse_rate(std::string_view text, std::string_view what) {
  const auto fail = [&](const std::string& why) {
    return error(Errc::kConfig, std::string(what) + " '" + std::string(text) + "': " + why);
  };
  std::string lower;
  for (char c : text) {
    if (c != ' ') lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  std::size_t digits = 0;
  while (digits < lower.size() && (std::isdigit(static_cast<unsigned char>(lower[digits])) || lower[digits] == '.')) {
    ++digits;
  }
  if (digits == 0) throw fail("expected a number, e.g. 12M or 100mbit");
  double value = 0;
  const auto [ptr, ec] = std::from_chars(lower.data(), lower.data() + digits, value);
  if (ec != std::errc() || ptr != lower.data() + digits || !std::isfinite(value)) throw fail("bad number");
  std::string unit = lower.substr(digits);
  if (unit.ends_with("/s")) unit.resize(unit.size() - 2);
  if (unit.ends_with("bps")) unit.replace(unit.size() - 3, 3, "bit");  // mbps = mbit/s
  double scale = 0;
  static constexpr std::pair<std::string_view, double> kUnits[] = {
      {"", 1},           {"b", 1},
      {"k", 1024.0},     {"kb", 1024.0},     {"kib", 1024.0},
      {"m", 1048576.0},  {"mb", 1048576.0},  {"mib", 1048576.0},
      {"g", 1073741824.0}, {"gb", 1073741824.0}, {"gib", 1073741824.0},
      {"bit", 1.0 / 8},  {"kbit", 1e3 / 8},  {"mbit", 1e6 / 8},  {"gbit", 1e9 / 8},
  };
  for (const auto& [name, factor] : kUnits) {
    if (unit == name) scale = factor;
  }
  if (scale == 0) throw fail("unknown unit '" + unit + "' (use K, M, G bytes or kbit, mbit, gbit)");
  const double bytes = std::round(value * scale);
  if (bytes >= static_cast<double>(std::numeric_limits<int>::max())) throw fail("must be below 2 GiB/s");
  if (bytes == 0 && value != 0) throw fail("below 1 byte/s");
  return static_cast<std::int64_t>(bytes);
}

std::uint64_t parse_size(std::string_view text, std::string_view what) {
  const auto fail = [&](const std::string& why) {
    return error(Errc::kConfig, std::string(what) + " '" + std::string(text) + "': " + why);
  };
  std::size_t digits = 0;
  while (digits < text.size() && (std::isdigit(static_cast<unsigned char>(text[digits])) || text[digits] == '.'))
    ++digits;
  double value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + digits, value);
  if (digits == 0 || ec != std::errc() || ptr != text.data() + digits || !std::isfinite(value))
    throw fail("expected a size, e.g. 20G or 500M");
  std::string unit;
  for (char c : text.substr(digits)) unit.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (unit.ends_with("ib")) unit.resize(unit.size() - 2);
  else if (unit.size() > 1 && unit.ends_with('b')) unit.resize(unit.size() - 1);
  static constexpr std::pair<std::string_view, double> kUnits[] = {
      {"", 1}, {"b", 1}, {"k", 1024.0}, {"m", 1048576.0}, {"g", 1073741824.0}, {"t", 1099511627776.0}};
  for (const auto& [name, factor] : kUnits) {
    if (unit != name) continue;
    const double bytes = std::round(value * factor);
    if (bytes >= 18446744073709551616.0) throw fail("too large (at most 16 EiB)");
    if (bytes == 0 && value != 0) throw fail("below 1 byte");
    return static_cast<std::uint64_t>(bytes);
  }
  throw fail("unknown unit '" + unit + "' (use K, M, G, T)");
}

void validate(const SeederConfig& c) {
  if (c.store.empty()) throw error(Errc::kConfig, "--store: required");
  if (c.http_threads < 1 || c.http_threads > 256)
    throw error(Errc::kConfig, "--http-threads: must be 1..256");
  if (c.request_timeout.count() <= 0) throw error(Errc::kConfig, "--request-timeout: must be positive");
  if (c.upload_timeout.count() <= 0) throw error(Errc::kConfig, "--upload-timeout: must be positive");
  if (c.scan_interval.count() <= 0) throw error(Errc::kConfig, "--scan-interval: must be positive");
  if (c.announce_interval.count() <= 0) throw error(Errc::kConfig, "--announce-interval: must be positive");
  if (c.boot_timeout.count() <= 0) throw error(Errc::kConfig, "--boot-timeout: must be positive");
  if (c.join_timeout.count() <= 0) throw error(Errc::kConfig, "--join-timeout: must be positive");
  if (c.max_body < 1024) throw error(Errc::kConfig, "--max-body: must be at least 1024");
  if (c.upload_limit < 0 || c.upload_limit >= std::numeric_limits<int>::max()) {
    throw error(Errc::kConfig, "--upload-limit: must be 0 (unlimited) or a rate below 2 GiB/s");
  }
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
