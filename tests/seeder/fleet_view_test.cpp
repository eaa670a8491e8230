// The CLI fleet view: formatting a /v1/fleet document, and run_fleet_view against a
// seeder on loopback (once and --watch).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "util/error.h"
#include "seeder/fleet_view.h"
#include "swarm/errc.h"
#include "tests/seeder/seeder_test_util.h"
#include "tests/testutil/expect_error.h"

namespace ironstone::seeder {
namespace {

using namespace ironstone::seeder::testing;
using ironstone::testing::TempDir;
using nlohmann::json;

json sample() {
  return json::parse(R"({"time":1000.0,
    "nodes":[
      {"node_id":"rack1-n01","board":"rpi5","release":"2026.11.1","step":"download","state":"working",
       "progress":0.42,"rate":118000000,"bytes_from_seeder":104857600,"bytes_from_peers":775946240,
       "error":"","last_seen":999.0},
      {"node_id":"rack1-n02","board":"rpi5","release":"2026.11.1","step":"verify","state":"failed",
       "progress":1,"rate":0,"bytes_from_seeder":0,"bytes_from_peers":0,
       "error":"chunk 7: hash mismatch\u001b[31m","last_seen":700.0}],
    "summary":{"nodes":2,"working":1,"done":0,"failed":1,"stale":0,"still_flashing":true,
               "rate":118000000,"bytes_from_seeder":104857600,"bytes_from_peers":775946240},
    "events":[]})");
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// What `ironstone-seeder fleet` prints once for the seeder on `port`.
std::string fleet_view_once(std::uint16_t port) {
  std::ostringstream out;
  FleetViewOptions o;
  o.url = "http://127.0.0.1:" + std::to_string(port) + "/";
  run_fleet_view(o, out);
  return out.str();
}

TEST(FleetView, FormatsOneRowPerNodeAndTheSummary) {
  const std::string out = format_fleet(sample());
  const auto l = lines(out);
  ASSERT_EQ(l.size(), 5u) << out;
  EXPECT_EQ(l[0],
            "NODE       HOST  BOARD  RELEASE    STEP      STATE    PROGRESS  RATE MB/s  SEEDER MB  PEERS MB  LAST SEEN");
  EXPECT_EQ(l[1],
            "rack1-n01  -     rpi5   2026.11.1  download  working     42.0%      118.0      104.9     775.9  1s ago");
  EXPECT_EQ(l[2],
            "rack1-n02  -     rpi5   2026.11.1  verify    failed     100.0%        0.0        0.0       0.0  5m ago");
  // Terminal escapes from the network are neutralised.
  EXPECT_EQ(l[3], "    error: chunk 7: hash mismatch?[31m");
  EXPECT_EQ(l[4],
            "2 nodes: 1 working, 0 done, 0 booted, 0 joined, 1 failed, 0 stale; 118.0 MB/s; from seeder 104.9 MB, "
            "from peers 775.9 MB");
}

TEST(FleetView, ToleratesMissingAndMistypedFields) {
  EXPECT_EQ(format_fleet(json::object()),
            "no nodes have reported yet\n"
            "0 nodes: 0 working, 0 done, 0 booted, 0 joined, 0 failed, 0 stale; 0.0 MB/s; from seeder 0.0 MB, "
            "from peers 0.0 MB\n");
  const json odd = json::parse(R"({"nodes":[{"node_id":7,"progress":"x","rate":-5,"last_seen":1}, 3],
                                   "summary":[]})");
  const auto l = lines(format_fleet(odd));
  ASSERT_EQ(l.size(), 3u);
  EXPECT_EQ(l[1].substr(0, 4), "-   ");
  EXPECT_NE(l[1].find("0.0"), std::string::npos);
  EXPECT_EQ(format_fleet(json::array()).substr(0, 10), "no nodes h");
}

TEST(FleetView, BootedAndJoinedNodesShowHostRunningReleaseAndReasons) {
  const json doc = json::parse(R"({"time":1000.0,"nodes":[
      {"node_id":"node-a1","hostname":"rack1-n01","board":"rpi5","release":"2026.11.1","running_release":"2026.11.1",
       "step":"linger","state":"joined","progress":1,"last_seen":990.0,"reason":"","error":""},
      {"node_id":"node-a2","hostname":"","board":"rpi5","release":"2026.11.1","step":"linger","state":"stale",
       "progress":1,"last_seen":10.0,"reason":"flashed at 2026-12-02 04:50 UTC, no first-boot report for 30 min"}],
    "summary":{"nodes":2,"joined":1,"stale":1}})");
  const auto l = lines(format_fleet(doc));
  ASSERT_EQ(l.size(), 5u);
  EXPECT_EQ(l[1].substr(0, 34), "node-a1  rack1-n01  rpi5   2026.11");
  EXPECT_EQ(l[3], "    stale: flashed at 2026-12-02 04:50 UTC, no first-boot report for 30 min");
  EXPECT_EQ(l[4].substr(0, 66), "2 nodes: 0 working, 0 done, 0 booted, 1 joined, 0 failed, 1 stale;");
  EXPECT_TRUE(fleet_settled(doc));
}

TEST(FleetView, ListsPeersAfterTheSummaryOneLineEach) {
  json fleet = sample();
  fleet["peers"] = json::parse(R"([
    {"peer_id":"rack1-n01","url":"http://10.0.0.21:8080/","releases":["rpi5/1.0","rpi5/1.1"],
     "bytes_served":12000000,"last_seen":997.0},
    {"peer_id":"rack1-n02\u001b[2J","url":"http://10.0.0.22:8080/","releases":[],"bytes_served":0,
     "last_seen":400.0}])");
  const auto l = lines(format_fleet(fleet));
  ASSERT_EQ(l.size(), 8u) << format_fleet(fleet);
  EXPECT_EQ(l[5], "peers: 2");
  EXPECT_EQ(l[6], "  rack1-n01  http://10.0.0.21:8080/  2 releases (rpi5/1.0, rpi5/1.1)  12.0 MB served  3s ago");
  EXPECT_EQ(l[7], "  rack1-n02?[2J  http://10.0.0.22:8080/  0 releases ()  0.0 MB served  10m ago");
}

TEST(FleetView, NoPeersSectionWithoutPeersAndMistypedPeerFieldsAreTolerated) {
  json fleet = sample();
  EXPECT_EQ(lines(format_fleet(fleet)).size(), 5u);
  fleet["peers"] = json::array();
  EXPECT_EQ(lines(format_fleet(fleet)).size(), 5u);
  fleet["peers"] = json::parse(R"([{"peer_id":3,"releases":"rpi5/1.0","bytes_served":-4}, 7])");
  const auto l = lines(format_fleet(fleet));
  ASSERT_EQ(l.size(), 7u) << format_fleet(fleet);
  EXPECT_EQ(l[5], "peers: 1");
  EXPECT_EQ(l[6], "  -  -  0 releases ()  0.0 MB served");
}

TEST(FleetView, SettledWhenEveryNodeIsDoneFailedOrStale) {
  EXPECT_FALSE(fleet_settled(json::object()));
  EXPECT_FALSE(fleet_settled(json::parse(R"({"nodes":[]})")));
  EXPECT_FALSE(fleet_settled(sample()));
  EXPECT_TRUE(fleet_settled(json::parse(R"({"nodes":[{"state":"done"},{"state":"failed"},{"state":"stale"}]})")));
}

void post(std::uint16_t port, const std::string& node, const std::string& body) {
  ASSERT_EQ(http_request(port, "POST", "/v1/nodes/" + node + "/events", {{"content-type", "application/json"}},
                         body)
                .status,
            200);
}

TEST(FleetView, PrintsTheFleetOfARunningSeeder) {
  TempDir dir;
  Seeder seeder(loopback_config(dir.path(), false));
  seeder.start();
  post(seeder.http_port(), "n1",
       R"({"board":"rpi5","release":"1.0","step":"download","state":"working","progress":0.5,)"
       R"("bytes_from_seeder":2000000,"bytes_from_peers":6000000,"rate":3000000})");
  const std::string out = fleet_view_once(seeder.http_port());
  const auto l = lines(out);
  ASSERT_EQ(l.size(), 3u) << out;
  EXPECT_EQ(l[1].substr(0, 4), "n1  ");
  EXPECT_NE(l[1].find("download  working     50.0%        3.0        2.0       6.0  0s ago"), std::string::npos)
      << l[1];
  EXPECT_EQ(l[2].substr(0, 18), "1 nodes: 1 working");
}

TEST(FleetView, PrintsThePeersARunningSeederWasToldOf) {
  TempDir dir;
  Seeder seeder(loopback_config(dir.path(), false));
  seeder.start();
  ASSERT_EQ(http_request(seeder.http_port(), "POST", "/v1/peers/rack1-n01", {{"content-type", "application/json"}},
                         R"({"url":"http://10.0.0.21:8080/","releases":["rpi5/1.0"],"bytes_served":5000000})")
                .status,
            204);
  const std::string out = fleet_view_once(seeder.http_port());
  const auto l = lines(out);
  ASSERT_EQ(l.size(), 4u) << out;
  EXPECT_EQ(l[0], "no nodes have reported yet");
  EXPECT_EQ(l[2], "peers: 1");
  EXPECT_EQ(l[3], "  rack1-n01  http://10.0.0.21:8080/  1 releases (rpi5/1.0)  5.0 MB served  0s ago");
}

TEST(FleetView, WatchRedrawsUntilEveryNodeIsDone) {
  TempDir dir;
  Seeder seeder(loopback_config(dir.path(), false));
  seeder.start();
  post(seeder.http_port(), "n1", R"({"step":"download","state":"working"})");
  std::ostringstream out;
  FleetViewOptions o;
  o.url = "http://127.0.0.1:" + std::to_string(seeder.http_port());
  o.watch = std::chrono::milliseconds(200);
  // The node reports done once the first table (node working) has been drawn: the next
  // redraw shows it done and the watch ends there.
  bool posted = false;
  const auto once_drawn = [&] {
    if (!posted && out.str().find("1 nodes: 1 working") != std::string::npos) {
      post(seeder.http_port(), "n1", R"({"step":"linger","state":"done"})");
      posted = true;
    }
    return false;
  };
  run_fleet_view(o, out, once_drawn);
  EXPECT_TRUE(posted);
  const std::string text = out.str();
  std::size_t tables = 0;
  for (auto at = text.find("NODE "); at != std::string::npos; at = text.find("NODE ", at + 1)) ++tables;
  EXPECT_EQ(tables, 2u) << text;
  EXPECT_NE(text.find("working"), std::string::npos);
  EXPECT_EQ(text.rfind("1 nodes: 0 working, 1 done"), text.rfind("1 nodes:")) << text;
}

TEST(FleetView, WatchStopsWhenAsked) {
  TempDir dir;
  Seeder seeder(loopback_config(dir.path(), false));
  seeder.start();
  std::ostringstream out;
  FleetViewOptions o;
  o.url = "http://127.0.0.1:" + std::to_string(seeder.http_port());
  o.watch = std::chrono::milliseconds(100);
  int polls = 0;
  run_fleet_view(o, out, [&] { return ++polls > 5; });
  EXPECT_NE(out.str().find("no nodes have reported yet"), std::string::npos);
}

TEST(FleetView, UnreachableSeederOrBadUrlIsAnError) {
  std::ostringstream out;
  FleetViewOptions o;
  o.url = "http://127.0.0.1:1";
  o.timeout = std::chrono::milliseconds(2000);
  EXPECT_ERROR_HAS(run_fleet_view(o, out), swarm::Errc::kConnect, "127.0.0.1:1");
  o.url = "https://nas:8080";
  EXPECT_ERROR_HAS(run_fleet_view(o, out), swarm::Errc::kUrl, "https");
  TempDir dir;
  Seeder seeder(loopback_config(dir.path(), false));
  seeder.start();
  o.url = "http://127.0.0.1:" + std::to_string(seeder.http_port()) + "/nothing-here";
  try {
    run_fleet_view(o, out);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(swarm::Errc::kHttpStatus)) << e.what();
    EXPECT_NE(std::string(e.what()).find("HTTP 404"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace ironstone::seeder
