#include "flasher/nocloud.h"

#include <set>

#include "manifest/hash.h"
#include "util/hex.h"

namespace ironstone::flasher {

using nlohmann::json;

namespace {

// A YAML double-quoted scalar: JSON string escapes are valid YAML escapes.
std::string quoted(const std::string& s) { return json(s).dump(-1, ' ', false, json::error_handler_t::strict); }

std::string pretty(const json& doc) { return doc.dump(2, ' ', false, json::error_handler_t::strict) + "\n"; }

std::string instance_id(const api::NodeIdentity& id, const std::string& release) {
  std::string mac12;
  for (char c : id.mac)
    if (c != ':') mac12 += c;
  const std::string doc = api::serialize_node_identity(id) + release;
  const auto h = blake2b256(std::span(reinterpret_cast<const std::uint8_t*>(doc.data()), doc.size()));
  return "ironstone-" + mac12 + "-" + to_hex(std::span(h.bytes.data(), 8));
}

json cloud_config(const api::NodeIdentity& id) {
  json cc = json::object();
  cc["hostname"] = id.hostname;
  cc["preserve_hostname"] = false;
  cc["manage_etc_hosts"] = true;
  if (!id.ssh_authorized_keys.empty()) cc["ssh_authorized_keys"] = id.ssh_authorized_keys;
  if (id.k3s) {
    cc["write_files"] = json::array({{{"path", kK3sConfigPath},
                                      {"owner", "root:root"},
                                      {"permissions", "0600"},
                                      {"content", k3s_config_yaml(id)}}});
    const char* unit = id.role == "server" ? "k3s.service" : "k3s-agent.service";
    cc["runcmd"] = json::array({json::array({"systemctl", "enable", "--now", unit})});
  }
  if (!id.user_data.is_object()) return cc;
  static const std::set<std::string> owned = {"hostname", "fqdn", "preserve_hostname", "prefer_fqdn_over_hostname"};
  for (const auto& [key, value] : id.user_data.items()) {
    if (owned.count(key)) continue;  // the inventory's own fields win
    if (value.is_array() && cc.contains(key) && cc[key].is_array()) {
      for (const auto& v : value) cc[key].push_back(v);
    } else if (!cc.contains(key)) {
      cc[key] = value;
    }
  }
  return cc;
}

}  // namespace

std::string k3s_config_yaml(const api::NodeIdentity& id) {
  if (!id.k3s) return "";
  std::string y = "# Written by ironstone-flasher from the seeder's inventory (docs/first-boot.md).\n";
  if (id.k3s->cluster_init) y += "cluster-init: true\n";
  else y += "server: " + quoted(id.k3s->server) + "\n";
  y += "token: " + quoted(id.k3s->token) + "\n";
  y += "node-name: " + quoted(id.hostname) + "\n";
  if (!id.labels.empty()) {
    y += "node-label:\n";
    for (const auto& [k, v] : id.labels) y += "  - " + quoted(k + "=" + v) + "\n";
  }
  return y;
}

std::vector<SeedFile> nocloud_seed(const api::NodeIdentity& id, const std::string& release) {
  std::vector<SeedFile> files;
  files.push_back({"meta-data", "instance-id: " + quoted(instance_id(id, release)) + "\nlocal-hostname: " +
                                    quoted(id.hostname) + "\n"});
  files.push_back({"user-data", "#cloud-config\n" + pretty(cloud_config(id))});
  if (id.network_config.is_object()) files.push_back({"network-config", pretty(id.network_config)});
  return files;
}

}  // namespace ironstone::flasher
