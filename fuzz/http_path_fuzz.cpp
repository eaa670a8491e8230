// Fuzz target: how the seeder reads request targets from the network (seeder/query.h
// percent_decode and parse_query, seeder/router.h path splitting and route matching
// through the real route table, seeder/file_response.h parse_range). The contract:
// nothing throws but ironstone::Error, decoding round-trips, and a target that the
// router must refuse (a malformed escape, "//", an encoded '/' or NUL) gets 400.
//
// Input: byte 0 picks the method (GET, HEAD, POST, PUT, DELETE); then the request
// target up to the first '\n'; the rest is both the request body and a Range header
// value (parsed against a 1000-byte file).
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "util/error.h"
#include "seeder/file_response.h"
#include "seeder/fleet.h"
#include "seeder/query.h"
#include "seeder/router.h"
#include "seeder/routes.h"
#include "seeder/tracker.h"

namespace {

using namespace ironstone::seeder;

std::string escape_all(std::string_view raw) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : raw) {
    out += '%';
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

void check_decoding(std::string_view text) {
  for (bool plus : {false, true}) {
    const auto decoded = percent_decode(text, plus);
    if (decoded && decoded->size() > text.size()) std::abort();
    if (text.find('%') == std::string_view::npos) {
      if (!decoded) std::abort();
      if (!plus && *decoded != text) std::abort();
    }
    const auto again = percent_decode(escape_all(text), plus);
    if (!again || *again != text) std::abort();
  }
  const auto params = parse_query(text);
  if (params) {
    if (params->size() > 64) std::abort();
    std::string rebuilt;
    for (const auto& [k, v] : *params) rebuilt += (rebuilt.empty() ? "" : "&") + escape_all(k) + "=" + escape_all(v);
    const auto reparsed = parse_query(rebuilt);
    if (!reparsed || *reparsed != *params) std::abort();
  }
}

// A path the router must refuse with 400 (docs/http-api.md): an empty segment ("//",
// a trailing '/'), a malformed escape, or a segment that decodes to '/' or NUL.
bool malformed_path(std::string_view path) {
  if (path == "/") return false;
  std::string_view rest = path.substr(1);
  while (true) {
    const std::size_t slash = rest.find('/');
    const std::string_view raw = rest.substr(0, slash);
    if (raw.empty()) return true;
    const auto seg = percent_decode(raw, false);
    if (!seg || seg->find('/') != std::string::npos || seg->find('\0') != std::string::npos) return true;
    if (slash == std::string_view::npos) return false;
    rest.remove_prefix(slash + 1);
  }
}

struct Routes {
  Tracker tracker{Tracker::Options{}};
  Fleet fleet{Fleet::Options{}};
  std::atomic<std::uint64_t> chunk_bytes{0};
  Router router;
  Routes() {
    define_route_params(router);
    // A store that does not exist: every file route answers 404 after validation.
    add_store_routes(router, "/nonexistent/ironstone-fuzz-store", chunk_bytes);
    add_api_routes(router, ApiContext{tracker, fleet, [] { return MetricsSnapshot{}; },
                                      [] { return nlohmann::json{{"name", "ironstone-seeder"}}; }});
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Routes routes;
  if (size == 0) return 0;
  static constexpr http::verb kMethods[] = {http::verb::get, http::verb::head, http::verb::post, http::verb::put,
                                            http::verb::delete_};
  const http::verb method = kMethods[data[0] % 5];
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::size_t nl = input.find('\n');
  const std::string_view target = input.substr(0, nl);
  const std::string_view rest = nl == std::string_view::npos ? std::string_view{} : input.substr(nl + 1);

  check_decoding(target);

  ByteRange range;
  switch (parse_range(rest, 1000, range)) {
    case RangeResult::kSatisfiable:
      if (range.length == 0 || range.offset >= 1000 || range.length > 1000 - range.offset) std::abort();
      break;
    case RangeResult::kNone:
    case RangeResult::kUnsatisfiable:
      break;
  }

  // As http_server.cpp hands a request to the router.
  if (target.empty() || target.front() != '/') return 0;
  RequestMessage message{method, std::string(target), 11};
  message.body() = std::string(rest);
  const std::size_t q = target.find('?');
  const std::string_view path = target.substr(0, q);
  const std::string_view query = q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
  const Request request{message, path, query, boost::asio::ip::make_address("192.168.1.23"),
                        boost::asio::ip::make_address("192.168.1.2")};
  try {
    const Response response = routes.router.dispatch(request);
    const bool bad_request = status_of(response) == http::status::bad_request;
    if (malformed_path(path) && !bad_request) std::abort();
    // Otherwise only the events route (POST) answers 400, for a bad body.
    if (!malformed_path(path) && bad_request && method != http::verb::post) std::abort();
  } catch (const ironstone::Error&) {
    return 0;
  }
  return 0;
}
