#include "swarm/lan_settings.h"

#include <array>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/address_v6.hpp>
#include <libtorrent/fingerprint.hpp>
#include <libtorrent/ip_filter.hpp>
#include <libtorrent/session_handle.hpp>
#include <string_view>
#include <utility>

namespace ironstone::swarm {

namespace {

// "-XXmnp0-" for the two-letter name and version "m.n.p".
std::string fingerprint_of(const char* name, const std::string& version) {
  int part[3] = {0, 0, 0};
  std::size_t at = 0;
  for (int& p : part) {
    while (at < version.size() && version[at] >= '0' && version[at] <= '9')
      p = p * 10 + (version[at++] - '0');
    if (at < version.size() && version[at] == '.') ++at;
  }
  return lt::generate_fingerprint(name, part[0] % 10, part[1] % 10, part[2] % 10, 0);
}

}  // namespace

std::string peer_fingerprint(Role role, const std::string& version) {
  return fingerprint_of(role == Role::kSeeder ? kSeederPeerIdPrefix + 1 : kNodePeerIdPrefix + 1, version);
}

std::string peer_seeder_fingerprint(const std::string& version) {
  return fingerprint_of(kPeerSeederPeerIdPrefix + 1, version);
}

bool is_seeder_peer_id(const lt::peer_id& pid) {
  const std::size_t n = std::char_traits<char>::length(kSeederPeerIdPrefix);
  return std::string_view(pid.data(), n) == kSeederPeerIdPrefix;
}

namespace {

using sp = lt::settings_pack;

// Who we are, where we listen, which alerts we get.
void set_identity(lt::settings_pack& s, const LanOptions& options) {
  s.set_str(sp::listen_interfaces, options.listen_interfaces);
  s.set_str(sp::user_agent, options.user_agent);
  s.set_str(sp::peer_fingerprint, peer_fingerprint(options.role, IRONSTONE_VERSION));
  s.set_int(sp::alert_mask, static_cast<int>(static_cast<std::uint32_t>(options.alert_mask)));
  s.set_int(sp::alert_queue_size, options.alert_queue_size);
}

// TCP only; a private LAN swarm (no discovery, no port mapping); peers that reconnect quickly.
void set_lan_connections(lt::settings_pack& s) {
  s.set_bool(sp::enable_outgoing_utp, false);
  s.set_bool(sp::enable_incoming_utp, false);
  s.set_bool(sp::enable_outgoing_tcp, true);
  s.set_bool(sp::enable_incoming_tcp, true);

  // Nodes may share an address (tests, benchmarks, NAT); reconnect quickly and keep
  // connections to finished peers, which may want more data later.
  s.set_bool(sp::allow_multiple_connections_per_ip, true);
  s.set_int(sp::min_reconnect_time, 1);
  s.set_bool(sp::close_redundant_connections, false);
  s.set_int(sp::peer_connect_timeout, 5);

  s.set_bool(sp::enable_dht, false);
  s.set_bool(sp::enable_lsd, false);
  s.set_bool(sp::enable_upnp, false);
  s.set_bool(sp::enable_natpmp, false);
}

// Throughput on a fast link, and trackers on the LAN that answer fast.
void set_throughput(lt::settings_pack& s) {
  s.set_int(sp::unchoke_slots_limit, -1);
  s.set_int(sp::max_queued_disk_bytes, 64 * 1024 * 1024);
  s.set_int(sp::send_buffer_watermark, 8 * 1024 * 1024);
  s.set_int(sp::send_buffer_low_watermark, 1024 * 1024);
  s.set_int(sp::send_buffer_watermark_factor, 150);
  s.set_int(sp::max_out_request_queue, 1500);
  s.set_int(sp::connections_limit, 2000);

  // Announce again soon after a change.
  s.set_int(sp::min_announce_interval, 1);
  s.set_bool(sp::announce_to_all_trackers, true);
  s.set_bool(sp::announce_to_all_tiers, true);
}

// A node passes each chunk on to the others as soon as it is whole, and a rack finishes
// when the last chunk has gone round: what sits in queues is time. Short queues on the
// way out (libtorrent's send buffer and the socket's) and requests for 1 s of data
// instead of 3: measured, 8 nodes on 100 Mbit/s ports, the last node done in 20.7-20.8 s
// against 21.4-22.0 s with 8 MiB send buffers, the kernel's and 3 s (docs/performance.md).
void set_leecher_queues(lt::settings_pack& s) {
  s.set_int(sp::send_buffer_watermark, 512 * 1024);
  s.set_int(sp::send_buffer_low_watermark, 128 * 1024);
  s.set_int(sp::send_socket_buffer_size, 256 * 1024);
  s.set_int(sp::request_queue_time, 1);
}

// high_performance_seed() suggests pieces in its read cache to peers, and a
// libtorrent peer takes a suggested piece before any other, whatever its own
// priorities: with it the nodes fetched other nodes' stripes from the NAS
// (flasher/stripe.h; measured: the NAS sent 1.7 copies to 8 nodes).
void set_seeder_policy(lt::settings_pack& s) {
  s.set_int(sp::suggest_mode, sp::no_piece_suggestions);
  s.set_int(sp::active_seeds, -1);
  s.set_int(sp::active_limit, -1);
}

// What bounded_memory changes (lan_settings.h): every queue that holds piece data in memory.
void set_bounded_memory(lt::settings_pack& s) {
  s.set_int(sp::max_out_request_queue, 256);  // 256 blocks of 16 KiB in flight
  s.set_int(sp::max_queued_disk_bytes, 4 * 1024 * 1024);
  s.set_int(sp::send_buffer_watermark, 512 * 1024);
  s.set_int(sp::send_buffer_low_watermark, 128 * 1024);
  s.set_int(sp::send_buffer_watermark_factor, 50);
  s.set_int(sp::send_socket_buffer_size, 256 * 1024);
  s.set_int(sp::recv_socket_buffer_size, 256 * 1024);
}

}  // namespace

lt::settings_pack lan_settings(const LanOptions& options) {
  const bool fast_seed = options.role == Role::kSeeder && !options.bounded_memory;
  lt::settings_pack s = fast_seed ? lt::high_performance_seed() : lt::settings_pack{};
  set_identity(s, options);
  set_lan_connections(s);
  set_throughput(s);
  if (options.role == Role::kLeecher) set_leecher_queues(s);
  if (options.role == Role::kSeeder) set_seeder_policy(s);
  if (options.bounded_memory) set_bounded_memory(s);
  return s;
}

void apply_lan_peer_classes(lt::session& session) {
  using boost::asio::ip::make_address_v4;
  using boost::asio::ip::make_address_v6;
  static constexpr std::array<std::pair<const char*, const char*>, 6> kRanges = {{
      {"10.0.0.0", "10.255.255.255"},
      {"172.16.0.0", "172.31.255.255"},
      {"192.168.0.0", "192.168.255.255"},
      {"169.254.0.0", "169.254.255.255"},
      {"127.0.0.0", "127.255.255.255"},
      {"198.18.0.0", "198.19.255.255"},
  }};
  lt::ip_filter filter;
  const std::uint32_t global = 1u << static_cast<std::uint32_t>(lt::session::global_peer_class_id);
  const std::uint32_t local = 1u << static_cast<std::uint32_t>(lt::session::local_peer_class_id);
  // As libtorrent's default: everyone is global, then the local ranges override.
  filter.add_rule(make_address_v4("0.0.0.0"), make_address_v4("255.255.255.255"), global);
  filter.add_rule(make_address_v6("::"), make_address_v6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), global);
  filter.add_rule(make_address_v6("::1"), make_address_v6("::1"), local);
  filter.add_rule(make_address_v6("fe80::"), make_address_v6("febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
                  local);
  filter.add_rule(make_address_v6("fc00::"), make_address_v6("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
                  local);
  for (const auto& [first, last] : kRanges) {
    filter.add_rule(make_address_v4(first), make_address_v4(last), local);
  }
  session.set_peer_class_filter(filter);
}

}  // namespace ironstone::swarm
