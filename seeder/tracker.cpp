#include "seeder/tracker.h"

#include <algorithm>
#include <charconv>

#include "seeder/query.h"

namespace ironstone::seeder {

namespace {

void bencode_string(std::string& out, std::string_view s) {
  out += std::to_string(s.size());
  out += ':';
  out.append(s.data(), s.size());
}

void bencode_int(std::string& out, std::int64_t v) {
  out += 'i';
  out += std::to_string(v);
  out += 'e';
}

template <class T>
bool parse_uint(std::string_view s, T& out) {
  if (s.empty() || s.front() == '-') return false;  // from_chars takes "-5" for a signed T
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

}  // namespace

std::string tracker_failure(std::string_view reason) {
  std::string out = "d";
  bencode_string(out, "failure reason");
  bencode_string(out, reason);
  out += 'e';
  return out;
}

std::variant<Announce, std::string> parse_announce(std::string_view query,
                                                   const boost::asio::ip::address& remote,
                                                   const boost::asio::ip::address& local) {
  auto params = parse_query(query);
  if (!params) return std::string("malformed query string");
  Announce a;
  a.address = remote;
  a.server_address = local;
  if (local.is_v6() && local.to_v6().is_v4_mapped()) {
    a.server_address = boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, local.to_v6());
  }

  auto info_hash = find_param(*params, "info_hash");
  if (!info_hash) return std::string("missing info_hash");
  if (info_hash->size() != a.info_hash.size()) return std::string("info_hash must be 20 bytes");
  std::copy(info_hash->begin(), info_hash->end(), a.info_hash.begin());

  auto peer_id = find_param(*params, "peer_id");
  if (!peer_id) return std::string("missing peer_id");
  if (peer_id->size() != a.peer_id.size()) return std::string("peer_id must be 20 bytes");
  std::copy(peer_id->begin(), peer_id->end(), a.peer_id.begin());

  auto port = find_param(*params, "port");
  if (!port) return std::string("missing port");
  if (!parse_uint(*port, a.port) || a.port == 0) return std::string("port must be 1..65535");

  for (auto [key, field] : {std::pair{"uploaded", &a.uploaded}, std::pair{"downloaded", &a.downloaded},
                            std::pair{"left", &a.left}}) {
    if (auto v = find_param(*params, key); v && !parse_uint(*v, *field)) {
      return std::string(key) + " must be a non-negative integer";
    }
  }
  if (auto v = find_param(*params, "event"); v && !v->empty()) {
    if (*v == "started")
      a.event = Announce::Event::kStarted;
    else if (*v == "completed")
      a.event = Announce::Event::kCompleted;
    else if (*v == "stopped")
      a.event = Announce::Event::kStopped;
    else if (*v != "empty" && *v != "paused")
      return std::string("unknown event");
  }
  if (auto v = find_param(*params, "compact"); v && *v == "0") a.compact = false;
  if (auto v = find_param(*params, "numwant"); v && !v->empty()) {
    if (!parse_uint(*v, a.numwant)) return std::string("numwant must be a non-negative integer");
  }
  if (auto v = find_param(*params, "ip"); v && !v->empty()) {
    boost::system::error_code ec;
    auto ip = boost::asio::ip::make_address(std::string(*v), ec);
    if (!ec && !ip.is_unspecified()) a.address = ip;  // a host name or junk: keep the connection's address
  }
  if (a.address.is_v6() && a.address.to_v6().is_v4_mapped()) {
    a.address = boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a.address.to_v6());
  }
  return a;
}

Tracker::Tracker(Options options) : options_(options) {}

void Tracker::set_allowed(std::function<bool(const InfoHash20&)> allowed) {
  std::lock_guard lock(mutex_);
  allowed_ = std::move(allowed);
}

void Tracker::expire(Swarm& swarm, Clock::time_point now) const {
  const auto ttl = 2 * options_.interval;
  std::erase_if(swarm.peers, [&](const Peer& p) { return now - p.last_seen > ttl; });
}

Tracker::Swarm* Tracker::swarm_for(const Announce& request, Clock::time_point now, std::string& failure) {
  auto it = swarms_.find(request.info_hash);
  if (it != swarms_.end()) return &it->second;
  if (request.event == Announce::Event::kStopped) {
    failure = "torrent has no peers";
    return nullptr;
  }
  if (swarms_.size() >= options_.max_swarms) {
    for (auto s = swarms_.begin(); s != swarms_.end();) {  // make room from empty swarms first
      expire(s->second, now);
      s = s->second.peers.empty() ? swarms_.erase(s) : std::next(s);
    }
    if (swarms_.size() >= options_.max_swarms) {
      failure = "too many torrents";
      return nullptr;
    }
  }
  return &swarms_.emplace(request.info_hash, Swarm{}).first->second;
}

bool Tracker::is_requester(const Peer& p, const Announce& request) {
  return p.id == request.peer_id || (p.address == request.address && p.port == request.port);
}

std::string Tracker::record(Swarm& swarm, const Announce& request, Clock::time_point now) const {
  expire(swarm, now);
  auto self = std::find_if(swarm.peers.begin(), swarm.peers.end(),
                           [&](const Peer& p) { return is_requester(p, request); });
  if (request.event == Announce::Event::kStopped) {
    if (self != swarm.peers.end()) swarm.peers.erase(self);
  } else if (self != swarm.peers.end()) {
    *self = Peer{request.peer_id, request.address, request.port, request.left, now};
  } else {
    if (swarm.peers.size() >= options_.max_peers_per_swarm) return "swarm is full";
    swarm.peers.push_back(Peer{request.peer_id, request.address, request.port, request.left, now});
  }
  if (request.event == Announce::Event::kCompleted) ++swarm.completed;
  return {};
}

std::vector<const Tracker::Peer*> Tracker::peers_for(const Swarm& swarm, const Announce& request) {
  // Everyone except the requester, rotated so that large swarms spread the load.
  std::vector<const Peer*> others;
  for (const Peer& p : swarm.peers) {
    if (is_requester(p, request)) continue;
    if (request.left == 0 && p.left == 0) continue;  // seeds need no seeds
    others.push_back(&p);
  }
  const std::size_t want = static_cast<std::size_t>(std::clamp(request.numwant, 0, options_.max_numwant));
  if (others.size() > want) {
    const std::size_t start = rotation_++ % others.size();
    std::rotate(others.begin(), others.begin() + static_cast<std::ptrdiff_t>(start), others.end());
    others.resize(want);
  }
  return others;
}

void Tracker::bencode_peers(std::string& out, const std::vector<const Peer*>& others, const Announce& request) {
  const bool rewrite_loopback = !request.address.is_loopback() && !request.server_address.is_unspecified() &&
                                !request.server_address.is_loopback();
  const auto address_of = [&](const Peer* p) {
    return rewrite_loopback && p->address.is_loopback() ? request.server_address : p->address;
  };
  if (!request.compact) {
    bencode_string(out, "peers");
    out += 'l';
    for (const Peer* p : others) {
      out += 'd';
      bencode_string(out, "ip");
      bencode_string(out, address_of(p).to_string());
      bencode_string(out, "peer id");
      bencode_string(out, std::string_view(reinterpret_cast<const char*>(p->id.data()), p->id.size()));
      bencode_string(out, "port");
      bencode_int(out, p->port);
      out += 'e';
    }
    out += 'e';
    return;
  }
  std::string v4, v6;
  for (const Peer* p : others) {
    const auto address = address_of(p);
    std::string& dst = address.is_v4() ? v4 : v6;
    if (address.is_v4()) {
      const auto b = address.to_v4().to_bytes();
      dst.append(reinterpret_cast<const char*>(b.data()), b.size());
    } else {
      const auto b = address.to_v6().to_bytes();
      dst.append(reinterpret_cast<const char*>(b.data()), b.size());
    }
    dst += static_cast<char>(p->port >> 8);
    dst += static_cast<char>(p->port & 0xFF);
  }
  bencode_string(out, "peers");
  bencode_string(out, v4);
  if (!v6.empty()) {
    bencode_string(out, "peers6");
    bencode_string(out, v6);
  }
}

std::string Tracker::announce(const Announce& request, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (allowed_ && !allowed_(request.info_hash)) return tracker_failure("torrent not tracked here");
  std::string failure;
  Swarm* swarm = swarm_for(request, now, failure);
  if (!swarm) return tracker_failure(failure);
  failure = record(*swarm, request, now);
  if (!failure.empty()) return tracker_failure(failure);

  std::size_t complete = 0;
  for (const Peer& p : swarm->peers) complete += p.left == 0 ? 1 : 0;
  const std::size_t incomplete = swarm->peers.size() - complete;

  std::string out = "d";
  bencode_string(out, "complete");
  bencode_int(out, static_cast<std::int64_t>(complete));
  bencode_string(out, "incomplete");
  bencode_int(out, static_cast<std::int64_t>(incomplete));
  bencode_string(out, "interval");
  bencode_int(out, options_.interval.count());
  bencode_string(out, "min interval");
  bencode_int(out, std::max<std::int64_t>(1, options_.interval.count() / 2));
  bencode_peers(out, peers_for(*swarm, request), request);
  out += 'e';
  return out;
}

std::vector<SwarmCounts> Tracker::counts(Clock::time_point now) const {
  std::lock_guard lock(mutex_);
  std::vector<SwarmCounts> out;
  const auto ttl = 2 * options_.interval;
  for (const auto& [hash, swarm] : swarms_) {
    SwarmCounts c{hash, 0, 0, swarm.completed};
    for (const Peer& p : swarm.peers) {
      if (now - p.last_seen > ttl) continue;
      (p.left == 0 ? c.seeders : c.leechers) += 1;
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace ironstone::seeder
