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
#include "builder/errc.h"
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

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Removes a path (file or directory tree) on destruction unless released.
class Cleanup {
 public:
  explicit Cleanup(fs::path p) : path_(std::move(p)) {}
  ~Cleanup() {
    if (path_.empty()) return;
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  Cleanup(const Cleanup&) = delete;
  Cleanup& operator=(const Cleanup&) = delete;
  void release() { path_.clear(); }

 private:
  fs::path path_;
};

void write_text_file(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
  out.flush();
  if (!out) throw error(Errc::kStore, p.string() + ": cannot write");
}

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
  if (!scheme || url.size() <= host_at || url[host_at] == '/' || url[host_at] == ':' || !plain_value(url))
    throw error(Errc::kUsage, "--seeder '" + url + "': expected http://HOST[:PORT] or https://HOST[:PORT]");
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

// ---------------------------------------------------------------- decompression

// Copies the base image into `fd`, leaving holes for zero blocks; returns the image size.
std::uint64_t expand_base(const InstallerOptions& o, int fd, const std::string& tmp_name) {
  auto reader = open_image(o.base.string());
  constexpr std::size_t kBlock = 1 << 20;
  std::vector<std::uint8_t> buf(kBlock);
  std::uint64_t pos = 0;
  while (true) {
    bool hole = false;
    std::size_t n = reader->read(buf, &hole);
    if (n == 0) break;
    bool zero = hole;
    if (!zero) {
      zero = std::all_of(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n), [](std::uint8_t b) { return b == 0; });
    }
    if (!zero) {
      std::size_t done = 0;
      while (done < n) {
        ssize_t w = ::pwrite(fd, buf.data() + done, n - done, static_cast<off_t>(pos + done));
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) throw error(Errc::kStore, tmp_name + ": write at " + hex_offset(pos + done) + ": " + std::strerror(errno));
        done += static_cast<std::size_t>(w);
      }
    }
    pos += n;
    if (o.progress) o.progress(reader->input_position(), reader->input_size());
  }
  if (pos == 0) throw error(Errc::kInput, o.base.string() + ": the base image is empty");
  if (::ftruncate(fd, static_cast<off_t>(pos)) != 0)
    throw error(Errc::kStore, tmp_name + ": cannot set size: " + std::strerror(errno));
  return pos;
}

// ---------------------------------------------------------------- the root filesystem edit

struct FileToWrite {
  std::string path;
  fs::path source;
  unsigned mode;
  std::uint64_t size;
};

struct LinkToMake {
  std::string path, target;
};

// debugfs commands creating every missing directory above `path` (mode 0755, root-owned).
void add_parent_dirs(const Ext4Image& ext, const std::string& path, std::set<std::string>& made,
                     std::vector<std::string>& script) {
  std::string dir;
  std::size_t pos = 1;
  const std::string parent = path.substr(0, path.rfind('/'));
  while (pos <= parent.size()) {
    std::size_t next = parent.find('/', pos);
    if (next == std::string::npos) next = parent.size();
    dir = parent.substr(0, next);
    pos = next + 1;
    if (made.count(dir)) continue;
    auto st = ext.stat(dir);
    if (!st) {
      script.push_back("mkdir " + dir);
      script.push_back("sif " + dir + " mode 040755");
      script.push_back("sif " + dir + " uid 0");
      script.push_back("sif " + dir + " gid 0");
    } else if (st->type != Ext4Inode::Type::kDirectory && st->type != Ext4Inode::Type::kSymlink) {
      throw error(Errc::kInput, dir + " in the base's root filesystem is not a directory");
    }
    made.insert(dir);
  }
}

// debugfs commands removing `path` first when it exists (debugfs' write/symlink do not replace).
void add_replace(const Ext4Image& ext, const std::string& path, std::vector<std::string>& script) {
  auto st = ext.stat(path);
  if (!st) return;
  if (st->type == Ext4Inode::Type::kDirectory)
    throw error(Errc::kInput, path + " in the base's root filesystem is a directory, expected a file");
  script.push_back("rm " + path);
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

InstallerResult make_installer(const InstallerOptions& o) {
  validate(o);
  auto log = [&](const std::string& line) {
    if (o.log) o.log(line);
  };
  InstallerResult result;

  // The payload first: every error about the inputs comes before the (slow) decompression.
  std::error_code ec;
  if (!fs::is_regular_file(o.flasher, ec))
    throw error(Errc::kUsage, "--flasher " + o.flasher.string() +
                                  ": not found (build the arm64 flasher with tools/cross-arm64.sh, or pass --flasher FILE)");
  std::vector<Library> libs;
  add_binary_libraries(o, o.flasher, "--flasher", libs, result.warnings);
  (void)load_public_keys({o.public_key});  // a readable minisign public key, or Errc::kKey
  std::string key_text;
  try {
    key_text = read_text_file(o.public_key, manifest::kMaxMinisignFileBytes);
  } catch (const Error& e) {
    throw error(Errc::kKey, std::string("--public-key ") + e.what());
  }

  // The output: a temporary file beside --out, renamed at the end.
  const fs::path out_dir = o.out.has_parent_path() ? o.out.parent_path() : fs::path(".");
  std::string tmpl = (out_dir / ("." + o.out.filename().string() + ".tmp-XXXXXX")).string();
  Fd out;
  out.fd = ::mkstemp(tmpl.data());
  if (out.fd < 0) throw error(Errc::kStore, o.out.string() + ": cannot create a temporary file: " + std::strerror(errno));
  const fs::path tmp = tmpl;
  Cleanup tmp_cleanup(tmp);
  ::fchmod(out.fd, 0644);

  log("expanding " + o.base.string());
  result.image_size = expand_base(o, out.fd, tmp.string());

  result.table = disk::read_partition_table(out.fd, result.image_size, o.base.string());
  const std::optional<disk::Partition> root = disk::root_partition(result.table);
  result.boot = disk::boot_partition(result.table);
  if (!root)
    throw error(Errc::kInput, o.base.string() + ": no ext4 root filesystem found (" + disk::describe(result.table) +
                                  "); the installer needs a base with an ext2/3/4 root partition");
  result.root = *root;
  log("root filesystem: partition " + std::to_string(root->number) + " (ext4, " + human_size(root->size) + " at " +
      hex_offset(root->offset) + ")" +
      (result.boot ? ", boot: partition " + std::to_string(result.boot->number) + " (FAT)" : ", no FAT boot partition"));

  Ext4Image ext(tmp, root->offset);
  for (const char* dir : {"/etc", "/usr"}) {
    auto st = ext.stat(dir);
    if (!st || st->type != Ext4Inode::Type::kDirectory)
      throw error(Errc::kInput, o.base.string() + ": the ext4 filesystem of partition " + std::to_string(root->number) +
                                    " has no " + dir + ": not a root filesystem");
  }

  // Staging: the small files as local files for debugfs' `write`.
  std::string stage_tmpl = (fs::temp_directory_path() / "ironstone-installer-XXXXXX").string();
  if (!::mkdtemp(stage_tmpl.data())) throw error(Errc::kStore, "cannot create a temporary directory: " + std::string(std::strerror(errno)));
  const fs::path stage = stage_tmpl;
  Cleanup stage_cleanup(stage);
  write_text_file(stage / "flasher.conf", installer_config_text(o));
  write_text_file(stage / "trusted.pub", key_text);
  result.card = make_card_enrolment(o.card_name);
  write_card_secret(stage / "enrolment.key", result.card);
  write_text_file(stage / "ironstone-flasher.service", installer_unit_text());

  std::vector<FileToWrite> files;
  auto add_file = [&](const std::string& path, const fs::path& source, unsigned mode) {
    files.push_back({path, source, mode, fs::file_size(source)});
  };
  add_file(kInstallerFlasherPath, o.flasher, 0755);
  std::vector<LinkToMake> links = {{kInstallerWantsLink, "../ironstone-flasher.service"}};

  // mtools for the flasher's identity step, unless the base has it.
  if (ext.exists("/usr/bin/mcopy")) {
    if (!o.mtools.empty()) log("the base has mtools: --mtools " + o.mtools.string() + " not needed");
  } else if (o.mtools.empty()) {
    result.warnings.push_back("the base has no mtools (/usr/bin/mcopy) and no --mtools was given: the flasher's "
                              "identity step will fail on the node (pass --mtools with an arm64 mtools binary, or "
                              "run the flasher with --no-identity)");
  } else {
    add_binary_libraries(o, o.mtools, "--mtools", libs, result.warnings);
    add_file(std::string(kInstallerToolDir) + "/mtools", o.mtools, 0755);
    for (const char* tool : {"mcopy", "mdir", "mtype"}) links.push_back({std::string(kInstallerToolDir) + "/" + tool, "mtools"});
  }
  for (const auto& l : libs) add_file(std::string(kInstallerLibDir) + "/" + l.name, l.source, 0644);
  add_file(kInstallerConfigPath, stage / "flasher.conf", 0644);
  add_file(kInstallerKeyPath, stage / "trusted.pub", 0644);
  add_file(kInstallerEnrolmentKeyPath, stage / "enrolment.key", 0600);
  add_file(kInstallerUnitPath, stage / "ironstone-flasher.service", 0644);

  // First-boot wizards of the bases.
  std::vector<std::string> removals;
  for (const char* unit : {"userconfig.service", "systemd-firstboot.service"}) {
    auto masked = ext.stat(std::string("/etc/systemd/system/") + unit);
    if (masked && masked->type == Ext4Inode::Type::kSymlink && masked->link_target == "/dev/null") continue;
    bool present = masked.has_value();
    for (const char* d : {"/usr/lib/systemd/system/", "/lib/systemd/system/"}) present |= ext.exists(std::string(d) + unit);
    if (present) {
      links.push_back({std::string("/etc/systemd/system/") + unit, "/dev/null"});
      result.disabled.push_back(std::string(unit) + " masked");
    }
  }
  for (const char* f : {"/root/.not_logged_in_yet", "/etc/xdg/autostart/piwiz.desktop"}) {
    if (ext.exists(f)) {
      removals.push_back(f);
      result.disabled.push_back(std::string(f) + " removed");
    }
  }

  std::uint64_t need = 1 << 20;
  for (const auto& f : files) need += f.size + 4096;
  const std::uint64_t free = ext.free_bytes();
  if (free < need)
    throw error(Errc::kStore, o.base.string() + ": the root filesystem has " + human_size(free) + " free, the installer needs " +
                                  human_size(need) + ": use a base with more room in its root (see docs/installer.md)");

  std::vector<std::string> script;
  std::set<std::string> made;
  for (const auto& f : files) {
    add_parent_dirs(ext, f.path, made, script);
    add_replace(ext, f.path, script);
    script.push_back("write " + f.source.string() + " " + f.path);
    char mode[16];
    std::snprintf(mode, sizeof mode, "0%o", 0100000 | f.mode);
    script.push_back("sif " + f.path + " mode " + mode);
    script.push_back("sif " + f.path + " uid 0");
    script.push_back("sif " + f.path + " gid 0");
    result.files.push_back(f.path);
  }
  for (const auto& l : links) {
    add_parent_dirs(ext, l.path, made, script);
    add_replace(ext, l.path, script);
    script.push_back("symlink " + l.path + " " + l.target);
    result.files.push_back(l.path);
  }
  for (const auto& r : removals) script.push_back("rm " + r);
  for (const auto& l : libs) result.libraries.push_back(l.name);
  for (const auto& f : files) {
    if (f.source.string().find_first_of(" \t\n\"'\\") != std::string::npos)
      throw error(Errc::kUsage, f.source.string() + ": debugfs cannot read a path with spaces or quotes; copy it elsewhere");
  }
  log("writing " + std::to_string(files.size()) + " files (" + std::to_string(libs.size()) + " libraries) and " +
      std::to_string(links.size()) + " links into the root filesystem");
  ext.run_script(script);

  // Read everything back: debugfs reports some failures only as missing results.
  for (const auto& f : files) {
    auto st = ext.stat(f.path);
    if (!st || st->type != Ext4Inode::Type::kRegular || st->mode != f.mode || st->size != f.size || st->uid != 0)
      throw error(Errc::kStore, f.path + " was not written correctly into the root filesystem (full?)");
  }
  for (const auto& l : links) {
    auto st = ext.stat(l.path);
    if (!st || st->type != Ext4Inode::Type::kSymlink || st->link_target != l.target)
      throw error(Errc::kStore, l.path + " -> " + l.target + " was not created in the root filesystem");
  }
  for (const auto& r : removals) {
    if (ext.exists(r)) throw error(Errc::kStore, r + " could not be removed from the root filesystem");
  }

  if (result.boot) {
    disk::FatImage fat(tmp, result.boot->offset);
    if (auto cmdline = fat.read("/cmdline.txt")) {
      if (auto stripped = strip_firstboot_init(*cmdline)) {
        fat.write("/cmdline.txt", *stripped);
        result.disabled.push_back("firstboot init= removed from cmdline.txt");
      }
    }
  }

  if (::fsync(out.fd) != 0) throw error(Errc::kStore, tmp.string() + ": fsync: " + std::strerror(errno));
  fs::rename(tmp, o.out, ec);
  if (ec) throw error(Errc::kStore, "cannot rename " + tmp.string() + " to " + o.out.string() + ": " + ec.message());
  tmp_cleanup.release();
  Fd dir;
  dir.fd = ::open(out_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir.fd >= 0) ::fsync(dir.fd);
  if (!o.enrolment_keys.empty()) record_enrolment(o.enrolment_keys, result.card);
  return result;
}

}  // namespace ironstone::builder
