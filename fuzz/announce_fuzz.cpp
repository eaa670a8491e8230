// Fuzz target: the tracker's announce query parser (seeder/tracker.h parse_announce),
// which reads the query string of any GET /announce on the seeder's HTTP port, and
// the tracker behind it. parse_announce reports bad input as a failure reason (it
// does not throw); ironstone::Error is the only exception tolerated. A request that
// parses must hold the documented invariants and be answered by a Tracker with a
// bencoded dictionary.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "util/error.h"
#include "seeder/tracker.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ironstone::seeder;
  namespace ip = boost::asio::ip;
  const std::string_view query(reinterpret_cast<const char*>(data), size);
  static const ip::address kRemote = ip::make_address("192.168.1.23");
  static const ip::address kLoopback = ip::make_address("127.0.0.1");
  static const ip::address kLocalMapped = ip::make_address("::ffff:192.168.1.2");
  try {
    // The same query from the seeder's host (loopback) and from a LAN node, so the
    // loopback-peer mapping and the peer lists are exercised.
    Tracker tracker(Tracker::Options{});
    for (const auto& [remote, local] : {std::pair{kLoopback, kLoopback}, std::pair{kRemote, kLocalMapped}}) {
      auto parsed = parse_announce(query, remote, local);
      if (const auto* reason = std::get_if<std::string>(&parsed)) {
        if (reason->empty()) std::abort();
        const std::string body = tracker_failure(*reason);
        if (!body.starts_with("d14:failure reason") || !body.ends_with('e')) std::abort();
        continue;
      }
      const Announce& a = std::get<Announce>(parsed);
      if (a.port == 0 || a.numwant < 0) std::abort();
      const std::string body = tracker.announce(a);
      if (body.size() < 2 || body.front() != 'd' || body.back() != 'e') std::abort();
    }
    (void)tracker.counts();
  } catch (const ironstone::Error&) {
    return 0;
  }
  return 0;
}
