// The gold recipe parser: every field, the defaults, and exact messages for bad input.
#include "builder/recipe.h"

#include <gtest/gtest.h>

#include "builder/errc.h"

namespace ironstone::builder {
namespace {

namespace fs = std::filesystem;

std::string parse_error(const std::string& text) {
  try {
    parse_recipe(text, "/r/gold.yaml");
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(Errc::kRecipe));
    return e.what();
  }
  ADD_FAILURE() << "parsed:\n" << text;
  return "";
}

constexpr const char* kFull = R"(name: rack
board: rpi5
base: images/raspios.img.xz
packages: [htop]
files:
  - source: files/motd
    path: /etc/motd
  - content: "hello\n"
    path: /etc/ironstone/hello
    owner: ops:adm
    mode: "0600"
users:
  - name: ops
    groups: [sudo, adm]
    ssh_authorized_keys:
      - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample ops@laptop
units:
  enable: [ssh.service]
  mask: [apt-daily.timer, apt-daily-upgrade.timer]
kernel_modules: [overlay, br_netfilter]
sysctls:
  net.ipv4.ip_forward: 1
  vm.swappiness: "10"
k3s:
  version: v1.31.4+k3s1
  sha256: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
  file: bin/k3s
  server_args: [--disable=traefik]
)";

TEST(Recipe, ReadsEveryFieldAndResolvesPathsAgainstTheRecipe) {
  Recipe r = parse_recipe(kFull, "/r/gold.yaml");
  EXPECT_EQ(r.name, "rack");
  EXPECT_EQ(r.board, "rpi5");
  EXPECT_EQ(r.base, fs::path("/r/images/raspios.img.xz"));
  EXPECT_FALSE(r.debian);
  EXPECT_EQ(r.packages, std::vector<std::string>{"htop"});
  ASSERT_EQ(r.files.size(), 2u);
  EXPECT_EQ(r.files[0].source, fs::path("/r/files/motd"));
  EXPECT_EQ(r.files[0].path, "/etc/motd");
  EXPECT_EQ(r.files[0].owner, "root");
  EXPECT_EQ(r.files[0].group, "root");
  EXPECT_EQ(r.files[0].mode, 0644u);
  EXPECT_EQ(r.files[1].content, std::optional<std::string>("hello\n"));
  EXPECT_EQ(r.files[1].owner, "ops");
  EXPECT_EQ(r.files[1].group, "adm");
  EXPECT_EQ(r.files[1].mode, 0600u);
  ASSERT_EQ(r.users.size(), 1u);
  EXPECT_EQ(r.users[0].name, "ops");
  EXPECT_EQ(r.users[0].groups, (std::vector<std::string>{"sudo", "adm"}));
  EXPECT_EQ(r.users[0].shell, "/bin/bash");
  ASSERT_EQ(r.users[0].ssh_authorized_keys.size(), 1u);
  EXPECT_EQ(r.enable_units, std::vector<std::string>{"ssh.service"});
  EXPECT_EQ(r.mask_units, (std::vector<std::string>{"apt-daily.timer", "apt-daily-upgrade.timer"}));
  EXPECT_EQ(r.kernel_modules, (std::vector<std::string>{"overlay", "br_netfilter"}));
  EXPECT_EQ(r.sysctls, (std::vector<std::pair<std::string, std::string>>{{"net.ipv4.ip_forward", "1"}, {"vm.swappiness", "10"}}));
  ASSERT_TRUE(r.k3s);
  EXPECT_EQ(r.k3s->version, "v1.31.4+k3s1");
  EXPECT_EQ(r.k3s->file, fs::path("/r/bin/k3s"));
  EXPECT_EQ(r.k3s->server_args, std::vector<std::string>{"--disable=traefik"});
  EXPECT_EQ(r.table_kind(), PartitionTableKind::kMbr);
}

TEST(Recipe, MinimalRecipeGetsTheKubernetesModulesAndSysctls) {
  Recipe r = parse_recipe("board: rock5b\n", "/r/rock.yaml");
  EXPECT_EQ(r.name, "rock");
  EXPECT_EQ(r.kernel_modules, (std::vector<std::string>{"overlay", "br_netfilter", "ip_vs", "ip_vs_rr", "ip_vs_wrr",
                                                        "ip_vs_sh", "nf_conntrack"}));
  EXPECT_EQ(r.sysctls, (std::vector<std::pair<std::string, std::string>>{{"net.ipv4.ip_forward", "1"},
                                                                         {"net.bridge.bridge-nf-call-iptables", "1"},
                                                                         {"net.bridge.bridge-nf-call-ip6tables", "1"}}));
  EXPECT_FALSE(r.k3s);
  EXPECT_FALSE(r.base);
  EXPECT_EQ(r.table_kind(), PartitionTableKind::kGpt);
}

TEST(Recipe, DebianSourceWithDiskLayout) {
  Recipe r = parse_recipe(
      "board: uefi-arm64\ndebian:\n  suite: bookworm\n  packages: [systemd, cloud-init]\n"
      "disk:\n  size: 2G\n  boot: {size: 256M, label: ESP}\n  root: {label: root}\n",
      "/r/u.yaml");
  ASSERT_TRUE(r.debian);
  EXPECT_EQ(r.debian->suite, "bookworm");
  EXPECT_EQ(r.debian->mirror, "");  // the host's apt sources
  EXPECT_EQ(r.debian->packages, (std::vector<std::string>{"systemd", "cloud-init"}));
  ASSERT_TRUE(r.disk);
  EXPECT_EQ(r.disk->size, 2ull << 30);
  EXPECT_EQ(r.disk->boot_size, 256ull << 20);
  EXPECT_EQ(r.disk->boot_label, "ESP");
  EXPECT_EQ(r.disk->root_label, "root");
  EXPECT_EQ(r.table_kind(), PartitionTableKind::kGpt);
}

TEST(Recipe, UnknownFieldNamesFileLineColumnAndTheAllowedFields) {
  EXPECT_EQ(parse_error("board: rpi5\nkernel_module: [overlay]\n"),
            "/r/gold.yaml:2:1: kernel_module: unknown field (expected one of: name, board, base, debian, disk, packages, "
            "files, users, units, kernel_modules, sysctls, k3s, peer)");
  EXPECT_EQ(parse_error("board: rpi5\nfiles:\n  - path: /etc/a\n    content: x\n    perms: \"0644\"\n"),
            "/r/gold.yaml:5:5: files[0].perms: unknown field (expected one of: source, content, path, owner, mode)");
}

TEST(Recipe, DuplicateFieldIsAnError) {
  EXPECT_EQ(parse_error("board: rpi5\nboard: rock5b\n"), "/r/gold.yaml:2:1: board: duplicate field");
  EXPECT_EQ(parse_error("board: rpi5\nsysctls:\n  vm.swappiness: 1\n  vm.swappiness: 2\n"),
            "/r/gold.yaml:4:3: sysctls.vm.swappiness: duplicate field");
}

TEST(Recipe, WrongTypesNameTheFieldPath) {
  EXPECT_EQ(parse_error("board: rpi5\nkernel_modules: overlay\n"),
            "/r/gold.yaml:2:17: kernel_modules: expected a list, got a scalar");
  EXPECT_EQ(parse_error("board: [rpi5]\n"), "/r/gold.yaml:1:8: board: expected a string, got a list");
  EXPECT_EQ(parse_error("board: rpi5\nfiles:\n  - {path: /etc/a, content: x, mode: 644}\n"),
            "/r/gold.yaml:3:38: files[0].mode: '644': expected an octal mode such as \"0644\" (quoted, with its leading 0)");
  EXPECT_EQ(parse_error("board: rpi5\nfiles:\n  - {path: etc/a, content: x}\n"),
            "/r/gold.yaml:3:12: files[0].path: 'etc/a': expected an absolute path inside the image, without spaces, quotes or '..'");
  EXPECT_EQ(parse_error("board: rpi5\nunits: {enable: [ssh]}\n"),
            "/r/gold.yaml:2:18: units.enable[0]: 'ssh': expected a unit name ending in .service, .socket, .timer, .target, .path or .mount");
}

TEST(Recipe, K3sNeedsAVersionAndAWellFormedSha256) {
  EXPECT_EQ(parse_error("board: rpi5\nk3s:\n  version: v1.31.4+k3s1\n  sha256: ABC\n"),
            "/r/gold.yaml:4:11: k3s.sha256: expected 64 lower-case hex digits (the SHA-256 of the k3s binary)");
  EXPECT_EQ(parse_error("board: rpi5\nk3s:\n  sha256: x\n"), "/r/gold.yaml:3:3: k3s.version: required field missing");
  EXPECT_EQ(parse_error("board: rpi5\nk3s:\n  version: v1.31.4+k3s1\n  sha256: " + std::string(64, '0') + "\n"),
            "/r/gold.yaml:4:11: k3s.sha256: is the placeholder (all zeros): put the SHA-256 of the k3s binary you "
            "supply here (the line for k3s-arm64 in sha256sum-arm64.txt of k3s release v1.31.4+k3s1)");
}

// The recipes shipped in recipes/ parse; those for boards built from an upstream image carry
// the k3s placeholder the user must fill in, and say so.
TEST(RecipePeer, OffByDefault) {
  EXPECT_FALSE(parse_recipe("board: rpi5\n", "/r/gold.yaml").peer.has_value());
}

TEST(RecipePeer, ReadsEveryFieldResolvingPathsAgainstTheRecipe) {
  const Recipe r = parse_recipe("board: rpi5\npeer:\n  upstream: http://nas:8080\n  seeder: bin/ironstone-seeder\n"
                                "  public_key: ../release.pub\n  channels: [stable, beta]\n  upload_limit: 100mbit\n"
                                "  max_store: 20G\n  keep: 3\n",
                                "/r/gold.yaml");
  ASSERT_TRUE(r.peer.has_value());
  EXPECT_EQ(r.peer->upstream, "http://nas:8080");
  EXPECT_EQ(r.peer->seeder, fs::path("/r/bin/ironstone-seeder"));
  EXPECT_EQ(r.peer->public_key, fs::path("/r/../release.pub"));
  EXPECT_EQ(r.peer->channels, (std::vector<std::string>{"stable", "beta"}));
  EXPECT_EQ(r.peer->upload_limit, "100mbit");
  EXPECT_EQ(r.peer->max_store, "20G");
  EXPECT_EQ(r.peer->keep, 3u);
}

TEST(RecipePeer, DefaultsAreStableKeepTwoAndNoLimits) {
  const Recipe r = parse_recipe("board: rpi5\npeer: {upstream: http://nas:8080, seeder: s, public_key: k.pub}\n",
                                "/r/gold.yaml");
  ASSERT_TRUE(r.peer.has_value());
  EXPECT_EQ(r.peer->channels, std::vector<std::string>{"stable"});
  EXPECT_EQ(r.peer->keep, 2u);
  EXPECT_EQ(r.peer->upload_limit, "");
  EXPECT_EQ(r.peer->max_store, "");
}

TEST(RecipePeer, BadFieldsNameFileLineColumnAndField) {
  const std::string head = "board: rpi5\npeer:\n  seeder: s\n  public_key: k.pub\n";
  EXPECT_EQ(parse_error(head), "/r/gold.yaml:3:3: peer.upstream: required field missing");
  EXPECT_EQ(parse_error(head + "  upstream: ftp://nas\n"),
            "/r/gold.yaml:5:13: peer.upstream: 'ftp://nas': expected the NAS seeder's URL, e.g. http://nas:8080");
  EXPECT_EQ(parse_error(head + "  upstream: \"http://nas:8080 --open-tracker\"\n"),
            "/r/gold.yaml:5:13: peer.upstream: 'http://nas:8080 --open-tracker': expected the NAS seeder's URL, e.g. "
            "http://nas:8080");
  const std::string ok = head + "  upstream: http://nas:8080\n";
  EXPECT_EQ(parse_error(ok + "  upload_limit: fast\n"),
            "/r/gold.yaml:6:17: peer.upload_limit: 'fast': expected a number, e.g. 12M or 100mbit");
  EXPECT_EQ(parse_error(ok + "  upload_limit: 20 M\n"),
            "/r/gold.yaml:6:17: peer.upload_limit: '20 M': expected a value without spaces, e.g. 20M");
  EXPECT_EQ(parse_error(ok + "  max_store: 20X\n"),
            "/r/gold.yaml:6:14: peer.max_store: '20X': unknown unit 'x' (use K, M, G, T)");
  EXPECT_EQ(parse_error(ok + "  keep: 0\n"), "/r/gold.yaml:6:9: peer.keep: '0': expected a number of releases from 1 to 999");
  EXPECT_EQ(parse_error(ok + "  channels: [Stable]\n"),
            "/r/gold.yaml:6:14: peer.channels[0]: 'Stable': expected a channel name [a-z0-9-]{1,64}");
  EXPECT_EQ(parse_error(ok + "  channels: []\n"), "/r/gold.yaml:6:13: peer.channels: expected at least one channel");
  EXPECT_EQ(parse_error(ok + "  port: 8080\n"),
            "/r/gold.yaml:6:3: peer.port: unknown field (expected one of: upstream, seeder, public_key, channels, "
            "upload_limit, max_store, keep)");
  EXPECT_EQ(parse_error("board: rpi5\npeer: yes\n"), "/r/gold.yaml:2:7: peer: expected a mapping, got a scalar");
}

TEST(RecipePeer, FilesAndMasksMayNotClashWithWhatPeerInstalls) {
  const std::string peer = "peer: {upstream: http://nas:8080, seeder: s, public_key: k.pub}\n";
  EXPECT_EQ(parse_error("board: rpi5\nfiles:\n  - {content: x, path: /etc/ironstone/peer.env}\n" + peer),
            "/r/gold.yaml:4:7: files[0].path: '/etc/ironstone/peer.env' is what peer: installs");
  EXPECT_EQ(parse_error("board: rpi5\nunits: {mask: [ironstone-peer.service]}\n" + peer),
            "/r/gold.yaml:3:7: units.mask: ironstone-peer.service is what peer: enables");
}

TEST(Recipe, ShippedRecipesParseOrAskForTheK3sHash) {
  const fs::path dir = fs::path(IRONSTONE_SOURCE_DIR) / "recipes";
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".yaml") continue;
    ++n;
    try {
      const Recipe r = load_recipe(e.path());
      EXPECT_FALSE(r.board.empty()) << e.path();
    } catch (const Error& err) {
      EXPECT_NE(std::string(err.what()).find("k3s.sha256: is the placeholder"), std::string::npos)
          << e.path() << ": " << err.what();
    }
  }
  EXPECT_GE(n, 4) << dir;  // rpi5, rock5b, uefi-arm64, e2e
}

TEST(Recipe, SourceAndLayoutConflicts) {
  EXPECT_EQ(parse_error("board: rpi5\nbase: a.img\ndebian: {suite: bookworm}\n"),
            "/r/gold.yaml:3:9: debian: give base or debian as the source, not both");
  EXPECT_EQ(parse_error("board: rpi5\nbase: a.img\ndisk: {size: 4G}\n"),
            "/r/gold.yaml:3:7: disk: the layout of a base image is the base's: disk applies to debian sources");
  EXPECT_EQ(parse_error("board: rpi5\ndebian: {suite: bookworm}\ndisk: {table: msdos}\n"),
            "/r/gold.yaml:3:15: disk.table: 'msdos': expected mbr or gpt");
}

TEST(Recipe, MissingBoardAndBrokenYaml) {
  EXPECT_EQ(parse_error("name: x\n"), "/r/gold.yaml:1:1: board: required field missing");
  EXPECT_EQ(parse_error(""), "/r/gold.yaml: empty recipe (it needs at least board:)");
  EXPECT_EQ(parse_error("board: [rpi5\n"), "/r/gold.yaml:2:1: not valid YAML: end of sequence flow not found");
  EXPECT_EQ(parse_error("- board\n"), "/r/gold.yaml:1:1: recipe: expected a mapping, got a list");
}

TEST(Recipe, UserNamesAndKeysAreChecked) {
  EXPECT_EQ(parse_error("board: rpi5\nusers:\n  - name: Ops\n"),
            "/r/gold.yaml:3:11: users[0].name: 'Ops': expected a user name [a-z_][a-z0-9_-]{0,31}");
  EXPECT_EQ(parse_error("board: rpi5\nusers:\n  - name: ops\n    ssh_authorized_keys: [\"not a key\"]\n"),
            "/r/gold.yaml:4:27: users[0].ssh_authorized_keys[0]: expected one OpenSSH public key line (ssh-ed25519 AAAA… comment)");
}

}  // namespace
}  // namespace ironstone::builder
