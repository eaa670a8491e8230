// Re-flash orders end to end on the seeder (api/node_order.h, seeder/routes.h): the operator
// orders with its token, the node gets the order authenticated under the key its identity
// carried, the order survives a restart, and the gold image's own orders.sh (real sh, curl,
// openssl, wipefs) acts on an authentic order once and refuses a forged one.
#include <gtest/gtest.h>
#include <sodium.h>

#include "api/node_order.h"
#include "api/paths.h"
#include "builder/gold.h"
#include "seeder/fleet.h"
#include "tests/seeder/seeder_test_util.h"
#include "tests/testutil/testutil.h"
#include "util/hex.h"
#include "util/process.h"

namespace ironstone::seeder {
namespace {

using namespace ironstone::seeder::testing;
using ironstone::testing::write_text;
using nlohmann::json;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

const std::string kMac = "dc:a6:32:01:02:03";
const std::string kNode = "node-dca632010203";
const std::string kToken = "operator-token-0123456789";
const std::string kDone = R"({"mac":"dc:a6:32:01:02:03","board":"uefi-arm64","release":"e2e-1","step":"done",)"
                          R"("state":"done","progress":1,"bytes_done":0,"bytes_total":0})";

std::string hmac_hex(const std::string& body, const std::string& key_hex) {
  std::uint8_t key[32], tag[crypto_auth_hmacsha256_BYTES];
  EXPECT_TRUE(from_hex(key_hex, key));
  crypto_auth_hmacsha256(tag, reinterpret_cast<const unsigned char*>(body.data()), body.size(), key);
  return to_hex(tag);
}

class ReflashOrders : public LoopbackSeederTest {
 protected:
  void SetUp() override {
    fs::create_directories(dir_.path() / "store");
    write_text(dir_.path() / "inventory.json",
               R"({"format_version": 1, "nodes": {"dc:a6:32:01:02:03": {"hostname": "rack1-n01"}}})");
    write_text(dir_.path() / "operator-token", kToken + "\n");
    start(config(true));
    flashed();
  }
  SeederConfig config(bool with_token) {
    SeederConfig c = loopback_config(dir_.path() / "store", false);
    c.inventory = dir_.path() / "inventory.json";
    c.insecure_open_identity = true;  // the order key read by a plain GET (not what this tests)
    if (with_token) c.operator_token_file = dir_.path() / "operator-token";
    return c;
  }
  void flashed() {
    ASSERT_EQ(http_request(port_, "POST", "/v1/nodes/" + kNode + "/events", {}, kDone).status, 200);
  }
  HttpReply order(const std::string& method, const std::string& body, const std::string& token = kToken) {
    std::map<std::string, std::string> h{{"Content-Type", "application/json"}};
    if (!token.empty()) h["Authorization"] = "Bearer " + token;
    return http_request(port_, method, api::kFleetReflashPath, h, body);
  }
  std::string order_key() {
    const HttpReply r = http_get(port_, api::node_identity_path(kMac, true));
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body).value("order_key", "");
  }
  static std::string error_of(const HttpReply& r) { return json::parse(r.body).value("error", ""); }
};

TEST_F(ReflashOrders, AnOrderIsServedToTheNodeAuthenticatedUnderTheKeyItsIdentityCarried) {
  const std::string key = order_key();
  ASSERT_TRUE(api::valid_order_key(key)) << key;
  EXPECT_FALSE(json::parse(http_get(port_, api::node_identity_path(kMac)).body).contains("order_key"));
  EXPECT_EQ(http_get(port_, api::node_order_path(kNode)).status, 204);  // nothing ordered yet

  const HttpReply made = order("POST", R"({"nodes":["rack-unused-name-is-not-needed"]})");
  EXPECT_EQ(made.status, 404);
  const HttpReply ok = order("POST", R"({"nodes":["DC:A6:32:01:02:03"]})");
  ASSERT_EQ(ok.status, 200) << ok.body;
  const json orders = json::parse(ok.body)["orders"];
  ASSERT_EQ(orders.size(), 1u);
  EXPECT_EQ(orders[0]["node_id"], kNode);

  const HttpReply served = http_get(port_, api::node_order_path(kNode));
  ASSERT_EQ(served.status, 200) << served.body;
  const api::NodeOrder o = api::parse_node_order(served.body, "served");
  EXPECT_EQ(o.id, orders[0]["id"]);
  EXPECT_EQ(o.mac, kMac);
  EXPECT_EQ(o.expires - o.issued, api::kOrderLifetimeSeconds);
  EXPECT_EQ(served.header("x-ironstone-order-auth"), hmac_hex(served.body, key));
  const json node = json::parse(http_get(port_, "/v1/fleet").body)["nodes"][0];
  EXPECT_EQ(node["order"]["state"], "open");
  EXPECT_EQ(node["order"]["id"], o.id);
  const json history = json::parse(http_get(port_, "/v1/nodes/" + kNode + "/history").body)["history"];
  EXPECT_EQ(history.back()["kind"], "order");
  EXPECT_EQ(history.back()["outcome"], "ordered");
}

TEST_F(ReflashOrders, WithoutTheRightOperatorTokenOrUnknownNodesNothingIsOrdered) {
  const std::string body = R"({"nodes":[")" + kNode + R"("]})";
  const HttpReply none = order("POST", body, "");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(error_of(none), "this seeder asks for an operator token: send 'Authorization: Bearer <token>'");
  const HttpReply wrong = order("POST", body, "operator-token-0123456788");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(error_of(wrong), "wrong operator token");
  const HttpReply unknown = order("POST", R"({"nodes":[")" + kNode + R"(","rack9-n99"]})");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(error_of(unknown), "re-flash: no such node: rack9-n99; nothing ordered or cancelled");
  const HttpReply bad = order("POST", R"({"nodes":[]})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(http_get(port_, api::node_order_path(kNode)).status, 204);
}

TEST_F(ReflashOrders, ASeederWithoutAnOperatorTokenTakesNoOrders) {
  seeder_.reset();
  start(config(false));
  const HttpReply r = order("POST", R"({"nodes":[")" + kNode + R"("]})");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(error_of(r), "this seeder takes no re-flash orders: start it with --operator-token-file FILE");
  EXPECT_EQ(http_get(port_, api::node_order_path(kNode)).status, 204);
}

TEST_F(ReflashOrders, CancellingRemovesTheOrderAndSaysHowMany) {
  ASSERT_EQ(order("POST", R"({"nodes":[")" + kNode + R"("]})").status, 200);
  const HttpReply c = order("DELETE", R"({"nodes":[")" + kNode + R"("]})");
  ASSERT_EQ(c.status, 200) << c.body;
  EXPECT_EQ(json::parse(c.body)["cancelled"], 1);
  EXPECT_EQ(http_get(port_, api::node_order_path(kNode)).status, 204);
  EXPECT_EQ(json::parse(order("DELETE", R"({"nodes":[")" + kNode + R"("]})").body)["cancelled"], 0);
}

TEST_F(ReflashOrders, TheOrderAndTheNodesKeySurviveARestart) {
  const std::string key = order_key();
  ASSERT_EQ(order("POST", R"({"nodes":[")" + kNode + R"("]})").status, 200);
  const HttpReply before = http_get(port_, api::node_order_path(kNode));
  seeder_.reset();
  start(config(true));
  EXPECT_EQ(order_key(), key);
  const HttpReply after = http_get(port_, api::node_order_path(kNode));
  ASSERT_EQ(after.status, 200);
  EXPECT_EQ(after.body, before.body);
  EXPECT_EQ(after.header("x-ironstone-order-auth"), hmac_hex(after.body, key));
}

bool have(const char* tool) { return util::run_process({"sh", "-c", std::string("command -v ") + tool}).exit_code == 0; }

// The gold image's orders.sh (builder/gold.h) against this seeder, as on a node: the disk is a
// GPT image file, reboot a marker file.
class OrdersScript : public ReflashOrders {
 protected:
  void SetUp() override {
    for (const char* tool : {"curl", "openssl", "wipefs", "sfdisk"})
      if (!have(tool)) GTEST_SKIP() << tool << " is not installed";
    ReflashOrders::SetUp();
    const fs::path t = dir_.path();
    fs::create_directories(t / "lib");
    write_text(t / "lib/report.sh", builder::report_script_text());
    write_text(t / "orders.sh", builder::orders_script_text());
    write_text(t / "node.env", "IRONSTONE_NODE_ID=" + kNode + "\nIRONSTONE_SEEDER_URL=http://127.0.0.1:" +
                                   std::to_string(port_) + "\nIRONSTONE_BOARD=uefi-arm64\nIRONSTONE_RELEASE=e2e-1\n");
    write_text(t / "disk.img", std::string(4 << 20, '\0'));
    ASSERT_EQ(util::run_process({"sh", "-c", "printf 'label: gpt\\n,\\n' | sfdisk -q " + (t / "disk.img").string()}).exit_code, 0);
  }
  util::ProcessResult run(const std::string& key) {
    write_text(dir_.path() / "order.key", key + "\n");
    util::ProcessOptions o;
    const fs::path t = dir_.path();
    o.env = {{"IRONSTONE_NODE_ENV", (t / "node.env").string()}, {"IRONSTONE_ORDER_KEY", (t / "order.key").string()},
             {"IRONSTONE_STATE_DIR", (t / "state").string()},   {"IRONSTONE_LIB", (t / "lib").string()},
             {"IRONSTONE_ORDER_DISK", (t / "disk.img").string()},
             {"IRONSTONE_REBOOT", "touch " + (t / "rebooted").string()}};
    return util::run_process({"sh", (t / "orders.sh").string()}, o);
  }
  bool disk_has_gpt() {
    return util::run_process({"sfdisk", "-d", (dir_.path() / "disk.img").string()}).exit_code == 0;
  }
};

TEST_F(OrdersScript, NoOrderChangesNothing) {
  const auto r = run(order_key());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(disk_has_gpt());
  EXPECT_FALSE(fs::exists(dir_.path() / "rebooted"));
}

TEST_F(OrdersScript, AForgedOrderIsRefusedAndTheDiskKept) {
  ASSERT_EQ(order("POST", R"({"nodes":[")" + kNode + R"("]})").status, 200);
  const auto r = run(std::string(64, 'e'));  // not this node's key
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("does not authenticate under"), std::string::npos) << r.out;
  EXPECT_TRUE(disk_has_gpt());
  EXPECT_FALSE(fs::exists(dir_.path() / "rebooted"));
  EXPECT_EQ(json::parse(http_get(port_, "/v1/fleet").body)["nodes"][0]["state"], "done");
}

TEST_F(OrdersScript, AnAuthenticOrderWipesTheDiskReportsAndRebootsExactlyOnce) {
  const std::string key = order_key();
  ASSERT_EQ(order("POST", R"({"nodes":[")" + kNode + R"("]})").status, 200);
  const auto r = run(key);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_FALSE(disk_has_gpt());
  EXPECT_TRUE(fs::exists(dir_.path() / "rebooted"));
  EXPECT_FALSE(fs::is_empty(dir_.path() / "state/wipefs-backup"));  // the signatures, to undo it
  const json node = json::parse(http_get(port_, "/v1/fleet").body)["nodes"][0];
  EXPECT_EQ(node["state"], "reflashing");
  EXPECT_EQ(node["order"]["state"], "taken");

  fs::remove(dir_.path() / "rebooted");
  const auto again = run(key);  // the same order still served: never acted on twice
  EXPECT_EQ(again.exit_code, 0) << again.out;
  EXPECT_FALSE(fs::exists(dir_.path() / "rebooted"));
}

TEST(ReflashOrderFleet, ReflashingShowsUntilTheNextFlashCarriesTheOrderOutOrTheBootTimeoutPasses) {
  Fleet::Options opt;
  opt.boot_timeout = 1800s;
  Fleet fleet(opt);
  const auto t0 = Fleet::Clock::now();
  fleet.record(api::parse_node_event(kNode, kDone), t0);
  const auto orders = fleet.order_reflash({kMac}, t0);
  ASSERT_EQ(orders.size(), 1u);
  fleet.report(api::parse_lifecycle_report(kNode, R"({"state":"reflashing","order":")" + orders[0].id + "\"}"), t0 + 60s);
  json node = fleet.view(t0 + 120s)["nodes"][0];
  EXPECT_EQ(node["state"], "reflashing");
  EXPECT_EQ(node["order"]["state"], "taken");
  EXPECT_EQ(fleet.view(t0 + 120s)["summary"]["reflashing"], 1);
  EXPECT_EQ(fleet.view(t0 + 60s + 1801s)["nodes"][0]["state"], "stale");
  EXPECT_NE(fleet.view(t0 + 60s + 1801s)["nodes"][0]["reason"].get<std::string>().find("no flash started for 30 min"),
            std::string::npos);

  NodeEvent working = api::parse_node_event(kNode, R"({"mac":"dc:a6:32:01:02:03","step":"board","state":"working"})");
  fleet.record(working, t0 + 300s);
  node = fleet.view(t0 + 301s)["nodes"][0];
  EXPECT_EQ(node["state"], "working");
  EXPECT_TRUE(node["order"].is_null());
  EXPECT_FALSE(fleet.open_order(kNode, t0 + 301s));
  const json history = fleet.history(kNode, t0 + 301s)->at("history");
  EXPECT_EQ(history.back()["kind"], "order");
  EXPECT_EQ(history.back()["outcome"], "carried out");
}

TEST(ReflashOrderFleet, AnExpiredOrderIsNoLongerServed) {
  Fleet fleet(Fleet::Options{});
  const auto t0 = Fleet::Clock::now();
  fleet.record(api::parse_node_event(kNode, kDone), t0);
  fleet.order_reflash({kNode}, t0);
  EXPECT_TRUE(fleet.open_order(kNode, t0 + 3600s));
  EXPECT_FALSE(fleet.open_order(kNode, t0 + std::chrono::seconds(api::kOrderLifetimeSeconds)));
  EXPECT_EQ(fleet.view(t0 + std::chrono::seconds(api::kOrderLifetimeSeconds))["nodes"][0]["order"]["state"], "expired");
}

}  // namespace
}  // namespace ironstone::seeder
