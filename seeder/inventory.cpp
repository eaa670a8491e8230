#include "seeder/inventory.h"

#include <set>

#include "util/json_reader.h"
#include "seeder/errc.h"
#include "util/file.h"

namespace ironstone::seeder {

namespace fs = std::filesystem;
using nlohmann::json;
using strict_json::ObjectReader;
using api::NodeIdentity;

namespace {

Error config_error(const std::string& message) { return error(Errc::kConfig, message); }

// Keys of cluster.user_data that the inventory sets itself, and lists that are appended to.
const std::set<std::string, std::less<>> kOwnedUserData = {"hostname", "fqdn", "preserve_hostname",
                                                           "prefer_fqdn_over_hostname"};
const std::set<std::string, std::less<>> kListUserData = {"write_files", "runcmd", "bootcmd", "packages",
                                                          "ssh_authorized_keys"};

struct Cluster {
  std::optional<api::K3sJoin> k3s;  // server may be empty (every server node then needs cluster_init)
  std::vector<std::string> ssh_keys;
  json user_data, network_config;
};

std::string read_token(ObjectReader& k3s, const fs::path& base_dir, std::vector<fs::path>& files) {
  const bool inline_token = k3s.has("token"), file = k3s.has("token_file");
  if (inline_token == file) k3s.fail("token", "give exactly one of 'token' and 'token_file'");
  if (inline_token) return k3s.string("token");
  fs::path path = k3s.string("token_file");
  if (path.empty()) k3s.fail("token_file", "empty path");
  if (path.is_relative()) path = base_dir / path;
  std::string why;
  auto text = util::read_small_file(path, api::kMaxTokenBytes, &why);
  if (!text) k3s.fail("token_file", path.string() + ": " + why);
  while (!text->empty() && (text->back() == '\n' || text->back() == '\r' || text->back() == ' ')) text->pop_back();
  if (text->empty()) k3s.fail("token_file", path.string() + ": empty");
  files.push_back(path);
  return *text;
}

Cluster parse_cluster(ObjectReader& root, const fs::path& base_dir, std::vector<fs::path>& files) {
  Cluster c;
  if (!root.has("cluster")) return c;
  ObjectReader r = root.object("cluster");
  if (r.has("k3s")) {
    ObjectReader k = r.object("k3s");
    api::K3sJoin join;
    if (k.has("server")) {
      join.server = k.string("server");
      if (auto why = api::check_k3s({join.server, "x", false}, "agent"); !why.empty()) k.fail("server", why);
    }
    join.token = read_token(k, base_dir, files);
    if (auto why = api::check_k3s({"https://x", join.token, false}, "agent"); !why.empty())
      k.fail(k.has("token") ? "token" : "token_file", why);
    k.finish();
    c.k3s = std::move(join);
  }
  if (r.has("ssh_authorized_keys")) {
    c.ssh_keys = r.text_list("ssh_authorized_keys", api::kMaxSshKeys, api::kMaxSshKeyBytes);
    for (std::size_t i = 0; i < c.ssh_keys.size(); ++i)
      if (auto why = api::check_ssh_key(c.ssh_keys[i]); !why.empty())
        r.fail(strict_json::element("ssh_authorized_keys", i).c_str(), why);
  }
  if (r.has("user_data")) {
    ObjectReader u = r.object("user_data");
    c.user_data = r.value("user_data");
    for (const auto& [key, value] : c.user_data.items()) {
      if (kOwnedUserData.count(key)) u.fail(key.c_str(), "set from each node's inventory entry, not here");
      if (kListUserData.count(key) && !value.is_array()) u.fail(key.c_str(), "expected an array (it is appended to)");
    }
  }
  if (r.has("network_config")) {
    (void)r.object("network_config");
    c.network_config = r.value("network_config");
  }
  r.finish();
  return c;
}

NodeIdentity parse_node(ObjectReader& r, const std::string& mac, const Cluster& cluster) {
  NodeIdentity id;
  id.mac = mac;
  id.hostname = r.string("hostname");
  if (!api::valid_hostname(id.hostname)) r.fail("hostname", "expected a lower-case host name [a-z0-9-]{1,63}");
  id.role = r.has("role") ? r.string("role") : "agent";
  if (!api::valid_role(id.role)) r.fail("role", "expected \"server\" or \"agent\"");
  const bool cluster_init = r.has("cluster_init") && r.boolean("cluster_init");
  if (r.has("labels")) {
    ObjectReader labels = r.object("labels");
    const json& lv = r.value("labels");
    if (lv.size() > api::kMaxLabels) r.fail("labels", "more than " + std::to_string(api::kMaxLabels) + " labels");
    for (const auto& [k, v] : lv.items()) {
      if (!api::valid_label_key(k)) labels.fail(k.c_str(), "not a Kubernetes label key ([prefix/]name)");
      const std::string value = labels.string(k.c_str());
      if (!api::valid_label_value(value)) labels.fail(k.c_str(), "not a Kubernetes label value");
      id.labels[k] = value;
    }
  }
  id.network_config = cluster.network_config;
  if (r.has("network_config")) {
    (void)r.object("network_config");
    id.network_config = r.value("network_config");
  }
  r.finish();
  if (cluster.k3s) {
    api::K3sJoin join = *cluster.k3s;
    join.cluster_init = cluster_init;
    if (cluster_init) join.server.clear();
    if (auto why = api::check_k3s(join, id.role); !why.empty()) {
      if (join.server.empty() && !cluster_init) r.fail("role", "needs cluster.k3s.server to join (or cluster_init on a server)");
      r.fail("cluster_init", why);
    }
    id.k3s = std::move(join);
  } else if (cluster_init) {
    r.fail("cluster_init", "needs cluster.k3s (the token)");
  }
  id.ssh_authorized_keys = cluster.ssh_keys;
  id.user_data = cluster.user_data;
  return id;
}

}  // namespace

const NodeIdentity* Inventory::find(std::string_view mac) const {
  auto canonical = api::canonical_mac(mac);
  if (!canonical) return nullptr;
  auto it = nodes.find(*canonical);
  return it == nodes.end() ? nullptr : &it->second;
}

Inventory parse_inventory(std::string_view text, std::string_view source, const fs::path& base_dir) {
  const json doc =
      strict_json::parse_strict_within(text, kMaxInventoryBytes, source, config_error, 16, "malformed JSON: ");
  ObjectReader root(doc, "", source, config_error);
  if (root.uint("format_version") != 1) root.fail("format_version", "unsupported (this seeder reads version 1)");
  Inventory inv;
  const Cluster cluster = parse_cluster(root, base_dir, inv.files);
  ObjectReader nodes = root.object("nodes");
  const json& nv = root.value("nodes");
  if (nv.size() > kMaxInventoryNodes)
    root.fail("nodes", "more than " + std::to_string(kMaxInventoryNodes) + " nodes");
  std::map<std::string, std::string> spelled, by_hostname;  // canonical MAC -> as written; hostname -> MAC
  for (const auto& [key, value] : nv.items()) {
    auto mac = api::canonical_mac(key);
    if (!mac) nodes.fail(key.c_str(), "not a MAC address (expected e.g. dc:a6:32:01:02:03)");
    if (auto [it, fresh] = spelled.emplace(*mac, key); !fresh)
      nodes.fail(key.c_str(), "the same MAC as '" + it->second + "'");
    ObjectReader entry = nodes.object(key.c_str());
    NodeIdentity id = parse_node(entry, *mac, cluster);
    if (auto [it, fresh] = by_hostname.emplace(id.hostname, key); !fresh)
      entry.fail("hostname", "'" + id.hostname + "' is also the host name of '" + it->second + "'");
    inv.nodes.emplace(*mac, std::move(id));
  }
  root.finish();
  return inv;
}

Inventory load_inventory(const fs::path& path) {
  std::string why;
  auto text = util::read_small_file(path, kMaxInventoryBytes, &why);
  if (!text) throw config_error("inventory " + path.string() + ": " + why);
  Inventory inv = parse_inventory(*text, path.string(), path.parent_path().empty() ? fs::path(".") : path.parent_path());
  inv.files.insert(inv.files.begin(), path);
  return inv;
}

}  // namespace ironstone::seeder
