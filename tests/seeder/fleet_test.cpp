// Node events, the fleet view, "still flashing" and /metrics.
#include "seeder/fleet.h"

#include <gtest/gtest.h>

#include "seeder/errc.h"
#include "tests/seeder/seeder_test_util.h"
#include "tests/testutil/expect_error.h"

namespace ironstone::seeder {
namespace {

using namespace ironstone::seeder::testing;
using ironstone::testing::TempDir;
using nlohmann::json;

const std::string kWorking =
    R"({"mac":"DC:A6:32:01:02:03","board":"rpi5","release":"2026.11.1","step":"download",
  "state":"working","progress":0.25,"bytes_done":100,"bytes_total":400,"bytes_from_seeder":60,
  "bytes_from_peers":40,"rate":1048576.5,"error":""})";

TEST(FleetView, WorkingNodesBecomeStaleWhenSilent) {
  Fleet fleet(Fleet::Options{10, 100, std::chrono::seconds(60)});
  const auto t0 = Fleet::Clock::now();
  fleet.record(parse_node_event("n1", kWorking), t0);
  EXPECT_EQ(fleet.counts(t0).working, 1u);
  EXPECT_TRUE(fleet.summary(t0)["summary"]["still_flashing"].get<bool>());
  EXPECT_EQ(fleet.summary(t0)["releases"]["rpi5/2026.11.1"]["working"], 1);
  const auto later = t0 + std::chrono::seconds(61);
  EXPECT_EQ(fleet.counts(later).working, 0u);
  EXPECT_EQ(fleet.counts(later).stale, 1u);
  EXPECT_FALSE(fleet.summary(later)["summary"]["still_flashing"].get<bool>());
}

TEST(FleetView, LogsStepChangesNotProgress) {
  Fleet fleet({});
  fleet.record(parse_node_event("n1", R"({"step":"download","state":"working","progress":0.1})"));
  fleet.record(parse_node_event("n1", R"({"step":"download","state":"working","progress":0.2})"));
  fleet.record(parse_node_event("n1", R"({"step":"verify","state":"failed","error":"hash mismatch"})"));
  const json view = fleet.view();
  ASSERT_EQ(view["events"].size(), 2u);
  EXPECT_EQ(view["events"][1]["error"], "hash mismatch");
  EXPECT_EQ(view["nodes"][0]["state"], "failed");
}

TEST(FleetView, BoundsTheNumberOfNodes) {
  Fleet fleet(Fleet::Options{2, 10, std::chrono::seconds(60)});
  fleet.record(parse_node_event("a", R"({"step":"x","state":"working"})"));
  fleet.record(parse_node_event("b", R"({"step":"x","state":"working"})"));
  EXPECT_ERROR_EQ(fleet.record(parse_node_event("c", R"({"step":"x","state":"working"})")), Errc::kTooLarge,
                  "fleet: 2 nodes known already");
  fleet.record(parse_node_event("a", R"({"step":"x","state":"done"})"));  // known nodes still update
}

TEST(FleetPeers, AReportIsListedUnderPeersApartFromTheNodesAndUpdatedInPlace) {
  Fleet fleet(Fleet::Options{10, 100, std::chrono::seconds(60)});
  const auto t0 = Fleet::Clock::now();
  fleet.peer_report({"rack1-n02", "http://10.0.0.22:8080/", {"rpi5/1.0"}, 10}, t0);
  fleet.peer_report({"rack1-n01", "http://10.0.0.21:8080/", {"rpi5/1.0"}, 20}, t0);
  fleet.peer_report({"rack1-n02", "http://10.0.0.22:8080/", {"rpi5/1.0", "rpi5/1.1"}, 30},
                    t0 + std::chrono::seconds(5));
  const json view = fleet.view(t0 + std::chrono::seconds(6));
  EXPECT_TRUE(view["nodes"].empty()) << view.dump();
  EXPECT_EQ(view["summary"]["nodes"], 0);  // peers are not flashing nodes
  ASSERT_EQ(view["peers"].size(), 2u) << view.dump();
  EXPECT_EQ(view["peers"][0]["peer_id"], "rack1-n01");  // ordered by id
  EXPECT_EQ(view["peers"][1]["peer_id"], "rack1-n02");
  EXPECT_EQ(view["peers"][1]["url"], "http://10.0.0.22:8080/");
  EXPECT_EQ(view["peers"][1]["releases"], json::array({"rpi5/1.0", "rpi5/1.1"}));
  EXPECT_EQ(view["peers"][1]["bytes_served"], 30);
  EXPECT_NEAR(view["time"].get<double>() - view["peers"][1]["last_seen"].get<double>(), 1.0, 1e-3);
}

TEST(FleetPeers, ANewPeerPastTheBoundIsRefusedAndKnownPeersStillUpdate) {
  Fleet fleet(Fleet::Options{1, 10, std::chrono::seconds(60)});
  fleet.peer_report({"a", "http://a/", {}, 1});
  EXPECT_ERROR_EQ(fleet.peer_report({"b", "http://b/", {}, 1}), Errc::kTooLarge, "fleet: 1 peers known already");
  fleet.peer_report({"a", "http://a/", {}, 2});
  EXPECT_EQ(fleet.view()["peers"][0]["bytes_served"], 2);
  fleet.record(parse_node_event("n1", R"({"step":"x","state":"working"})"));  // nodes have their own bound
  EXPECT_EQ(fleet.view()["nodes"].size(), 1u);
}

class FleetHttp : public LoopbackSeederTest {
 protected:
  void SetUp() override { start(loopback_config(dir_.path(), false)); }
};

TEST_F(FleetHttp, PostedEventShowsInFleetView) {
  auto post = http_request(port_, "POST", "/v1/nodes/rack1-n03/events",
                           {{"Content-Type", "application/json"}}, kWorking);
  ASSERT_EQ(post.status, 200) << post.body;
  const json ack = json::parse(post.body);
  EXPECT_EQ(ack["ok"], true);
  EXPECT_EQ(ack["summary"]["working"], 1);

  auto fleet = http_get(port_, "/v1/fleet");
  ASSERT_EQ(fleet.status, 200);
  const json view = json::parse(fleet.body);
  ASSERT_EQ(view["nodes"].size(), 1u);
  EXPECT_EQ(view["nodes"][0]["node_id"], "rack1-n03");
  EXPECT_EQ(view["nodes"][0]["mac"], "dc:a6:32:01:02:03");
  EXPECT_EQ(view["nodes"][0]["step"], "download");
  EXPECT_DOUBLE_EQ(view["nodes"][0]["progress"].get<double>(), 0.25);
  EXPECT_EQ(view["summary"]["still_flashing"], true);
  EXPECT_EQ(view["events"].size(), 1u);

  http_request(port_, "POST", "/v1/nodes/rack1-n03/events", {},
               R"({"release":"2026.11.1","board":"rpi5","step":"linger","state":"done","progress":1})");
  const json summary = json::parse(http_get(port_, "/v1/fleet/summary").body);
  EXPECT_EQ(summary["summary"]["still_flashing"], false);
  EXPECT_EQ(summary["releases"]["rpi5/2026.11.1"]["done"], 1);
}

TEST_F(FleetHttp, MalformedEventGets400AndBadNodeId404) {
  auto bad = http_request(port_, "POST", "/v1/nodes/n1/events", {}, R"({"step":"x"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("field 'state'"), std::string::npos);
  EXPECT_EQ(http_request(port_, "POST", "/v1/nodes/bad%20id/events", {}, kWorking).status, 404);
  EXPECT_EQ(http_request(port_, "POST", "/v1/nodes/" + std::string(65, 'n') + "/events", {}, kWorking).status,
            404);
  EXPECT_EQ(json::parse(http_get(port_, "/v1/fleet").body)["nodes"].size(), 0u);
}

TEST_F(FleetHttp, MetricsExposeHttpFleetAndTrackerCounters) {
  http_request(port_, "POST", "/v1/nodes/n1/events", {}, kWorking);
  http_get(port_, "/nope");
  auto m = http_get(port_, "/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_EQ(m.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(m.body.find("# TYPE ironstone_http_requests_total counter"), std::string::npos);
  EXPECT_NE(m.body.find("ironstone_http_responses_total{code=\"4xx\"} 1"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("ironstone_fleet_nodes{state=\"working\"} 1"), std::string::npos);
  EXPECT_NE(m.body.find("ironstone_fleet_bytes{source=\"peers\"} 40"), std::string::npos);
  EXPECT_NE(m.body.find("ironstone_releases_seeded 0"), std::string::npos);
}

}  // namespace
}  // namespace ironstone::seeder
