#include "api/node_identity.h"
#include "api/node_order.h"

#include "api/errc.h"
#include "util/json_reader.h"

namespace ironstone::api {

namespace {

using nlohmann::json;

bool alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// [A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?
bool label_name(std::string_view s) {
  if (s.empty() || s.size() > 63 || !alnum(s.front()) || !alnum(s.back())) return false;
  for (char c : s)
    if (!alnum(c) && c != '.' && c != '_' && c != '-') return false;
  return true;
}

// A DNS subdomain: dot-separated lower-case RFC 1123 labels, at most 253 bytes.
bool dns_subdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = s.find('.', start);
    if (!valid_hostname(s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start)))
      return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

bool printable(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return false;
  return true;
}

Error identity_error(const std::string& message) { return error(Errc::kIdentity, message); }

}  // namespace

std::optional<std::string> canonical_mac(std::string_view text) {
  if (text.size() != 17) return std::nullopt;
  std::string mac(text);
  const char sep = mac[2];
  if (sep != ':' && sep != '-') return std::nullopt;
  for (std::size_t i = 0; i < mac.size(); ++i) {
    char& c = mac[i];
    if (i % 3 == 2) {
      if (c != sep) return std::nullopt;
      c = ':';
      continue;
    }
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
  }
  return mac;
}

bool valid_hostname(std::string_view s) {
  if (s.empty() || s.size() > 63 || s.front() == '-' || s.back() == '-') return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return true;
}

bool valid_label_key(std::string_view s) {
  const std::size_t slash = s.find('/');
  if (slash == std::string_view::npos) return label_name(s);
  return dns_subdomain(s.substr(0, slash)) && label_name(s.substr(slash + 1));
}

bool valid_label_value(std::string_view s) { return s.empty() || label_name(s); }

bool valid_role(std::string_view s) { return s == "server" || s == "agent"; }

std::string check_k3s(const K3sJoin& k, std::string_view role) {
  if (k.cluster_init && role != "server") return "'cluster_init' is only for role \"server\"";
  if (k.cluster_init && !k.server.empty()) return "'server' must be empty with 'cluster_init' (this node starts the cluster)";
  if (!k.cluster_init) {
    if (!k.server.starts_with("https://") || k.server.size() <= 8) return "'server' must start with https://";
    if (k.server.size() > kMaxUrlBytes || !printable(k.server) || k.server.find(' ') != std::string::npos)
      return "'server' must be a URL of at most " + std::to_string(kMaxUrlBytes) + " bytes without spaces";
  }
  if (k.token.empty()) return "'token' is empty";
  if (k.token.size() > kMaxTokenBytes || !printable(k.token))
    return "'token' must be at most " + std::to_string(kMaxTokenBytes) + " bytes without control characters";
  return "";
}

std::string check_ssh_key(std::string_view key) {
  if (key.empty() || key.size() > kMaxSshKeyBytes || !printable(key))
    return "expected one line of at most " + std::to_string(kMaxSshKeyBytes) + " bytes";
  if (!key.starts_with("ssh-") && !key.starts_with("ecdsa-") && !key.starts_with("sk-"))
    return "expected an OpenSSH public key (ssh-ed25519 AAAA… comment)";
  return "";
}

json to_json(const NodeIdentity& id) {
  json out{{"mac", id.mac}, {"hostname", id.hostname}, {"role", id.role}, {"labels", id.labels}};
  if (id.k3s) out["k3s"] = {{"server", id.k3s->server}, {"token", id.k3s->token}, {"cluster_init", id.k3s->cluster_init}};
  if (!id.ssh_authorized_keys.empty()) out["ssh_authorized_keys"] = id.ssh_authorized_keys;
  if (!id.user_data.is_null()) out["user_data"] = id.user_data;
  if (!id.network_config.is_null()) out["network_config"] = id.network_config;
  if (!id.order_key.empty()) out["order_key"] = id.order_key;
  return out;
}

std::string serialize_node_identity(const NodeIdentity& id) {
  return to_json(id).dump(-1, ' ', false, json::error_handler_t::strict) + "\n";
}

NodeIdentity parse_node_identity(std::string_view text, std::string_view source) {
  const json doc =
      strict_json::parse_strict_within(text, kMaxIdentityBytes, source, identity_error, 16, "malformed JSON: ");
  strict_json::ObjectReader r(doc, "", source, identity_error);
  NodeIdentity id;
  const std::string mac = r.string("mac");
  if (auto m = canonical_mac(mac); m && *m == mac) id.mac = *m;
  else r.fail("mac", "expected a lower-case MAC address like dc:a6:32:01:02:03");
  id.hostname = r.string("hostname");
  if (!valid_hostname(id.hostname)) r.fail("hostname", "expected a lower-case host name [a-z0-9-]{1,63}");
  id.role = r.string("role");
  if (!valid_role(id.role)) r.fail("role", "expected \"server\" or \"agent\"");
  strict_json::ObjectReader labels = r.object("labels");
  const json& lv = r.value("labels");
  if (lv.size() > kMaxLabels) r.fail("labels", "more than " + std::to_string(kMaxLabels) + " labels");
  for (const auto& [k, v] : lv.items()) {
    if (!valid_label_key(k)) labels.fail(k.c_str(), "not a Kubernetes label key");
    const std::string value = labels.string(k.c_str());
    if (!valid_label_value(value)) labels.fail(k.c_str(), "not a Kubernetes label value");
    id.labels[k] = value;
  }
  if (r.has("k3s")) {
    strict_json::ObjectReader k = r.object("k3s");
    K3sJoin join{k.string("server"), k.string("token"), k.boolean("cluster_init")};
    k.finish();
    if (auto why = check_k3s(join, id.role); !why.empty()) r.fail("k3s", why);
    id.k3s = std::move(join);
  }
  if (r.has("ssh_authorized_keys")) {
    const json& keys = r.array("ssh_authorized_keys");
    if (keys.size() > kMaxSshKeys) r.fail("ssh_authorized_keys", "more than " + std::to_string(kMaxSshKeys) + " keys");
    for (std::size_t i = 0; i < keys.size(); ++i) {
      const std::string f = strict_json::element("ssh_authorized_keys", i);
      if (!keys[i].is_string()) r.fail(f.c_str(), "expected a string");
      if (auto why = check_ssh_key(keys[i].get<std::string>()); !why.empty()) r.fail(f.c_str(), why);
      id.ssh_authorized_keys.push_back(keys[i].get<std::string>());
    }
  }
  for (const char* blob : {"user_data", "network_config"}) {
    if (!r.has(blob)) continue;
    (void)r.object(blob);  // must be an object
    (std::string_view(blob) == "user_data" ? id.user_data : id.network_config) = r.value(blob);
  }
  if (r.has("order_key")) {
    id.order_key = r.string("order_key");
    if (!valid_order_key(id.order_key)) r.fail("order_key", "expected 64 lower-case hex digits");
  }
  r.finish();
  return id;
}

}  // namespace ironstone::api
