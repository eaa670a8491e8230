// The fleet view as the flasher reads it (api/fleet.h): strict about the fields it reads.
#include <gtest/gtest.h>

#include <string>

#include "api/errc.h"
#include "api/fleet.h"
#include "api/limits.h"
#include "tests/testutil/expect_error.h"

namespace ironstone::api {
namespace {

TEST(FleetView, ReadsTheNodesAndIgnoresTheRestOfTheView) {
  const FleetView v = parse_fleet_view(
      R"({"time":1.5,"nodes":[{"node_id":"n1","board":"rpi5","release":"1.0","state":"working","progress":0.5,
          "lifecycle":"new field"},{"node_id":"n2","state":"done"}],"summary":{"nodes":2},"events":[]})",
      "fleet");
  ASSERT_EQ(v.nodes.size(), 2u);
  EXPECT_EQ(v.nodes[0], (FleetNode{"n1", "rpi5", "1.0", "working"}));
  EXPECT_EQ(v.nodes[1], (FleetNode{"n2", "", "", "done"}));
}

TEST(FleetView, RefusesAWrongTypeNamingTheField) {
  EXPECT_ERROR_EQ(parse_fleet_view(R"({"nodes":[{"node_id":"n1","state":"working"},{"node_id":"n2","state":7}]})",
                                   "fleet"),
                  Errc::kFleet, "fleet: field 'nodes[1].state': expected a string");
  EXPECT_ERROR_EQ(parse_fleet_view(R"({"nodes":[7]})", "fleet"), Errc::kFleet, "fleet: nodes[0]: expected an object");
  EXPECT_ERROR_EQ(parse_fleet_view(R"({"nodes":{}})", "fleet"), Errc::kFleet, "fleet: field 'nodes': expected an array");
  EXPECT_ERROR_EQ(parse_fleet_view(R"({"time":1})", "fleet"), Errc::kFleet, "fleet: field 'nodes': missing");
  EXPECT_ERROR_EQ(parse_fleet_view(R"([1])", "fleet"), Errc::kFleet, "fleet: expected a JSON object");
}

TEST(FleetView, RefusesDuplicateKeysAndTrailingBytes) {
  EXPECT_ERROR_HAS(parse_fleet_view(R"({"nodes":[{"node_id":"a","node_id":"b","state":"done"}]})", "fleet"),
                   Errc::kFleet, "duplicate key 'node_id'");
  EXPECT_ERROR_HAS(parse_fleet_view(R"({"nodes":[]} x)", "fleet"), Errc::kFleet, "fleet: malformed JSON: ");
}

TEST(FleetView, RefusesMoreThanTheLimits) {
  const std::string big = R"({"nodes":[],"pad":")" + std::string(kMaxFleetBytes, 'x') + "\"}";
  EXPECT_ERROR_EQ(parse_fleet_view(big, "fleet"), Errc::kTooLarge,
                  "fleet: " + std::to_string(big.size()) + " bytes exceed the fleet view limit of " +
                      std::to_string(kMaxFleetBytes));
  std::string many = R"({"nodes":[)";
  for (std::size_t i = 0; i <= kMaxFleetNodes; ++i) many += std::string(i ? "," : "") + "{}";
  many += "]}";
  EXPECT_ERROR_EQ(parse_fleet_view(many, "fleet"), Errc::kTooLarge,
                  "fleet: nodes: 4097 nodes, more than 4096");
}

}  // namespace
}  // namespace ironstone::api
