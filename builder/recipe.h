// The gold-image recipe (`ironstone-build gold --recipe FILE`): a YAML file, parsed strictly
// (docs/gold-image.md lists every field). Unknown fields, wrong types and duplicate keys are
// errors naming FILE:LINE:COLUMN and the field path ("files[2].mode"); nothing is guessed.
//
//   name: rack-node                  # optional, default: the file's stem
//   board: rpi5                      # rpi5 | rock5b | uefi-arm64 | any [a-z0-9-] name
//   base: images/raspios.img.xz      # an upstream image (raw, .xz, .zst), relative to FILE
//   debian: {suite: bookworm, mirror: http://MIRROR/debian, packages: [...]}  (mirror optional)
//                                    # ... or built from Debian packages (exactly one of the two)
//   disk: {table: gpt, size: 4G, boot: {size: 512M, label: ESP}, root: {label: rootfs}}
//                                    # debian: sources only; the table defaults from the board
//   packages: [htop]                 # more packages (debian: sources)
//   files: [{source: f/motd, path: /etc/motd, owner: root:root, mode: "0644"}]  # or content:
//   users: [{name: ops, groups: [sudo], shell: /bin/bash, ssh_authorized_keys: [...]}]
//   units: {enable: [ssh.service], mask: [apt-daily.timer]}
//   kernel_modules: [...]            # default: kDefaultKernelModules
//   sysctls: {net.ipv4.ip_forward: 1} # default: kDefaultSysctls
//   k3s: {version: v1.31.4+k3s1, sha256: <64 hex>, file: k3s-arm64,
//         server_args: [--disable=traefik], agent_args: []}
//   peer: {upstream: http://nas:8080, seeder: ../build-arm64/seeder/ironstone-seeder,
//          public_key: ../release.pub, channels: [stable], upload_limit: 20M, max_store: 20G,
//          keep: 2}              # peer mode (docs/peer-mode.md): off when absent
//
// Paths in the recipe (base, files[].source, k3s.file, peer.seeder, peer.public_key) are
// relative to the recipe's directory.
// Errors: builder::Errc::kRecipe. Thread safety: stateless functions.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ironstone::builder {

inline const std::vector<std::string> kDefaultKernelModules = {"overlay",  "br_netfilter", "ip_vs",       "ip_vs_rr",
                                                               "ip_vs_wrr", "ip_vs_sh",     "nf_conntrack"};
inline const std::vector<std::pair<std::string, std::string>> kDefaultSysctls = {
    {"net.ipv4.ip_forward", "1"},
    {"net.bridge.bridge-nf-call-iptables", "1"},
    {"net.bridge.bridge-nf-call-ip6tables", "1"}};

enum class PartitionTableKind { kMbr, kGpt };

struct DebianSource {
  std::string suite;                  // e.g. bookworm
  std::string mirror;                 // http(s)://…; empty: the host's apt sources
  std::vector<std::string> packages;  // installed with their dependencies
};

struct DiskLayout {
  std::optional<PartitionTableKind> table;  // default: MBR for rpi5, GPT (+ ESP) otherwise
  std::uint64_t size = 4ull << 30;          // the whole image
  std::uint64_t boot_size = 512ull << 20;   // the FAT boot partition / EFI system partition
  std::string boot_label;                   // default: "bootfs" (MBR) or "ESP" (GPT)
  std::string root_label = "rootfs";
};

struct RecipeFileEntry {
  std::filesystem::path source;          // resolved against the recipe directory; empty when content is given
  std::optional<std::string> content;    // inline text instead of source
  std::string path;                      // absolute path inside the image
  std::string owner = "root";            // user name or number
  std::string group = "root";            // group name or number
  unsigned mode = 0644;
};

struct RecipeUser {
  std::string name;
  std::vector<std::string> groups;
  std::string shell = "/bin/bash";
  std::vector<std::string> ssh_authorized_keys;
};

struct K3sSpec {
  std::string version;             // e.g. v1.31.4+k3s1
  std::string sha256;              // 64 lower-case hex digits, checked against the binary
  std::filesystem::path file;      // resolved; empty: --k3s must give it
  std::vector<std::string> server_args, agent_args;  // appended to `k3s server` / `k3s agent`
};

// What peer: puts into the image (and so no files: entry may write, nor units.mask name).
inline constexpr const char* kPeerUnit = "ironstone-peer.service";
inline constexpr const char* kPeerUnitPath = "/etc/systemd/system/ironstone-peer.service";
inline constexpr const char* kPeerSeederPath = "/usr/local/bin/ironstone-seeder";
inline constexpr const char* kPeerKeyPath = "/etc/ironstone/release.pub";
inline constexpr const char* kPeerEnvPath = "/etc/ironstone/peer.env";
inline std::vector<std::string> peer_paths() { return {kPeerUnitPath, kPeerSeederPath, kPeerKeyPath, kPeerEnvPath}; }

// Peer mode on the flashed node (docs/peer-mode.md): `ironstone-build gold` installs the seeder,
// the release key, /etc/ironstone/peer.env and ironstone-peer.service, enabled.
struct PeerSpec {
  std::string upstream;                  // the NAS seeder, "http://nas:8080"
  std::filesystem::path seeder;          // the (arm64) ironstone-seeder binary, resolved
  std::filesystem::path public_key;      // the key releases are signed with, resolved
  std::vector<std::string> channels = {"stable"};
  std::string upload_limit;              // as --upload-limit takes it ("20M"); empty: none
  std::string max_store;                 // as --max-store takes it ("20G"); empty: none
  unsigned keep = 2;                     // --keep
};

struct Recipe {
  std::filesystem::path file;  // where it was read from
  std::string name;
  std::string board;
  std::optional<std::filesystem::path> base;
  std::optional<DebianSource> debian;
  std::optional<DiskLayout> disk;
  std::vector<std::string> packages;
  std::vector<RecipeFileEntry> files;
  std::vector<RecipeUser> users;
  std::vector<std::string> enable_units, mask_units;
  std::vector<std::string> kernel_modules = kDefaultKernelModules;
  std::vector<std::pair<std::string, std::string>> sysctls = kDefaultSysctls;
  std::optional<K3sSpec> k3s;
  std::optional<PeerSpec> peer;

  // The partition table the image gets: disk.table, else MBR for rpi5 and GPT otherwise.
  PartitionTableKind table_kind() const;
};

// Parses `text` as the recipe read from `file` (which names it in errors and anchors its
// relative paths). Throws Errc::kRecipe: "FILE:LINE:COL: FIELD: what is wrong".
Recipe parse_recipe(const std::string& text, const std::filesystem::path& file);
// Reads (at most 1 MiB) and parses a recipe file.
Recipe load_recipe(const std::filesystem::path& file);

}  // namespace ironstone::builder
