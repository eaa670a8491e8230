// The cloud-init NoCloud seed of a node (docs/first-boot.md): the files the flasher writes
// to the root of the image's FAT boot partition, so the first boot sets the host name and
// joins k3s without the seeder.
//
//   meta-data       instance-id (from the MAC, the release and a hash of the identity, so a
//                   changed identity is a new instance) and local-hostname
//   user-data       #cloud-config (JSON, which is YAML): hostname, SSH keys, write_files
//                   /etc/rancher/k3s/config.yaml (0600: server, token, node-name, node-label,
//                   or cluster-init), runcmd enabling k3s.service (server) / k3s-agent.service
//                   (agent); the identity's user_data merged in (lists appended, the keys set
//                   here win)
//   network-config  only when the identity has one (JSON, NoCloud v1/v2 format)
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "api/node_identity.h"

namespace ironstone::flasher {

inline constexpr const char* kK3sConfigPath = "/etc/rancher/k3s/config.yaml";

struct SeedFile {
  std::string name;  // "meta-data", "user-data", "network-config"
  std::string content;
};

// `release` ("rpi5/2026.11.1") goes into the instance-id.
std::vector<SeedFile> nocloud_seed(const api::NodeIdentity& identity, const std::string& release);

// /etc/rancher/k3s/config.yaml for the identity (empty when it has no k3s section).
std::string k3s_config_yaml(const api::NodeIdentity& identity);

}  // namespace ironstone::flasher
