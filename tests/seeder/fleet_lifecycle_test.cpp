// After the flash: first-boot lifecycle reports (strict parsing, states, the boot timeout,
// history) and their HTTP routes.
#include <gtest/gtest.h>

#include "builder/gold.h"
#include "seeder/errc.h"
#include "seeder/fleet.h"
#include "tests/seeder/seeder_test_util.h"
#include "tests/testutil/expect_error.h"
#include "tests/testutil/testutil.h"
#include "util/process.h"

namespace ironstone::seeder {
namespace {

using namespace ironstone::seeder::testing;
using nlohmann::json;
using namespace std::chrono_literals;

const std::string kDone =
    R"({"mac":"dc:a6:32:01:02:03","board":"rpi5","release":"2026.11.1","step":"linger","state":"done",)"
    R"("progress":1,"bytes_done":400,"bytes_total":400,"bytes_from_seeder":60,"bytes_from_peers":340})";
const std::string kBooted =
    R"({"state":"booted","hostname":"rack1-n01","board":"rpi5","release":"2026.11.1","sequence":12})";
const std::string kJoined =
    R"({"state":"joined","hostname":"rack1-n01","board":"rpi5","release":"2026.11.1","sequence":12})";
const std::string kFailedK3s =
    R"({"state":"failed","stage":"k3s","reason":"k3s.service failed to start","hostname":"rack1-n01",)"
    R"("board":"rpi5","release":"2026.11.1","sequence":12})";

Fleet::Options options() {
  Fleet::Options o;
  o.stale_after = 60s;
  o.boot_timeout = 1800s;
  return o;
}

TEST(FleetLifecycle, DoneThenBootedThenJoinedShowsHostAndRunningRelease) {
  Fleet fleet(options());
  const auto t0 = Fleet::Clock::now();
  fleet.record(parse_node_event("node-a", kDone), t0);
  EXPECT_EQ(fleet.view(t0)["nodes"][0]["state"], "done");
  fleet.report(parse_lifecycle_report("node-a", kBooted), t0 + 100s);
  json n = fleet.view(t0 + 100s)["nodes"][0];
  EXPECT_EQ(n["state"], "booted");
  EXPECT_EQ(n["hostname"], "rack1-n01");
  EXPECT_EQ(n["running_release"], "2026.11.1");
  EXPECT_EQ(fleet.counts(t0 + 100s).booted, 1u);
  fleet.report(parse_lifecycle_report("node-a", kJoined), t0 + 200s);
  EXPECT_EQ(fleet.view(t0 + 5000s)["nodes"][0]["state"], "joined");  // no timeout after joining
  EXPECT_EQ(fleet.counts(t0 + 5000s).joined, 1u);

  const json h = *fleet.history("node-a", t0 + 200s);
  ASSERT_EQ(h["history"].size(), 3u);
  EXPECT_EQ(h["history"][0]["kind"], "flash");
  EXPECT_EQ(h["history"][0]["outcome"], "done");
  EXPECT_EQ(h["history"][0]["release"], "2026.11.1");
  EXPECT_EQ(h["history"][0]["bytes_from_seeder"], 60);
  EXPECT_EQ(h["history"][0]["bytes_from_peers"], 340);
  EXPECT_EQ(h["history"][1]["kind"], "booted");
  EXPECT_EQ(h["history"][1]["hostname"], "rack1-n01");
  EXPECT_EQ(h["history"][2]["kind"], "joined");
  EXPECT_FALSE(fleet.history("node-b").has_value());
}

TEST(FleetLifecycle, DoneWithoutFirstBootReportTurnsStaleAfterTheBootTimeoutWithAReason) {
  Fleet fleet(options());
  const auto t0 = Fleet::Clock::from_time_t(1796186400);  // 2026-12-02 04:40:00 UTC
  fleet.record(parse_node_event("node-a", kDone), t0);
  EXPECT_EQ(fleet.view(t0 + 1800s)["nodes"][0]["state"], "done");
  const json n = fleet.view(t0 + 1801s)["nodes"][0];
  EXPECT_EQ(n["state"], "stale");
  EXPECT_EQ(n["reason"], "flashed at 2026-12-02 04:40 UTC, no first-boot report for 30 min");
  EXPECT_EQ(fleet.counts(t0 + 1801s).stale, 1u);
  fleet.report(parse_lifecycle_report("node-a", kBooted), t0 + 3600s);  // late, but it came
  EXPECT_EQ(fleet.view(t0 + 3600s)["nodes"][0]["state"], "booted");
}

TEST(FleetLifecycle, BootedThatWillStartK3sTurnsStaleWhenItNeverReportsJoining) {
  Fleet::Options o = options();
  o.join_timeout = 900s;
  Fleet fleet(o);
  const auto t0 = Fleet::Clock::from_time_t(1796186400);  // 2026-12-02 04:40:00 UTC
  fleet.record(parse_node_event("node-a", kDone), t0);
  fleet.record(parse_node_event("node-b", kDone), t0);
  const std::string expecting = kBooted.substr(0, kBooted.size() - 1) + R"(,"join_expected":true})";
  fleet.report(parse_lifecycle_report("node-a", expecting), t0 + 60s);
  fleet.report(parse_lifecycle_report("node-b", kBooted), t0 + 60s);  // no k3s in its image: no join to wait for
  EXPECT_EQ(fleet.view(t0 + 960s)["nodes"][0]["state"], "booted");
  const json later = fleet.view(t0 + 961s);
  EXPECT_EQ(later["nodes"][0]["state"], "stale");
  EXPECT_EQ(later["nodes"][0]["reason"], "booted at 2026-12-02 04:41 UTC, k3s has not reported joining for 15 min");
  EXPECT_EQ(later["nodes"][1]["state"], "booted");
  fleet.report(parse_lifecycle_report("node-a", kJoined), t0 + 2000s);  // late, but it came
  EXPECT_EQ(fleet.view(t0 + 2000s)["nodes"][0]["state"], "joined");
}

TEST(FleetLifecycle, FailureAtAnyStageShowsTheStageAndReason) {
  Fleet fleet(options());
  const auto t0 = Fleet::Clock::now();
  fleet.record(parse_node_event("node-a", kDone), t0);
  fleet.report(parse_lifecycle_report("node-a", kBooted), t0 + 1s);
  fleet.report(parse_lifecycle_report("node-a", kFailedK3s), t0 + 2s);
  json n = fleet.view(t0 + 2s)["nodes"][0];
  EXPECT_EQ(n["state"], "failed");
  EXPECT_EQ(n["reason"], "k3s: k3s.service failed to start");
  fleet.record(parse_node_event("node-b", R"({"step":"verify","state":"failed","error":"chunk 7: hash mismatch"})"),
               t0);
  EXPECT_EQ(fleet.view(t0)["nodes"][1]["reason"], "verify: chunk 7: hash mismatch");
  fleet.record(parse_node_event("node-c", R"({"step":"download","state":"working"})"), t0);
  EXPECT_EQ(fleet.view(t0 + 120s)["nodes"][2]["reason"], "no event for 2 min (last step download)");
}

TEST(FleetLifecycle, ANewFlashStartsOverAndKeepsTheHistory) {
  Fleet fleet(options());
  const auto t0 = Fleet::Clock::now();
  fleet.record(parse_node_event("node-a", kDone), t0);
  fleet.report(parse_lifecycle_report("node-a", kJoined), t0 + 1s);
  fleet.record(parse_node_event("node-a", R"({"step":"download","state":"working"})"), t0 + 2s);
  const json n = fleet.view(t0 + 2s)["nodes"][0];
  EXPECT_EQ(n["state"], "working");
  EXPECT_EQ(n["hostname"], "");
  EXPECT_EQ(fleet.history("node-a")->at("history").size(), 2u);
}

TEST(FleetLifecycle, AMacInTheUrlFindsTheNodeThatFlashedWithIt) {
  Fleet fleet(options());
  fleet.record(parse_node_event("rack-node-7", kDone));
  EXPECT_EQ(fleet.resolve_node_id("DC-A6-32-01-02-03"), "rack-node-7");
  EXPECT_EQ(fleet.resolve_node_id("dc:a6:32:01:02:99"), "node-dca632010299");
  EXPECT_EQ(fleet.resolve_node_id("rack-node-7"), "rack-node-7");
}

class LifecycleHttp : public LoopbackSeederTest {
 protected:
  void SetUp() override { start(loopback_config(dir_.path(), false)); }
  HttpReply post(const std::string& path, const std::string& body) {
    return http_request(port_, "POST", path, {{"Content-Type", "application/json"}}, body);
  }
};

TEST_F(LifecycleHttp, ReportsAnswer204AndShowInFleetHistoryAndMetrics) {
  ASSERT_EQ(post("/v1/nodes/node-dca632010203/events", kDone).status, 200);
  const HttpReply r = post("/v1/nodes/dc:a6:32:01:02:03/lifecycle", kBooted);
  EXPECT_EQ(r.status, 204) << r.body;
  EXPECT_EQ(r.body, "");
  const json view = json::parse(http_get(port_, "/v1/fleet").body);
  ASSERT_EQ(view["nodes"].size(), 1u);
  EXPECT_EQ(view["nodes"][0]["state"], "booted");
  EXPECT_EQ(view["nodes"][0]["hostname"], "rack1-n01");
  EXPECT_EQ(view["summary"]["booted"], 1);

  const HttpReply h = http_get(port_, "/v1/nodes/node-dca632010203/history");
  ASSERT_EQ(h.status, 200);
  EXPECT_EQ(h.header("content-type"), "application/json");
  const json doc = json::parse(h.body);
  EXPECT_EQ(doc["node_id"], "node-dca632010203");
  ASSERT_EQ(doc["history"].size(), 2u);
  EXPECT_EQ(doc["history"][1]["kind"], "booted");
  // The MAC the node flashed with names the same node, as it does for lifecycle reports.
  const HttpReply by_mac = http_get(port_, "/v1/nodes/DC:A6:32:01:02:03/history");
  ASSERT_EQ(by_mac.status, 200) << by_mac.body;
  EXPECT_EQ(json::parse(by_mac.body)["node_id"], "node-dca632010203");
  EXPECT_EQ(json::parse(by_mac.body)["history"], doc["history"]);

  const std::string m = http_get(port_, "/metrics").body;
  EXPECT_NE(m.find("ironstone_fleet_nodes{state=\"booted\"} 1"), std::string::npos) << m;
  EXPECT_NE(m.find("ironstone_fleet_nodes{state=\"joined\"} 0"), std::string::npos) << m;
  EXPECT_NE(m.find("# TYPE ironstone_fleet_db_batches_total counter"), std::string::npos) << m;
}

// The gold image's own report script (builder/gold.h) against the seeder's parser: the shell
// side of the lifecycle contract, run with sh and curl as on a node.
TEST_F(LifecycleHttp, TheGoldImagesReportScriptIsAcceptedAndSaysWhetherAJoinFollows) {
  ironstone::testing::TempDir t;
  ironstone::testing::write_text(t.path() / "report.sh", builder::report_script_text());
  const auto report = [&](const std::string& node, const std::string& k3s_bin) {
    util::ProcessOptions o;
    o.env = {{"IRONSTONE_SEEDER_URL", "http://127.0.0.1:" + std::to_string(port_)},
             {"IRONSTONE_NODE_ID", node},
             {"IRONSTONE_BOARD", "uefi-arm64"},
             {"IRONSTONE_RELEASE", "2026.12.1"},
             {"IRONSTONE_SEQUENCE", "4"},
             {"IRONSTONE_K3S_ROLE", "agent"},
             {"IRONSTONE_K3S_BIN", k3s_bin}};
    return util::run_process({"sh", "-c", ". " + (t.path() / "report.sh").string() + " && ironstone_report booted"}, o);
  };
  if (util::run_process({"sh", "-c", "command -v curl"}).exit_code != 0) GTEST_SKIP() << "curl is not installed";
  const auto with_k3s = report("node-k3s", "/bin/sh");
  ASSERT_EQ(with_k3s.exit_code, 0) << with_k3s.err;
  EXPECT_EQ(with_k3s.err, "");  // no "could not report"
  report("node-plain", (t.path() / "no-k3s").string());
  const auto a = seeder_->fleet().history("node-k3s");
  const auto b = seeder_->fleet().history("node-plain");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->at("history").back()["kind"], "booted");
  EXPECT_EQ(a->at("history").back()["release"], "2026.12.1");
  EXPECT_EQ(a->at("history").back()["join_expected"], true);
  EXPECT_FALSE(b->at("history").back().contains("join_expected"));
}

TEST_F(LifecycleHttp, BadReportsGetExactErrorsAndChangeNothing) {
  HttpReply r = post("/v1/nodes/node-1/lifecycle", R"({"state":"up"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json::parse(r.body)["error"], "lifecycle: field 'state': must be \"booted\", \"joined\", \"failed\" or \"reflashing\"");
  r = post("/v1/nodes/node-1/lifecycle", R"({"state":"booted","pad":")" + std::string(5000, 'x') + "\"}");
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(json::parse(r.body)["error"], "lifecycle: body larger than 4096 bytes");
  EXPECT_EQ(post("/v1/nodes/bad%20id/lifecycle", kBooted).status, 404);
  EXPECT_EQ(http_request(port_, "GET", "/v1/nodes/node-1/lifecycle").status, 405);
  EXPECT_EQ(json::parse(http_get(port_, "/v1/fleet").body)["nodes"].size(), 0u);
  r = http_get(port_, "/v1/nodes/node-1/history");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(json::parse(r.body)["error"], "no node node-1 in the fleet");
}

}  // namespace
}  // namespace ironstone::seeder
