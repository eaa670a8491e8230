// The seeder's inventory: the strict parser (every kind of bad input, with its exact
// message), reloading when the file changes, and GET /v1/nodes/<mac>/identity over a real
// loopback socket.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "seeder/errc.h"
#include "seeder/inventory.h"
#include "seeder/inventory_file.h"
#include "tests/seeder/seeder_test_util.h"
#include "tests/testutil/expect_error.h"

namespace ironstone::seeder {
namespace {

using namespace ironstone::seeder::testing;
using ironstone::testing::TempDir;
using ironstone::testing::rewrite_text;
using ironstone::testing::write_text;
using nlohmann::json;
namespace fs = std::filesystem;

const char* kGood = R"({
  "format_version": 1,
  "cluster": {
    "k3s": {"server": "https://10.0.0.10:6443", "token": "K10secret::server:abc"},
    "ssh_authorized_keys": ["ssh-ed25519 AAAAC3Nza ops@example"],
    "user_data": {"timezone": "Etc/UTC", "runcmd": [["touch", "/run/x"]]},
    "network_config": {"version": 2, "ethernets": {"eth0": {"dhcp4": true}}}
  },
  "nodes": {
    "DC:A6:32:01:02:03": {"hostname": "rack1-n01", "role": "server", "cluster_init": true,
                          "labels": {"rack": "1", "ironstone.dev/zone": "a"}},
    "dc-a6-32-01-02-04": {"hostname": "rack1-n02",
                          "network_config": {"version": 2, "ethernets": {"eth0": {"addresses": ["10.0.0.22/24"]}}}},
    "dc:a6:32:01:02:05": {"hostname": "rack1-n03", "role": "server"}
  }
})";

Inventory parse(const std::string& text) { return parse_inventory(text, "inv.json", "/nonexistent"); }

// `nodes` entries around one node under test, with a cluster that has k3s.
std::string with_node(const std::string& node_json, const std::string& mac = "dc:a6:32:01:02:03") {
  return R"({"format_version":1,"cluster":{"k3s":{"server":"https://k:6443","token":"t"}},"nodes":{")" + mac +
         "\":" + node_json + "}}";
}

TEST(InventoryParse, GoodInventoryGivesEachNodeItsIdentityAndTheClusterSettings) {
  const Inventory inv = parse(kGood);
  ASSERT_EQ(inv.nodes.size(), 3u);
  const api::NodeIdentity* n1 = inv.find("dc:a6:32:01:02:03");
  ASSERT_NE(n1, nullptr);
  EXPECT_EQ(n1->mac, "dc:a6:32:01:02:03");
  EXPECT_EQ(n1->hostname, "rack1-n01");
  EXPECT_EQ(n1->role, "server");
  EXPECT_EQ(n1->labels, (std::map<std::string, std::string>{{"ironstone.dev/zone", "a"}, {"rack", "1"}}));
  ASSERT_TRUE(n1->k3s);
  EXPECT_TRUE(n1->k3s->cluster_init);
  EXPECT_EQ(n1->k3s->server, "");  // the first server starts the cluster
  EXPECT_EQ(n1->k3s->token, "K10secret::server:abc");
  EXPECT_EQ(n1->ssh_authorized_keys, std::vector<std::string>{"ssh-ed25519 AAAAC3Nza ops@example"});
  EXPECT_EQ(n1->user_data["timezone"], "Etc/UTC");
  EXPECT_EQ(n1->network_config["ethernets"]["eth0"]["dhcp4"], true);

  const api::NodeIdentity* n2 = inv.find("DC:A6:32:01:02:04");  // any case, ':' or '-'
  ASSERT_NE(n2, nullptr);
  EXPECT_EQ(n2->role, "agent");  // the default
  EXPECT_EQ(n2->k3s->server, "https://10.0.0.10:6443");
  EXPECT_FALSE(n2->k3s->cluster_init);
  EXPECT_EQ(n2->network_config["ethernets"]["eth0"]["addresses"][0], "10.0.0.22/24");  // the node's own wins

  EXPECT_EQ(inv.find("dc:a6:32:01:02:05")->k3s->server, "https://10.0.0.10:6443");  // a joining server
  EXPECT_EQ(inv.find("dc:a6:32:99:99:99"), nullptr);
  EXPECT_EQ(inv.find("not a mac"), nullptr);
}

TEST(InventoryParse, InventoryWithoutClusterGivesIdentitiesThatJoinNothing) {
  const Inventory inv = parse(R"({"format_version":1,"nodes":{"02:00:00:00:00:01":{"hostname":"lab"}}})");
  const api::NodeIdentity* n = inv.find("02:00:00:00:00:01");
  ASSERT_NE(n, nullptr);
  EXPECT_FALSE(n->k3s);
  EXPECT_TRUE(n->user_data.is_null());
}

TEST(InventoryParse, TokenFileIsReadRelativeToTheInventoryAndTrimmed) {
  TempDir dir;
  write_text(dir / "k3s-token", "K10fromfile\n");
  write_text(dir / "inventory.json", R"({"format_version":1,"cluster":{"k3s":{"server":"https://k:6443",
    "token_file":"k3s-token"}},"nodes":{"02:00:00:00:00:01":{"hostname":"a"}}})");
  const Inventory inv = load_inventory(dir / "inventory.json");
  EXPECT_EQ(inv.find("02:00:00:00:00:01")->k3s->token, "K10fromfile");
  EXPECT_EQ(inv.files, (std::vector<fs::path>{dir / "inventory.json", dir / "k3s-token"}));
}

struct BadCase {
  std::string name, text, message;
  friend void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }
};

class InventoryRejects : public ::testing::TestWithParam<BadCase> {};

TEST_P(InventoryRejects, NamingFileFieldAndEntry) {
  EXPECT_ERROR_EQ(parse(GetParam().text), Errc::kConfig, GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    EveryKindOfBadInput, InventoryRejects,
    ::testing::Values(
        BadCase{"Malformed", "{\"format_version\":1,", "inv.json: malformed JSON: parse error at line 1, column 21: "
                                                         "syntax error while parsing object key - unexpected end of "
                                                         "input; expected string literal"},
        BadCase{"UnknownTopLevelField", R"({"format_version":1,"nodes":{},"extra":1})",
                "inv.json: field 'extra': unknown field"},
        BadCase{"WrongFormatVersion", R"({"format_version":2,"nodes":{}})",
                "inv.json: field 'format_version': unsupported (this seeder reads version 1)"},
        BadCase{"DuplicateMac", R"({"format_version":1,"nodes":{"02:00:00:00:00:01":{"hostname":"a"},
                "02:00:00:00:00:01":{"hostname":"b"}}})",
                "inv.json: duplicate key '02:00:00:00:00:01'"},
        BadCase{"SameMacInAnotherSpelling", R"({"format_version":1,"nodes":{"02:00:00:00:00:0a":{"hostname":"a"},
                "02-00-00-00-00-0A":{"hostname":"b"}}})",
                "inv.json: field 'nodes.02:00:00:00:00:0a': the same MAC as '02-00-00-00-00-0A'"},
        BadCase{"BadMac", R"({"format_version":1,"nodes":{"02:00:00:00:00":{"hostname":"a"}}})",
                "inv.json: field 'nodes.02:00:00:00:00': not a MAC address (expected e.g. dc:a6:32:01:02:03)"},
        BadCase{"BadHostname", with_node(R"({"hostname":"Rack1_N01"})"),
                "inv.json: field 'nodes.dc:a6:32:01:02:03.hostname': expected a lower-case host name [a-z0-9-]{1,63}"},
        BadCase{"MissingHostname", with_node(R"({"role":"agent"})"),
                "inv.json: field 'nodes.dc:a6:32:01:02:03.hostname': missing"},
        BadCase{"DuplicateHostname", R"({"format_version":1,"nodes":{"02:00:00:00:00:01":{"hostname":"a"},
                "02:00:00:00:00:02":{"hostname":"a"}}})",
                "inv.json: field 'nodes.02:00:00:00:00:02.hostname': 'a' is also the host name of '02:00:00:00:00:01'"},
        BadCase{"UnknownNodeField", with_node(R"({"hostname":"a","ip":"10.0.0.1"})"),
                "inv.json: field 'nodes.dc:a6:32:01:02:03.ip': unknown field"},
        BadCase{"BadRole", with_node(R"({"hostname":"a","role":"master"})"),
                "inv.json: field 'nodes.dc:a6:32:01:02:03.role': expected \"server\" or \"agent\""},
        BadCase{"BadLabelKey", with_node(R"({"hostname":"a","labels":{"-rack":"1"}})"),
                "inv.json: field 'nodes.dc:a6:32:01:02:03.labels.-rack': not a Kubernetes label key ([prefix/]name)"},
        BadCase{"BadLabelValue", with_node(R"({"hostname":"a","labels":{"rack":"one two"}})"),
                "inv.json: field 'nodes.dc:a6:32:01:02:03.labels.rack': not a Kubernetes label value"},
        BadCase{"ClusterInitOnAnAgent", with_node(R"({"hostname":"a","cluster_init":true})"),
                "inv.json: field 'nodes.dc:a6:32:01:02:03.cluster_init': 'cluster_init' is only for role \"server\""},
        BadCase{"AgentWithoutServer", R"({"format_version":1,"cluster":{"k3s":{"token":"t"}},
                "nodes":{"02:00:00:00:00:01":{"hostname":"a"}}})",
                "inv.json: field 'nodes.02:00:00:00:00:01.role': needs cluster.k3s.server to join (or cluster_init "
                "on a server)"},
        BadCase{"ServerNotHttps", R"({"format_version":1,"cluster":{"k3s":{"server":"http://k:6443","token":"t"}},
                "nodes":{}})",
                "inv.json: field 'cluster.k3s.server': 'server' must start with https://"},
        BadCase{"TokenAndTokenFile", R"({"format_version":1,"cluster":{"k3s":{"server":"https://k","token":"t",
                "token_file":"f"}},"nodes":{}})",
                "inv.json: field 'cluster.k3s.token': give exactly one of 'token' and 'token_file'"},
        BadCase{"UnreadableTokenFile", R"({"format_version":1,"cluster":{"k3s":{"server":"https://k",
                "token_file":"k3s-token"}},"nodes":{}})",
                "inv.json: field 'cluster.k3s.token_file': /nonexistent/k3s-token: cannot open: No such file or "
                "directory"},
        BadCase{"BadSshKey", R"({"format_version":1,"cluster":{"ssh_authorized_keys":["hunter2"]},"nodes":{}})",
                "inv.json: field 'cluster.ssh_authorized_keys[0]': expected an OpenSSH public key (ssh-ed25519 "
                "AAAA… comment)"},
        BadCase{"UserDataSettingTheHostname", R"({"format_version":1,"cluster":{"user_data":{"hostname":"x"}},
                "nodes":{}})",
                "inv.json: field 'cluster.user_data.hostname': set from each node's inventory entry, not here"},
        BadCase{"UserDataListThatIsNotAList", R"({"format_version":1,"cluster":{"user_data":{"runcmd":"reboot"}},
                "nodes":{}})",
                "inv.json: field 'cluster.user_data.runcmd': expected an array (it is appended to)"},
        BadCase{"NetworkConfigNotAnObject", with_node(R"({"hostname":"a","network_config":"dhcp"})"),
                "inv.json: field 'nodes.dc:a6:32:01:02:03.network_config': expected an object"}),
    [](const auto& info) { return info.param.name; });

// ---------------------------------------------------------------- reloading

TEST(InventoryReload, ChangedFileIsReloadedAndABrokenVersionKeepsTheLastGoodOne) {
  TempDir dir;
  const fs::path path = dir / "inventory.json";
  write_text(path, R"({"format_version":1,"nodes":{"02:00:00:00:00:01":{"hostname":"first"}}})");
  InventoryFile file(path);
  auto v1 = file.current();
  EXPECT_EQ(v1->find("02:00:00:00:00:01")->hostname, "first");
  EXPECT_EQ(file.current(), v1) << "an unchanged file is not parsed again";

  rewrite_text(path, R"({"format_version":1,"nodes":{"02:00:00:00:00:01":{"hostname":"second"},
                       "02:00:00:00:00:02":{"hostname":"third"}}})");
  EXPECT_EQ(file.current()->find("02:00:00:00:00:01")->hostname, "second");
  EXPECT_EQ(file.status().nodes, 2u);
  EXPECT_EQ(file.status().reloads, 1u);

  rewrite_text(path, R"({"format_version":1,"nodes":{"02:00:00:00:00:01":{"hostname":"BAD"}}})");
  EXPECT_EQ(file.current()->find("02:00:00:00:00:01")->hostname, "second");
  EXPECT_EQ(file.status().error, path.string() + ": field 'nodes.02:00:00:00:00:01.hostname': expected a lower-case "
                                                 "host name [a-z0-9-]{1,63}");
}

TEST(InventoryReload, BadInventoryAtStartUpIsAConfigError) {
  TempDir dir;
  EXPECT_ERROR_HAS(InventoryFile(dir / "missing.json"), Errc::kConfig,
                   "inventory " + (dir / "missing.json").string() + ": cannot open: No such file or directory");
}

// ---------------------------------------------------------------- GET /v1/nodes/<mac>/identity

class IdentityEndpoint : public LoopbackSeederTest {
 protected:
  void start(bool with_inventory, bool open_identity = true) {
    fs::create_directories(dir_ / "store");
    SeederConfig c = loopback_config(dir_ / "store", false);
    c.insecure_open_identity = open_identity;
    if (with_inventory) {
      write_text(dir_ / "inventory.json", kGood);
      c.inventory = dir_ / "inventory.json";
    }
    LoopbackSeederTest::start(c);
  }
};

// Fail closed: without --enrolment-keys (and without --insecure-open-identity) no identity
// leaves the seeder, neither by GET nor by POST, and the refusal says how to fix it.
TEST_F(IdentityEndpoint, WithoutEnrolmentKeysTheIdentityIsRefusedAndTheTokenNeverSent) {
  start(true, false);
  const std::string want =
      "no identity for dc:a6:32:01:02:04: this seeder gives identities only to enrolled installer cards and has "
      "no --enrolment-keys; make the cards with ironstone-build installer --enrolment-keys <file> and start the "
      "seeder with --enrolment-keys <the same file>";
  for (const HttpReply& r : {http_get(port_, "/v1/nodes/dc:a6:32:01:02:04/identity"),
                             http_get(port_, "/v1/nodes/dc:a6:32:01:02:04/identity?with=order_key"),
                             http_request(port_, "POST", "/v1/nodes/dc:a6:32:01:02:04/identity", {}, "{}")}) {
    EXPECT_EQ(r.status, 403) << r.body;
    EXPECT_EQ(json::parse(r.body)["error"], want);
    EXPECT_EQ(r.body.find("rack1-n02"), std::string::npos) << r.body;
    EXPECT_EQ(r.body.find("K10secret"), std::string::npos) << r.body;  // the join token
  }
}

TEST_F(IdentityEndpoint, KnownMacGetsItsIdentityDocument) {
  start(true);
  auto r = http_get(port_, "/v1/nodes/dc:a6:32:01:02:04/identity");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_EQ(r.header("cache-control"), "no-store");
  const api::NodeIdentity id = api::parse_node_identity(r.body, "reply");
  EXPECT_EQ(id, *seeder_->inventory()->current()->find("dc:a6:32:01:02:04"));
  EXPECT_EQ(id.hostname, "rack1-n02");
  EXPECT_EQ(json::parse(r.body)["k3s"]["server"], "https://10.0.0.10:6443");

  // Upper case and an escaped ':' name the same node.
  EXPECT_EQ(http_get(port_, "/v1/nodes/DC%3AA6%3A32%3A01%3A02%3A04/identity").body, r.body);
}

TEST_F(IdentityEndpoint, UnknownMacIs404WithAClearMessage) {
  start(true);
  auto r = http_get(port_, "/v1/nodes/dc:a6:32:99:99:99/identity");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(json::parse(r.body)["error"], "no identity for dc:a6:32:99:99:99: not in the inventory inventory.json");
  EXPECT_EQ(http_get(port_, "/v1/nodes/not-a-mac/identity").status, 404);  // no such route
}

TEST_F(IdentityEndpoint, SeederWithoutInventoryAnswers404) {
  start(false);
  auto r = http_get(port_, "/v1/nodes/dc:a6:32:01:02:03/identity");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(json::parse(r.body)["error"],
            "no identity for dc:a6:32:01:02:03: this seeder has no inventory (--inventory)");
}

TEST_F(IdentityEndpoint, EditedInventoryIsServedWithoutRestart) {
  start(true);
  rewrite_text(dir_ / "inventory.json", R"({"format_version":1,"nodes":{"dc:a6:32:01:02:04":{"hostname":"renamed"}}})");
  auto r = http_get(port_, "/v1/nodes/dc:a6:32:01:02:04/identity");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["hostname"], "renamed");
  EXPECT_EQ(http_get(port_, "/v1/nodes/dc:a6:32:01:02:03/identity").status, 404);
}

}  // namespace
}  // namespace ironstone::seeder
