// Re-flash orders (api/node_order.h): the order's exact bytes (what the node's HMAC covers and
// its shell script reads), strict parsing naming the field, the operator's request, and the
// identity's optional order key.
#include "api/node_order.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/errc.h"
#include "api/node_event.h"
#include "api/node_identity.h"
#include "api/paths.h"
#include "tests/testutil/expect_error.h"

namespace ironstone::api {
namespace {

NodeOrder sample() {
  return NodeOrder{"node-dca632010203", "dc:a6:32:01:02:03", "reflash", "0123456789abcdef0123456789abcdef",
                   1796288600, 1796288600 + kOrderLifetimeSeconds};
}

TEST(NodeOrder, SerializesCompactWithSortedKeysAndRoundTrips) {
  const std::string text = serialize_node_order(sample());
  EXPECT_EQ(text,
            R"({"action":"reflash","expires":1796375000,"id":"0123456789abcdef0123456789abcdef","issued":1796288600,)"
            R"("mac":"dc:a6:32:01:02:03","node_id":"node-dca632010203"})"
            "\n");
  EXPECT_EQ(parse_node_order(text, "t"), sample());
}

TEST(NodeOrder, EveryMalformedFieldIsRefusedNamingIt) {
  auto with = [](const std::string& key, const std::string& value) {
    nlohmann::json doc = nlohmann::json::parse(serialize_node_order(sample()));
    doc[key] = nlohmann::json::parse(value);
    return doc.dump();
  };
  EXPECT_ERROR_HAS(parse_node_order(with("action", "\"wipe\""), "GET u"), Errc::kOrder, "action");
  EXPECT_ERROR_HAS(parse_node_order(with("id", "\"0123\""), "GET u"), Errc::kOrder, "id");
  EXPECT_ERROR_HAS(parse_node_order(with("mac", "\"DC:A6:32:01:02:03\""), "GET u"), Errc::kOrder, "mac");
  EXPECT_ERROR_HAS(parse_node_order(with("node_id", "\"-x\""), "GET u"), Errc::kOrder, "node_id");
  EXPECT_ERROR_HAS(parse_node_order(with("expires", "1"), "GET u"), Errc::kOrder, "before 'issued'");
  EXPECT_ERROR_HAS(parse_node_order(with("extra", "1"), "GET u"), Errc::kOrder, "extra");
  EXPECT_ERROR_HAS(parse_node_order(std::string(kMaxOrderBytes + 1, ' '), "GET u"), Errc::kOrder,
                   "GET u: larger than 1024 bytes");
}

TEST(ReflashRequest, TakesNodeIdsAndMacsAndRefusesEmptyDuplicateOrBadNames) {
  EXPECT_EQ(parse_reflash_request(R"({"nodes":["rack1-n01","DC:A6:32:01:02:03"]})"),
            (std::vector<std::string>{"rack1-n01", "DC:A6:32:01:02:03"}));
  EXPECT_ERROR_HAS(parse_reflash_request(R"({"nodes":[]})"), Errc::kOrder, "names no node");
  EXPECT_ERROR_HAS(parse_reflash_request(R"({"nodes":["a","a"]})"), Errc::kOrder, "'a' named twice");
  EXPECT_ERROR_HAS(parse_reflash_request(R"({"nodes":["a","bad/name"]})"), Errc::kOrder, "nodes[1]");
  EXPECT_ERROR_HAS(parse_reflash_request(R"({"nodes":["a"],"all":true})"), Errc::kOrder, "all");
  EXPECT_ERROR_HAS(parse_reflash_request("[1"), Errc::kOrder, "re-flash request: malformed JSON");
}

TEST(NodeIdentityOrderKey, IsSentOnlyWhenSetAndMustBe64LowerHex) {
  NodeIdentity id;
  id.mac = "dc:a6:32:01:02:03";
  id.hostname = "rack1-n01";
  id.role = "agent";
  EXPECT_EQ(serialize_node_identity(id).find("order_key"), std::string::npos);
  id.order_key = std::string(64, 'a');
  EXPECT_EQ(parse_node_identity(serialize_node_identity(id), "t"), id);
  id.order_key = std::string(64, 'A');
  EXPECT_ERROR_HAS(parse_node_identity(serialize_node_identity(id), "t"), Errc::kIdentity, "order_key");
}

TEST(NodeIdentityOrderKey, TheFlasherAsksForItWithAQueryOlderSeedersIgnore) {
  EXPECT_EQ(node_identity_path("dc:a6:32:01:02:03"), "/v1/nodes/dc:a6:32:01:02:03/identity");
  EXPECT_EQ(node_identity_path("dc:a6:32:01:02:03", true), "/v1/nodes/dc:a6:32:01:02:03/identity?with=order_key");
  EXPECT_EQ(node_order_path("rack1-n01"), "/v1/nodes/rack1-n01/order");
}

TEST(LifecycleReflashing, NeedsTheOrderIdAndKeepsIt) {
  const auto r = parse_lifecycle_report("n", R"({"state":"reflashing","order":"0123456789abcdef0123456789abcdef"})");
  EXPECT_EQ(r.order, "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(parse_lifecycle_report("n", serialize_lifecycle_report(r)).order, r.order);
  EXPECT_ERROR_EQ(parse_lifecycle_report("n", R"({"state":"reflashing"})"), Errc::kEvent,
                  "lifecycle: field 'order': missing (required with \"reflashing\")");
  EXPECT_ERROR_HAS(parse_lifecycle_report("n", R"({"state":"reflashing","order":"xyz"})"), Errc::kEvent, "order");
}

}  // namespace
}  // namespace ironstone::api
