// A peer's report to its upstream (peer mode, docs/peer-mode.md): the body of
// POST /v1/peers/<peer_id> (docs/http-api.md, "Peers"), which the peer's follower sends after
// each poll (seeder/peer_follower.h) and the upstream's fleet view lists apart from flashing
// nodes (seeder/fleet.h, "peers").
//
//   {"url":"http://10.0.0.21:8080/","releases":["rpi5/2026.11.1"],"bytes_served":123456}
//
// Parsing is strict (util/json_reader.h): one object, exactly these fields; "url" 1..256
// printable bytes starting with "http://" or "https://", at most kMaxPeerReleases "board/version"
// strings, "bytes_served" an unsigned integer; the body at most kMaxPeerReportBytes. Errors are
// api::Errc::kEvent (kTooLarge for the size) naming the source and field.
// Thread safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ironstone::api {

inline constexpr std::size_t kMaxPeerReportBytes = 64 * 1024;
inline constexpr std::size_t kMaxPeerReleases = 256;
inline constexpr const char* kPeersPath = "/v1/peers";
std::string peer_path(std::string_view peer_id);  // "/v1/peers/<peer_id>" (valid_node_id() ids)
namespace route {
inline constexpr const char* kPeer = "/v1/peers/{peer}";
}

struct PeerReport {
  std::string peer_id;  // from the URL, valid_node_id()
  std::string url;      // the peer's own base URL, as flashers reach it
  std::vector<std::string> releases;  // "board/version" it holds, verified
  std::uint64_t bytes_served = 0;     // payload it uploaded since it started (BitTorrent)
  bool operator==(const PeerReport&) const = default;
};

std::string peer_report_json(const PeerReport& report);  // without peer_id (it is in the URL)
PeerReport parse_peer_report(std::string_view peer_id, std::string_view body, std::string_view source);

}  // namespace ironstone::api
