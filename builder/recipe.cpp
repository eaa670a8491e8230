#include "builder/recipe.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>
#include <set>

#include "builder/cli_support.h"
#include "builder/errc.h"
#include "seeder/config.h"
#include "manifest/manifest.h"
#include "util/file.h"

namespace ironstone::builder {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxRecipeBytes = 1 << 20;
constexpr std::size_t kMaxListItems = 10000;

// Where a node is, for messages: "recipe.yaml:3:5" (1-based; yaml-cpp's marks are 0-based).
class Context {
 public:
  explicit Context(fs::path file) : file_(std::move(file)) {}
  [[noreturn]] void fail(const YAML::Mark& mark, const std::string& field, const std::string& what) const {
    std::string where = file_.string();
    if (mark.line >= 0) where += ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
    throw error(Errc::kRecipe, where + ": " + (field.empty() ? "" : field + ": ") + what);
  }
  const fs::path& file() const { return file_; }
  fs::path resolve(const std::string& p) const {
    fs::path path(p);
    return path.is_absolute() ? path : file_.parent_path() / path;
  }

 private:
  fs::path file_;
};

const char* kind_name(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Scalar: return "a scalar";
    default: return "nothing";
  }
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

// The fields of one mapping, checked against the allowed names: an unknown or duplicate key
// is an error at the key. Fields are then taken by name.
class Fields {
 public:
  Fields(const Context& ctx, const YAML::Node& node, std::string path, std::vector<std::string> allowed)
      : ctx_(ctx), node_(node), path_(std::move(path)) {
    if (!node.IsMap()) ctx.fail(node.Mark(), path_.empty() ? "recipe" : path_, std::string("expected a mapping, got ") + kind_name(node));
    for (auto it = node.begin(); it != node.end(); ++it) {
      const YAML::Node key = it->first;  // a copy: it-> yields a temporary proxy
      if (!key.IsScalar()) ctx.fail(key.Mark(), path_, "a field name must be a plain word");
      const std::string name = key.Scalar();
      const std::string field = sub(name);
      if (std::find(allowed.begin(), allowed.end(), name) == allowed.end())
        ctx.fail(key.Mark(), field, "unknown field (expected one of: " + join(allowed) + ")");
      if (!values_.emplace(name, it->second).second) ctx.fail(key.Mark(), field, "duplicate field");
    }
  }
  std::optional<YAML::Node> get(const std::string& name) const {
    auto it = values_.find(name);
    if (it == values_.end()) return std::nullopt;
    return it->second;
  }
  YAML::Node require(const std::string& name) const {
    auto v = get(name);
    if (!v) ctx_.fail(node_.Mark(), sub(name), "required field missing");
    return *v;
  }
  std::string sub(const std::string& name) const { return path_.empty() ? name : path_ + "." + name; }
  const YAML::Node& node() const { return node_; }

 private:
  const Context& ctx_;
  YAML::Node node_;
  std::string path_;
  std::map<std::string, YAML::Node> values_;
};

std::string scalar(const Context& ctx, const YAML::Node& n, const std::string& field) {
  if (!n.IsScalar()) ctx.fail(n.Mark(), field, std::string("expected a string, got ") + kind_name(n));
  return n.Scalar();
}

std::string word(const Context& ctx, const YAML::Node& n, const std::string& field, const std::string& extra = "") {
  std::string s = scalar(ctx, n, field);
  const bool ok = !s.empty() && s.size() <= 255 && std::all_of(s.begin(), s.end(), [&](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::string("._-+@:").find(c) != std::string::npos ||
           extra.find(c) != std::string::npos;
  });
  if (!ok) ctx.fail(n.Mark(), field, "'" + s + "': expected a name of letters, digits and ._-+@:" + extra);
  return s;
}

template <typename F>
void each(const Context& ctx, const YAML::Node& n, const std::string& field, F&& f) {
  if (!n.IsSequence()) ctx.fail(n.Mark(), field, std::string("expected a list, got ") + kind_name(n));
  if (n.size() > kMaxListItems) ctx.fail(n.Mark(), field, "more than " + std::to_string(kMaxListItems) + " items");
  for (std::size_t i = 0; i < n.size(); ++i) f(n[i], field + "[" + std::to_string(i) + "]");
}

std::vector<std::string> words(const Context& ctx, const YAML::Node& n, const std::string& field) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  each(ctx, n, field, [&](const YAML::Node& item, const std::string& f) {
    std::string w = word(ctx, item, f);
    if (!seen.insert(w).second) ctx.fail(item.Mark(), f, "'" + w + "' listed twice");
    out.push_back(std::move(w));
  });
  return out;
}

std::string image_path(const Context& ctx, const YAML::Node& n, const std::string& field) {
  std::string p = scalar(ctx, n, field);
  if (p.empty() || p[0] != '/' || p.size() > 1024 || p.find_first_of(" \t\r\n\"'\\") != std::string::npos ||
      p.find("/../") != std::string::npos || p.ends_with("/..") || p.find("//") != std::string::npos || p.back() == '/')
    ctx.fail(n.Mark(), field, "'" + p + "': expected an absolute path inside the image, without spaces, quotes or '..'");
  return p;
}

std::uint64_t size_field(const Context& ctx, const YAML::Node& n, const std::string& field) {
  std::string s = scalar(ctx, n, field);
  try {
    return parse_size(s, field);
  } catch (const Error&) {
    ctx.fail(n.Mark(), field, "'" + s + "': expected a size like 512M, 4G or 1048576");
  }
}

unsigned mode_field(const Context& ctx, const YAML::Node& n, const std::string& field) {
  std::string s = scalar(ctx, n, field);
  const bool ok = s.size() >= 3 && s.size() <= 5 && s[0] == '0' &&
                  std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '7'; });
  if (!ok) ctx.fail(n.Mark(), field, "'" + s + "': expected an octal mode such as \"0644\" (quoted, with its leading 0)");
  const unsigned mode = static_cast<unsigned>(std::stoul(s, nullptr, 8));
  if (mode > 07777) ctx.fail(n.Mark(), field, "'" + s + "': expected an octal mode at most 07777");
  return mode;
}

// ---------------------------------------------------------------- sections

DebianSource parse_debian(const Context& ctx, const YAML::Node& n) {
  Fields f(ctx, n, "debian", {"suite", "mirror", "packages"});
  DebianSource d;
  d.suite = word(ctx, f.require("suite"), "debian.suite");
  // No mirror: mmdebstrap takes the host's apt sources (/etc/apt/sources.list{,.d}).
  if (auto m = f.get("mirror")) {
    d.mirror = scalar(ctx, *m, "debian.mirror");
    const bool ok = (d.mirror.rfind("http://", 0) == 0 || d.mirror.rfind("https://", 0) == 0) &&
                    d.mirror.find_first_of(" \t\r\n\"'\\") == std::string::npos && d.mirror.size() > 8;
    if (!ok) ctx.fail(m->Mark(), "debian.mirror", "'" + d.mirror + "': expected an http:// or https:// URL");
  }
  if (auto p = f.get("packages")) d.packages = words(ctx, *p, "debian.packages");
  return d;
}

DiskLayout parse_disk(const Context& ctx, const YAML::Node& n) {
  Fields f(ctx, n, "disk", {"table", "size", "boot", "root"});
  DiskLayout d;
  if (auto t = f.get("table")) {
    const std::string s = scalar(ctx, *t, "disk.table");
    if (s == "mbr") d.table = PartitionTableKind::kMbr;
    else if (s == "gpt") d.table = PartitionTableKind::kGpt;
    else ctx.fail(t->Mark(), "disk.table", "'" + s + "': expected mbr or gpt");
  }
  if (auto s = f.get("size")) d.size = size_field(ctx, *s, "disk.size");
  if (auto b = f.get("boot")) {
    Fields bf(ctx, *b, "disk.boot", {"size", "label"});
    if (auto s = bf.get("size")) d.boot_size = size_field(ctx, *s, "disk.boot.size");
    if (auto l = bf.get("label")) d.boot_label = word(ctx, *l, "disk.boot.label");
    if (d.boot_label.size() > 11) ctx.fail(bf.get("label")->Mark(), "disk.boot.label", "a FAT label has at most 11 characters");
  }
  if (auto r = f.get("root")) {
    Fields rf(ctx, *r, "disk.root", {"label"});
    if (auto l = rf.get("label")) d.root_label = word(ctx, *l, "disk.root.label");
    if (d.root_label.size() > 16) ctx.fail(rf.get("label")->Mark(), "disk.root.label", "an ext4 label has at most 16 characters");
  }
  if (d.boot_size < (32ull << 20)) ctx.fail(n.Mark(), "disk.boot.size", "at least 32M (a FAT32 boot partition)");
  if (d.size < d.boot_size + (256ull << 20))
    ctx.fail(n.Mark(), "disk.size", "leaves less than 256M for the root filesystem after the boot partition");
  if (d.size > (1ull << 40)) ctx.fail(n.Mark(), "disk.size", "more than 1T");
  return d;
}

RecipeFileEntry parse_file(const Context& ctx, const YAML::Node& n, const std::string& field) {
  Fields f(ctx, n, field, {"source", "content", "path", "owner", "mode"});
  RecipeFileEntry e;
  e.path = image_path(ctx, f.require("path"), f.sub("path"));
  auto source = f.get("source");
  auto content = f.get("content");
  if (source && content) ctx.fail(content->Mark(), f.sub("content"), "give source or content, not both");
  if (!source && !content) ctx.fail(n.Mark(), field, "needs source (a file next to the recipe) or content (the text)");
  if (source) e.source = ctx.resolve(scalar(ctx, *source, f.sub("source")));
  if (content) e.content = scalar(ctx, *content, f.sub("content"));
  if (auto o = f.get("owner")) {
    const std::string s = word(ctx, *o, f.sub("owner"));
    const auto colon = s.find(':');
    e.owner = s.substr(0, colon);
    e.group = colon == std::string::npos ? e.owner : s.substr(colon + 1);
    if (e.owner.empty() || e.group.empty() || e.group.find(':') != std::string::npos)
      ctx.fail(o->Mark(), f.sub("owner"), "'" + s + "': expected USER or USER:GROUP (names or numbers)");
  }
  if (auto m = f.get("mode")) e.mode = mode_field(ctx, *m, f.sub("mode"));
  return e;
}

RecipeUser parse_user(const Context& ctx, const YAML::Node& n, const std::string& field) {
  Fields f(ctx, n, field, {"name", "groups", "shell", "ssh_authorized_keys"});
  RecipeUser u;
  const YAML::Node name = f.require("name");
  u.name = word(ctx, name, f.sub("name"));
  const bool ok = u.name.size() <= 32 && (std::islower(static_cast<unsigned char>(u.name[0])) || u.name[0] == '_') &&
                  std::all_of(u.name.begin(), u.name.end(), [](char c) {
                    return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
                           c == '_' || c == '-';
                  });
  if (!ok) ctx.fail(name.Mark(), f.sub("name"), "'" + u.name + "': expected a user name [a-z_][a-z0-9_-]{0,31}");
  if (auto g = f.get("groups")) u.groups = words(ctx, *g, f.sub("groups"));
  if (auto s = f.get("shell")) u.shell = image_path(ctx, *s, f.sub("shell"));
  if (auto k = f.get("ssh_authorized_keys")) {
    each(ctx, *k, f.sub("ssh_authorized_keys"), [&](const YAML::Node& item, const std::string& kf) {
      std::string key = scalar(ctx, item, kf);
      if (key.find('\n') != std::string::npos || key.rfind("ssh-", 0) != 0 && key.rfind("ecdsa-", 0) != 0 &&
                                                     key.rfind("sk-", 0) != 0)
        ctx.fail(item.Mark(), kf, "expected one OpenSSH public key line (ssh-ed25519 AAAA… comment)");
      u.ssh_authorized_keys.push_back(std::move(key));
    });
  }
  return u;
}

std::vector<std::string> unit_names(const Context& ctx, const YAML::Node& n, const std::string& field) {
  std::vector<std::string> units = words(ctx, n, field);
  for (std::size_t i = 0; i < units.size(); ++i) {
    const auto& u = units[i];
    const auto dot = u.rfind('.');
    static const std::set<std::string> kinds = {"service", "socket", "timer", "target", "path", "mount"};
    if (dot == std::string::npos || !kinds.count(u.substr(dot + 1)) || u.find('/') != std::string::npos)
      ctx.fail(n[i].Mark(), field + "[" + std::to_string(i) + "]",
               "'" + u + "': expected a unit name ending in .service, .socket, .timer, .target, .path or .mount");
  }
  return units;
}

K3sSpec parse_k3s(const Context& ctx, const YAML::Node& n) {
  Fields f(ctx, n, "k3s", {"version", "sha256", "file", "server_args", "agent_args"});
  K3sSpec k;
  const YAML::Node version = f.require("version");
  k.version = word(ctx, version, "k3s.version");
  if (k.version[0] != 'v') ctx.fail(version.Mark(), "k3s.version", "'" + k.version + "': expected a k3s release such as v1.31.4+k3s1");
  const YAML::Node sha = f.require("sha256");
  k.sha256 = scalar(ctx, sha, "k3s.sha256");
  if (k.sha256.size() != 64 || !std::all_of(k.sha256.begin(), k.sha256.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
      }))
    ctx.fail(sha.Mark(), "k3s.sha256", "expected 64 lower-case hex digits (the SHA-256 of the k3s binary)");
  if (k.sha256 == std::string(64, '0'))
    ctx.fail(sha.Mark(), "k3s.sha256",
             "is the placeholder (all zeros): put the SHA-256 of the k3s binary you supply here (the line for k3s-arm64 "
             "in sha256sum-arm64.txt of k3s release " + k.version + ")");
  if (auto file = f.get("file")) k.file = ctx.resolve(scalar(ctx, *file, "k3s.file"));
  for (const char* which : {"server_args", "agent_args"}) {
    auto args = f.get(which);
    if (!args) continue;
    auto& out = std::string(which) == "server_args" ? k.server_args : k.agent_args;
    each(ctx, *args, f.sub(which), [&](const YAML::Node& item, const std::string& af) {
      std::string a = scalar(ctx, item, af);
      if (a.empty() || a.find_first_of("\n\r\\\"'$%;`") != std::string::npos)
        ctx.fail(item.Mark(), af, "an argument without newlines, quotes, backslashes or $%;`");
      out.push_back(std::move(a));
    });
  }
  return k;
}

// "--upload-limit"/"--max-store" text, checked by the seeder's own parser (named for the field).
template <typename Parse>
std::string seeder_value(const Context& ctx, const YAML::Node& n, const std::string& field, Parse parse) {
  std::string s = scalar(ctx, n, field);
  if (s.find_first_of(" \t\r\n") != std::string::npos)
    ctx.fail(n.Mark(), field, "'" + s + "': expected a value without spaces, e.g. 20M");
  try {
    parse(s, "");
  } catch (const Error& e) {
    std::string why = e.what();
    ctx.fail(n.Mark(), field, why.starts_with(" ") ? why.substr(1) : why);
  }
  return s;
}

PeerSpec parse_peer(const Context& ctx, const YAML::Node& n) {
  Fields f(ctx, n, "peer", {"upstream", "seeder", "public_key", "channels", "upload_limit", "max_store", "keep"});
  PeerSpec p;
  const YAML::Node upstream = f.require("upstream");
  p.upstream = scalar(ctx, upstream, "peer.upstream");
  if (!p.upstream.starts_with("http://") || p.upstream.size() == 7 || p.upstream.size() > 256 ||
      p.upstream.find_first_of(" \t\n\r\\\"'$%;`") != std::string::npos)
    ctx.fail(upstream.Mark(), "peer.upstream", "'" + p.upstream + "': expected the NAS seeder's URL, e.g. http://nas:8080");
  p.seeder = ctx.resolve(scalar(ctx, f.require("seeder"), "peer.seeder"));
  p.public_key = ctx.resolve(scalar(ctx, f.require("public_key"), "peer.public_key"));
  if (auto c = f.get("channels")) {
    p.channels.clear();
    each(ctx, *c, "peer.channels", [&](const YAML::Node& item, const std::string& field) {
      p.channels.push_back(scalar(ctx, item, field));
      if (!manifest::valid_board_name(p.channels.back()))
        ctx.fail(item.Mark(), field, "'" + p.channels.back() + "': expected a channel name [a-z0-9-]{1,64}");
    });
    if (p.channels.empty()) ctx.fail(c->Mark(), "peer.channels", "expected at least one channel");
  }
  if (auto u = f.get("upload_limit")) p.upload_limit = seeder_value(ctx, *u, "peer.upload_limit", seeder::parse_rate);
  if (auto m = f.get("max_store")) p.max_store = seeder_value(ctx, *m, "peer.max_store", seeder::parse_size);
  if (auto k = f.get("keep")) {
    const std::string s = scalar(ctx, *k, "peer.keep");
    if (s.empty() || s.size() > 3 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        std::stoul(s) < 1)
      ctx.fail(k->Mark(), "peer.keep", "'" + s + "': expected a number of releases from 1 to 999");
    p.keep = static_cast<unsigned>(std::stoul(s));
  }
  return p;
}

std::vector<std::pair<std::string, std::string>> read_sysctls(const Context& ctx, const YAML::Node& n) {
  if (!n.IsMap()) ctx.fail(n.Mark(), "sysctls", std::string("expected a mapping of name: value, got ") + kind_name(n));
  std::vector<std::pair<std::string, std::string>> out;
  std::set<std::string> seen;
  for (auto it = n.begin(); it != n.end(); ++it) {
    const std::string name = word(ctx, it->first, "sysctls");
    const std::string field = "sysctls." + name;
    if (name.find('.') == std::string::npos || name.find(':') != std::string::npos)
      ctx.fail(it->first.Mark(), field, "expected a dotted sysctl name such as net.ipv4.ip_forward");
    if (!seen.insert(name).second) ctx.fail(it->first.Mark(), field, "duplicate field");
    const std::string value = scalar(ctx, it->second, field);
    if (value.empty() || value.find_first_of("\n\r") != std::string::npos)
      ctx.fail(it->second.Mark(), field, "expected a one-line value");
    out.emplace_back(name, value);
  }
  return out;
}

void parse_top(const Context& ctx, const YAML::Node& root, Recipe& r) {
  Fields f(ctx, root, "", {"name", "board", "base", "debian", "disk", "packages", "files", "users", "units",
                           "kernel_modules", "sysctls", "k3s", "peer"});
  r.name = r.file.stem().string();
  if (auto n = f.get("name")) r.name = word(ctx, *n, "name");
  const YAML::Node board = f.require("board");
  r.board = scalar(ctx, board, "board");
  if (!manifest::valid_board_name(r.board)) ctx.fail(board.Mark(), "board", "'" + r.board + "': expected [a-z0-9-]{1,64}");
  auto base = f.get("base");
  auto debian = f.get("debian");
  if (base && debian) ctx.fail(debian->Mark(), "debian", "give base or debian as the source, not both");
  if (base) r.base = ctx.resolve(scalar(ctx, *base, "base"));
  if (debian) r.debian = parse_debian(ctx, *debian);
  if (auto d = f.get("disk")) r.disk = parse_disk(ctx, *d);
  if (auto p = f.get("packages")) r.packages = words(ctx, *p, "packages");
  if (auto fl = f.get("files")) {
    std::set<std::string> paths;
    each(ctx, *fl, "files", [&](const YAML::Node& item, const std::string& field) {
      r.files.push_back(parse_file(ctx, item, field));
      if (!paths.insert(r.files.back().path).second) ctx.fail(item.Mark(), field + ".path", "'" + r.files.back().path + "' written twice");
    });
  }
  if (auto u = f.get("users")) {
    std::set<std::string> names;
    each(ctx, *u, "users", [&](const YAML::Node& item, const std::string& field) {
      r.users.push_back(parse_user(ctx, item, field));
      if (!names.insert(r.users.back().name).second) ctx.fail(item.Mark(), field + ".name", "user '" + r.users.back().name + "' listed twice");
    });
  }
  if (auto u = f.get("units")) {
    Fields uf(ctx, *u, "units", {"enable", "mask"});
    if (auto e = uf.get("enable")) r.enable_units = unit_names(ctx, *e, "units.enable");
    if (auto m = uf.get("mask")) r.mask_units = unit_names(ctx, *m, "units.mask");
    for (const auto& unit : r.enable_units)
      if (std::find(r.mask_units.begin(), r.mask_units.end(), unit) != r.mask_units.end())
        ctx.fail(u->Mark(), "units", "'" + unit + "' is both enabled and masked");
  }
  if (auto m = f.get("kernel_modules")) r.kernel_modules = words(ctx, *m, "kernel_modules");
  if (auto s = f.get("sysctls")) r.sysctls = read_sysctls(ctx, *s);
  if (auto k = f.get("k3s")) r.k3s = parse_k3s(ctx, *k);
  if (auto p = f.get("peer")) {
    r.peer = parse_peer(ctx, *p);
    for (std::size_t i = 0; i < r.files.size(); ++i)
      for (const auto& written : peer_paths())
        if (r.files[i].path == written)
          ctx.fail(p->Mark(), "files[" + std::to_string(i) + "].path", "'" + written + "' is what peer: installs");
    if (std::find(r.mask_units.begin(), r.mask_units.end(), kPeerUnit) != r.mask_units.end())
      ctx.fail(p->Mark(), "units.mask", std::string(kPeerUnit) + " is what peer: enables");
  }
  if (base && r.disk)
    ctx.fail(f.get("disk")->Mark(), "disk", "the layout of a base image is the base's: disk applies to debian sources");
}

}  // namespace

PartitionTableKind Recipe::table_kind() const {
  if (disk && disk->table) return *disk->table;
  return board == "rpi5" ? PartitionTableKind::kMbr : PartitionTableKind::kGpt;
}

Recipe parse_recipe(const std::string& text, const fs::path& file) {
  const Context ctx(file);
  if (text.size() > kMaxRecipeBytes) ctx.fail(YAML::Mark::null_mark(), "", "larger than 1 MiB");
  YAML::Node root;
  try {
    std::vector<YAML::Node> docs = YAML::LoadAll(text);
    if (docs.size() > 1) ctx.fail(docs[1].Mark(), "", "one YAML document expected, found " + std::to_string(docs.size()));
    if (!docs.empty()) root = docs[0];
  } catch (const YAML::Exception& e) {
    ctx.fail(e.mark, "", "not valid YAML: " + e.msg);
  }
  if (!root.IsDefined() || root.IsNull()) ctx.fail(YAML::Mark::null_mark(), "", "empty recipe (it needs at least board:)");
  Recipe r;
  r.file = file;
  try {
    parse_top(ctx, root, r);
  } catch (const YAML::Exception& e) {
    ctx.fail(e.mark, "", "not valid YAML: " + e.msg);
  }
  return r;
}

Recipe load_recipe(const fs::path& file) {
  std::string why;
  auto text = util::read_small_file(file, kMaxRecipeBytes, &why);
  if (!text) throw error(Errc::kRecipe, file.string() + ": " + why);
  return parse_recipe(*text, file);
}

}  // namespace ironstone::builder
