// The URL paths of the HTTP API (api/paths.h) are exactly those docs/http-api.md lists; the
// seeder's route tests (tests/seeder/http_routes_test.cpp) request the same paths literally.
#include <gtest/gtest.h>

#include <string>

#include "api/paths.h"

namespace ironstone::api {
namespace {

TEST(ApiPaths, ReleaseFilesAreUnderTheirBoardAndVersion) {
  EXPECT_EQ(channel_path("rpi5", "stable"), "/v1/channels/rpi5/stable.json");
  EXPECT_EQ(signature_path(channel_path("rpi5", "stable")), "/v1/channels/rpi5/stable.json.minisig");
  EXPECT_EQ(manifest_path("rpi5", "2026.11.1"), "/v1/releases/rpi5/2026.11.1/manifest.json");
  EXPECT_EQ(torrent_path("rpi5", "2026.11.1"), "/v1/releases/rpi5/2026.11.1/release.torrent");
  EXPECT_EQ(firmware_path("rpi5", "2026.11.1", "pieeprom.bin"), "/v1/releases/rpi5/2026.11.1/firmware/pieeprom.bin");
  const std::string hex(64, 'a');
  EXPECT_EQ(chunk_path(hex), "/chunks/aa/" + hex + ".zst");
}

TEST(ApiPaths, NodeRoutesNameTheNode) {
  EXPECT_EQ(node_events_path("rack1-n03"), "/v1/nodes/rack1-n03/events");
  EXPECT_EQ(node_identity_path("dc:a6:32:01:02:03"), "/v1/nodes/dc:a6:32:01:02:03/identity");
  EXPECT_STREQ(route::kNodeEvents, "/v1/nodes/{node}/events");
  EXPECT_STREQ(route::kNodeIdentity, "/v1/nodes/{mac}/identity");
}

}  // namespace
}  // namespace ironstone::api
