// A node's identity for first boot: the document GET /v1/nodes/<mac>/identity answers
// (docs/http-api.md, docs/first-boot.md). The seeder builds it from its inventory
// (seeder/inventory.h); the flasher parses it and writes it as a cloud-init NoCloud seed
// (flasher/nocloud.h). It lives here because both sides speak it.
//
//   {"mac":"dc:a6:32:01:02:03","hostname":"rack1-n01","role":"agent",
//    "labels":{"rack":"1"},
//    "k3s":{"server":"https://10.0.0.10:6443","token":"K10…","cluster_init":false},
//    "ssh_authorized_keys":["ssh-ed25519 AAAA… ops"],
//    "user_data":{…},"network_config":{…},"order_key":"<64 hex>"}
//
// `k3s`, `ssh_authorized_keys`, `user_data`, `network_config` and `order_key` are optional.
// `order_key` (the key that authenticates this node's re-flash orders, api/node_order.h) is
// sent only to a flasher that asks for it (node_identity_path(mac, true): "?with=order_key"),
// so installer cards made before it existed, whose parsers refuse unknown fields, keep working. The document is
// NOT signed: it carries no trust (README, "Trust model"); it is validated for form only.
// parse_node_identity() is strict (unknown or duplicate fields, wrong types, bad names and
// oversized values are api::Errc::kIdentity errors naming the field).
// Thread safety: plain values and pure functions.
#pragma once

#include <cstddef>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/limits.h"  // kMaxIdentityBytes: the whole document

namespace ironstone::api {

inline constexpr std::size_t kMaxLabels = 64;
inline constexpr std::size_t kMaxSshKeys = 32;
inline constexpr std::size_t kMaxSshKeyBytes = 16 * 1024;
inline constexpr std::size_t kMaxTokenBytes = 4096;
inline constexpr std::size_t kMaxUrlBytes = 2048;

struct K3sJoin {
  std::string server;         // https://HOST:PORT of an existing server; empty with cluster_init
  std::string token;          // the cluster's join token (a secret)
  bool cluster_init = false;  // this node starts the cluster (role "server" only)
  bool operator==(const K3sJoin&) const = default;
};

struct NodeIdentity {
  std::string mac;       // canonical: lower-case "aa:bb:cc:dd:ee:ff"
  std::string hostname;  // RFC 1123 label, lower case: [a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?
  std::string role;      // "server" or "agent"
  std::map<std::string, std::string> labels;  // Kubernetes label key -> value
  std::optional<K3sJoin> k3s;                  // absent: the node joins no cluster
  std::vector<std::string> ssh_authorized_keys;
  nlohmann::json user_data;       // null, or a #cloud-config object merged into the seed
  nlohmann::json network_config;  // null, or the NoCloud network-config (v1/v2) object
  std::string order_key;          // empty, or 64 lower-case hex digits (a secret)

  bool operator==(const NodeIdentity&) const = default;
};

// "DC:A6:32:01:02:03" or "dc-a6-32-01-02-03" -> "dc:a6:32:01:02:03"; nullopt otherwise.
std::optional<std::string> canonical_mac(std::string_view text);
bool valid_hostname(std::string_view s);
// Kubernetes label key ("[prefix/]name": prefix a DNS subdomain <= 253, name <= 63 of
// [A-Za-z0-9._-], alphanumeric at both ends) and value (empty, or a name as above).
bool valid_label_key(std::string_view s);
bool valid_label_value(std::string_view s);
bool valid_role(std::string_view s);

// What is wrong with a field of an identity, or "" when it is fine: shared by the
// inventory parser and parse_node_identity, so both accept exactly the same values.
std::string check_k3s(const K3sJoin& k3s, std::string_view role);  // e.g. "'server' must start with https://"
std::string check_ssh_key(std::string_view key);

nlohmann::json to_json(const NodeIdentity& identity);
std::string serialize_node_identity(const NodeIdentity& identity);  // compact JSON + "\n"
NodeIdentity parse_node_identity(std::string_view text, std::string_view source);

}  // namespace ironstone::api
