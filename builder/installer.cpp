#include "builder/installer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>
#include <set>
#include <sstream>

#include "builder/elf_info.h"
#include "boards/profile.h"
#include "builder/errc.h"
#include "builder/installer_ids.h"
#include "builder/image_edit.h"
#include "builder/image_reader.h"
#include "builder/keys.h"
#include "builder/store.h"
#include "disk/image_fs.h"
#include "manifest/manifest.h"
#include "manifest/minisign.h"
#include "util/format.h"

namespace ironstone::builder {

namespace fs = std::filesystem;
using disk::Ext4Image;
using disk::Ext4Inode;
using util::human_size;

namespace {

// ---------------------------------------------------------------- small helpers


bool plain_value(const std::string& s) {
  return std::none_of(s.begin(), s.end(), [](char c) {
    return c == '"' || c == '\\' || c == '\'' || static_cast<unsigned char>(c) <= ' ' || c == 0x7f;
  });
}

void validate(const InstallerOptions& o) {
  if (o.base.empty()) throw error(Errc::kUsage, "--base: an upstream arm64 image is required");
  if (o.out.empty()) throw error(Errc::kUsage, "--out: the installer image to write is required");
  const std::string out = o.out.string();
  for (const char* ext : {".xz", ".zst", ".gz", ".bz2"}) {
    if (out.ends_with(ext))
      throw error(Errc::kUsage, "--out " + out + ": the installer image is written raw; compress it afterwards (e.g. xz -T0 IMAGE)");
  }
  std::error_code ec;
  auto st = fs::status(o.out, ec);
  if (!ec && fs::exists(st) && !fs::is_regular_file(st))
    throw error(Errc::kUsage, "--out " + out + ": exists and is not a regular file (write a file, then copy it to the SD card)");
  const fs::path dir = o.out.has_parent_path() ? o.out.parent_path() : fs::path(".");
  if (!fs::is_directory(dir, ec)) throw error(Errc::kUsage, "--out " + out + ": directory " + dir.string() + " does not exist");
  if (fs::absolute(o.base, ec) == fs::absolute(o.out, ec))
    throw error(Errc::kUsage, "--out must not be the --base image");

  const std::string& url = o.seeder;
  const bool scheme = url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0;
  const std::size_t host_at = url.find("://") == std::string::npos ? 0 : url.find("://") + 3;
  if (url.rfind("https://", 0) == 0)
    throw error(Errc::kUsage, "--seeder '" + url + "': the flasher speaks only http:// to the seeder (releases are "
                                  "signed, so transport security is not what makes them trusted): use http://HOST[:PORT]");
  if (!scheme || url.size() <= host_at || url[host_at] == '/' || url[host_at] == ':' || !plain_value(url))
    throw error(Errc::kUsage, "--seeder '" + url + "': expected http://HOST[:PORT]");
  if (!o.board.empty() && !manifest::valid_board_name(o.board))
    throw error(Errc::kUsage, "--board '" + o.board + "': expected [a-z0-9-]{1,64}");
  if (!manifest::valid_board_name(o.channel))
    throw error(Errc::kUsage, "--channel '" + o.channel + "': expected [a-z0-9-]{1,64}");
  if (!o.target.empty() && (o.target[0] != '/' || !plain_value(o.target)))
    throw error(Errc::kUsage, "--target '" + o.target + "': expected an absolute device path, e.g. /dev/nvme0n1");
  if (o.public_key.empty()) throw error(Errc::kUsage, "--public-key: the release signing public key is required");
  if (o.flasher.empty()) throw error(Errc::kUsage, "--flasher: no arm64 flasher given");
}

// ---------------------------------------------------------------- the flasher and its libraries

// glibc's own libraries: they must come from the base (they go with its ld.so), so they are
// never copied; the base must have glibc at least as new as the flasher's build (bookworm: 2.36).
bool is_glibc_library(const std::string& name) {
  static const char* prefixes[] = {"ld-linux", "libc.so", "libm.so", "libpthread.so", "libdl.so", "librt.so",
                                   "libresolv.so", "libutil.so", "libanl.so", "libmvec.so", "libBrokenLocale.so",
                                   "libnss_", "libthread_db.so", "libmemusage.so", "libpcprofile.so"};
  return std::any_of(std::begin(prefixes), std::end(prefixes), [&](const char* p) { return name.rfind(p, 0) == 0; });
}

struct Library {
  std::string name;
  fs::path source;
};

std::vector<Library> resolve_libraries(const fs::path& flasher, const ElfInfo& elf, const std::vector<fs::path>& dirs) {
  std::vector<Library> libs;
  std::set<std::string> seen;
  std::deque<std::pair<std::string, std::string>> queue;  // (library, who needs it)
  for (const auto& n : elf.needed) queue.emplace_back(n, flasher.filename().string());
  while (!queue.empty()) {
    auto [name, by] = queue.front();
    queue.pop_front();
    if (is_glibc_library(name) || !seen.insert(name).second) continue;
    if (name.find('/') != std::string::npos)
      throw error(Errc::kUsage, by + " needs the library by path (" + name + "): link the flasher with plain sonames");
    if (libs.size() > 512) throw error(Errc::kUsage, flasher.string() + ": more than 512 shared libraries needed");
    std::optional<Library> found;
    std::optional<ElfInfo> found_elf;
    for (const auto& d : dirs) {
      fs::path candidate = d / name;
      std::error_code ec;
      if (!fs::is_regular_file(candidate, ec)) continue;
      auto info = read_elf_info(candidate);
      if (!info || info->machine != kElfMachineAarch64) continue;
      found = Library{name, fs::canonical(candidate)};
      found_elf = std::move(info);
      break;
    }
    if (!found) {
      std::string where;
      for (const auto& d : dirs) where += (where.empty() ? "" : ", ") + d.string();
      throw error(Errc::kUsage, by + " needs " + name + ", which is not an arm64 library in " + where +
                                    ": install its :arm64 package (tools/cross-arm64.sh installs what the flasher needs), "
                                    "or pass --no-libraries when the base image provides every library");
    }
    for (const auto& n : found_elf->needed) queue.emplace_back(n, name);
    libs.push_back(std::move(*found));
  }
  return libs;
}

// A binary shipped on the card (`flag` names its option): must be arm64; adds the shared
// libraries it needs that `libs` does not have yet. A non-ELF file (a script) is a warning.
void add_binary_libraries(const InstallerOptions& o, const fs::path& binary, const char* flag, std::vector<Library>& libs,
                          std::vector<std::string>& warnings) {
  auto elf = read_elf_info(binary);
  if (!elf) {
    warnings.push_back(binary.string() + " is not an ELF binary: copied as it is, no libraries");
    return;
  }
  if (elf->machine != kElfMachineAarch64)
    throw error(Errc::kUsage, std::string(flag) + " " + binary.string() + " is built for " + elf_machine_name(elf->machine) +
                                  ", the boards are arm64: build it with tools/cross-arm64.sh");
  if (!o.copy_libraries || !elf->dynamic) return;
  std::vector<fs::path> dirs = o.library_dirs;
  if (dirs.empty()) dirs = {"/usr/lib/aarch64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/aarch64-linux-gnu/lib"};
  for (auto& l : resolve_libraries(binary, *elf, dirs))
    if (std::none_of(libs.begin(), libs.end(), [&](const Library& have) { return have.name == l.name; }))
      libs.push_back(std::move(l));
}

}  // namespace

// ---------------------------------------------------------------- public

std::string installer_unit_text() {
  return std::string(
             "# Ironstone installer: flash this node's disk from the release swarm, with zero touch.\n"
             "# Written by `ironstone-build installer`; see docs/installer.md.\n"
             "# To boot this card without flashing, create /etc/ironstone/disabled.\n"
             "[Unit]\n"
             "Description=Ironstone flasher (zero-touch provisioning)\n"
             "Wants=network-online.target\n"
             "After=network-online.target time-sync.target\n"
             "ConditionPathExists=!/etc/ironstone/disabled\n"
             "\n"
             "[Service]\n"
             "Type=exec\n"
             "Environment=LD_LIBRARY_PATH=") +
         kInstallerLibDir + "\nEnvironment=PATH=" + kInstallerToolDir +
         ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"
         "ExecStart=" +
         kInstallerFlasherPath + " --config " + kInstallerConfigPath +
         "\n"
         "Restart=on-failure\n"
         "RestartSec=30\n"
         "StandardOutput=journal+console\n"
         "StandardError=journal+console\n"
         "\n"
         "[Install]\n"
         "WantedBy=multi-user.target\n";
}

std::string installer_config_text(const InstallerOptions& o) {
  std::string s =
      "# Ironstone flasher configuration, written by `ironstone-build installer`.\n"
      "# Keys are ironstone-flasher's long options (ironstone-flasher --help); the systemd unit runs\n"
      "#   ironstone-flasher --config /etc/ironstone/flasher.conf\n"
      "seeder = \"" + o.seeder + "\"\n"
      "public-key = \"" + std::string(kInstallerKeyPath) + "\"\n"
      "channel = \"" + o.channel + "\"\n"
      "enrolment-key = \"" + std::string(kInstallerEnrolmentKeyPath) + "\"\n";
  s += o.board.empty() ? "# board: detected at boot\n" : "board = \"" + o.board + "\"\n";
  s += o.target.empty() ? "# target: the board profile's default disk\n" : "target = \"" + o.target + "\"\n";
  return s;
}

std::optional<std::string> strip_firstboot_init(const std::string& cmdline) {
  std::istringstream in(cmdline);
  std::string tok, out;
  bool changed = false;
  while (in >> tok) {
    // Raspberry Pi OS Bookworm: init=/usr/lib/raspberrypi-sys-mods/firstboot (grows the root,
    // changes the disk id, reboots); Bullseye: init=/usr/lib/raspi-config/init_resize.sh.
    if (tok.rfind("init=", 0) == 0 && (tok.find("firstboot") != std::string::npos || tok.find("init_resize") != std::string::npos)) {
      changed = true;
      continue;
    }
    out += (out.empty() ? "" : " ") + tok;
  }
  if (!changed) return std::nullopt;
  return out + "\n";
}

std::optional<fs::path> default_flasher_path(const fs::path& exe) {
  std::error_code ec;
  fs::path dir = exe.parent_path();
  std::vector<fs::path> candidates;
  for (fs::path a = dir; !a.empty(); a = a.parent_path()) {
    candidates.push_back(a / "build-arm64" / "flasher" / "ironstone-flasher");
    if (a == a.parent_path() || candidates.size() >= 4) break;
  }
  candidates.push_back(dir.parent_path() / "share" / "ironstone" / "arm64" / "ironstone-flasher");
  for (const auto& c : candidates) {
    if (fs::is_regular_file(c, ec)) return c;
  }
  return std::nullopt;
}

namespace {

// The flasher, its libraries and the key, checked before the (slow) decompression.
struct Payload {
  std::vector<Library> libs;
  std::string key_text;
};

Payload check_payload(const InstallerOptions& o, InstallerResult& result) {
  std::error_code ec;
  if (!fs::is_regular_file(o.flasher, ec))
    throw error(Errc::kUsage, "--flasher " + o.flasher.string() +
                                  ": not found (build the arm64 flasher with tools/cross-arm64.sh, or pass --flasher FILE)");
  Payload p;
  add_binary_libraries(o, o.flasher, "--flasher", p.libs, result.warnings);
  (void)load_public_keys({o.public_key});  // a readable minisign public key, or Errc::kKey
  try {
    p.key_text = read_text_file(o.public_key, manifest::kMaxMinisignFileBytes);
  } catch (const Error& e) {
    throw error(Errc::kKey, std::string("--public-key ") + e.what());
  }
  return p;
}

// The flasher, its tools, libraries, configuration, key and unit.
void plan_payload(const InstallerOptions& o, const Ext4Image& ext, Payload& p, RootEdit& edit, InstallerResult& result,
                  const std::function<void(const std::string&)>& log) {
  edit.add_file(kInstallerFlasherPath, o.flasher, 0755);
  edit.add_link(kInstallerWantsLink, "../ironstone-flasher.service");
  // mtools for the flasher's identity step, unless the base has it.
  if (ext.exists("/usr/bin/mcopy")) {
    if (!o.mtools.empty()) log("the base has mtools: --mtools " + o.mtools.string() + " not needed");
  } else if (o.mtools.empty()) {
    result.warnings.push_back("the base has no mtools (/usr/bin/mcopy) and no --mtools was given: the flasher's "
                              "identity step will fail on the node (pass --mtools with an arm64 mtools binary, or "
                              "run the flasher with --no-identity)");
  } else {
    add_binary_libraries(o, o.mtools, "--mtools", p.libs, result.warnings);
    edit.add_file(std::string(kInstallerToolDir) + "/mtools", o.mtools, 0755);
    for (const char* tool : {"mcopy", "mdir", "mtype"}) edit.add_link(std::string(kInstallerToolDir) + "/" + tool, "mtools");
  }
  for (const auto& l : p.libs) {
    edit.add_file(std::string(kInstallerLibDir) + "/" + l.name, l.source, 0644);
    result.libraries.push_back(l.name);
  }
  edit.add_text(kInstallerConfigPath, installer_config_text(o), 0644);
  edit.add_text(kInstallerKeyPath, p.key_text, 0644);
  edit.add_text(kInstallerUnitPath, installer_unit_text(), 0644);
}

// The board profiles, where the flasher looks for them on the card (/usr/share/ironstone/boards).
void plan_profiles(const InstallerOptions& o, RootEdit& edit, InstallerResult& result) {
  const fs::path dir = !o.profiles_dir.empty() ? o.profiles_dir : boards::default_profiles_dir();
  std::vector<boards::BoardProfile> profiles;
  try {
    profiles = boards::load_profiles(dir);
  } catch (const std::exception& e) {
    throw error(Errc::kUsage, std::string("board profiles: ") + e.what());
  }
  bool found = o.board.empty();
  for (const auto& p : profiles) {
    edit.add_file(std::string(kInstallerProfilesDir) + "/" + p.name + ".json", dir / (p.name + ".json"), 0644);
    found = found || p.name == o.board;
  }
  if (!found) throw error(Errc::kUsage, "--board " + o.board + ": no such board profile in " + dir.string());
  result.files.push_back(std::string(kInstallerProfilesDir) + ": " + std::to_string(profiles.size()) + " profiles");
}

// The bases' interactive first-boot wizards.
void plan_wizards(const Ext4Image& ext, RootEdit& edit, InstallerResult& result) {
  for (const char* unit : {"userconfig.service", "systemd-firstboot.service"}) {
    auto masked = ext.stat(std::string("/etc/systemd/system/") + unit);
    if (masked && masked->type == Ext4Inode::Type::kSymlink && masked->link_target == "/dev/null") continue;
    bool present = masked.has_value();
    for (const char* d : {"/usr/lib/systemd/system/", "/lib/systemd/system/"}) present |= ext.exists(std::string(d) + unit);
    if (present) {
      edit.add_link(std::string("/etc/systemd/system/") + unit, "/dev/null");
      result.disabled.push_back(std::string(unit) + " masked");
    }
  }
  for (const char* f : {"/root/.not_logged_in_yet", "/etc/xdg/autostart/piwiz.desktop"}) {
    if (ext.exists(f)) {
      edit.remove(f);
      result.disabled.push_back(std::string(f) + " removed");
    }
  }
}

void strip_cmdline_firstboot(const fs::path& image, const disk::Partition& boot, InstallerResult& result) {
  disk::FatImage fat(image, boot.offset);
  if (auto cmdline = fat.read("/cmdline.txt")) {
    if (auto stripped = strip_firstboot_init(*cmdline)) {
      fat.write("/cmdline.txt", *stripped);
      result.disabled.push_back("firstboot init= removed from cmdline.txt");
    }
  }
}

}  // namespace

InstallerResult make_installer(const InstallerOptions& o) {
  validate(o);
  auto log = [&](const std::string& line) {
    if (o.log) o.log(line);
  };
  InstallerResult result;
  Payload payload = check_payload(o, result);

  ImageOutput out(o.out);
  log("expanding " + o.base.string());
  result.image_size = expand_image(o.base.string(), out.fd(), out.path().string(), o.progress);
  BaseLayout layout = locate_root(out.fd(), result.image_size, o.base.string(), "the installer");
  const std::vector<IdChange> id_changes = reassign_partition_ids(out.path(), out.fd(), layout.table);
  layout = locate_root(out.fd(), result.image_size, o.base.string(), "the installer");  // with the new ids
  result.table = layout.table;
  result.root = layout.root;
  result.boot = layout.boot;
  log(describe_layout(layout));

  Ext4Image ext(out.path(), layout.root.offset);
  check_root_dirs(ext, o.base.string(), layout.root);
  StagingDir stage("ironstone-installer");
  RootEdit edit(ext, stage);
  plan_payload(o, ext, payload, edit, result, log);
  plan_profiles(o, edit, result);
  for (const auto& f : rewrite_id_references(out.path(), ext, layout.boot, id_changes, edit))
    result.disabled.push_back("partition ids of its own: " + f + " updated");
  plan_wizards(ext, edit, result);
  result.card = make_card_enrolment(o.card_name);
  write_card_secret(stage.path() / "enrolment.key", result.card);
  edit.add_file(kInstallerEnrolmentKeyPath, stage.path() / "enrolment.key", 0600);
  check_free_space(ext, edit, o.base.string(), "the installer", "docs/installer.md");
  log("writing " + std::to_string(edit.paths().size()) + " files (" + std::to_string(payload.libs.size()) +
      " libraries) and links into the root filesystem");
  edit.apply();
  result.files = edit.paths();
  if (result.boot) strip_cmdline_firstboot(out.path(), *result.boot, result);
  out.commit();
  if (!o.enrolment_keys.empty()) record_enrolment(o.enrolment_keys, result.card);
  return result;
}

}  // namespace ironstone::builder
