// The settings contract of swarm/lan_settings.h: what each role's session is given, and why
// (the measured reasons are in lan_settings.cpp and docs/performance.md).
#include <gtest/gtest.h>

#include "swarm/lan_settings.h"

namespace ironstone::swarm {
namespace {

using sp = lt::settings_pack;

LanOptions options(Role role, bool bounded = false) {
  LanOptions o;
  o.role = role;
  o.bounded_memory = bounded;
  return o;
}

TEST(LanSettings, ANodeKeepsShortQueuesOnTheWayOut) {
  const lt::settings_pack s = lan_settings(options(Role::kLeecher));
  EXPECT_EQ(s.get_int(sp::send_buffer_watermark), 512 * 1024);
  EXPECT_EQ(s.get_int(sp::send_socket_buffer_size), 256 * 1024);
  EXPECT_EQ(s.get_int(sp::request_queue_time), 1);  // requests for 1 s of data, not 3
}

TEST(LanSettings, TheSeederSuggestsNoPiecesAndKeepsEveryTorrentActive) {
  const lt::settings_pack s = lan_settings(options(Role::kSeeder));
  EXPECT_EQ(s.get_int(sp::suggest_mode), static_cast<int>(sp::no_piece_suggestions));
  EXPECT_EQ(s.get_int(sp::active_seeds), -1);
  EXPECT_EQ(s.get_int(sp::active_limit), -1);
}

TEST(LanSettings, TcpOnlyAndNoDiscoveryForEveryRole) {
  for (Role role : {Role::kLeecher, Role::kSeeder}) {
    const lt::settings_pack s = lan_settings(options(role));
    EXPECT_FALSE(s.get_bool(sp::enable_outgoing_utp));
    EXPECT_FALSE(s.get_bool(sp::enable_incoming_utp));
    EXPECT_FALSE(s.get_bool(sp::enable_dht));
    EXPECT_FALSE(s.get_bool(sp::enable_lsd));
    EXPECT_FALSE(s.get_bool(sp::enable_upnp));
    EXPECT_FALSE(s.get_bool(sp::enable_natpmp));
  }
}

TEST(LanSettings, BoundedMemoryCapsEveryQueueThatHoldsPieceData) {
  for (Role role : {Role::kLeecher, Role::kSeeder}) {
    const lt::settings_pack s = lan_settings(options(role, true));
    EXPECT_EQ(s.get_int(sp::max_out_request_queue), 256);
    EXPECT_EQ(s.get_int(sp::max_queued_disk_bytes), 4 * 1024 * 1024);
    EXPECT_EQ(s.get_int(sp::send_buffer_watermark), 512 * 1024);
    EXPECT_EQ(s.get_int(sp::send_buffer_low_watermark), 128 * 1024);
    EXPECT_EQ(s.get_int(sp::send_buffer_watermark_factor), 50);
    EXPECT_EQ(s.get_int(sp::send_socket_buffer_size), 256 * 1024);
    EXPECT_EQ(s.get_int(sp::recv_socket_buffer_size), 256 * 1024);
  }
}

}  // namespace
}  // namespace ironstone::swarm
