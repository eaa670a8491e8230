// The seeder's built-in BitTorrent tracker (BEP 3 announce, BEP 23 compact peers,
// BEP 7 peers6), so a LAN needs nothing else.
//
// Swarms are keyed by the 20-byte info-hash as announced; a v2 torrent is announced
// by libtorrent with its SHA-256 info-hash truncated to 20 bytes. Peers expire after
// 2 x interval without an announce; a peer is never returned to itself (same
// peer_id, or same address and port). Memory is bounded: max_swarms and
// max_peers_per_swarm; beyond them announces get a failure reason.
//
// When an `allowed` predicate is set, only those info-hashes are tracked (the
// seeder allows the torrents it seeds); others get "failure reason".
//
// Thread safety: all members may be called from any thread (one mutex).
#pragma once

#include <array>
#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace ironstone::seeder {

using InfoHash20 = std::array<std::uint8_t, 20>;
using PeerId = std::array<std::uint8_t, 20>;

struct Announce {
  enum class Event { kNone, kStarted, kCompleted, kStopped };
  InfoHash20 info_hash{};
  PeerId peer_id{};
  boost::asio::ip::address address;  // the connection's address, or a valid ip= parameter
  // The seeder's own address on the requester's connection. A peer that announced
  // from loopback runs on the seeder's host (e.g. the seeder itself announcing to
  // http://127.0.0.1/announce); it is reported to non-loopback requesters at this
  // address, which they can reach. Unset: reported as announced.
  boost::asio::ip::address server_address;
  std::uint16_t port = 0;
  std::uint64_t uploaded = 0;
  std::uint64_t downloaded = 0;
  std::uint64_t left = 0;
  Event event = Event::kNone;
  bool compact = true;
  int numwant = 50;
};

// Parses an announce query string. Returns the failure reason on bad input
// ("info_hash must be 20 bytes", "missing port", ...).
std::variant<Announce, std::string> parse_announce(std::string_view query,
                                                   const boost::asio::ip::address& remote,
                                                   const boost::asio::ip::address& local = {});

// Bencoded {"failure reason": reason}.
std::string tracker_failure(std::string_view reason);

struct SwarmCounts {
  InfoHash20 info_hash{};
  std::size_t seeders = 0;
  std::size_t leechers = 0;
  std::uint64_t completed = 0;  // "completed" events seen
};

class Tracker {
 public:
  using Clock = std::chrono::steady_clock;
  struct Options {
    std::chrono::seconds interval{30};
    std::size_t max_swarms = 4096;
    std::size_t max_peers_per_swarm = 4096;
    int max_numwant = 200;
  };

  explicit Tracker(Options options);

  void set_allowed(std::function<bool(const InfoHash20&)> allowed);

  // Records the announce and returns the bencoded response.
  std::string announce(const Announce& request, Clock::time_point now = Clock::now());

  std::vector<SwarmCounts> counts(Clock::time_point now = Clock::now()) const;

 private:
  struct Peer {
    PeerId id{};
    boost::asio::ip::address address;
    std::uint16_t port = 0;
    std::uint64_t left = 0;
    Clock::time_point last_seen;
  };
  struct Swarm {
    std::vector<Peer> peers;
    std::uint64_t completed = 0;
  };

  void expire(Swarm& swarm, Clock::time_point now) const;
  // The steps of announce(), under mutex_. The request's swarm, made when new
  // (nullptr and `failure` set when it cannot be); the requester recorded, updated or
  // removed (returns a failure reason, "" when recorded); the peers to return to it;
  // and their bencoded "peers" (and "peers6") entries.
  Swarm* swarm_for(const Announce& request, Clock::time_point now, std::string& failure);
  std::string record(Swarm& swarm, const Announce& request, Clock::time_point now) const;
  std::vector<const Peer*> peers_for(const Swarm& swarm, const Announce& request);
  static void bencode_peers(std::string& out, const std::vector<const Peer*>& others, const Announce& request);
  static bool is_requester(const Peer& p, const Announce& request);

  Options options_;
  mutable std::mutex mutex_;
  std::function<bool(const InfoHash20&)> allowed_;
  std::map<InfoHash20, Swarm> swarms_;
  std::uint64_t rotation_ = 0;
};

}  // namespace ironstone::seeder
