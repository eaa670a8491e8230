// The seeder's inventory: which node (by MAC) gets which hostname, role and labels, plus
// the cluster settings every node's first boot needs (k3s server URL and token, SSH keys,
// extra cloud-init user-data / network-config). docs/first-boot.md describes the file:
//
//   {"format_version": 1,
//    "cluster": {"k3s": {"server": "https://10.0.0.10:6443", "token_file": "k3s-token"},
//                "ssh_authorized_keys": ["ssh-ed25519 AAAA… ops"],
//                "user_data": {"timezone": "Etc/UTC"}, "network_config": {…}},
//    "nodes": {"dc:a6:32:01:02:03": {"hostname": "rack1-n01", "role": "server",
//                                    "cluster_init": true, "labels": {"rack": "1"}},
//              "dc:a6:32:01:02:04": {"hostname": "rack1-n02", "network_config": {…}}}}
//
// Parsing is strict: malformed JSON, unknown or duplicate fields (also the same MAC written
// twice in different case), bad MACs, host names, labels, roles, two nodes with one host
// name, a token and a token_file together, an unreadable token file, or user_data setting
// what the inventory sets itself are Errc::kConfig errors naming the file and the field,
//   "inventory.json: field 'nodes.dc:a6:32:01:02:03.hostname': expected a lower-case host
//    name [a-z0-9-]{1,63}".
// A relative token_file is relative to the inventory's directory.
// Thread safety: an Inventory is an immutable value once parsed.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "api/node_identity.h"

namespace ironstone::seeder {

inline constexpr std::size_t kMaxInventoryBytes = 16 * 1024 * 1024;
inline constexpr std::size_t kMaxInventoryNodes = 4096;

struct Inventory {
  std::map<std::string, api::NodeIdentity> nodes;  // by canonical MAC
  // The files this inventory was read from (the inventory, its token file): reloads watch them.
  std::vector<std::filesystem::path> files;

  // The node's identity; null when the MAC (any case, ':' or '-') is not in the inventory.
  const api::NodeIdentity* find(std::string_view mac) const;
};

// `source` names the input in messages; `base_dir` resolves a relative token_file.
Inventory parse_inventory(std::string_view text, std::string_view source, const std::filesystem::path& base_dir);
// Reads and parses `path` (kConfig naming it when it cannot be read or is over 16 MiB).
Inventory load_inventory(const std::filesystem::path& path);

}  // namespace ironstone::seeder
