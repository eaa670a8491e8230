#include "builder/gold.h"

#include <sodium.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>

#include "builder/debian_base.h"
#include "builder/errc.h"
#include "builder/image_edit.h"
#include "builder/sbom.h"
#include "builder/seal_check.h"
#include "builder/store.h"
#include "disk/image_fs.h"

namespace ironstone::builder {

namespace fs = std::filesystem;
using disk::Ext4Image;
using disk::Ext4Inode;

fs::path default_sbom_path(const fs::path& image) { return fs::path(image.string() + ".spdx.json"); }

namespace {

constexpr const char* kLibDir = "/usr/local/lib/ironstone";

struct Inputs {
  Recipe recipe;
  fs::path base;
  fs::path k3s;  // empty: no binary
  std::int64_t epoch = 0;
};

std::string sha256_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw error(Errc::kInput, p.string() + ": cannot read");
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    crypto_hash_sha256_update(&st, reinterpret_cast<const unsigned char*>(buf.data()), static_cast<unsigned long long>(in.gcount()));
  }
  unsigned char out[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&st, out);
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (unsigned char c : out) s += {hex[c >> 4], hex[c & 15]};
  return s;
}

std::int64_t source_date_epoch(const GoldOptions& o) {
  if (o.source_date_epoch) return *o.source_date_epoch;
  if (const char* v = std::getenv("SOURCE_DATE_EPOCH"); v && *v) {
    char* end = nullptr;
    const long long t = std::strtoll(v, &end, 10);
    if (*end || t < 0) throw error(Errc::kUsage, std::string("SOURCE_DATE_EPOCH '") + v + "': expected unix seconds");
    return t;
  }
  return static_cast<std::int64_t>(std::time(nullptr));
}

// Everything about the inputs is checked before the (slow) expansion.
Inputs resolve_inputs(const GoldOptions& o) {
  if (o.out.empty()) throw error(Errc::kUsage, "--out: the gold image to write is required");
  Inputs in{load_recipe(o.recipe), {}, {}, source_date_epoch(o)};
  Recipe& r = in.recipe;
  if (!o.board.empty()) r.board = o.board;
  in.base = !o.base.empty() ? o.base : r.base.value_or(fs::path());
  if (in.base.empty() && !r.debian)
    throw error(Errc::kUsage, o.recipe.string() + ": no source: the recipe has no base: or debian: and no --base was given");
  if (!in.base.empty() && !r.packages.empty())
    throw error(Errc::kUsage, o.recipe.string() + ": packages: installing packages into a base image needs its maintainer "
                                                  "scripts run under qemu-user; give them in a debian: source instead");
  std::error_code ec;
  // An empty base: a debian: source, built (or taken from the cache) by build_gold.
  if (!in.base.empty() && !fs::is_regular_file(in.base, ec) && !fs::is_block_file(in.base, ec))
    throw error(Errc::kInput, "base image " + in.base.string() + ": not found");
  if (!in.base.empty() && fs::absolute(in.base, ec) == fs::absolute(o.out, ec))
    throw error(Errc::kUsage, "--out must not be the base image");
  in.k3s = !o.k3s.empty() ? o.k3s : (r.k3s ? r.k3s->file : fs::path());
  if (!in.k3s.empty() && !r.k3s)
    throw error(Errc::kUsage, "--k3s " + in.k3s.string() + ": the recipe has no k3s: {version, sha256} to check it against");
  if (r.k3s && in.k3s.empty())
    throw error(Errc::kUsage, o.recipe.string() + ": k3s: no binary: give k3s.file in the recipe or --k3s FILE");
  if (!in.k3s.empty()) {
    if (!fs::is_regular_file(in.k3s, ec)) throw error(Errc::kInput, "k3s binary " + in.k3s.string() + ": not found");
    const std::string got = sha256_file(in.k3s);
    if (got != r.k3s->sha256)
      throw error(Errc::kInput, "k3s binary " + in.k3s.string() + ": SHA-256 " + got + " does not match the recipe's k3s.sha256 " +
                                    r.k3s->sha256 + " (" + r.k3s->version + ")");
  }
  for (std::size_t i = 0; i < r.files.size(); ++i) {
    const auto& f = r.files[i];
    if (!f.content && !fs::is_regular_file(f.source, ec))
      throw error(Errc::kInput, o.recipe.string() + ": files[" + std::to_string(i) + "].source " + f.source.string() + ": not found");
  }
  if (r.peer)
    for (const auto& [field, file] : {std::pair{"peer.seeder", r.peer->seeder}, std::pair{"peer.public_key", r.peer->public_key}})
      if (!fs::is_regular_file(file, ec))
        throw error(Errc::kInput, o.recipe.string() + ": " + field + " " + file.string() + ": not found");
  return in;
}

// ---------------------------------------------------------------- users and owners

struct Accounts {
  std::string passwd, group, shadow;
  std::map<std::string, std::uint32_t> uids, gids;
  std::uint32_t next_uid = 1000;
};

std::map<std::string, std::uint32_t> ids_of(const std::string& text, std::uint32_t* next) {
  std::map<std::string, std::uint32_t> ids;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const auto a = line.find(':'), b = line.find(':', a + 1), c = line.find(':', b + 1);
    if (a == std::string::npos || b == std::string::npos || c == std::string::npos) continue;
    const auto id = static_cast<std::uint32_t>(std::strtoul(line.substr(b + 1, c - b - 1).c_str(), nullptr, 10));
    ids[line.substr(0, a)] = id;
    if (next && id >= *next && id < 60000) *next = id + 1;
  }
  return ids;
}

Accounts read_accounts(const Ext4Image& ext) {
  Accounts a;
  auto text = [&](const char* p) { return ext.exists(p) ? ext.cat(p) : std::string(); };
  a.passwd = text("/etc/passwd");
  a.group = text("/etc/group");
  a.shadow = text("/etc/shadow");
  a.uids = ids_of(a.passwd, &a.next_uid);
  std::uint32_t next_gid = 1000;
  a.gids = ids_of(a.group, &next_gid);
  a.next_uid = std::max(a.next_uid, next_gid);
  a.uids.emplace("root", 0);
  a.gids.emplace("root", 0);
  return a;
}

std::uint32_t resolve_id(const std::map<std::string, std::uint32_t>& ids, const std::string& name, const std::string& what) {
  if (!name.empty() && std::all_of(name.begin(), name.end(), ::isdigit)) return static_cast<std::uint32_t>(std::stoul(name));
  auto it = ids.find(name);
  if (it == ids.end()) throw error(Errc::kRecipe, what + ": no " + name + " in the image (nor among the recipe's users)");
  return it->second;
}

// Adds a group member to "name:x:gid:members" lines.
void add_member(std::string& group, const std::string& grp, const std::string& user, const std::string& field) {
  std::istringstream in(group);
  std::string out, line;
  bool found = false;
  while (std::getline(in, line)) {
    if (line.rfind(grp + ":", 0) == 0) {
      found = true;
      line += (line.back() == ':' ? "" : ",") + user;
    }
    out += line + "\n";
  }
  if (!found) throw error(Errc::kRecipe, field + ": no group " + grp + " in the image");
  group = out;
}

void plan_users(const Recipe& r, Accounts& a, std::int64_t epoch, RootEdit& edit, std::vector<std::string>& files) {
  if (r.users.empty()) return;
  for (std::size_t i = 0; i < r.users.size(); ++i) {
    const RecipeUser& u = r.users[i];
    const std::string field = "users[" + std::to_string(i) + "]";
    if (a.uids.count(u.name)) throw error(Errc::kRecipe, field + ".name: user " + u.name + " exists in the image already");
    const std::uint32_t id = a.next_uid++;
    a.uids[u.name] = id;
    a.gids[u.name] = id;
    const std::string home = "/home/" + u.name;
    a.passwd += u.name + ":x:" + std::to_string(id) + ":" + std::to_string(id) + "::" + home + ":" + u.shell + "\n";
    a.group += u.name + ":x:" + std::to_string(id) + ":\n";
    a.shadow += u.name + ":!:" + std::to_string(epoch / 86400) + ":0:99999:7:::\n";
    for (const auto& g : u.groups) add_member(a.group, g, u.name, field + ".groups");
    const Owner owner{id, id};
    edit.add_dir(home, 0750, owner);
    if (!u.ssh_authorized_keys.empty()) {
      edit.add_dir(home + "/.ssh", 0700, owner);
      std::string keys;
      for (const auto& k : u.ssh_authorized_keys) keys += k + "\n";
      edit.add_text(home + "/.ssh/authorized_keys", keys, 0600, owner);
    }
  }
  edit.add_text("/etc/passwd", a.passwd, 0644);
  edit.add_text("/etc/group", a.group, 0644);
  edit.add_text("/etc/shadow", a.shadow, 0640, {0, a.gids.count("shadow") ? a.gids["shadow"] : 0});
  files.push_back("users: " + std::to_string(r.users.size()));
}

// ---------------------------------------------------------------- what every image gets

// Where the node mounts its FAT boot partition (the flasher's seed is there): the image's
// fstab's vfat entry, else /boot/firmware (Raspberry Pi OS).
std::string seed_dir(const Ext4Image& ext) {
  if (!ext.exists("/etc/fstab")) return "/boot/firmware";
  std::istringstream in(ext.cat("/etc/fstab"));
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    std::string dev, mnt, type;
    if (f >> dev >> mnt >> type && dev[0] != '#' && type == "vfat" && mnt.size() > 1) {
      disk::check_image_path(mnt);
      return mnt;
    }
  }
  return "/boot/firmware";
}

void plan_kubernetes(const Recipe& r, RootEdit& edit) {
  std::string modules = "# Kernel modules Kubernetes (k3s) needs; written by `ironstone-build gold`.\n";
  for (const auto& m : r.kernel_modules) modules += m + "\n";
  edit.add_text("/etc/modules-load.d/ironstone-k8s.conf", modules, 0644);
  std::string sysctls = "# Kernel settings Kubernetes (k3s) needs; written by `ironstone-build gold`.\n";
  for (const auto& [k, v] : r.sysctls) sysctls += k + " = " + v + "\n";
  edit.add_text("/etc/sysctl.d/90-ironstone-k8s.conf", sysctls, 0644);
}

void plan_firstboot(const Ext4Image& ext, RootEdit& edit) {
  const std::string seed = seed_dir(ext);
  edit.add_text("/etc/cloud/cloud.cfg.d/90-ironstone-datasource.cfg", datasource_config_text(seed), 0644);
  // Without the locales package cloud-init's locale module fails on every first boot
  // (locale-gen not found); the C.UTF-8 locale it would set is built into libc anyway.
  if (!ext.stat("/usr/sbin/locale-gen"))
    edit.add_text("/etc/cloud/cloud.cfg.d/91-ironstone-locale.cfg",
                  "# Written by `ironstone-build gold`: this image has no locales package (no locale-gen),\n"
                  "# so cloud-init's locale module is off; C.UTF-8 needs no generation.\nlocale: false\n",
                  0644);
  edit.add_text("/etc/systemd/system/cloud-init-local.service.d/ironstone-seed.conf",
                "# The NoCloud seed is on the boot partition: mount it before cloud-init looks.\n[Unit]\nRequiresMountsFor=" +
                    seed + "\n",
                0644);
  edit.add_text(std::string(kLibDir) + "/report.sh", report_script_text(), 0644);
  edit.add_text(std::string(kLibDir) + "/firstboot.sh", firstboot_script_text(seed), 0755);
  edit.add_text(std::string(kLibDir) + "/k3s-init.sh", k3s_init_script_text(), 0755);
  for (const char* unit : {"ironstone-firstboot.service", "ironstone-k3s-init.service"}) {
    const std::string text = std::string(unit) == "ironstone-firstboot.service" ? firstboot_unit_text() : k3s_init_unit_text();
    edit.add_text(std::string("/etc/systemd/system/") + unit, text, 0644);
    edit.add_link(std::string("/etc/systemd/system/cloud-init.target.wants/") + unit, std::string("../") + unit);
  }
  edit.add_text(std::string(kLibDir) + "/orders.sh", orders_script_text(), 0755);
  edit.add_text("/etc/systemd/system/ironstone-orders.service", orders_unit_text(), 0644);
  edit.add_text("/etc/systemd/system/ironstone-orders.timer", orders_timer_text(), 0644);
  edit.add_link("/etc/systemd/system/timers.target.wants/ironstone-orders.timer", "../ironstone-orders.timer");
}

void plan_k3s(const Inputs& in, RootEdit& edit) {
  const auto& k = in.recipe.k3s;
  edit.add_text("/etc/systemd/system/k3s.service", k3s_unit_text(false, k ? k->server_args : std::vector<std::string>{}), 0644);
  edit.add_text("/etc/systemd/system/k3s-agent.service", k3s_unit_text(true, k ? k->agent_args : std::vector<std::string>{}), 0644);
  edit.add_text("/etc/systemd/system/k3s.service.env", "", 0600);
  edit.add_text("/etc/systemd/system/k3s-agent.service.env", "", 0600);
  if (in.k3s.empty()) return;
  edit.add_file("/usr/local/bin/k3s", in.k3s, 0755);
  for (const char* tool : {"kubectl", "crictl", "ctr"}) edit.add_link(std::string("/usr/local/bin/") + tool, "k3s");
}

// ---------------------------------------------------------------- the recipe's own items

std::string unit_install_target(const Ext4Image& ext, const std::string& unit, std::string* where) {
  for (const char* dir : {"/etc/systemd/system/", "/usr/lib/systemd/system/", "/lib/systemd/system/"}) {
    const std::string p = dir + unit;
    auto st = ext.stat(p);
    if (!st || st->type != Ext4Inode::Type::kRegular) continue;
    *where = p;
    std::istringstream in(ext.cat(p));
    for (std::string line; std::getline(in, line);)
      if (line.rfind("WantedBy=", 0) == 0) return line.substr(9, line.find(' ') == std::string::npos ? std::string::npos : line.find(' ') - 9);
    throw error(Errc::kRecipe, "units.enable: " + unit + " (" + p + ") has no WantedBy= to enable it from");
  }
  throw error(Errc::kRecipe, "units.enable: " + unit + ": no such unit in the image");
}

void plan_recipe(const Recipe& r, const Ext4Image& ext, const Accounts& accounts, RootEdit& edit) {
  for (std::size_t i = 0; i < r.files.size(); ++i) {
    const auto& f = r.files[i];
    const std::string field = "files[" + std::to_string(i) + "].owner";
    const Owner owner{resolve_id(accounts.uids, f.owner, field), resolve_id(accounts.gids, f.group, field)};
    if (f.content) edit.add_text(f.path, *f.content, f.mode, owner);
    else edit.add_file(f.path, f.source, f.mode, owner);
  }
  for (const auto& unit : r.enable_units) {
    std::string where;
    const std::string target = unit_install_target(ext, unit, &where);
    edit.add_link("/etc/systemd/system/" + target + ".wants/" + unit, where);
  }
  for (const auto& unit : r.mask_units) edit.add_link("/etc/systemd/system/" + unit, "/dev/null");
}

// The recipe's peer: the seeder, the key, its settings and the unit, enabled.
void plan_peer(const Recipe& r, RootEdit& edit) {
  if (!r.peer) return;  // its files were checked with the other inputs
  edit.add_file(kPeerSeederPath, r.peer->seeder, 0755);
  edit.add_file(kPeerKeyPath, r.peer->public_key, 0644);
  edit.add_text(kPeerEnvPath, peer_env_text(*r.peer), 0644);
  edit.add_text(kPeerUnitPath, peer_unit_text(), 0644);
  edit.add_link(std::string("/etc/systemd/system/multi-user.target.wants/") + kPeerUnit, kPeerUnitPath);
}

// ---------------------------------------------------------------- sealing

// debugfs commands removing everything below `dir` (directories too unless keep_dirs).
void remove_below(const Ext4Image& ext, const std::string& dir, bool keep_dirs, int depth, std::vector<std::string>& script,
                  std::vector<std::string>& removed, const std::function<bool(const std::string&)>& want = {}) {
  auto names = ext.list(dir);
  if (!names || depth > 8) return;
  std::sort(names->begin(), names->end());
  for (const auto& n : *names) {
    const std::string p = dir + "/" + n;
    if (n.find_first_of(" \t\"'\\") != std::string::npos) continue;
    auto st = ext.stat(p);
    if (!st) continue;
    if (st->type == Ext4Inode::Type::kDirectory) {
      remove_below(ext, p, keep_dirs, depth + 1, script, removed, want);
      if (!keep_dirs) script.push_back("rmdir " + p);
    } else if (!want || want(n)) {
      script.push_back("rm " + p);
      removed.push_back(p);
    }
  }
}

std::vector<std::string> seal(Ext4Image& ext, const StagingDir& staging) {
  std::vector<std::string> script, removed;
  remove_below(ext, "/etc/ssh", true, 8, script, removed, [](const std::string& n) { return n.rfind("ssh_host_", 0) == 0; });
  remove_below(ext, "/var/lib/cloud", false, 0, script, removed);
  remove_below(ext, "/var/lib/apt/lists", true, 0, script, removed, [](const std::string& n) { return n != "lock"; });
  remove_below(ext, "/var/cache/apt", true, 0, script, removed,
               [](const std::string& n) { return n.ends_with(".bin") || n.ends_with(".deb"); });
  std::vector<std::string> homes = {"/root"};
  if (auto users = ext.list("/home"))
    for (const auto& u : *users) homes.push_back("/home/" + u);
  for (const auto& h : homes)
    for (const char* f : {"/.bash_history", "/.zsh_history", "/.lesshst", "/.viminfo", "/.python_history"})
      if (ext.exists(h + f)) {
        script.push_back("rm " + h + f);
        removed.push_back(h + f);
      }
  auto dbus = ext.stat("/var/lib/dbus/machine-id");
  if (dbus && dbus->type == Ext4Inode::Type::kRegular) {
    script.push_back("rm /var/lib/dbus/machine-id");
    script.push_back("symlink /var/lib/dbus/machine-id /etc/machine-id");
    removed.push_back("/var/lib/dbus/machine-id (now -> /etc/machine-id)");
  }
  if (!script.empty()) ext.run_script(script);
  RootEdit id(ext, staging);
  id.add_text("/etc/machine-id", "", 0444);  // empty: systemd makes one on first boot
  id.apply();
  removed.push_back("/etc/machine-id (emptied)");
  return removed;
}

void log_to(const GoldOptions& o, const std::string& line) {
  if (o.log) o.log(line);
}

std::uint64_t apply_edits(const GoldOptions& o, const Inputs& in, Ext4Image& ext, const StagingDir& stage,
                          GoldResult& result) {
  RootEdit edit(ext, stage);
  Accounts accounts = read_accounts(ext);
  plan_users(in.recipe, accounts, in.epoch, edit, result.files);
  plan_kubernetes(in.recipe, edit);
  plan_firstboot(ext, edit);
  plan_k3s(in, edit);
  plan_recipe(in.recipe, ext, accounts, edit);
  plan_peer(in.recipe, edit);
  check_free_space(ext, edit, in.base.string(), "the gold image", "docs/gold-image.md");
  log_to(o, "writing " + std::to_string(edit.paths().size()) + " files and links into the root filesystem");
  edit.apply();
  for (auto& p : edit.paths()) result.files.push_back(std::move(p));
  return edit.bytes_needed();
}

fs::path default_cache_dir() {
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return fs::path(x) / "ironstone";
  if (const char* h = std::getenv("HOME"); h && *h) return fs::path(h) / ".cache" / "ironstone";
  return fs::temp_directory_path() / "ironstone-cache";
}

// A debian: source becomes a base image in the cache (builder/debian_base.h).
void resolve_debian_base(const GoldOptions& o, Inputs& in) {
  if (!in.base.empty()) return;
  DebianBaseOptions d;
  d.cache = o.cache.empty() ? default_cache_dir() : o.cache;
  d.log = o.log;
  d.terminal_progress = o.terminal_progress;
  in.base = debian_base(in.recipe, d).image;
}

}  // namespace

GoldResult build_gold(const GoldOptions& o) {
  Inputs in = resolve_inputs(o);
  resolve_debian_base(o, in);
  GoldResult result;
  log_to(o, "recipe " + o.recipe.string() + ": board " + in.recipe.board + ", base " + in.base.string() +
                (in.k3s.empty() ? ", no k3s binary" : ", k3s " + in.recipe.k3s->version));
  ImageOutput out(o.out);
  log_to(o, "expanding " + in.base.string());
  result.image_size = expand_image(in.base.string(), out.fd(), out.path().string(), o.progress);
  const BaseLayout layout = locate_root(out.fd(), result.image_size, in.base.string(), "the gold image");
  log_to(o, describe_layout(layout));
  Ext4Image ext(out.path(), layout.root.offset);
  check_root_dirs(ext, in.base.string(), layout.root);
  StagingDir stage("ironstone-gold");
  apply_edits(o, in, ext, stage, result);
  log_to(o, "sealing");
  result.sealed = seal(ext, stage);
  const SealReport check = check_sealed(out.path());
  if (!check.sealed()) {
    std::string what = out.path().string() + ": still not sealed after sealing:";
    for (const auto& f : check.findings) what += "\n  " + f;
    throw error(Errc::kUnsealed, what + check.note);
  }
  log_to(o, "SBOM");
  SbomInput sb{in.recipe.name, in.epoch, image_packages(ext), {}, {}};
  if (!in.k3s.empty()) {
    sb.k3s_version = in.recipe.k3s->version;
    sb.k3s_sha256 = in.recipe.k3s->sha256;
  }
  result.packages = sb.packages.size();
  const std::string sbom = spdx_json(sb);
  result.sbom = o.sbom.empty() ? default_sbom_path(o.out) : o.sbom;
  out.commit();
  write_file_atomic(result.sbom, sbom, 0644);
  log_to(o, "wrote " + o.out.string() + " and " + result.sbom.string());
  return result;
}

}  // namespace ironstone::builder
