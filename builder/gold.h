// `ironstone-build gold`: a recipe (builder/recipe.h) and a base image become a sealed gold
// image (docs/gold-image.md). Rootless: the base (raw, .xz, .zst) is expanded into a temporary
// file beside --out, its ext4 root edited with debugfs (builder/image_edit.h), sealed last,
// checked with the publish sealing check, and renamed to --out; on any error nothing is left
// at --out (an existing --out is kept). The SBOM (builder/sbom.h) is written next to it,
// atomically, as --sbom or IMAGE.spdx.json (where `publish` finds it).
//
// What every gold image gets (GoldResult::files lists the paths):
//   /usr/local/bin/k3s (+ kubectl, crictl, ctr links) when a binary is given, its SHA-256
//     checked against the recipe; /etc/systemd/system/k3s.service and k3s-agent.service as
//     the official installer writes them, not enabled;
//   /etc/modules-load.d/ironstone-k8s.conf, /etc/sysctl.d/90-ironstone-k8s.conf;
//   /etc/cloud/cloud.cfg.d/90-ironstone-datasource.cfg (NoCloud from the boot partition's
//     mount point, nothing else probed) and a cloud-init-local drop-in that waits for it;
//   /usr/local/lib/ironstone/{report,firstboot,k3s-init}.sh and the units
//     ironstone-firstboot.service, ironstone-k3s-init.service (CONTRACT-firstboot), enabled
//     from cloud-init.target.wants; /usr/local/lib/ironstone/orders.sh with
//     ironstone-orders.service and .timer (re-flash orders, every minute; enabled from
//     timers.target.wants, skipped on a node without an order key);
//   the recipe's files, users, units (enable/mask), modules and sysctls;
//   with peer: (off by default) /usr/local/bin/ironstone-seeder, /etc/ironstone/release.pub,
//     /etc/ironstone/peer.env and ironstone-peer.service, enabled from multi-user.target.wants;
//   sealing: empty /etc/machine-id, no SSH host keys, no cloud-init state, apt lists and
//     caches, shell histories.
// Errors: builder::Errc (kRecipe, kUsage, kInput, kStore, kTool, kUnsealed) and disk::Errc.
// Thread safety: one call at a time per output path.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "builder/recipe.h"

namespace ironstone::builder {

struct GoldOptions {
  std::filesystem::path recipe;
  std::filesystem::path out;
  std::filesystem::path base;   // overrides the recipe's source
  std::filesystem::path k3s;    // overrides k3s.file
  std::string board;            // overrides the recipe's board
  std::filesystem::path cache;  // debian: sources (not used for base images)
  std::filesystem::path sbom;   // default: OUT.spdx.json
  std::optional<std::int64_t> source_date_epoch;  // default: $SOURCE_DATE_EPOCH, else now
  std::function<void(std::uint64_t, std::optional<std::uint64_t>)> progress;
  std::function<void(const std::string&)> log;  // one line per step
  bool terminal_progress = false;  // DebianBaseOptions::terminal_progress
};

struct GoldResult {
  std::uint64_t image_size = 0;
  std::filesystem::path sbom;
  std::size_t packages = 0;         // in the SBOM
  std::vector<std::string> files;   // paths written into the root filesystem
  std::vector<std::string> sealed;  // what sealing removed or emptied
  std::vector<std::string> warnings;
};

GoldResult build_gold(const GoldOptions& options);

// The default SBOM path of an image: IMAGE.spdx.json.
std::filesystem::path default_sbom_path(const std::filesystem::path& image);

// Texts written into the image (for tests and docs). `seed_dir` is where the boot partition
// is mounted on the node (e.g. /boot/firmware).
std::string datasource_config_text(const std::string& seed_dir);
std::string firstboot_unit_text();
std::string k3s_init_unit_text();
std::string report_script_text();
std::string firstboot_script_text(const std::string& seed_dir);
std::string k3s_init_script_text();
std::string orders_unit_text();
std::string orders_timer_text();
std::string orders_script_text();
std::string k3s_unit_text(bool agent, const std::vector<std::string>& args);
// Peer mode (recipe peer:): the unit (also packaging/ironstone-peer.service, byte for byte) and
// the environment file it reads, /etc/ironstone/peer.env.
std::string peer_unit_text();
std::string peer_env_text(const PeerSpec& peer);

}  // namespace ironstone::builder
