// The cloud-init NoCloud seed of a node (docs/first-boot.md): the files the flasher writes
// to the root of the image's FAT boot partition, so the first boot sets the host name and
// joins k3s without the seeder.
//
//   meta-data       instance-id (from the MAC, the release and a hash of the identity, so a
//                   changed identity is a new instance) and local-hostname
//   user-data       #cloud-config (JSON, which is YAML): hostname, SSH keys, write_files
//                   /etc/rancher/k3s/config.yaml (0600: server, token, node-name, node-label,
//                   or cluster-init) when the identity has k3s, and /etc/ironstone/node.env
//                   (0644, always: what the gold image's first-boot units read to report
//                   booted/joined to the seeder and to pick the k3s role, see
//                   CONTRACT-firstboot / docs/first-boot.md), /etc/ironstone/order.key (0600,
//                   when the identity has an order_key: the gold image's re-flash order
//                   check, docs/first-boot.md "Re-flash orders"); no runcmd: the gold image's
//                   ironstone-k3s-init.service starts k3s exactly once. The identity's
//                   user_data merged in (lists appended, the keys set here win)
//   network-config  only when the identity has one (JSON, NoCloud v1/v2 format)
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "api/node_identity.h"

namespace ironstone::flasher {

inline constexpr const char* kK3sConfigPath = "/etc/rancher/k3s/config.yaml";
inline constexpr const char* kNodeEnvPath = "/etc/ironstone/node.env";
// The node's re-flash order key (api/node_order.h), when the identity has one: 0600, read by the
// gold image's ironstone-orders.service.
inline constexpr const char* kOrderKeyPath = "/etc/ironstone/order.key";

// What the node's first boot needs to know about the flash that made it.
struct SeedContext {
  std::string node_id;     // the id the flasher reported its events under (seeder fleet key)
  std::string seeder_url;  // the seeder the flasher used, "http://nas:8080" (a trailing '/' is dropped)
  std::string board;       // "rpi5"
  std::string version;     // the release just flashed, "2026.11.1"
  std::uint64_t sequence = 0;
};

struct SeedFile {
  std::string name;  // "meta-data", "user-data", "network-config"
  std::string content;
};

// board/version go into the instance-id.
std::vector<SeedFile> nocloud_seed(const api::NodeIdentity& identity, const SeedContext& context);

// /etc/ironstone/node.env (systemd EnvironmentFile syntax, no secrets):
//   IRONSTONE_NODE_ID=… IRONSTONE_SEEDER_URL=… IRONSTONE_BOARD=… IRONSTONE_RELEASE=…
//   IRONSTONE_SEQUENCE=… and IRONSTONE_K3S_ROLE=server|agent when the identity has k3s.
// A value outside [A-Za-z0-9._:/@%+=,-] is double-quoted with \ " $ ` escaped.
std::string node_env(const api::NodeIdentity& identity, const SeedContext& context);

// /etc/rancher/k3s/config.yaml for the identity (empty when it has no k3s section).
std::string k3s_config_yaml(const api::NodeIdentity& identity);

}  // namespace ironstone::flasher
