#include "flasher/nocloud.h"

#include <cctype>
#include <set>

#include "manifest/hash.h"
#include "util/hex.h"

namespace ironstone::flasher {

using nlohmann::json;

namespace {

// A YAML double-quoted scalar: JSON string escapes are valid YAML escapes.
std::string quoted(const std::string& s) { return json(s).dump(-1, ' ', false, json::error_handler_t::strict); }

std::string pretty(const json& doc) { return doc.dump(2, ' ', false, json::error_handler_t::strict) + "\n"; }

std::string instance_id(const api::NodeIdentity& id, const std::string& release) {  // "rpi5/2026.11.1"
  std::string mac12;
  for (char c : id.mac)
    if (c != ':') mac12 += c;
  const std::string doc = api::serialize_node_identity(id) + release;
  const auto h = blake2b256(std::span(reinterpret_cast<const std::uint8_t*>(doc.data()), doc.size()));
  return "ironstone-" + mac12 + "-" + to_hex(std::span(h.bytes.data(), 8));
}

std::string env_value(const std::string& v) {
  static const std::string safe = "._:/@%+=,-";
  bool plain = !v.empty();
  for (char c : v)
    if (!std::isalnum(static_cast<unsigned char>(c)) && safe.find(c) == std::string::npos) plain = false;
  if (plain) return v;
  std::string out = "\"";
  for (char c : v) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) continue;  // one line per variable
    if (c == '\\' || c == '"' || c == '$' || c == '`') out += '\\';
    out += c;
  }
  return out + "\"";
}

json cloud_config(const api::NodeIdentity& id, const SeedContext& ctx) {
  json cc = json::object();
  cc["hostname"] = id.hostname;
  cc["preserve_hostname"] = false;
  cc["manage_etc_hosts"] = true;
  if (!id.ssh_authorized_keys.empty()) cc["ssh_authorized_keys"] = id.ssh_authorized_keys;
  cc["write_files"] = json::array();
  if (id.k3s) {
    cc["write_files"].push_back(
        {{"path", kK3sConfigPath}, {"owner", "root:root"}, {"permissions", "0600"}, {"content", k3s_config_yaml(id)}});
  }
  cc["write_files"].push_back(
      {{"path", kNodeEnvPath}, {"owner", "root:root"}, {"permissions", "0644"}, {"content", node_env(id, ctx)}});
  if (!id.order_key.empty()) {
    cc["write_files"].push_back(
        {{"path", kOrderKeyPath}, {"owner", "root:root"}, {"permissions", "0600"}, {"content", id.order_key + "\n"}});
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

std::string node_env(const api::NodeIdentity& id, const SeedContext& ctx) {
  std::string url = ctx.seeder_url;
  while (url.ends_with('/')) url.pop_back();
  std::string env = "# Written by ironstone-flasher (docs/first-boot.md): read by ironstone-firstboot.service.\n";
  env += "IRONSTONE_NODE_ID=" + env_value(ctx.node_id) + "\n";
  env += "IRONSTONE_SEEDER_URL=" + env_value(url) + "\n";
  env += "IRONSTONE_BOARD=" + env_value(ctx.board) + "\n";
  env += "IRONSTONE_RELEASE=" + env_value(ctx.version) + "\n";
  env += "IRONSTONE_SEQUENCE=" + std::to_string(ctx.sequence) + "\n";
  if (id.k3s) env += "IRONSTONE_K3S_ROLE=" + std::string(id.role == "server" ? "server" : "agent") + "\n";
  return env;
}

std::vector<SeedFile> nocloud_seed(const api::NodeIdentity& id, const SeedContext& ctx) {
  const std::string release = ctx.board + "/" + ctx.version;
  std::vector<SeedFile> files;
  files.push_back({"meta-data", "instance-id: " + quoted(instance_id(id, release)) + "\nlocal-hostname: " +
                                    quoted(id.hostname) + "\n"});
  files.push_back({"user-data", "#cloud-config\n" + pretty(cloud_config(id, ctx))});
  if (id.network_config.is_object()) files.push_back({"network-config", pretty(id.network_config)});
  return files;
}

}  // namespace ironstone::flasher
