#include "builder/debian_base.h"

#include <sodium.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "builder/debian_disk.h"
#include "builder/errc.h"
#include "builder/store.h"
#include "util/hex.h"
#include "util/process.h"

namespace ironstone::builder {

namespace fs = std::filesystem;

namespace {

constexpr const char* kFormat = "ironstone-debian-base/2";  // 2: the initrd is made once (kDeferInitramfs)

// ---------------------------------------------------------------- the host's apt sources

struct AptEntry {
  std::string uri;
  std::vector<std::string> suites;
};

std::vector<std::string> split_words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// "deb [options] URI SUITE COMPONENTS..." lines of a sources.list file.
void read_one_line_style(const fs::path& file, std::vector<AptEntry>& out) {
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    line = line.substr(0, line.find('#'));
    if (const auto a = line.find('['); a != std::string::npos) {
      const auto b = line.find(']', a);
      if (b == std::string::npos) continue;
      line.erase(a, b - a + 1);
    }
    const auto w = split_words(line);
    if (w.size() >= 3 && w[0] == "deb") out.push_back({w[1], {w[2]}});
  }
}

// deb822 stanzas of a .sources file: Types, URIs, Suites (Enabled: no skipped).
void read_deb822(const fs::path& file, std::vector<AptEntry>& out) {
  std::ifstream in(file);
  std::vector<std::string> types, uris, suites;
  bool enabled = true;
  auto flush = [&] {
    if (enabled && std::find(types.begin(), types.end(), "deb") != types.end())
      for (const auto& u : uris) out.push_back({u, suites});
    types.clear(), uris.clear(), suites.clear(), enabled = true;
  };
  for (std::string line; std::getline(in, line);) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) {
      flush();
      continue;
    }
    if (line[0] == '#' || line[0] == ' ' || line[0] == '\t') continue;
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = line.substr(0, colon);
    const auto values = split_words(line.substr(colon + 1));
    if (key == "Types") types = values;
    if (key == "URIs") uris = values;
    if (key == "Suites") suites = values;
    if (key == "Enabled" && !values.empty() && values[0] == "no") enabled = false;
  }
  flush();
}

std::vector<AptEntry> host_apt_entries(const fs::path& apt_dir) {
  std::vector<AptEntry> entries;
  std::error_code ec;
  if (fs::is_regular_file(apt_dir / "sources.list", ec)) read_one_line_style(apt_dir / "sources.list", entries);
  std::vector<fs::path> parts;
  for (const auto& e : fs::directory_iterator(apt_dir / "sources.list.d", ec)) parts.push_back(e.path());
  std::sort(parts.begin(), parts.end());
  for (const auto& p : parts) {
    if (p.extension() == ".list") read_one_line_style(p, entries);
    if (p.extension() == ".sources") read_deb822(p, entries);
  }
  return entries;
}

bool has_suffix(const std::string& s, const std::string& suffix) {
  return s.size() > suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// ---------------------------------------------------------------- hashing

std::string sha256_hex(const std::string& data) {
  unsigned char out[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(out, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  return to_hex(std::span<const unsigned char>(out, sizeof out));
}

// A version-4-shaped UUID from the first 16 bytes of SHA-256(key/what).
std::string derived_uuid(const std::string& key, const std::string& what) {
  return uuid_v4_from_hex(sha256_hex(key + "/" + what).substr(0, 32));
}

// ---------------------------------------------------------------- the host

bool host_is_arm64() {
  utsname u{};
  return ::uname(&u) == 0 && std::string(u.machine) == "aarch64";
}

void check_binfmt() {
  const fs::path handler = "/proc/sys/fs/binfmt_misc/qemu-aarch64";
  std::ifstream in(handler);
  std::string state;
  if (in && std::getline(in, state) && state == "enabled") return;
  throw error(Errc::kTool, std::string("debian: building an arm64 root on this ") +
                               "host needs the qemu-aarch64 binfmt handler, and " + handler.string() +
                               (in ? " is not enabled" : " does not exist") +
                               ": apt-get install qemu-user-static binfmt-support; "
                               "mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc; update-binfmts --enable qemu-aarch64");
}

}  // namespace

std::vector<std::string> debian_apt_sources(const DebianSource& debian, const fs::path& apt_dir) {
  if (!debian.mirror.empty()) return {"deb " + debian.mirror + " " + debian.suite + " main"};
  std::string main_uri, updates_uri, security_uri;
  bool host_runs_suite = false;
  for (const auto& e : host_apt_entries(apt_dir)) {
    for (const auto& s : e.suites) {
      if (has_suffix(s, "-security")) {
        if (security_uri.empty()) security_uri = e.uri;
      } else if (has_suffix(s, "-updates")) {
        if (updates_uri.empty()) updates_uri = e.uri;
      } else if (s.find('-') == std::string::npos && s.find('/') == std::string::npos) {
        if (main_uri.empty()) main_uri = e.uri;
        host_runs_suite = host_runs_suite || s == debian.suite;
      }
    }
  }
  if (main_uri.empty())
    throw error(Errc::kTool, "debian: no Debian mirror in the host's apt sources (" + (apt_dir / "sources.list").string() +
                                 ", " + (apt_dir / "sources.list.d").string() + "): give debian.mirror in the recipe");
  std::vector<std::string> lines{"deb " + main_uri + " " + debian.suite + " main"};
  if (host_runs_suite && !updates_uri.empty()) lines.push_back("deb " + updates_uri + " " + debian.suite + "-updates main");
  if (host_runs_suite && !security_uri.empty()) lines.push_back("deb " + security_uri + " " + debian.suite + "-security main");
  return lines;
}

std::vector<std::string> debian_package_set(const Recipe& recipe) {
  std::set<std::string> all(kDebianBasePackages.begin(), kDebianBasePackages.end());
  if (recipe.debian) all.insert(recipe.debian->packages.begin(), recipe.debian->packages.end());
  all.insert(recipe.packages.begin(), recipe.packages.end());
  return {all.begin(), all.end()};
}

std::string debian_base_key(const Recipe& recipe, const std::vector<std::string>& sources) {
  const DiskLayout layout = recipe.disk.value_or(DiskLayout{});
  std::ostringstream in;
  in << kFormat << "\nsuite " << recipe.debian->suite << "\nboard " << recipe.board << "\n";
  for (const auto& s : sources) in << "source " << s << "\n";
  for (const auto& p : debian_package_set(recipe)) in << "package " << p << "\n";
  in << "disk " << layout.size << " boot " << layout.boot_size << " " << layout.boot_label << " root " << layout.root_label << "\n";
  return sha256_hex(in.str());
}

std::string uuid_v4_from_hex(std::string h) {
  h[12] = '4';
  h[16] = "89ab"[std::stoi(h.substr(16, 1), nullptr, 16) & 3];
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20, 12);
}

DiskIds disk_ids(const std::string& key) {
  DiskIds ids{derived_uuid(key, "disk"), derived_uuid(key, "esp"), derived_uuid(key, "root"), derived_uuid(key, "rootfs"),
              sha256_hex(key + "/esp-serial").substr(0, 8)};
  return ids;
}

namespace {

// A path as one word of an mmdebstrap hook (which it splits like a shell does).
std::string hook_word(const fs::path& p) {
  std::string q = "'";
  for (char c : p.string()) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// The initrd is made once, after every package is in place. Left alone, dpkg makes it twice: the
// kernel's postinst runs `update-initramfs -c`, then the update-initramfs trigger (activated by
// udev, kmod, initramfs-tools itself...) runs `update-initramfs -u`. Each run is mkinitramfs with
// MODULES=most under qemu-user. Measured on an idle 2-core x86-64 machine, the cold e2e recipe
// build took ~50 min with both runs and 15.7 min with one (mmdebstrap 928 s). So: after the
// essential packages, /usr/sbin/update-initramfs (shipped by
// initramfs-tools) is diverted and a stub stands in for it; at the end the stub goes, the
// diversion is removed (a node's `apt upgrade` runs the real one again) and the initrd is made
// for the installed kernel.
const std::vector<std::string> kDeferInitramfsHooks = {
    "--essential-hook=chroot \"$1\" dpkg-divert --quiet --local --rename --divert "
    "/usr/sbin/update-initramfs.ironstone-deferred --add /usr/sbin/update-initramfs"
    " && printf '#!/bin/sh\\necho \"update-initramfs: deferred until the image is complete (ironstone-build)\"\\n'"
    " > \"$1\"/usr/sbin/update-initramfs && chmod 0755 \"$1\"/usr/sbin/update-initramfs",
    "--customize-hook=rm -f \"$1\"/usr/sbin/update-initramfs"
    " && chroot \"$1\" dpkg-divert --quiet --local --rename --remove /usr/sbin/update-initramfs"
    " && chroot \"$1\" update-initramfs -c -k all"};

}  // namespace

std::vector<std::string> mmdebstrap_argv(const Recipe& recipe, const std::vector<std::string>& sources,
                                         const fs::path& root_dir, const fs::path& deb_cache) {
  std::string include;
  for (const auto& p : debian_package_set(recipe)) include += (include.empty() ? "" : ",") + p;
  std::vector<std::string> argv{"mmdebstrap", "--mode=root", "--architectures=arm64", "--variant=minbase",
                                "--format=directory", "--include=" + include,
                                "--dpkgopt=path-exclude=/usr/share/man/*", "--dpkgopt=path-exclude=/usr/share/doc/*",
                                "--dpkgopt=path-include=/usr/share/doc/*/copyright",
                                "--dpkgopt=path-exclude=/usr/share/locale/*",
                                "--dpkgopt=path-include=/usr/share/locale/locale.alias",
                                "--aptopt=Acquire::Retries \"3\""};
  argv.insert(argv.end(), kDeferInitramfsHooks.begin(), kDeferInitramfsHooks.end());
  if (!deb_cache.empty()) {
    const std::string dir = hook_word(deb_cache);
    argv.insert(argv.end(), {"--skip=essential/unlink", "--setup-hook=mkdir -p \"$1\"/var/cache/apt/archives/",
                             "--setup-hook=sync-in " + dir + " /var/cache/apt/archives/",
                             "--customize-hook=sync-out /var/cache/apt/archives " + dir});
  }
  argv.insert(argv.end(), {recipe.debian->suite, root_dir.string()});
  argv.insert(argv.end(), sources.begin(), sources.end());
  return argv;
}

void check_debian_host() {
  const std::vector<std::pair<const char*, const char*>> tools = {
      {"mmdebstrap", "mmdebstrap"}, {"mke2fs", "e2fsprogs"}, {"mkfs.vfat", "dosfstools"}, {"mcopy", "mtools"},
      {"sfdisk", "fdisk"},          {"gzip", "gzip"},         {"systemctl", "systemd"}};
  for (const auto& [tool, package] : tools) {
    const auto r = util::run_process({"sh", "-c", std::string("command -v ") + tool});
    if (r.exit_code != 0)
      throw error(Errc::kTool, std::string("debian: ") + tool + " not found: apt-get install " + package +
                                   " (./setup.sh installs everything)");
  }
  if (::geteuid() != 0)
    throw error(Errc::kTool,
                "debian: building a Debian root needs root (mmdebstrap --mode=root and mke2fs -d keep the files' "
                "owners): run ironstone-build gold as root, or give --base IMAGE");
  if (!host_is_arm64()) check_binfmt();
}

DebianBase debian_base(const Recipe& recipe, const DebianBaseOptions& o) {
  const DiskLayout layout = recipe.disk.value_or(DiskLayout{});
  if (recipe.table_kind() != PartitionTableKind::kGpt)
    throw error(Errc::kRecipe, recipe.file.string() + ": disk.table: debian: sources build GPT images with an EFI system "
                                                      "partition (UEFI boards); for board " + recipe.board +
                                   " give base: (e.g. Raspberry Pi OS Lite)");
  const auto sources = debian_apt_sources(*recipe.debian, o.apt_dir);
  DebianBase base;
  base.key = debian_base_key(recipe, sources);
  base.image = o.cache / ("debian-" + base.key.substr(0, 16) + ".img");
  std::error_code ec;
  if (fs::is_regular_file(base.image, ec)) {
    base.from_cache = true;
    if (o.log) o.log("debian base " + base.image.string() + " (cached)");
    return base;
  }
  check_debian_host();
  fs::create_directories(o.cache, ec);
  if (ec) throw error(Errc::kStore, "--cache " + o.cache.string() + ": " + ec.message());
  DebianBuild build{recipe, layout, disk_ids(base.key), sources, o.cache, o.log, o.terminal_progress};
  build_debian_image(build, base.image);
  std::ostringstream inputs;
  inputs << "{\"format\": \"" << kFormat << "\", \"key\": \"" << base.key << "\", \"suite\": \"" << recipe.debian->suite
         << "\", \"packages\": " << debian_package_set(recipe).size() << "}\n";
  write_file_atomic(o.cache / ("debian-" + base.key.substr(0, 16) + ".json"), inputs.str(), 0644);
  return base;
}

}  // namespace ironstone::builder
